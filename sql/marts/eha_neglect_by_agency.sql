-- marts.eha_neglect_by_agency: early help assessments started, and those with neglect a
-- concern, per agency, area and period (months and financial years).
select
    areas.partnership,
    areas.area_code,
    areas.area_name,
    observations.breakdown as agency,
    observations.source,
    observations.period_type,
    observations.period_label,
    observations.period_start,
    observations.period_end,
    sum(observations.count) filter (where observations.measure = 'eha_started') as assessments_started,
    sum(observations.count) filter (where observations.measure = 'eha_started_neglect')
        as assessments_started_neglect
from core.observation_periods as observations
inner join core.areas as areas on areas.area_code = observations.area_code
where observations.measure in ('eha_started', 'eha_started_neglect')
group by all
order by areas.area_code, agency, observations.period_type, observations.period_start
