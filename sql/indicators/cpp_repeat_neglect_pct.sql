-- cpp_repeat_neglect_pct: plans starting under neglect that are a second or subsequent plan, as
-- a % of plans starting under neglect.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'cpp_repeat_subsequent' and breakdown = 'Neglect') as numerator,
        sum(count) filter (where measure = 'cpp_repeat_started' and breakdown = 'Neglect') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
