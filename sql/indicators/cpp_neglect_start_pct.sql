-- cpp_neglect_start_pct: plans starting in the period with initial category neglect, as a % of
-- all plans starting in the period.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'cpp_started' and breakdown = 'Neglect') as numerator,
        sum(count) filter (where measure = 'cpp_started') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
