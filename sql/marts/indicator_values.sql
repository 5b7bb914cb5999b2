-- marts.indicator_values: one row per indicator, area and period (month, financial year or
-- academic year), for every indicator in the catalogue and every area in the strategy files.
select
    series.indicator_id,
    areas.area_code,
    areas.area_name,
    areas.partnership,
    series.period_type,
    series.period_label,
    series.period_start,
    series.period_end,
    series.numerator,
    series.denominator,
    series.value
from core.indicator_series as series
inner join core.areas as areas on areas.area_code = series.area_code
order by series.indicator_id, areas.area_code, series.period_type, series.period_start
