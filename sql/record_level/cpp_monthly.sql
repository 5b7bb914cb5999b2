-- Child protection plans per area and calendar month, from Annex A list 7 (raw.annex_a_list7).
--
-- * A plan is a child and a start date; the same plan in overlapping extracts is one plan
--   (its end: the latest given; its latest category: from the row with the latest end, else
--   the row that gives one; its initial category and previous plans: the largest given).
-- * cpp_started: plans starting in the month, by initial category.
-- * cpp_open: children on a plan at the month end, by latest category (the initial category
--   when no latest is given): start on or before the month end, and no end or an end after
--   it (a plan ending on the last day of the month is not open at its end). A child is counted
--   once, under the plan that started last.
-- * cpp_repeat_started / cpp_repeat_subsequent, breakdown 'All categories' and 'Neglect'
--   (initial category): plans starting in the month, and those that are the child's second or
--   subsequent plan: "Number of Previous Child Protection Plans" at least 1, or an earlier plan
--   for the same child in the data, however long ago.
-- * Months: list 7 holds every plan open during the extract's window, including plans that
--   started years before it, so months before the window would be undercounted. The window
--   is taken to start in the month of the earliest end date (no plan in the file ended before
--   the window); with no end date at all, only the last month is given. Months end at the
--   month of the latest start or end date. Every category is given in every month (0 if none).
with rows_given as (
    select * from raw.annex_a_list7 where area_code is not null
),

plans as (
    select area_code, child_key, plan_start,
        max(plan_end) as plan_end,
        max(initial_category) as initial_category,
        first(coalesce(latest_category, initial_category)
              order by plan_end desc nulls last, latest_category nulls last) as latest_category,
        max(previous_plans) as previous_plans
    from rows_given
    group by area_code, child_key, plan_start
),

numbered as (
    select *,
        coalesce(previous_plans >= 1, false)
            or lag(plan_start) over (partition by area_code, child_key order by plan_start) is not null
            as subsequent
    from plans
),

spans as (
    select area_code,
        date_trunc('month', coalesce(min(plan_end), greatest(max(plan_start), max(plan_end))))::date as first_month,
        date_trunc('month', greatest(max(plan_start), max(plan_end)))::date as last_month
    from plans
    group by area_code
),

months as (
    select area_code, month, last_day(month) as month_end
    from (
        select area_code, unnest(generate_series(first_month, last_month, interval 1 month))::date as month
        from spans
    )
),

categories as (
    select unnest(['Neglect', 'Emotional abuse', 'Physical abuse', 'Sexual abuse', 'Multiple']) as category
),

started as (
    select area_code, date_trunc('month', plan_start)::date as month, initial_category, subsequent
    from numbered
),

open_at_month_end as (
    select months.area_code, months.month, numbered.latest_category
    from months
    join numbered
        on numbered.area_code = months.area_code
        and numbered.plan_start <= months.month_end
        and (numbered.plan_end is null or numbered.plan_end > months.month_end)
    qualify row_number() over (
        partition by months.area_code, months.month, numbered.child_key
        order by numbered.plan_start desc) = 1
),

started_counts as (
    select area_code, month, initial_category as category, count(*) as plans_started
    from started
    group by all
),

open_counts as (
    select area_code, month, latest_category as category, count(*) as children_open
    from open_at_month_end
    group by all
),

by_category as (
    select months.area_code, months.month, categories.category,
        coalesce(started_counts.plans_started, 0) as plans_started,
        coalesce(open_counts.children_open, 0) as children_open
    from months
    cross join categories
    left join started_counts
        on started_counts.area_code = months.area_code and started_counts.month = months.month
        and started_counts.category = categories.category
    left join open_counts
        on open_counts.area_code = months.area_code and open_counts.month = months.month
        and open_counts.category = categories.category
),

repeat_groups as (
    select months.area_code, months.month, category_group,
        count(started.month) as plans_started,
        count(started.month) filter (where started.subsequent) as subsequent_plans
    from months
    cross join (select unnest(['All categories', 'Neglect']) as category_group)
    left join started
        on started.area_code = months.area_code and started.month = months.month
        and (category_group = 'All categories' or started.initial_category = 'Neglect')
    group by all
)

select area_code, month, 'cpp_started' as measure, category as breakdown, plans_started::bigint as count
from by_category
union all
select area_code, month, 'cpp_open', category, children_open::bigint
from by_category
union all
select area_code, month, 'cpp_repeat_started', category_group, plans_started::bigint
from repeat_groups
union all
select area_code, month, 'cpp_repeat_subsequent', category_group, subsequent_plans::bigint
from repeat_groups
order by area_code, measure, breakdown, month
