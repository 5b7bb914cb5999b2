-- rereferral_pct: referrals within 12 calendar months of the same child's previous
-- referral, as a % of referrals in the period.
select * from core.ratio_indicator('rereferrals', 'All referrals', 'referrals', 'All referrals', 100.0)
