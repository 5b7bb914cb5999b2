-- eha_neglect_count: early help assessments started in the period where neglect is a concern,
-- all agencies together (per agency: marts.eha_neglect_by_agency).
select source, area_code, period_type, period_label, period_start, period_end,
    case when bool_and(count is not null) then sum(count) end as numerator,
    null::bigint as denominator,
    case when bool_and(count is not null) then sum(count) end::double as value,
    string_agg(distinct value_note, '; ') as value_note
from core.observation_periods
where measure = 'eha_started_neglect'
group by all
