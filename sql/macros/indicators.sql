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

-- An indicator OHID Fingertips publishes (its fingertips_id), as published: values, counts,
-- denominators and the 95% and 99.8% limits, never recomputed; a missing value keeps its value
-- note. Persons totals (no category) unless the indicator asks for a category. A year pair
-- (2019/20) is the indicator's headline year, financial or academic; 2022 is a calendar year;
-- pooled periods (2017/18 - 19/20, 2016 - 18) span their years. Quarters and months are not used.
create or replace macro core.fingertips_indicator(wanted_fingertips_id, wanted_category, headline_period_type) as table
with published as (
    select *,
        case when headline_period_type = 'academic_year' then 9 else 4 end as start_month,
        period_kind like '%calendar%' as calendar
    from raw.fingertips
    where fingertips_id = wanted_fingertips_id
        and period_kind is not null
        and sex = 'Persons'
        and case when wanted_category is null then category_type is null else category = wanted_category end
    -- (an area listed under two area types in one file is one figure)
    qualify row_number() over (partition by area_code, time_period order by source_file, source_row) = 1
)

select 'fingertips' as source, area_code,
    case
        when period_kind = 'year_pair' and headline_period_type = 'academic_year' then 'academic_year'
        when period_kind = 'year_pair' then 'financial_year'
        when period_kind = 'calendar_year' then 'calendar_year'
        else 'pooled_years'
    end as period_type,
    time_period as period_label,
    case when calendar then make_date(first_year, 1, 1) else make_date(first_year, start_month, 1) end
        as period_start,
    case when calendar then make_date(last_year, 12, 31)
        else (make_date(last_year + 1, start_month, 1) - interval 1 day)::date end as period_end,
    round(count)::bigint as numerator,
    round(denominator)::bigint as denominator,
    value,
    value_note,
    ci95_low, ci95_high, ci998_low, ci998_high
from published;
