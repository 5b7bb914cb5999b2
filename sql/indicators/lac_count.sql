-- lac_count: children looked after at the end of the period (31 March for a financial year).
select source, area_code, period_type, period_label, period_start, period_end,
    case when bool_and(count is not null) then sum(count) end as numerator,
    null::bigint as denominator,
    case when bool_and(count is not null) then sum(count) end::double as value,
    string_agg(distinct value_note, '; ') as value_note
from core.observation_periods
where measure = 'children_looked_after' and breakdown = 'All children'
group by all
