"""The one reader of the marts for charts and reports (scorecard.publish.marts)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from scorecard.publish.marts import Factor, Point, read_marts
from tests.test_report import ENGLAND, HARTLEPOOL, NORTHUMBERLAND, STOCKTON, make_marts


def test_everything_the_outputs_need_is_read_once(tmp_path: Path) -> None:
    with make_marts(tmp_path / "w.duckdb") as conn:
        marts = read_marts(conn)
    assert marts.indicators["rereferral_pct"].unit == "%"
    assert marts.indicators["rereferral_pct"].lower_is_better
    # Headline series and months apart, with the counts disclosure control needs.
    rereferrals = marts.series[("rereferral_pct", NORTHUMBERLAND)]
    assert (rereferrals.area_name, rereferrals.partnership) == ("Northumberland", "northumberland")
    assert [p.label for p in rereferrals.points][:2] == ["2014/15", "2015/16"]
    assert len(rereferrals.points) == 11 and len(rereferrals.months) == 24
    assert rereferrals.points[0] == Point("2014/15", date(2015, 3, 31), 30.0, 1765, 5882, 28.8, 31.2)
    assert marts.month_counts(("rereferral_pct", NORTHUMBERLAND), "2023-04") == (60, 400)
    assert marts.month_counts(("rereferral_pct", NORTHUMBERLAND), "1999-01") == (None, None)
    # England is a benchmark area: in the marts, but no series of its own here.
    assert not any(area == ENGLAND for _, area in marts.series)
    assert marts.targets[("rereferral_pct", HARTLEPOOL)].illustrative
    assert len(marts.benchmarks[("rereferral_pct", NORTHUMBERLAND)]) == 11
    assert len(marts.spc[("eha_neglect_count", STOCKTON)]) == 12
    assert [s.partnership for s in marts.scorecard] == sorted(s.partnership for s in marts.scorecard)
    assert marts.partnership_names["northumberland"].strategy == "Multi-Agency Neglect Strategy 2018-2021"
    # Contributory factors: latest period first, England under "england".
    assert [period for period, _ in marts.factors[NORTHUMBERLAND]] == ["2023/24", "2022/23"]
    assert Factor("Neglect", 77000, 400000, 19.25) in marts.factors["england"][0][1]


def test_an_older_warehouse_reads_with_what_it_has(tmp_path: Path) -> None:
    with make_marts(tmp_path / "old.duckdb", full=False) as conn:
        marts = read_marts(conn)
    assert marts.benchmarks == {} and marts.spc == {} and marts.factors == {}
    assert marts.partnership_names == {}
    point = marts.series[("rereferral_pct", NORTHUMBERLAND)].points[0]
    assert point.numerator == 1765 and point.ci_low is None
    assert all(score.variation is None for score in marts.scorecard)
