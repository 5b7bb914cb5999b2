-- marts.scorecard: the latest position per partnership, area and indicator, on each
-- indicator's headline series (financial year; academic year for absence; month for the EHA
-- rolling average). Every indicator appears for every area, with 'no data' where none came;
-- an indicator kept for some partnerships (its file's partnerships) only for theirs.
with headline as (
    select values.*
    from marts.indicator_values as values
    inner join marts.indicators as indicators
        on indicators.indicator_id = values.indicator_id
        and indicators.headline_period_type = values.period_type
    where values.value is not null
),

ranked as (
    select *, row_number() over (partition by indicator_id, area_code order by period_end desc) as recency
    from headline
),

grid as (
    select areas.partnership, areas.area_code, areas.area_name, indicators.indicator_id, indicators.polarity
    from core.areas as areas
    cross join marts.indicators as indicators
    where areas.partnership is not null
        and (indicators.partnerships is null or list_contains(indicators.partnerships, areas.partnership))
),

positioned as (
    select
        grid.*,
        latest.period_label,
        latest.period_end,
        latest.value,
        latest.source,
        previous.period_label as previous_period_label,
        previous.value as previous_value,
        latest.value - previous.value as change,
        targets.baseline_period,
        targets.baseline_date,
        targets.baseline_value,
        targets.target_value,
        targets.target_date,
        targets.amber_tolerance_pct,
        targets.illustrative as target_illustrative,
        targets.note,
        stale.stale_reason,
        spc.variation,
        spc.assurance,
        benchmarks.england_value,
        benchmarks.vs_england,
        benchmarks.neighbours_median,
        benchmarks.vs_neighbours,
        -- Where the strategy's path (baseline, milestones, target: marts.trajectories) stands at
        -- the latest period: on the straight line between the points either side of it.
        (
            select case
                when before.due is null then after.value
                when after.due is null or after.due = before.due then before.value
                else before.value + (after.value - before.value)
                    * date_diff('day', before.due, latest.period_end) / date_diff('day', before.due, after.due)
            end
            from (select 1) as anchor
            left join lateral (
                select due, value from marts.trajectories as points
                where points.indicator_id = grid.indicator_id and points.area_code = grid.area_code
                    and points.due <= latest.period_end
                order by due desc limit 1
            ) as before on true
            left join lateral (
                select due, value from marts.trajectories as points
                where points.indicator_id = grid.indicator_id and points.area_code = grid.area_code
                    and points.due > latest.period_end
                order by due limit 1
            ) as after on true
            where latest.period_end is not null
        ) as trajectory_value
    from grid
    left join ranked as latest
        on latest.indicator_id = grid.indicator_id and latest.area_code = grid.area_code and latest.recency = 1
    left join ranked as previous
        on previous.indicator_id = grid.indicator_id and previous.area_code = grid.area_code and previous.recency = 2
    left join marts.targets as targets
        on targets.indicator_id = grid.indicator_id and targets.area_code = grid.area_code
    left join (
        select indicator_id, area_code, string_agg(stale_reason, '; ' order by stale_reason) as stale_reason
        from core.stale_figures
        group by all
    ) as stale on stale.indicator_id = grid.indicator_id and stale.area_code = grid.area_code
    left join core.spc_summary as spc
        on spc.indicator_id = grid.indicator_id and spc.area_code = grid.area_code
    left join marts.benchmarks as benchmarks
        on benchmarks.indicator_id = grid.indicator_id and benchmarks.area_code = grid.area_code
        and benchmarks.period_label = latest.period_label and benchmarks.period_end = latest.period_end
)

select
    partnership,
    area_code,
    area_name,
    indicator_id,
    period_label,
    period_end,
    value,
    source,
    previous_period_label,
    previous_value,
    change,
    case
        when change is null then null
        when abs(change) < 1e-9 then 'no change'
        when (change < 0) = (polarity = 'lower_is_better') then 'improving'
        else 'worsening'
    end as direction_of_travel,
    baseline_period,
    baseline_value,
    target_value,
    target_date,
    trajectory_value,
    target_illustrative,
    case
        when value is null then 'no data'
        when trajectory_value is null then 'no target'
        when (polarity = 'lower_is_better' and value <= trajectory_value)
            or (polarity = 'higher_is_better' and value >= trajectory_value) then 'green'
        when abs(value - trajectory_value) <= abs(trajectory_value) * amber_tolerance_pct / 100.0 then 'amber'
        else 'red'
    end as rag,
    note,
    stale_reason,
    variation,
    assurance,
    england_value,
    vs_england,
    neighbours_median,
    vs_neighbours
from positioned
order by partnership, area_code, indicator_id
