-- lac_rate_per_10k: children looked after at the end of the period per 10,000 children
-- aged 0-17 (ONS mid-year estimate).
with figures as (
    select area_code, period_type, period_label, period_start, period_end,
        sum(count) filter (where measure = 'children_looked_after') as numerator,
        sum(count) filter (where measure = 'population_aged_0_17') as denominator
    from core.observation_periods
    group by all
)

select *, 10000.0 * numerator / nullif(denominator, 0) as value
from figures
where denominator is not null
