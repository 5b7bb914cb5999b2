"""The local measures return: one long layout any agency can fill (area_code, period, measure,
breakdown, count), validated like the other partner returns, and feeding core.observations under
its own source name. A new indicator then needs one YAML file, one such return and one strategy
line: no Python, no SQL."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from expectations.layouts import LAYOUTS_BY_NAME
from expectations.partner_returns import validate_layout
from pipelines.settings import Settings
from scorecard.ingest.files import recognise
from scorecard.load.file_refs import FileRef
from scorecard.load.partner_returns import read_layout_file
from tests.conftest import build_cli

LOCAL = LAYOUTS_BY_NAME["local_measures"]
AREAS = frozenset({"E06000057"})
NORTHUMBERLAND = "E06000057"


def local_rows(*rows: tuple, file: str = "returns/local.csv") -> pl.DataFrame:
    frame = pl.DataFrame([list(r) for r in rows], schema=list(LOCAL.column_names), orient="row")
    return frame.with_columns(source_file=pl.lit(file), source_sheet=pl.lit(None, dtype=pl.String),
                              source_row=pl.int_range(2, frame.height + 2, dtype=pl.Int64))


def test_the_long_layout_is_recognised_by_its_header():
    assert recognise(["Area code", "Period", "Measure", "Breakdown", "Count"])[0] is None  # (not normalised)
    assert recognise(["area_code", "period", "measure", "breakdown", "count"])[0] is LOCAL


def test_periods_are_written_as_the_partner_returns_write_them():
    rows = local_rows((NORTHUMBERLAND, "2017-09", "school_nurse_visits", "All", "12"),
                      (NORTHUMBERLAND, "2016/17", "school_nurse_visits", "All", "1,140"),
                      (NORTHUMBERLAND, "31/03/2017", "children_on_waiting_list", " Health visiting ", "7"))
    typed, problems = validate_layout(LOCAL, rows, AREAS)
    assert problems == []
    assert typed.select("period_type", "period_label", "measure", "breakdown", "count").rows() == [
        ("month", "2017-09", "school_nurse_visits", "All", 12),
        ("financial_year", "2016/17", "school_nurse_visits", "All", 1140),
        ("date", "2017-03-31", "children_on_waiting_list", "Health visiting", 7)]


@pytest.mark.parametrize(("bad_row", "column", "rule"), [
    ((NORTHUMBERLAND, "2017-09", "School Nurse Visits", "All", "3"), "measure", "a measure name must be lower case"),
    ((NORTHUMBERLAND, "2017-09", "school_nurse_visits", "   ", "3"), "breakdown", "it must not be blank"),
    ((NORTHUMBERLAND, "Sept 2017", "school_nurse_visits", "All", "3"), "period", "the period must be a month"),
    ((NORTHUMBERLAND, "2017-09", "school_nurse_visits", "All", "-3"), "count", "a count must be a whole number"),
    (("E09999999", "2017-09", "school_nurse_visits", "All", "3"), "area_code", "the area must be the ONS code"),
    ((NORTHUMBERLAND, "2017-09", "school_nurse_visits", None, "3"), "breakdown", "every cell in this column"),
])
def test_a_bad_row_is_refused_naming_row_column_and_rule(bad_row, column, rule):
    rows = local_rows((NORTHUMBERLAND, "2017-08", "school_nurse_visits", "All", "5"), bad_row)
    _, problems = validate_layout(LOCAL, rows, AREAS)
    assert [(p.file, p.row, p.column) for p in problems] == [("returns/local.csv", 3, column)]
    assert rule in problems[0].message()


def test_a_measure_given_twice_for_the_same_area_period_and_breakdown_is_refused():
    row = (NORTHUMBERLAND, "2017-08", "school_nurse_visits", "All", "5")
    _, problems = validate_layout(LOCAL, local_rows(row, row), AREAS)
    [message] = [p.message() for p in problems]  # (one problem, grouped, naming both rows)
    assert "2 rows are refused because another row already gives" in message and message.endswith(", rows 2-3.")


def test_an_xlsx_return_reads_like_a_csv_one(tmp_path: Path):
    book = openpyxl.Workbook()
    book.active.title = "Local measures"
    book.active.append(["Area code", "Period", "Measure", "Breakdown", "Count"])
    book.active.append([NORTHUMBERLAND, "2017-09", "school_nurse_visits", "All", 12])
    book.save(tmp_path / "health.xlsx")
    read = read_layout_file(LOCAL, tmp_path, FileRef("health.xlsx", "Local measures", "0" * 64,
                                                               (tmp_path / "health.xlsx").stat().st_size), AREAS)
    assert read.problems == []
    assert read.rows.select("measure", "period_label", "count").rows() == [("school_nurse_visits", "2017-09", 12)]


SCHOOL_NURSING = """\
id: school_nurse_visits_pct
name: Home visits by the school nurse
family: health
unit: '%'
polarity: higher_is_better
definition: Children visited at home by the school nurse, as a % of children referred to the service.
source: Local measures return (school nursing)
numerator: {measure: school_nurse_visits}
denominator: {measure: school_nurse_referrals}
kind: flow
headline_period: financial_year
"""


def write_school_nursing_return(raw_dir: Path, referrals: int = 40, visits: int = 30) -> None:
    """Twelve months of 2016/17 and of 2017/18 for Northumberland, by two teams."""
    (raw_dir / "school_nursing").mkdir(parents=True, exist_ok=True)
    with (raw_dir / "school_nursing" / "return.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["area_code", "period", "measure", "breakdown", "count"])
        for year, extra in ((2016, 0), (2017, 3)):
            for month in range(12):
                label = f"{year + (month + 3) // 12}-{(month + 3) % 12 + 1:02d}"
                for team in ("North", "South"):
                    out.writerow([NORTHUMBERLAND, label, "school_nurse_referrals", team, referrals])
                    out.writerow([NORTHUMBERLAND, label, "school_nurse_visits", team, visits + extra])


def add_school_nursing(raw_dir: Path) -> None:
    (raw_dir / "indicators").mkdir(exist_ok=True)
    (raw_dir / "indicators" / "school_nurse_visits_pct.yaml").write_text(SCHOOL_NURSING, encoding="utf-8")
    write_school_nursing_return(raw_dir)
    strategy = raw_dir / "strategies" / "northumberland.yaml"
    strategy.write_text(strategy.read_text(encoding="utf-8") + "  school_nurse_visits_pct: {baseline: {period: "
                        "2016/17}, target: {value: 80, due: 2019-03-31}}\n", encoding="utf-8")


def test_one_yaml_file_one_local_return_and_one_strategy_line_make_an_indicator_end_to_end(
        copy_of_built: Settings):
    add_school_nursing(copy_of_built.raw_dir)
    code, output = build_cli(copy_of_built, chart_images=False)  # (its chart's page is enough)
    assert code == 0, output
    with duckdb.connect(str(copy_of_built.db_path), read_only=True) as conn:
        kinds = conn.execute("""select distinct source, measure_kind from core.observations
                                where measure like 'school_nurse_%'""").fetchall()
        years = conn.execute("""select period_label, numerator, denominator, round(value, 2)
                                from core.indicator_series where indicator_id = 'school_nurse_visits_pct'
                                and period_type = 'financial_year' order by 1""").fetchall()
        row = conn.execute("""select period_label, round(value, 1), target_value, rag, source from marts.scorecard
                              where indicator_id = 'school_nurse_visits_pct' and area_code = ?""",
                           [NORTHUMBERLAND]).fetchone()
    assert kinds == [("local_return", "flow")]  # (a flow, as its indicator file says: months sum to years)
    assert years == [("2016/17", 720, 960, 75.0), ("2017/18", 792, 960, 82.5)]
    assert row == ("2017/18", 82.5, 80.0, "green", "local_return")
    chart = copy_of_built.charts_dir / NORTHUMBERLAND / "school_nurse_visits_pct.html"
    assert "Home visits by the school nurse" in chart.read_text(encoding="utf-8")
    report = (copy_of_built.reports_dir / "northumberland.html").read_text(encoding="utf-8")
    assert "Home visits by the school nurse" in report and "82.5" in report
