-- marts.source_disagreements: where two sources give the same indicator, area and period
-- values that differ by more than rounding to one decimal place, for the data team to resolve.
select
    shown.indicator_id,
    shown.area_code,
    shown.area_name,
    shown.period_type,
    shown.period_label,
    shown.source,
    shown.value,
    other.source as other_source,
    other.value as other_value,
    shown.value - other.value as difference
from marts.indicator_values_by_source as shown
inner join marts.indicator_values_by_source as other
    on other.indicator_id = shown.indicator_id
    and other.area_code = shown.area_code
    and other.period_type = shown.period_type
    and other.period_start = shown.period_start
    and other.period_end = shown.period_end
    and other.precedence > shown.precedence
where abs(shown.value - other.value) > 0.05
order by shown.indicator_id, shown.area_code, shown.period_start
