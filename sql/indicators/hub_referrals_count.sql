-- hub_referrals_count: referrals received by the early help hubs / front door in the period,
-- whatever the concern.
select * from core.count_indicator('hub_referrals', null)
