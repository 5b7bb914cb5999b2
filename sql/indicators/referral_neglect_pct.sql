-- referral_neglect_pct: referrals tagged neglect, as a % of all referrals in the period.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'referrals_neglect') as numerator,
        sum(count) filter (where measure = 'referrals') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
