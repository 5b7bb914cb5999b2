"""The one disclosure rule (scorecard.publish.disclosure), and every output applying it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorecard.publish import disclosure
from scorecard.publish.charts import chart_series, write_charts
from scorecard.publish.disclosure import Disclosure, made_from_small_count
from scorecard.publish.marts import read_marts
from scorecard.publish.report import write_reports
from tests.test_report import STOCKTON, make_marts, scorecard_cell, section


@pytest.mark.parametrize(("unit", "value", "numerator", "denominator", "withheld"), [
    ("children", 3, None, None, True), ("children", 5, 5, None, True), ("children", 1, None, None, True),
    ("children", 6, 6, None, False), ("children", 0, 0, None, False),  # nothing to reveal in a 0
    ("%", 7.5, 3, 40, True), ("%", 60.0, 30, 5, True), ("%", 3.0, 30, 1000, False),  # a small %, no small count
    ("per 10,000", 2.7, 40, 149533, False), ("%", None, 3, 40, False)])
def test_the_rule(unit, value, numerator, denominator, withheld) -> None:
    assert made_from_small_count(unit, value, numerator, denominator) is withheld
    assert Disclosure(True).hides(unit, value, numerator, denominator) is withheld
    assert Disclosure(False).hides(unit, value, numerator, denominator) is False


def stockton_count(conn, applied: bool) -> float | None:
    """The 2023/24 value the chart of Stockton's early help assessments would draw."""
    series = next(s for s in chart_series(read_marts(conn), Disclosure(applied))
                  if s.area_code == STOCKTON and s.indicator.indicator_id == "eha_neglect_count")
    return next(p.value for p in series.points if p.label == "2023/24")


def test_a_count_of_3_is_c_in_the_report_and_left_out_of_the_chart_by_the_one_rule(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stockton's 3 early help assessments in 2023/24: ``c`` in the report, not drawn on the
    chart; and both follow the one module, so moving its threshold moves both."""
    def outputs(folder: str) -> tuple[str, float | None, str]:
        reports = write_reports(conn, tmp_path / folder, tmp_path / "charts")
        text = reports[0].read_text(encoding="utf-8")
        return scorecard_cell(text, STOCKTON, "eha_neglect_count"), stockton_count(conn, True), text

    with make_marts(tmp_path / "w.duckdb") as conn:
        write_charts(conn, tmp_path / "charts", png=False)
        cell, drawn, text = outputs("reports")
        assert (cell, drawn) == ("c", None)
        assert "is not shown (c)" in section(text, STOCKTON, "eha_neglect_count")
        assert stockton_count(conn, False) == 3  # drawn when disclosure control is off

        monkeypatch.setattr(disclosure, "SMALL_COUNT_MAX", 2)
        cell, drawn, _ = outputs("reports_max_2")
        assert (cell, drawn) == ("3", 3)
