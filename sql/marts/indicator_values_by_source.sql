-- marts.indicator_values_by_source: every source's figure for every indicator, area and period.
select
    series.indicator_id,
    areas.area_code,
    areas.area_name,
    areas.area_type,
    areas.partnership,
    series.period_type,
    series.period_label,
    series.period_start,
    series.period_end,
    series.numerator,
    series.denominator,
    series.value,
    series.value_note,
    series.source,
    series.ci95_low,
    series.ci95_high,
    series.ci998_low,
    series.ci998_high,
    sources.precedence
from core.indicator_series as series
inner join core.areas as areas on areas.area_code = series.area_code
inner join core.sources as sources on sources.source = series.source
order by series.indicator_id, areas.area_code, series.period_type, series.period_start, sources.precedence
