"""The committee's periods (quarters, year to date, rolling 12 and 6 months) rolled up from
months by core.observation_periods, on small hand-made tables."""

from datetime import date

import duckdb
import polars as pl
import pytest

from scorecard.ingest.fingertips import FINGERTIPS_COLUMNS, FINGERTIPS_SCHEMA
from scorecard.load.warehouse import sql_text
from scorecard.model.periods import month_end, parse_period


def months_between(first: date, last: date) -> list[date]:
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@pytest.fixture()
def periods():
    """Referrals (a flow, 10 + the calendar month each month, June 2016 missing and December
    2016 suppressed in one area) and plans open (a stock, 100 + the month) for April 2016 to
    September 2017."""
    conn = duckdb.connect()
    conn.execute("create schema core")
    conn.execute("""create table core.observations (source varchar, area_code varchar, measure varchar,
        measure_kind varchar, breakdown varchar, period_type varchar, period_label varchar,
        period_start date, period_end date, count bigint, value_note varchar, source_file varchar)""")
    rows = []
    for month in months_between(date(2016, 4, 1), date(2017, 9, 1)):
        label, end = month.strftime("%Y-%m"), month_end(month.year, month.month)
        for area in ("A", "B"):
            if area == "A" and month == date(2016, 6, 1):
                continue  # a month missing
            suppressed = area == "B" and month == date(2016, 12, 1)
            rows.append(("p", area, "referrals", "flow", "All", "month", label, month, end,
                         None if suppressed else 10 + month.month, "c: suppressed" if suppressed else None, "f"))
            rows.append(("p", area, "cpp_open", "stock", "All", "month", label, month, end,
                         100 + month.month, None, "f"))
    conn.executemany("insert into core.observations values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("create table core.observation_periods as " + sql_text("core/observation_periods.sql"))
    yield conn
    conn.close()


def figure(conn, area: str, measure: str, label: str):
    rows = conn.execute("select period_type, period_start, period_end, count from core.observation_periods "
                        "where area_code = ? and measure = ? and period_label = ?", [area, measure, label]).fetchall()
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


@pytest.mark.parametrize(("label", "expected"), [
    ("2017/18 Q2", ("quarter", date(2017, 7, 1), date(2017, 9, 30), 17 + 18 + 19)),
    ("2016/17 Q4", ("quarter", date(2017, 1, 1), date(2017, 3, 31), 11 + 12 + 13)),
    ("2017/18 Apr-Sep", ("year_to_date", date(2017, 4, 1), date(2017, 9, 30), 14 + 15 + 16 + 17 + 18 + 19)),
    ("2017/18 Apr", ("year_to_date", date(2017, 4, 1), date(2017, 4, 30), 14)),
    ("12 months to Sep 2017", ("rolling_12_months", date(2016, 10, 1), date(2017, 9, 30), sum(range(11, 23)))),
    ("6 months to Mar 2017", ("rolling_6_months", date(2016, 10, 1), date(2017, 3, 31),
                              20 + 21 + 22 + 11 + 12 + 13)),
])
def test_a_flow_sums_the_months_of_each_period(periods, label, expected):
    assert figure(periods, "A", "referrals", label) == expected


def test_a_period_missing_a_month_is_not_given(periods):
    assert figure(periods, "A", "referrals", "2016/17 Q1") is None          # June 2016 missing
    assert figure(periods, "A", "referrals", "2016/17 Apr-Sep") is None
    assert figure(periods, "A", "referrals", "12 months to May 2017") is None
    assert figure(periods, "A", "referrals", "12 months to Jun 2017") is not None
    assert figure(periods, "B", "referrals", "2016/17 Q1") is not None


def test_a_suppressed_month_leaves_the_period_missing_with_the_reason(periods):
    row = periods.execute("select count, value_note from core.observation_periods where area_code = 'B' "
                          "and measure = 'referrals' and period_label = '2016/17 Q3'").fetchone()
    assert row == (None, "c: suppressed")


def test_a_stock_is_its_value_in_the_last_month(periods):
    assert figure(periods, "A", "cpp_open", "2017/18 Q2")[3] == 109
    assert figure(periods, "A", "cpp_open", "2017/18 Apr-Sep")[3] == 109
    assert figure(periods, "A", "cpp_open", "12 months to Sep 2017")[3] == 109


def test_quarters_end_only_in_june_september_december_and_march(periods):
    labels = [r[0] for r in periods.execute(
        "select period_label from core.observation_periods where area_code = 'B' and measure = 'referrals' "
        "and period_type = 'quarter' order by period_start").fetchall()]
    assert labels == ["2016/17 Q1", "2016/17 Q2", "2016/17 Q3", "2016/17 Q4", "2017/18 Q1", "2017/18 Q2"]


def test_python_reads_every_label_the_sql_writes_as_the_same_period(periods):
    rows = periods.execute("select distinct period_type, period_label, period_start, period_end "
                           "from core.observation_periods where period_type <> 'month'").fetchall()
    assert len(rows) > 20
    for period_type, label, start, end in rows:
        period = parse_period(label, (period_type,))
        assert (period.period_type, period.label, period.start, period.end) == (period_type, label, start, end)


def test_a_ratio_is_recomputed_from_the_summed_counts_not_averaged(periods):
    # Re-referrals: 9 of July's 17 referrals, 0 of August's 18, 0 of September's 19 (53%, 0%, 0%).
    periods.execute("""insert into core.observations
        select * replace ('rereferrals' as measure, case period_label when '2017-07' then 9 else 0 end as count)
        from core.observations
        where measure = 'referrals' and area_code = 'A' and period_label >= '2017-07'""")
    periods.execute("create or replace table core.observation_periods as " + sql_text("core/observation_periods.sql"))
    # (the macros read raw.fingertips too)
    periods.register("empty_fingertips", pl.DataFrame(schema=FINGERTIPS_SCHEMA).select(FINGERTIPS_COLUMNS))
    periods.execute("create schema if not exists raw")
    periods.execute("create table raw.fingertips as select * from empty_fingertips")
    periods.execute(sql_text("macros/indicators.sql"))
    row = periods.execute("select numerator, denominator, round(value, 2) from "
                          "core.ratio_indicator('rereferrals', 'All', 'referrals', 'All', 100.0) "
                          "where area_code = 'A' and period_label = '2017/18 Q2'").fetchone()
    assert row == (9, 54, round(100 * 9 / 54, 2))  # 16.67%, not the mean of the months' 17.6%


NORTHUMBERLAND = "E06000057"


@pytest.mark.parametrize(("indicator_id", "period_type", "label", "numerator", "denominator", "shown"), [
    ("rereferral_pct", "year_to_date", "2017/18 Apr-Sep", 229, 1569, 14.6),
    ("cpp_repeat_neglect_pct", "year_to_date", "2017/18 Apr-Sep", 16, 216, 7.4),
    ("hub_referrals_count", "rolling_6_months", "6 months to Mar 2017", 1147, None, 1147.0),
])
def test_the_seeds_period_figures_are_rows_of_indicator_values(warehouse, indicator_id, period_type, label,
                                                               numerator, denominator, shown):
    row = warehouse.execute(
        "select numerator, denominator, round(value, 1), ci95_low < value and value < ci95_high "
        "from marts.indicator_values where indicator_id = ? and area_code = ? and period_type = ? "
        "and period_label = ?", [indicator_id, NORTHUMBERLAND, period_type, label]).fetchone()
    assert row == (numerator, denominator, shown, True)


def test_every_committee_period_type_reaches_indicator_values(warehouse):
    types = {t for (t,) in warehouse.execute(
        "select distinct period_type from marts.indicator_values where indicator_id = 'rereferral_pct'").fetchall()}
    assert {"quarter", "year_to_date", "rolling_12_months", "rolling_6_months"} <= types


def test_a_milestone_on_a_period_is_judged_on_that_periods_figure(warehouse):
    row = warehouse.execute(
        "select period_type, milestone_value, value, status from marts.milestones "
        "where area_code = ? and indicator_id = 'hub_referrals_count' and period_label = '6 months to Dec 2018'",
        [NORTHUMBERLAND]).fetchone()
    (months_total,) = warehouse.execute(
        "select sum(value) from marts.indicator_values where area_code = ? and indicator_id = 'hub_referrals_count' "
        "and period_type = 'month' and period_label between '2018-07' and '2018-12'", [NORTHUMBERLAND]).fetchone()
    assert row == ("rolling_6_months", 1375.0, months_total, "met" if months_total >= 1375 else "missed")


@pytest.mark.parametrize(("polarity", "value", "status"), [
    ("higher_is_better", 1375.0, "met"), ("higher_is_better", 1374.0, "missed"),
    ("lower_is_better", 1374.0, "met"), ("lower_is_better", 1376.0, "missed"), ("higher_is_better", None, "no data"),
])
def test_milestones_are_met_by_polarity(polarity, value, status):
    conn = duckdb.connect()
    conn.execute("create schema core; create schema marts")
    conn.execute("create table core.strategy_period_milestones as select 'p' as partnership, 'A' as area_code, "
                 "'x' as indicator_id, 'rolling_6_months' as period_type, '6 months to Dec 2018' as period_label, "
                 "date '2018-12-31' as period_end, 1375.0 as value")
    conn.execute("create table marts.indicators as select 'x' as indicator_id, ? as polarity", [polarity])
    conn.execute("create table marts.indicator_values as select 'x' as indicator_id, 'A' as area_code, "
                 "'rolling_6_months' as period_type, '6 months to Dec 2018' as period_label, ?::double as value",
                 [value])
    assert conn.execute(sql_text("marts/milestones.sql")).fetchone()[-1] == status
