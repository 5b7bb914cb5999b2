-- Early help assessments per area and calendar month, from Annex A list 2 (raw.annex_a_list2):
-- eha_started and eha_started_neglect, breakdown = agency (organisation completing the assessment).
--
-- * An assessment is a child and a start date; the same assessment in overlapping extracts is
--   one assessment (agency: the first in alphabetical order given; neglect: true if any row says so).
-- * An assessment whose organisation is blank counts under 'Other'; one the vocabulary does not
--   place (data/raw/vocabulary/organisations.csv) counts under 'Unmapped'.
-- * eha_started_neglect (neglect flag true) is given only for areas whose extracts record neglect.
-- * Months run from the area's first to its last assessment start. Every agency seen in the
--   area's data is given in every month (0 if none), so months add up to years.
--
-- The assessments carry a number per area (area_number) in place of their area_code until the
-- months are joined: an integer is cheaper than text to group and join by.
with areas as (
    select area_code, row_number() over (order by area_code)::integer as area_number
    from (select distinct area_code from raw.annex_a_list2 where area_code is not null)
),

assessments as (
    select area_number, child_key, assessment_start,
        coalesce(min(agency), 'Other') as agency,
        bool_or(neglect) as neglect
    from raw.annex_a_list2
    join areas using (area_code)
    group by area_number, child_key, assessment_start
),

spans as (
    select area_number,
        date_trunc('month', min(assessment_start))::date as first_month,
        date_trunc('month', max(assessment_start))::date as last_month,
        count(neglect) > 0 as neglect_recorded  -- (an assessment's neglect is null when no row gives it)
    from assessments
    group by area_number
),

months as (
    select area_code, area_number, neglect_recorded, month
    from (
        select area_number, neglect_recorded,
            unnest(generate_series(first_month, last_month, interval 1 month))::date as month
        from spans
    )
    join areas using (area_number)
),

agencies as (
    select distinct area_number, agency from assessments
),

counts as (
    select area_number, date_trunc('month', assessment_start)::date as month, agency,
        count(*) as started,
        count(*) filter (where neglect) as started_neglect
    from assessments
    group by all
),

monthly as (
    select months.area_code, months.month, agencies.agency,
        months.neglect_recorded,
        coalesce(counts.started, 0) as started,
        coalesce(counts.started_neglect, 0) as started_neglect
    from months
    join agencies on agencies.area_number = months.area_number
    left join counts
        on counts.area_number = months.area_number and counts.month = months.month and counts.agency = agencies.agency
)

select area_code, month, 'eha_started' as measure, agency as breakdown, started::bigint as count
from monthly
union all
select area_code, month, 'eha_started_neglect', agency, started_neglect::bigint
from monthly
where neglect_recorded
order by area_code, measure, breakdown, month
