-- rereferral_pct: referrals within 12 calendar months of the same child's previous
-- referral, as a % of referrals in the period.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'rereferrals') as numerator,
        sum(count) filter (where measure = 'referrals') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
