-- cpp_repeat_pct: plans starting in the period that are a second or subsequent plan, however
-- long ago the last, as a % of all plans starting.
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'cpp_repeat_subsequent' and breakdown = 'All categories') as numerator,
        sum(count) filter (where measure = 'cpp_repeat_started' and breakdown = 'All categories') as denominator
    from core.observation_periods
    group by all
)

select *, 100.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
