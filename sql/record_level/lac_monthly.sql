-- Children looked after at each month end, per area, from SSDA903 episodes
-- (raw.ssda903_episodes) or Annex A list 8 (raw.annex_a_list8): measure
-- children_looked_after, breakdown 'All children'.
--
-- * An area with any SSDA903 episodes is counted from them alone; otherwise from list 8 (the two
--   need not share child identifiers, so they are never mixed).
-- * A child is looked after at a month end D when a period (episode, or list 8 row) has a start
--   on or before D and no end or an end after D: an episode ceasing on 31 March does not count
--   at 31 March, one starting on 31 March does. Children are counted, not episodes.
-- * Months: these tables hold every period open during the extract's window, including ones
--   that started years before it, so months before the window would be undercounted. The window
--   is taken to start in the month of the earliest end date; with no end date at all, only the
--   last month is given. Months end at the month of the latest start or end date.
with periods as (
    select area_code, child_key, decom as started, dec as ceased, 'ssda903' as source
    from raw.ssda903_episodes
    where area_code is not null
    union all
    select area_code, child_key, date_started, date_ceased, 'annex_a_list8'
    from raw.annex_a_list8
    where area_code is not null
),

chosen_source as (
    select area_code,
        case when bool_or(source = 'ssda903') then 'ssda903' else 'annex_a_list8' end as source
    from periods
    group by area_code
),

chosen as (
    select periods.*
    from periods
    join chosen_source on chosen_source.area_code = periods.area_code and chosen_source.source = periods.source
),

spans as (
    select area_code,
        date_trunc('month', coalesce(min(ceased), greatest(max(started), max(ceased))))::date as first_month,
        date_trunc('month', greatest(max(started), max(ceased)))::date as last_month
    from chosen
    group by area_code
),

months as (
    select area_code, month, last_day(month) as month_end
    from (
        select area_code, unnest(generate_series(first_month, last_month, interval 1 month))::date as month
        from spans
    )
),

counts as (
    select months.area_code, months.month, count(distinct chosen.child_key) as children
    from months
    join chosen
        on chosen.area_code = months.area_code
        and chosen.started <= months.month_end
        and (chosen.ceased is null or chosen.ceased > months.month_end)
    group by all
)

select months.area_code, months.month, 'children_looked_after' as measure, 'All children' as breakdown,
    coalesce(counts.children, 0)::bigint as count
from months
left join counts on counts.area_code = months.area_code and counts.month = months.month
order by area_code, measure, breakdown, month
