-- hub_neglect_handled_pct: referrals tagged neglect dealt with by the early help hubs, as a % of
-- all referrals tagged neglect.
select * from core.ratio_indicator('hub_neglect_handled', null, 'hub_neglect_referrals', null, 100.0)
