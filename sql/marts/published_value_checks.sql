-- marts.published_value_checks: each percentage or rate the DfE publishes beside its counts,
-- against the value the warehouse recomputes from those counts. They agree when the gap is
-- within half a unit of the last decimal place the DfE printed, plus, for England and the
-- regions, what rounding their counts to the nearest 10 can move the value (up to 5 on the
-- numerator and on the denominator).
with published as (
    select
        published.area_code, mapping.indicator_id, published.period_type, published.period_label,
        published.period_start, published.value_text, published.value as published_value,
        published.geographic_level,
        0.5 * pow(10, -length(split_part(published.value_text, '.', 2))) as rounding,
        published.source_file
    from raw.dfe_open_data as published
    inner join (values
        ('c1_referrals', 'rereferral_percent', '%', 'rereferral_pct'),
        ('d3_repeat_plans', 'cpp_subsequent_percent', '%', 'cpp_repeat_pct'),
        ('cla_numbers', 'rate_per_10000', '%population_type=Children looked after on 31 March each year%',
         'lac_rate_per_10k')
    ) as mapping (dataset, indicator, filters_like, indicator_id)
        on published.dataset = mapping.dataset
        and published.indicator = mapping.indicator
        and published.filters like mapping.filters_like
    where published.value is not null
)

select
    published.indicator_id,
    published.area_code,
    published.period_label,
    published.published_value,
    series.value as recomputed_value,
    series.value - published.published_value as difference,
    abs(series.value - published.published_value) <= published.rounding + 1e-9
        + case when published.geographic_level = 'Local authority' then 0
               else series.value * (5.0 / nullif(series.numerator, 0) + 5.0 / nullif(series.denominator, 0)) end
        as agrees,
    published.source_file
from published
inner join core.indicator_series as series
    on series.source = 'dfe_published'
    and series.indicator_id = published.indicator_id
    and series.area_code = published.area_code
    and series.period_type = published.period_type
    and series.period_start = published.period_start
where series.value is not null
order by agrees, published.indicator_id, published.area_code, published.period_label
