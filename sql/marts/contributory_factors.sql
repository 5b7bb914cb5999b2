-- marts.contributory_factors: factors identified at the end of assessment (DfE c3), for the
-- picture Norfolk's strategy asks for: neglect beside the "toxic trio" of domestic abuse,
-- parental mental health and parental substance misuse, per partnership area and England.
with factors as (
    select published.area_code, published.period_label, published.period_end,
        mapping.factor, mapping.factor_order, published.value, published.indicator
    from raw.dfe_open_data as published
    inner join (values
        ('neglect', 'Neglect', 1),
        ('domestic_abuse_parent', 'Domestic abuse (parent)', 2),
        ('mental_health_parent', 'Mental health (parent)', 3),
        ('drug_misuse_parent', 'Drug misuse (parent)', 4),
        ('alcohol_misuse_parent', 'Alcohol misuse (parent)', 5),
        ('emotional_abuse', 'Emotional abuse', 6)
    ) as mapping (indicator, factor, factor_order) on mapping.indicator = published.indicator
    where published.dataset = 'c3_assessment_factors'
),

totals as (
    select area_code, period_label, value as episodes_with_factors
    from raw.dfe_open_data
    where dataset = 'c3_assessment_factors' and indicator = 'episodes_with_assessment_factor'
)

select
    areas.area_code,
    areas.area_name,
    areas.partnership,
    factors.period_label,
    factors.factor,
    factors.value::bigint as episodes,
    totals.episodes_with_factors::bigint as episodes_with_factors,
    100.0 * factors.value / nullif(totals.episodes_with_factors, 0) as pct
from factors
inner join totals using (area_code, period_label)
inner join core.areas as areas on areas.area_code = factors.area_code
where areas.partnership is not null or areas.area_type = 'england'
order by areas.partnership nulls last, areas.area_code, factors.period_label, factors.factor_order
