-- marts.targets: each strategy target resolved to figures. A baseline the strategy file does
-- not state is the indicator's value for the baseline period; a target given as a % change
-- is applied to the baseline.
with stated as (
    select targets.*, indicators.headline_period_type
    from core.strategy_targets as targets
    inner join marts.indicators as indicators on indicators.indicator_id = targets.indicator_id
),

resolved as (
    select
        stated.*,
        coalesce(stated.stated_baseline_value, values.value) as baseline_value
    from stated
    left join marts.indicator_values as values
        on values.indicator_id = stated.indicator_id
        and values.area_code = stated.area_code
        and values.period_type = stated.headline_period_type
        and values.period_label = stated.baseline_period
)

select
    partnership,
    area_code,
    indicator_id,
    baseline_period,
    baseline_period_end as baseline_date,
    baseline_value,
    stated_baseline_value is not null as baseline_stated,
    coalesce(target_value, baseline_value * (1 + target_change_pct / 100.0)) as target_value,
    target_change_pct,
    target_date,
    amber_tolerance_pct,
    illustrative,
    note,
    source
from resolved
order by partnership, area_code, indicator_id
