-- cpp_neglect_pct: children on a plan at the end of the period whose latest category is
-- neglect, as a % of all children on a plan then.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'cpp_open' and breakdown = 'Neglect') as numerator,
        sum(count) filter (where measure = 'cpp_open') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
