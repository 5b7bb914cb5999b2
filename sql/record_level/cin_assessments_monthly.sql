-- Children-in-need assessments per area and calendar month, from CIN census returns
-- (raw.cin_assessments): cin_assessments_completed (breakdown 'All assessments') and
-- cin_assessments_with_factor (breakdown: the factor identified at the end of assessment, named as
-- marts.contributory_factors names the DfE's published figures).
--
-- * An assessment is a child and a start date; the same assessment in two returns is one, with
--   the later return's authorisation date and factors (return_reference_date).
-- * An assessment counts in the month it was authorised (completed): factors are identified at
--   the end of an assessment. An assessment may list several factors, so the factors do not add
--   up to the assessments.
-- * Months run from the area's first to its last authorisation; every factor is given in every
--   month (0 if none), so months add up to years.
with areas as (
    select area_code, row_number() over (order by area_code)::integer as area_number
    from (select distinct area_code from raw.cin_assessments where area_code is not null)
),

assessments as (
    select area_number, child_key, assessment_start, assessment_authorised,
        string_split(coalesce(factors, ''), ',') as factor_codes
    from raw.cin_assessments
    join areas using (area_code)
    qualify row_number() over (partition by area_number, child_key, assessment_start
                               order by return_reference_date desc nulls last, factors desc nulls last) = 1
),

factor_names (code, factor) as (
    values ('16A', 'Neglect'), ('17A', 'Emotional abuse'), ('3B', 'Domestic abuse (parent)'),
        ('4B', 'Mental health (parent)'), ('2B', 'Drug misuse (parent)'), ('1B', 'Alcohol misuse (parent)')
),

spans as (
    select area_number,
        date_trunc('month', min(assessment_authorised))::date as first_month,
        date_trunc('month', max(assessment_authorised))::date as last_month
    from assessments
    group by area_number
),

months as (
    select area_code, area_number, month
    from (
        select area_number, unnest(generate_series(first_month, last_month, interval 1 month))::date as month
        from spans
    )
    join areas using (area_number)
),

completed as (
    select area_number, date_trunc('month', assessment_authorised)::date as month, count(*) as assessments
    from assessments
    group by all
),

with_factor as (
    select area_number, date_trunc('month', assessment_authorised)::date as month, factor_names.factor,
        count(*) as assessments
    from assessments
    join factor_names on list_contains(assessments.factor_codes, factor_names.code)
    group by all
)

select months.area_code, months.month, 'cin_assessments_completed' as measure, 'All assessments' as breakdown,
    coalesce(completed.assessments, 0)::bigint as count
from months
left join completed on completed.area_number = months.area_number and completed.month = months.month
union all
select months.area_code, months.month, 'cin_assessments_with_factor', factor_names.factor,
    coalesce(with_factor.assessments, 0)::bigint
from months
cross join factor_names
left join with_factor on with_factor.area_number = months.area_number and with_factor.month = months.month
    and with_factor.factor = factor_names.factor
order by area_code, measure, breakdown, month
