-- lac_count: children looked after at the end of the period (31 March for a financial year).
select area_code, period_type, period_label, period_start, period_end,
    sum(count) as numerator,
    null::bigint as denominator,
    sum(count)::double as value
from core.observation_periods
where measure = 'children_looked_after'
group by all
