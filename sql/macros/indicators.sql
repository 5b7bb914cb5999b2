-- Table macros that compute an indicator declared as data (data/raw/indicators/<id>.yaml: a
-- numerator and a denominator, or a count), so each indicator states only what it counts. Both read core.observation_periods, per source, area
-- and period; a missing breakdown argument (null) means every breakdown. A part that is
-- suppressed or missing leaves the value missing, with the reason in value_note.

-- numerator / denominator x multiplier, where both measures are present.
create or replace macro core.ratio_indicator(
    numerator_measure, numerator_breakdown, denominator_measure, denominator_breakdown, multiplier
) as table
with numerator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as numerator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = numerator_measure and breakdown = coalesce(numerator_breakdown, breakdown)
    group by all
),

denominator as (
    select source, area_code, period_type, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as denominator,
        string_agg(distinct value_note, '; ') as note
    from core.observation_periods
    where measure = denominator_measure and breakdown = coalesce(denominator_breakdown, breakdown)
    group by all
)

select
    denominator.source, denominator.area_code, denominator.period_type, denominator.period_label,
    denominator.period_start, denominator.period_end,
    numerator.numerator,
    denominator.denominator,
    multiplier * numerator.numerator / nullif(denominator.denominator, 0) as value,
    nullif(concat_ws('; ', numerator.note, denominator.note), '') as value_note
from denominator
inner join numerator using (source, area_code, period_type, period_label, period_start, period_end);

-- A count: the measure summed over the breakdowns chosen.
create or replace macro core.count_indicator(counted_measure, counted_breakdown) as table
select source, area_code, period_type, period_label, period_start, period_end,
    case when bool_and(count is not null) then sum(count) end as numerator,
    null::bigint as denominator,
    case when bool_and(count is not null) then sum(count) end::double as value,
    string_agg(distinct value_note, '; ') as value_note
from core.observation_periods
where measure = counted_measure and breakdown = coalesce(counted_breakdown, breakdown)
group by all;
