-- Observations at the periods indicators are reported for: months, financial years and
-- academic years. Months roll up to a financial year (April to March): a flow sums its
-- 12 months (only when all 12 are present, and missing if any month is suppressed), a
-- stock takes its value at 31 March. A year a source gives directly wins over the same year
-- rolled up from that source's months. A stock counted on a month-end date counts as that month.
with given as (
    select source, area_code, measure, measure_kind, breakdown, period_type, period_label,
        period_start, period_end, count, value_note
    from core.observations
    where period_type in ('month', 'financial_year', 'academic_year')
),

month_end_snapshots as (
    select source, area_code, measure, measure_kind, breakdown, 'month' as period_type,
        strftime(period_end, '%Y-%m') as period_label,
        date_trunc('month', period_end)::date as period_start, period_end, count, value_note
    from core.observations
    where period_type = 'date' and measure_kind = 'stock' and period_end = last_day(period_end)
),

months as (
    select *,
        case when month(period_start) >= 4 then year(period_start) else year(period_start) - 1 end
            as financial_year_start
    from (select * from given where period_type = 'month' union all select * from month_end_snapshots)
),

flow_years as (
    select source, area_code, measure, measure_kind, breakdown, financial_year_start,
        case when count(count) = 12 then sum(count) end as count,
        string_agg(distinct value_note, '; ') as value_note
    from months
    where measure_kind = 'flow'
    group by all
    having count(*) = 12
),

stock_years as (
    select source, area_code, measure, measure_kind, breakdown, financial_year_start, count, value_note
    from months
    where measure_kind = 'stock' and month(period_end) = 3
),

rolled_up as (
    select source, area_code, measure, measure_kind, breakdown, 'financial_year' as period_type,
        financial_year_start || '/' || lpad(((financial_year_start + 1) % 100)::varchar, 2, '0')
            as period_label,
        make_date(financial_year_start, 4, 1) as period_start,
        make_date(financial_year_start + 1, 3, 31) as period_end,
        count, value_note
    from (select * from flow_years union all select * from stock_years)
)

select * from given
union all
select * from month_end_snapshots
union all
select * from rolled_up
where not exists (
    select 1 from given
    where given.period_type = 'financial_year'
        and given.source = rolled_up.source
        and given.area_code = rolled_up.area_code
        and given.measure = rolled_up.measure
        and given.breakdown = rolled_up.breakdown
        and given.period_start = rolled_up.period_start
)
