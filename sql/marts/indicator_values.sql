-- marts.indicator_values: one row per indicator, area and period (month, financial year or
-- academic year): the figure of the first source, in core.sources' order, that has a value
-- (or, when none has, the first source's row with the reason it is missing).
select
    indicator_id, area_code, area_name, area_type, partnership,
    period_type, period_label, period_start, period_end,
    numerator, denominator, value, value_note, source,
    ci95_low, ci95_high, ci998_low, ci998_high
from marts.indicator_values_by_source
qualify row_number() over (
    partition by indicator_id, area_code, period_type, period_start, period_end
    order by value is null, precedence
) = 1
order by indicator_id, area_code, period_type, period_start
