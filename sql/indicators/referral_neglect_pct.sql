-- referral_neglect_pct: referrals tagged neglect, as a % of all referrals in the period.
select * from core.ratio_indicator('referrals_neglect', 'All referrals', 'referrals', 'All referrals', 100.0)
