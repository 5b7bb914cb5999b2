-- Observations at the periods indicators are reported for: months, financial years and
-- academic years. Months roll up to a financial year (April to March): a flow sums its
-- 12 months (only when all 12 are present, and missing if any month is suppressed), a
-- stock takes its value at 31 March. A year a source gives directly wins over the same year
-- rolled up from that source's months. A stock counted on a month-end date counts as that month.
-- Months also roll up to the committee's periods, by the same rule (a flow sums its months,
-- given only when every month is there; a stock is its value in the period's last month):
-- quarters of the financial year ("2025/26 Q2", July-September), the financial year to date
-- ("2025/26 Apr-Sep") and rolling 12 and 6 months ("12 months to Sep 2025").
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
),

-- Each month a series has can end one window of each kind: quarters end in June, September,
-- December and March; a year to date starts in April.
window_ends as (
    select distinct source, area_code, measure, measure_kind, breakdown, financial_year_start,
        period_start as last_month, period_end
    from months
),

windows as (
    select window_ends.*, kind.period_type,
        case kind.period_type
            when 'quarter' then 3
            when 'year_to_date' then (month(last_month) + 8) % 12 + 1
            when 'rolling_12_months' then 12
            when 'rolling_6_months' then 6
        end as months_long
    from window_ends
    cross join (values ('quarter'), ('year_to_date'), ('rolling_12_months'), ('rolling_6_months'))
        as kind (period_type)
    where kind.period_type <> 'quarter' or month(last_month) in (3, 6, 9, 12)
),

window_values as (
    select windows.source, windows.area_code, windows.measure, windows.measure_kind, windows.breakdown,
        windows.period_type, windows.financial_year_start, windows.last_month, windows.period_end,
        windows.months_long,
        (windows.last_month - to_months(windows.months_long - 1))::date as first_month,
        count(*) as months_present,
        count(months.count) as months_counted,
        sum(months.count)::bigint as total,
        max_by(months.count, months.period_start) as at_end,
        string_agg(distinct months.value_note, '; ') as value_note
    from windows
    inner join months
        on months.source = windows.source
        and months.area_code = windows.area_code
        and months.measure = windows.measure
        and months.breakdown = windows.breakdown
        and months.period_start <= windows.last_month
        and months.period_start > windows.last_month - to_months(windows.months_long)
    group by all
),

committee_periods as (
    select source, area_code, measure, measure_kind, breakdown, period_type,
        case period_type
            when 'quarter' then financial_year_start || '/'
                || lpad(((financial_year_start + 1) % 100)::varchar, 2, '0')
                || ' Q' || ((month(last_month) + 8) % 12 // 3 + 1)
            when 'year_to_date' then financial_year_start || '/'
                || lpad(((financial_year_start + 1) % 100)::varchar, 2, '0') || ' Apr'
                || case when month(last_month) = 4 then '' else '-' || strftime(last_month, '%b') end
            else months_long || ' months to ' || strftime(last_month, '%b %Y')
        end as period_label,
        first_month as period_start, period_end,
        case when measure_kind = 'stock' then at_end when months_counted = months_long then total end
            as count,
        value_note
    from window_values
    where measure_kind = 'stock' or months_present = months_long
)

select * from given
union all
select * from committee_periods
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
