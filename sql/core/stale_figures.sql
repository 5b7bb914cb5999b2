-- core.stale_figures: the indicators and areas whose figures rest on a file whose newest
-- version was refused and quarantined, so the last good version of it is still in use.
with latest_outcome as (
    select *
    from raw.load_ledger
    qualify row_number() over (partition by path, sheet order by recorded_at desc) = 1
),

quarantined as (
    select latest_outcome.*
    from latest_outcome
    inner join raw.extract_files as present
        on present.path = latest_outcome.path and present.sheet is not distinct from latest_outcome.sheet
    where latest_outcome.status = 'quarantined'
)

select distinct
    indicator_measures.indicator_id,
    observations.area_code,
    quarantined.path || ': its newest version was refused on ' || strftime(quarantined.recorded_at, '%-d %b %Y')
        || ' (' || quarantined.problems || ' problem(s), see ' || quarantined.detail
        || '), so figures from its last good version are shown' as stale_reason
from quarantined
inner join core.observations as observations on observations.source_file = quarantined.path
inner join core.indicator_measures as indicator_measures on indicator_measures.measure = observations.measure
