-- marts.indicator_breakdowns: a count indicator split by the breakdown its measure comes in
-- (early help assessments per agency), per partnership area and headline period: what the
-- charts "by breakdown" show. Only counts whose indicator file names no one breakdown, where
-- more than one is given, from the source marts.indicator_values shows (core.sources).
with counted as (
    select distinct indicators.indicator_id, measures.measure, indicators.headline_period_type
    from core.indicator_measures as measures
    inner join marts.indicators as indicators on indicators.indicator_id = measures.indicator_id
    where measures.role = 'numerator' and measures.breakdown is null
        and indicators.unit not in ('%', 'per 10,000', 'per month')
),

split as (
    select
        counted.indicator_id,
        areas.partnership,
        areas.area_code,
        areas.area_name,
        observations.source,
        observations.period_type,
        observations.period_label,
        observations.period_start,
        observations.period_end,
        observations.breakdown,
        case when bool_and(observations.count is not null) then sum(observations.count) end as count
    from counted
    inner join core.observation_periods as observations
        on observations.measure = counted.measure and observations.period_type = counted.headline_period_type
    inner join core.areas as areas on areas.area_code = observations.area_code
    where areas.partnership is not null
    group by all
),

chosen_source as (
    select split.indicator_id, split.area_code, split.source
    from split
    inner join core.sources as sources on sources.source = split.source
    group by split.indicator_id, split.area_code, split.source
    having count(distinct split.breakdown) > 1
    qualify row_number() over (partition by split.indicator_id, split.area_code order by min(sources.precedence)) = 1
)

select split.*
from split
inner join chosen_source using (indicator_id, area_code, source)
order by split.indicator_id, split.area_code, split.period_start, split.breakdown
