-- Every area the warehouse knows: the partnerships' local authorities (from the strategy
-- files, whose names win) and every local authority, region and England in the DfE's data
-- and in OHID Fingertips exports (the DfE's names win).
with dfe as (
    select area_code,
        max(area_name) as area_name,
        case max(geographic_level)
            when 'National' then 'england' when 'Regional' then 'region' else 'local_authority'
        end as area_type,
        max(region_name) as region
    from raw.dfe_open_data
    group by area_code
),

fingertips as (
    select area_code,
        max(area_name) as area_name,
        case when max(area_type) = 'England' then 'england' when max(area_type) like 'Region%' then 'region'
            else 'local_authority' end as area_type,
        null::varchar as region
    from raw.fingertips
    where area_code not in (select area_code from dfe)
    group by area_code
),

published as (
    select * from dfe
    union all
    select * from fingertips
)

select
    coalesce(partnership_areas.area_code, published.area_code) as area_code,
    coalesce(partnership_areas.area_name, published.area_name) as area_name,
    coalesce(published.area_type, 'local_authority') as area_type,
    coalesce(partnership_areas.region, published.region) as region,
    partnership_areas.partnership
from core.partnership_areas as partnership_areas
full outer join published on published.area_code = partnership_areas.area_code
