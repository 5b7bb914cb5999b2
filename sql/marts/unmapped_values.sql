-- marts.unmapped_values: each value a vocabulary (data/raw/vocabulary/*.csv) does not place,
-- once, with the rows it is on and the files it is in, so the data team can add a line.
-- Free text such as the organisation completing an early help assessment loads as written,
-- in agency group 'Unmapped', until a line of organisations.csv maps it.
with unmapped as (
    select 'organisations' as vocabulary, organisation as value, source_file
    from raw.annex_a_list2
    where agency = 'Unmapped' and organisation is not null
)

select vocabulary, value, count(*)::bigint as rows,
    string_agg(distinct source_file, '; ' order by source_file) as files
from unmapped
group by vocabulary, value
order by vocabulary, rows desc, value
