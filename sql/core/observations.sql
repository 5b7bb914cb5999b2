-- Every figure from every source in one long table: one row per source, area, period, measure
-- and breakdown. A stock is counted on a date (plans open, children looked after); a flow over
-- a period (plans started, referrals). They roll up to financial years differently, see
-- core.observation_periods. A new layout adds one CTE here and one line to the union.
with cpp_by_category as (
    select area_code, period_type, period_label, period_start, period_end,
        case plan_status when 'Open at period end' then 'cpp_open' else 'cpp_started' end as measure,
        case plan_status when 'Open at period end' then 'stock' else 'flow' end as measure_kind,
        category as breakdown, children as count, source_file
    from raw.cpp_by_category
),

cpp_repeat_plans as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            category_group as breakdown, source_file,
            plans_started as cpp_repeat_started,
            second_or_subsequent_plans as cpp_repeat_subsequent
        from raw.cpp_repeat_plans
    ) on cpp_repeat_started, cpp_repeat_subsequent into name measure value count
),

referrals as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            'All referrals' as breakdown, source_file,
            referrals, rereferrals_within_12_months as rereferrals, referrals_neglect
        from raw.referrals
    ) on referrals, rereferrals, referrals_neglect into name measure value count
),

persistent_absence as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            'All pupils' as breakdown, source_file,
            pupils, persistently_absent_pupils as pupils_persistently_absent
        from raw.persistent_absence
    ) on pupils, pupils_persistently_absent into name measure value count
),

looked_after_children as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            'All children' as breakdown, source_file,
            children_looked_after, population_aged_0_17
        from raw.looked_after_children
    ) on children_looked_after, population_aged_0_17 into name measure value count
),

early_help_assessments as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            agency as breakdown, source_file,
            assessments_started as eha_started,
            assessments_started_neglect as eha_started_neglect
        from raw.early_help_assessments
    ) on eha_started, eha_started_neglect into name measure value count
),

hub_referrals as (
    unpivot (
        select area_code, period_type, period_label, period_start, period_end,
            'All referrals' as breakdown, source_file,
            neglect_referrals as hub_neglect_referrals,
            neglect_referrals_handled_by_hub as hub_neglect_handled
        from raw.hub_referrals
    ) on hub_neglect_referrals, hub_neglect_handled into name measure value count
),

hub_all_referrals as (
    select area_code, period_type, period_label, period_start, period_end, 'hub_referrals' as measure,
        'All referrals' as breakdown, hub_referrals as count, source_file
    from raw.hub_all_referrals
),

-- The local measures return: any measure, its kind (flow or stock) as the indicator files using
-- it declare (a measure no indicator uses yet counts as a flow).
local_measures as (
    select area_code, period_type, period_label, period_start, period_end, measure,
        coalesce((select max(measure_kind) from core.indicator_measures as declared
                  where declared.measure = local_measures.measure), 'flow') as measure_kind,
        breakdown, count, source_file
    from raw.local_measures as local_measures
),

-- DfE open data: which published figures are which measures. Filters are matched on the
-- file's filter columns, written "name=value" in name order (scorecard/ingest/ees.py).
dfe_published as (
    select published.area_code, mapping.measure, mapping.measure_kind, mapping.breakdown,
        published.period_type, published.period_label, published.period_start, published.period_end,
        published.value as count, published.value_note, published.source_file
    from raw.dfe_open_data as published
    inner join (values
        ('c1_referrals', 'referral_count', '%', 'referrals', 'flow', 'All referrals'),
        ('c1_referrals', 'rereferral_count', '%', 'rereferrals', 'flow', 'All referrals'),
        ('d3_repeat_plans', 'cpp_start', '%', 'cpp_repeat_started', 'flow', 'All categories'),
        ('d3_repeat_plans', 'cpp_subsequent', '%', 'cpp_repeat_subsequent', 'flow', 'All categories'),
        ('cla_numbers', 'children_count', '%population_type=Children looked after on 31 March each year%',
         'children_looked_after', 'stock', 'All children'),
        ('cla_numbers', 'population_estimate', '%population_type=Children looked after on 31 March each year%',
         'population_aged_0_17', 'stock', 'All children'),
        ('absence_social_care', 't_pupils', '%phase_type_grouping=Total; social_care_group=CINO at 31 March%',
         'pupils', 'flow', 'Children in need'),
        ('absence_social_care', 't_pupils_pa_10_exact', '%phase_type_grouping=Total; social_care_group=CINO at 31 March%',
         'pupils_persistently_absent', 'flow', 'Children in need'),
        ('absence_social_care', 't_pupils', '%phase_type_grouping=Total; social_care_group=CPPO at 31 March%',
         'pupils', 'flow', 'Children on a child protection plan'),
        ('absence_social_care', 't_pupils_pa_10_exact', '%phase_type_grouping=Total; social_care_group=CPPO at 31 March%',
         'pupils_persistently_absent', 'flow', 'Children on a child protection plan'),
        ('absence_social_care', 't_pupils', '%phase_type_grouping=Total; social_care_group=CLA 12 months at 31 March%',
         'pupils', 'flow', 'Children looked after'),
        ('absence_social_care', 't_pupils_pa_10_exact', '%phase_type_grouping=Total; social_care_group=CLA 12 months at 31 March%',
         'pupils_persistently_absent', 'flow', 'Children looked after')
    ) as mapping (dataset, indicator, filters_like, measure, measure_kind, breakdown)
        on published.dataset = mapping.dataset
        and published.indicator = mapping.indicator
        and published.filters like mapping.filters_like
),

partner_returns as (
    select * from cpp_by_category
    union all by name select *, 'flow' as measure_kind from cpp_repeat_plans
    union all by name select *, 'flow' as measure_kind from referrals
    union all by name select *, 'flow' as measure_kind from persistent_absence
    union all by name select *, 'stock' as measure_kind from looked_after_children
    union all by name select *, 'flow' as measure_kind from early_help_assessments
    union all by name select *, 'flow' as measure_kind from hub_referrals
    union all by name select *, 'flow' as measure_kind from hub_all_referrals
),

-- Record-level extracts, already counted per month (core.record_level_measures).
record_level as (
    select area_code, measure,
        case when measure in ('cpp_open', 'children_looked_after') then 'stock' else 'flow' end as measure_kind,
        breakdown, 'month' as period_type, strftime(month, '%Y-%m') as period_label,
        month as period_start, last_day(month) as period_end, count,
        null::varchar as value_note, 'record-level extracts' as source_file
    from core.record_level_measures
),

every_source as (
    select *, 'partner_return' as source, null::varchar as value_note from partner_returns
    union all by name
    select *, 'dfe_published' as source from dfe_published
    union all by name
    select *, 'record_level' as source from record_level
    union all by name
    select *, 'local_return' as source, null::varchar as value_note from local_measures
)

select
    source, area_code, measure, measure_kind, breakdown,
    period_type, period_label, period_start, period_end,
    count::bigint as count, value_note, source_file
from every_source
