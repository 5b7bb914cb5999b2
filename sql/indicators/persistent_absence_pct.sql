-- persistent_absence_pct: pupils missing 10% or more of their own possible sessions, as a % of
-- pupils, per academic year.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'pupils_persistently_absent') as numerator,
        sum(count) filter (where measure = 'pupils') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
