-- persistent_absence_pct: pupils missing 10% or more of their own possible sessions, as a % of
-- pupils, per academic year (all pupils; the DfE's figures for children in need are
-- kept as other breakdowns).
-- A part that is suppressed or missing leaves the value missing, with the reason in value_note.
with numerator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as numerator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = 'pupils_persistently_absent' and breakdown = 'All pupils'
    group by all
),

denominator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as denominator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = 'pupils' and breakdown = 'All pupils'
    group by all
)

select
    denominator.source, denominator.area_code, denominator.period_type, denominator.period_label,
    denominator.period_start, denominator.period_end,
    numerator.numerator,
    denominator.denominator,
    100.0 * numerator.numerator / nullif(denominator.denominator, 0) as value,
    nullif(concat_ws('; ', numerator.note, denominator.note), '') as value_note
from denominator
inner join numerator using (source, area_code, period_type, period_label, period_start, period_end)
