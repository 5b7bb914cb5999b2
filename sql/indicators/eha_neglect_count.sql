-- eha_neglect_count: early help assessments started in the period where neglect is a concern,
-- all agencies together (per agency: marts.eha_neglect_by_agency).
select area_code, period_type, period_label, period_start, period_end,
    sum(count) as numerator,
    null::bigint as denominator,
    sum(count)::double as value
from core.observation_periods
where measure = 'eha_started_neglect'
group by all
