-- Child protection plans per area and calendar month, from Annex A list 7 (raw.annex_a_list7).
--
-- * A plan is a child and a start date; the same plan in overlapping extracts is one plan
--   (its end: the latest given; its latest category: from the row with the latest end, then
--   the latest CIN census return, else the row that gives one; its initial category and
--   previous plans: the latest CIN census return's, else the largest given). Annex A rows have
--   no return_reference_date, so among them the largest is taken.
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
--   month of the latest start or end date. A CIN census return says its window: its collection
--   year, 1 April to its reference date (return_reference_date), so months run from the
--   earliest return's April (or the earliest end, if earlier) to the latest return's March (or
--   the latest start or end, if later). Every category is given in every month (0 if none).
--
-- How cpp_open is counted without joining every plan to every month: the months at whose end
-- a plan is open are [its start month, its end month), within the area's months. A child whose
-- plans never overlap is on each plan for all of those months, so each plan adds 1 to its
-- category from its first month and takes it away from the month after its last (a running
-- sum over the months). Only children with overlapping plans are counted month by month,
-- under the plan that started last.
--
-- The plans carry a number per area (area_number) in place of their area_code until the
-- months are joined, and their categories as an enum (the raw tables hold only these five,
-- checked as they are loaded; listed in alphabetical order, so max and order by are as on
-- text): integers are much cheaper than text to carry through windows, groups and joins
-- (cpp_monthly takes half the time).
with areas as (
    select area_code, row_number() over (order by area_code)::integer as area_number
    from (select distinct area_code from raw.annex_a_list7 where area_code is not null)
),

plans as (
    select area_number, child_key, plan_start,
        max(plan_end) as plan_end,
        -- (arg_max skips rows without a return date or a value: Annex A rows fall back to the largest)
        coalesce(arg_max(initial_category, return_reference_date), max(initial_category)) as initial_category,
        -- (the order is total, so the answer never depends on the order rows are scanned in: two
        -- rows with the same end, return and no latest category give the alphabetically first initial one)
        first(coalesce(latest_category, initial_category)
              order by plan_end desc nulls last, return_reference_date desc nulls last, latest_category nulls last,
                  initial_category)
            as latest_category,
        coalesce(arg_max(previous_plans, return_reference_date), max(previous_plans)) as previous_plans,
        min(return_reference_date) as first_return_date,
        max(return_reference_date) as last_return_date
    from (
        select area_number, child_key, plan_start, plan_end, previous_plans, return_reference_date,
            initial_category::enum('Emotional abuse', 'Multiple', 'Neglect', 'Physical abuse', 'Sexual abuse') as initial_category,
            latest_category::enum('Emotional abuse', 'Multiple', 'Neglect', 'Physical abuse', 'Sexual abuse') as latest_category
        from raw.annex_a_list7
        join areas using (area_code)
    )
    group by area_number, child_key, plan_start
),

spans as (
    select area_number,
        date_trunc('month', coalesce(
            -- (a CIN census return lists every plan open in its collection year: 1 April to its reference date)
            least(min(plan_end), (min(first_return_date) - interval 1 year + interval 1 day)::date),
            greatest(max(plan_start), max(plan_end))))::date as first_month,
        date_trunc('month', greatest(max(plan_start), max(plan_end), max(last_return_date)))::date as last_month
    from plans
    group by area_number
),

-- open_from/open_until: the months at whose end the plan is open, [open_from, open_until)
-- within the area's months (start <= month end <=> start month <= month; end > month end <=>
-- end month > month).
intervals as (
    select plans.*,
        greatest(date_trunc('month', plan_start)::date, spans.first_month) as open_from,
        least(coalesce(date_trunc('month', plan_end)::date, spans.last_month + interval 1 month),
              spans.last_month + interval 1 month)::date as open_until
    from plans
    join spans on spans.area_number = plans.area_number
),

numbered as (
    select *,
        coalesce(previous_plans >= 1, false)
            or lag(plan_start) over by_child is not null
            as subsequent,
        -- the latest month an earlier plan of the child is open until (plans open at no month end aside)
        max(case when open_from < open_until then open_until end) over (
            by_child rows between unbounded preceding and 1 preceding) as earlier_until
    from intervals
    window by_child as (partition by child_key, area_number order by plan_start)
),

months as (
    select area_code, area_number, month
    from (
        select area_number, unnest(generate_series(first_month, last_month, interval 1 month))::date as month
        from spans
    )
    join areas using (area_number)
),

categories as (
    select unnest(['Neglect', 'Emotional abuse', 'Physical abuse', 'Sexual abuse', 'Multiple']) as category
),

started as (
    select area_number, date_trunc('month', plan_start)::date as month, initial_category, subsequent
    from numbered
),

open_plans as (
    select * from numbered where open_from < open_until
),

-- children with a plan that starts while an earlier one is still open at a month end
overlapping as (
    select distinct area_number, child_key from open_plans where earlier_until > open_from
),

-- the other children: each plan counts from its first open month until the month after its last
open_changes as (
    select area_number, month, latest_category as category, sum(change) as change
    from (
        select area_number, open_from as month, latest_category, 1 as change
        from open_plans anti join overlapping using (area_number, child_key)
        union all
        select area_number, open_until, latest_category, -1
        from open_plans anti join overlapping using (area_number, child_key)
    )
    group by all
),

-- children with overlapping plans: month by month, under the plan that started last
overlapping_open as (
    select area_number, month, latest_category as category, count(*) as children
    from (
        select area_number, child_key, month, arg_max_null(latest_category, plan_start) as latest_category
        from (
            select area_number, child_key, plan_start, latest_category,
                unnest(generate_series(open_from, open_until - interval 1 month, interval 1 month))::date as month
            from open_plans semi join overlapping using (area_number, child_key)
        )
        group by area_number, child_key, month
    )
    group by all
),

started_counts as (
    select area_number, month, initial_category as category, count(*) as plans_started
    from started
    group by all
),

by_category as (
    select months.area_code, months.month, categories.category,
        coalesce(started_counts.plans_started, 0) as plans_started,
        sum(coalesce(open_changes.change, 0)) over (
            partition by months.area_number, categories.category order by months.month
            rows between unbounded preceding and current row)
            + coalesce(overlapping_open.children, 0) as children_open
    from months
    cross join categories
    left join started_counts
        on started_counts.area_number = months.area_number and started_counts.month = months.month
        and started_counts.category = categories.category
    left join open_changes
        on open_changes.area_number = months.area_number and open_changes.month = months.month
        and open_changes.category = categories.category
    left join overlapping_open
        on overlapping_open.area_number = months.area_number and overlapping_open.month = months.month
        and overlapping_open.category = categories.category
),

repeat_counts as (
    select area_number, month, 'All categories' as category_group,
        count(*) as plans_started, count(*) filter (where subsequent) as subsequent_plans
    from started
    group by all
    union all
    select area_number, month, 'Neglect', count(*), count(*) filter (where subsequent)
    from started
    where initial_category = 'Neglect'
    group by all
),

repeat_groups as (
    select months.area_code, months.month, groups.category_group,
        coalesce(repeat_counts.plans_started, 0) as plans_started,
        coalesce(repeat_counts.subsequent_plans, 0) as subsequent_plans
    from months
    cross join (select unnest(['All categories', 'Neglect']) as category_group) as groups
    left join repeat_counts
        on repeat_counts.area_number = months.area_number and repeat_counts.month = months.month
        and repeat_counts.category_group = groups.category_group
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
