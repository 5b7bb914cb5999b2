-- marts.revisions: each figure a committee report showed whose value has changed since (late
-- recording, a corrected return): the value last reported for that partnership, indicator,
-- area and period beside its value now. A difference under 0.05 (rounding to one decimal) is no
-- revision; a figure now missing is one.
with last_reported as (
    select *
    from marts.reported_figures
    qualify row_number() over (
        partition by partnership, indicator_id, area_code, period_type, period_label order by reported_at desc
    ) = 1
)

select
    reported.partnership,
    reported.as_at,
    reported.indicator_id,
    reported.area_code,
    reported.period_type,
    reported.period_label,
    reported.value as reported_value,
    now.value as current_value,
    now.value - reported.value as difference,
    reported.report_file,
    reported.reported_at
from last_reported as reported
left join marts.indicator_values as now
    on now.indicator_id = reported.indicator_id
    and now.area_code = reported.area_code
    and now.period_type = reported.period_type
    and now.period_label = reported.period_label
where reported.value is not null
    and (now.value is null or abs(now.value - reported.value) >= 0.05)
order by reported.partnership, reported.area_code, reported.indicator_id, reported.period_label
