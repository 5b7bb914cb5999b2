-- Every partner-return figure in one long table: one row per area, period, measure and breakdown.
-- A stock is counted on a date (plans open, children looked after); a flow over a period
-- (plans started, referrals). They roll up to financial years differently, see
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

stocks_and_flows as (
    select * from cpp_by_category
    union all by name select *, 'flow' as measure_kind from cpp_repeat_plans
    union all by name select *, 'flow' as measure_kind from referrals
    union all by name select *, 'flow' as measure_kind from persistent_absence
    union all by name select *, 'stock' as measure_kind from looked_after_children
    union all by name select *, 'flow' as measure_kind from early_help_assessments
    union all by name select *, 'flow' as measure_kind from hub_referrals
)

select
    area_code, measure, measure_kind, breakdown,
    period_type, period_label, period_start, period_end,
    count::bigint as count, source_file
from stocks_and_flows
