"""SPC on the right series (DOMAIN.md "Statistical process control: which series"): monthly
counts instead of a rolling average, a yearly stock as yearly points in a run chart, and a
target compared in the unit and period of the series charted. Small hand-made tables."""

from datetime import date

import duckdb
import pytest

from scorecard.model.periods import financial_year, month
from scorecard.transform.spc import build_spc

AREA = "E06000057"


def months(count: int, first=(2022, 4)) -> list:
    year, number = first
    out = []
    for _ in range(count):
        out.append(month(year, number))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return out


@pytest.fixture()
def conn():
    conn = duckdb.connect()
    conn.execute("create schema core; create schema marts")
    conn.execute("""create table marts.indicator_values (partnership varchar, area_code varchar, indicator_id varchar,
        period_type varchar, period_label varchar, period_end date, value double)""")
    conn.execute("create table marts.indicators (indicator_id varchar, polarity varchar)")
    conn.execute("create table marts.targets (indicator_id varchar, area_code varchar, target_value double)")
    conn.execute("""create table core.observation_periods (source varchar, area_code varchar, measure varchar,
        breakdown varchar, period_type varchar, period_label varchar, period_end date, count bigint)""")
    conn.execute("create table core.areas as select ? as area_code, 'northumberland' as partnership", [AREA])
    conn.execute("create table core.sources as select * from (values ('partner_return', 1), ('record_level', 2)) "
                 "as s (source, precedence)")
    yield conn
    conn.close()


def add_values(conn, indicator_id: str, points: list, values: list[float]) -> None:
    conn.executemany("insert into marts.indicator_values values ('northumberland', ?, ?, ?, ?, ?, ?)",
                     [(AREA, indicator_id, p.period_type, p.label, p.end, v) for p, v in zip(points, values)])


def spc_rows(conn, indicator_id: str) -> list[dict]:
    return conn.execute("select * from marts.spc where indicator_id = ? order by period_end",
                        [indicator_id]).pl().to_dicts()


def summary(conn, indicator_id: str) -> tuple:
    return conn.execute("select variation, assurance from core.spc_summary where indicator_id = ?",
                        [indicator_id]).fetchone()


def test_a_rolling_average_is_charted_as_its_monthly_counts(conn):
    counts = [90 + (i * 7) % 25 for i in range(24)]
    conn.execute("insert into marts.indicators values ('eha_rolling12_avg', 'higher_is_better')")
    conn.execute("insert into marts.targets values ('eha_rolling12_avg', ?, 110)", [AREA])
    for p, n in zip(months(24), counts):  # two agencies; the record-level copy is lower in precedence
        conn.execute("insert into core.observation_periods values ('partner_return', ?, 'eha_started', 'School', "
                     "'month', ?, ?, ?), ('partner_return', ?, 'eha_started', 'Police', 'month', ?, ?, 10), "
                     "('record_level', ?, 'eha_started', 'School', 'month', ?, ?, 1)",
                     [AREA, p.label, p.end, n - 10, AREA, p.label, p.end, AREA, p.label, p.end])
    add_values(conn, "eha_rolling12_avg", months(24), [100.0 + i / 10 for i in range(24)])  # smooth, rising
    build_spc(conn)
    rows = spc_rows(conn, "eha_rolling12_avg")
    assert [r["value"] for r in rows] == counts
    assert rows[-1]["chart"] == "xmr" and "not independent" in rows[-1]["series"]
    assert rows[-1]["target_value"] == 110 and rows[-1]["target_basis"] is None
    # The rolling average itself would show a trend of 7 (special cause) throughout.
    assert not any(r["special_cause_rules"] and "trend" in r["special_cause_rules"] for r in rows)


def test_a_stock_counted_once_a_year_is_a_yearly_run_chart(conn):
    years = [financial_year(y) for y in range(2013, 2025)]
    counts = [400, 386, 390, 395, 380, 398, 420, 430, 440, 445, 450, 455]
    conn.execute("insert into marts.indicators values ('lac_count', 'lower_is_better')")
    conn.execute("insert into marts.targets values ('lac_count', ?, 370)", [AREA])
    add_values(conn, "lac_count", years, counts)
    add_values(conn, "lac_count", [month(y + 1, 3) for y in range(2013, 2025)], counts)  # the snapshots as months
    build_spc(conn)
    rows = spc_rows(conn, "lac_count")
    assert [r["period_label"] for r in rows] == [p.label for p in years]
    assert {(r["chart"], r["lower_limit"], r["upper_limit"], r["trial_limits"]) for r in rows} == {
        ("run", None, None, False)}
    assert rows[0]["mean"] == 410  # the median
    # Six years above the median at the end: a shift, and a concern for a lower-is-better count.
    assert rows[-1]["special_cause_direction"] == "concern" and "shift of 6" in rows[-1]["special_cause_rules"]
    assert summary(conn, "lac_count") == ("special cause concern", None)  # no limits, no assurance


def test_an_annual_count_target_is_divided_for_a_monthly_chart_and_says_so(conn):
    conn.execute("insert into marts.indicators values ('eha_neglect_count', 'higher_is_better')")
    conn.execute("insert into marts.targets values ('eha_neglect_count', ?, 329)", [AREA])
    add_values(conn, "eha_neglect_count", months(24), [27.0 + (-5, 4, -2, 6, -6, 3)[i % 6] for i in range(24)])
    build_spc(conn)
    rows = spc_rows(conn, "eha_neglect_count")
    assert rows[-1]["target_value"] == pytest.approx(329 / 12)
    assert rows[-1]["target_basis"] == ("The annual target of 329 assessments is compared as 27.4 a month "
                                        "(divided by 12).")
    # Against the annual 329 every month would "consistently fail"; a month's share is within the limits.
    assert summary(conn, "eha_neglect_count") == ("common cause", "hit and miss")


def test_a_percentage_target_is_compared_as_set(conn):
    conn.execute("insert into marts.indicators values ('rereferral_pct', 'lower_is_better')")
    conn.execute("insert into marts.targets values ('rereferral_pct', ?, 18)", [AREA])
    add_values(conn, "rereferral_pct", months(24), [20.0 + i % 3 for i in range(24)])
    build_spc(conn)
    rows = spc_rows(conn, "rereferral_pct")
    assert (rows[-1]["chart"], rows[-1]["target_value"], rows[-1]["target_basis"]) == ("xmr", 18, None)
    assert rows[0]["period_end"] == date(2022, 4, 30)


def test_the_built_charts_say_which_series_and_which_target(warehouse):
    from scorecard.publish import charts
    from scorecard.publish.disclosure import Disclosure
    from scorecard.publish.marts import read_marts

    all_series = {(s.indicator.indicator_id, s.area_code): s
                  for s in charts.chart_series(read_marts(warehouse), Disclosure())}
    lac = charts.build_spc_figure(all_series[("lac_count", AREA)])
    assert "yearly run chart" in lac["layout"]["title"]["text"]
    assert all(point.label.count("/") == 1 for point in all_series[("lac_count", AREA)].spc)  # "2016/17"
    eha = all_series[("eha_neglect_count", AREA)]
    names = [trace.get("name", "") for trace in charts.build_spc_figure(eha)["data"]]
    assert any(name.endswith("(÷ 12)") for name in names)
    assert any("divided by 12" in line for line in charts.spc_footnotes(eha))
    rolling = charts.spc_footnotes(all_series[("eha_rolling12_avg", AREA)])
    assert any("not independent" in line for line in " ".join(rolling).split(". "))


def test_a_monthly_count_of_1_to_5_charted_for_a_rolling_average_is_suppressed():
    from scorecard.publish import charts
    from scorecard.publish.disclosure import Disclosure
    from scorecard.publish.marts import AreaSeries, IndicatorInfo, Marts, Point, SpcPoint

    key = ("eha_rolling12_avg", AREA)
    months_ = months(3)
    spc = tuple(SpcPoint(p.label, p.end, count, 10.0, 0.0, 20.0, True, False, None, None, "xmr",
                         "Monthly counts", None, None, "count") for p, count in zip(months_, (12, 3, 14)))
    marts = Marts({key[0]: IndicatorInfo(key[0], "EHAs per month", "per month", "higher_is_better", "month")},
                  {key: AreaSeries(key[0], AREA, "Northumberland", "northumberland",
                                   tuple(Point(p.label, p.end, 50.0, 600, 12) for p in months_),
                                   {p.label: Point(p.label, p.end, 50.0, 600, 12) for p in months_})},
                  {}, {}, {key: spc}, (), {}, {})
    [series] = charts.chart_series(marts, Disclosure())
    assert [p.value for p in series.spc] == [12, None, 14]
    [series] = charts.chart_series(marts, Disclosure(False))
    assert [p.value for p in series.spc] == [12, 3, 14]


def test_hub_referrals_are_a_count_for_disclosure_control():
    from scorecard.publish.disclosure import Disclosure

    assert Disclosure().show(4.0, "referrals") == "c" and Disclosure().show(1147.0, "referrals") == "1,147"
