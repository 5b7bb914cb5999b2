-- marts.benchmarks, before its comparisons: each partnership area's headline values beside
-- England, its region and its statistical neighbours for the same indicator and period.
-- scorecard.transform.benchmarks adds the comparisons (Fingertips method 1).
with headline as (
    select values.*, indicators.polarity
    from marts.indicator_values as values
    inner join marts.indicators as indicators
        on indicators.indicator_id = values.indicator_id
        and indicators.headline_period_type = values.period_type
    where values.value is not null
),

dfe_regions as (
    select distinct area_code, region_code
    from raw.dfe_open_data
    where geographic_level = 'Local authority' and region_code is not null
),

-- An authority's region: the DfE's, or else the parent region a Fingertips export gives it.
area_regions as (
    select * from dfe_regions
    union
    select distinct area_code, parent_code as region_code
    from raw.fingertips
    where parent_code like 'E12%' and area_code not in (select area_code from dfe_regions)
),

neighbour_values as (
    select area.indicator_id, area.area_code, area.period_start, area.period_end, area.value,
        area.polarity, neighbour.value as neighbour_value
    from headline as area
    inner join core.statistical_neighbours as neighbours on neighbours.area_code = area.area_code
    inner join headline as neighbour
        on neighbour.area_code = neighbours.neighbour_area_code
        and neighbour.indicator_id = area.indicator_id
        and neighbour.period_start = area.period_start
        and neighbour.period_end = area.period_end
    where area.partnership is not null
),

neighbour_summary as (
    select indicator_id, area_code, period_start, period_end,
        median(neighbour_value) as neighbours_median,
        count(*) as neighbours_with_value,
        -- rank 1 = best by polarity; ties share the better rank
        1 + count(*) filter (where case when polarity = 'lower_is_better' then neighbour_value < value
                                        else neighbour_value > value end) as rank_among_neighbours
    from neighbour_values
    group by all
)

select
    area.partnership,
    area.area_code,
    area.area_name,
    area.indicator_id,
    area.polarity,
    area.period_label,
    area.period_start,
    area.period_end,
    area.value,
    area.ci95_low,
    area.ci95_high,
    england.value as england_value,
    area_regions.region_code,
    region.value as region_value,
    neighbour_summary.neighbours_median,
    coalesce(neighbour_summary.neighbours_with_value, 0) as neighbours_with_value,
    neighbour_summary.rank_among_neighbours
from headline as area
left join headline as england
    on england.area_code = 'E92000001' and england.indicator_id = area.indicator_id
    and england.period_start = area.period_start and england.period_end = area.period_end
left join area_regions on area_regions.area_code = area.area_code
left join headline as region
    on region.area_code = area_regions.region_code and region.indicator_id = area.indicator_id
    and region.period_start = area.period_start and region.period_end = area.period_end
left join neighbour_summary
    on neighbour_summary.indicator_id = area.indicator_id and neighbour_summary.area_code = area.area_code
    and neighbour_summary.period_start = area.period_start and neighbour_summary.period_end = area.period_end
where area.partnership is not null
order by area.partnership, area.area_code, area.indicator_id, area.period_start
