"""The committee's periods as at a date, RAG against the trajectory at a period's end, and the
record of what was reported: unit tests on small inputs."""

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from scorecard.model.periods import quarter, rolling_months, year_to_date
from scorecard.model.reported import ReportedFiguresError, append_history, read_history
from scorecard.publish.committee import (
    headline_periods,
    last_full_year,
    path_scale,
    quarter_end_on_or_before,
    rag_against,
)
from scorecard.publish.marts import Trajectory


@pytest.mark.parametrize(("day", "expected"), [
    (date(2025, 9, 30), date(2025, 9, 30)), (date(2025, 11, 12), date(2025, 9, 30)),
    (date(2025, 9, 29), date(2025, 6, 30)), (date(2026, 2, 1), date(2025, 12, 31)),
    (date(2025, 3, 31), date(2025, 3, 31)), (date(2025, 1, 15), date(2024, 12, 31)),
])
def test_the_latest_complete_quarter_on_or_before_a_date(day, expected):
    assert quarter_end_on_or_before(day) == expected


def test_a_committee_in_november_sees_the_quarter_year_to_date_and_rolling_year_to_september():
    periods = headline_periods(date(2025, 11, 12))
    assert {kind: (p.label, before.label) for kind, (p, before) in periods.items()} == {
        "quarter": ("2025/26 Q2", "2024/25 Q2"),
        "year_to_date": ("2025/26 Apr-Sep", "2024/25 Apr-Sep"),
        "rolling_12_months": ("12 months to Sep 2025", "12 months to Sep 2024")}
    assert last_full_year(date(2025, 11, 12)).label == "2024/25"
    assert last_full_year(date(2026, 3, 31)).label == "2025/26"


def test_a_yearly_count_path_is_shared_over_a_shorter_period_but_not_a_percentage_or_stock():
    assert path_scale("hub_referrals_count", quarter(2025, 9)) == 0.25
    assert path_scale("eha_neglect_count", year_to_date(2025, 9)) == 0.5
    assert path_scale("eha_neglect_count", rolling_months(2025, 9, 12)) == 1
    assert path_scale("rereferral_pct", quarter(2025, 9)) == 1
    assert path_scale("lac_count", quarter(2025, 9)) == 1


@pytest.mark.parametrize(("value", "polarity", "expected"), [
    (19.0, "lower_is_better", "green"), (20.5, "lower_is_better", "amber"), (22.0, "lower_is_better", "red"),
    (21.0, "higher_is_better", "green"), (None, "lower_is_better", "no data"),
])
def test_rag_against_the_path_at_the_periods_end(value, polarity, expected):
    assert rag_against(value, 20.0, polarity, 5.0) == expected
    assert rag_against(1.0, None, polarity, 5.0) == "no target"


def test_the_trajectory_at_a_period_end_is_on_the_straight_line():
    path = Trajectory(((date(2017, 3, 31), 30.0), (date(2021, 3, 31), 18.0)), 5.0)
    assert path.value_at(date(2019, 3, 31)) == pytest.approx(30 - 12 * 730 / 1461)
    assert path.value_at(date(2016, 3, 31)) == 30.0 and path.value_at(date(2025, 9, 30)) == 18.0


def figures(value: float, rag: str = "green", as_at: date = date(2025, 6, 30)) -> pl.DataFrame:
    return pl.DataFrame([{"partnership": "northumberland", "as_at": as_at, "indicator_id": "rereferral_pct",
                          "area_code": "E06000057", "period_type": "quarter", "period_label": "2025/26 Q1",
                          "value": value, "rag": rag, "report_file": "northumberland.html",
                          "reported_at": datetime(2025, 7, 10, 9, 0)}])


def test_the_record_keeps_every_figure_once_per_report_and_each_change(tmp_path: Path):
    path = tmp_path / "reported_figures.csv"
    assert append_history(path, figures(19.6)) == 1
    assert append_history(path, figures(19.6)) == 0  # the same report re-issued: nothing new
    assert append_history(path, figures(19.9, "amber")) == 1  # re-issued after a revision
    assert append_history(path, figures(19.9, as_at=date(2025, 9, 30))) == 1  # the next committee
    history = read_history(path)
    assert history["value"].to_list() == [19.6, 19.9, 19.9]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_damaged_record_is_refused_naming_the_file_and_left_as_it_was(tmp_path: Path):
    path = tmp_path / "reported_figures.csv"
    path.write_text("partnership,as_at\nnorthumberland,not a date\n")
    with pytest.raises(ReportedFiguresError, match="reported_figures.csv: the record of reported figures"):
        append_history(path, figures(19.6))
    assert path.read_text() == "partnership,as_at\nnorthumberland,not a date\n"


def test_an_as_at_date_written_wrongly_is_refused_plainly(tmp_path: Path, capsys):
    from tests.conftest import make_settings, run_cli

    settings = make_settings(tmp_path)
    assert run_cli(settings, "report", "--as-at", "Sep 2025") == 2
    assert "--as-at: the as-at date must be written like 2025-09-30, found 'Sep 2025'" in capsys.readouterr().err
    assert not settings.out_dir.exists()


def test_scheduled_builds_take_the_as_at_date_from_the_setting(tmp_path: Path):
    from pipelines.resources import resources_for
    from pipelines.settings import load_settings

    settings = load_settings({"SCORECARD_REPORT_AS_AT": "2025-09-30", "SCORECARD_DB": str(tmp_path / "w.duckdb")})
    assert settings.report_as_at == date(2025, 9, 30)
    assert settings.reported_figures_path == tmp_path / "reported_figures.csv"  # beside the warehouse
    assert resources_for(settings)["paths"].settings.report_as_at == date(2025, 9, 30)
    assert load_settings({}).report_as_at is None
    with pytest.raises(ValueError, match="SCORECARD_REPORT_AS_AT: the as-at date must be written like 2025-09-30"):
        load_settings({"SCORECARD_REPORT_AS_AT": "30/09/2025"})
