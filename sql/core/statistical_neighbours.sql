-- core.statistical_neighbours: each authority's ten statistical neighbours (the DfE's model,
-- the newest one supplied), by ONS code. The neighbour files name authorities by their old
-- three-digit codes; the DfE's open data give both codes for every authority. Where an old
-- code has carried two ONS codes over the years (North Yorkshire, Somerset), the newest wins.
with codes as (
    select old_la_code, area_code
    from raw.dfe_open_data
    where geographic_level = 'Local authority' and old_la_code is not null
    group by old_la_code, area_code
    qualify row_number() over (partition by old_la_code order by max(period_end) desc) = 1
),

newest_model as (
    select *
    from raw.statistical_neighbours
    where model = (select max(model) from raw.statistical_neighbours)
)

select
    area.area_code,
    newest_model.neighbour_rank,
    neighbour.area_code as neighbour_area_code,
    newest_model.closeness,
    newest_model.model
from newest_model
inner join codes as area on area.old_la_code = newest_model.old_la_code
inner join codes as neighbour on neighbour.old_la_code = newest_model.neighbour_old_la_code
order by area.area_code, newest_model.neighbour_rank
