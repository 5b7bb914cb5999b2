-- eha_rolling12_avg: early help assessments started in the 12 months to the end of each month,
-- divided by 12. Only months with all 12 months before them present get a value.
with monthly as (
    select source, area_code, period_label, period_start, period_end,
        case when bool_and(count is not null) then sum(count) end as assessments
    from core.observation_periods
    where measure = 'eha_started' and period_type = 'month'
    group by all
),

rolling as (
    select *,
        sum(assessments) over last_12 as assessments_12_months,
        count(assessments) over last_12 as months_in_window
    from monthly
    window last_12 as (partition by source, area_code order by period_start
                       range between interval 11 months preceding and current row)
)

select source, area_code, 'month' as period_type, period_label, period_start, period_end,
    assessments_12_months as numerator,
    12 as denominator,
    assessments_12_months / 12.0 as value,
    null::varchar as value_note
from rolling
where months_in_window = 12
