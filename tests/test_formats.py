"""A partner return gives identical results as CSV and as XLSX (typed cells, dates and all)."""

from pathlib import Path

import polars as pl
import pytest

from expectations.layouts import LAYOUTS_BY_NAME
from expectations.partner_returns import validate_layout
from scorecard.ingest.files import read_tables, recognise
from scorecard.sample import write_sample
from tests.conftest import STRATEGIES

AREAS = frozenset({"E06000057"})


@pytest.fixture(scope="module")
def northumberland_sample(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("formats")
    write_sample(raw, strategies_dir=STRATEGIES, partnerships=["northumberland"])
    return raw


def typed_rows(path: Path) -> pl.DataFrame:
    (table,) = read_tables(path)
    layout, _ = recognise(table.headers)
    text = (table.frame.rename(layout.match_headers(table.headers))
            .with_columns(source_file=pl.lit(str(path)), source_sheet=pl.lit(table.sheet, dtype=pl.String)))
    typed, problems = validate_layout(layout, text.select(*layout.column_names, "source_file", "source_sheet",
                                                          "source_row"), AREAS)
    assert problems == []
    return typed.drop("source_file", "source_sheet")


def as_typed_workbook(csv_path: Path, target: Path) -> Path:
    """The CSV as a workbook an agency would save: numbers as numbers, dates as Excel dates."""
    frame = pl.read_csv(csv_path, try_parse_dates=True)
    frame.write_excel(target, worksheet="Return")
    return target


@pytest.mark.parametrize("name", ["referrals", "looked_after_children", "cpp_by_category", "hub_referrals",
                                  "cpp_repeat_plans"])
def test_csv_and_xlsx_give_identical_rows(northumberland_sample, tmp_path, name):
    (csv_path,) = northumberland_sample.rglob(f"northumberland_{name}.csv")
    workbook = as_typed_workbook(csv_path, tmp_path / f"{name}.xlsx")
    assert typed_rows(csv_path).equals(typed_rows(workbook))


@pytest.mark.parametrize("name", ["early_help_assessments", "persistent_absence"])
def test_xlsx_samples_read_the_same_once_saved_as_csv(northumberland_sample, tmp_path, name):
    (workbook,) = northumberland_sample.rglob(f"northumberland_{name}.xlsx")
    csv_path = tmp_path / f"{name}.csv"
    pl.read_excel(workbook).write_csv(csv_path)
    assert typed_rows(workbook).equals(typed_rows(csv_path))


def test_a_workbook_with_a_layout_per_sheet_is_read_sheet_by_sheet(northumberland_sample, tmp_path):
    import xlsxwriter  # noqa: F401 - polars writes workbooks through it

    referrals = pl.read_csv(next(northumberland_sample.rglob("northumberland_referrals.csv")))
    hub = pl.read_csv(next(northumberland_sample.rglob("northumberland_hub_referrals.csv")))
    path = tmp_path / "front_door.xlsx"
    with __import__("xlsxwriter").Workbook(path) as book:
        referrals.write_excel(book, worksheet="Referrals")
        hub.write_excel(book, worksheet="Hub")
    tables = read_tables(path)
    assert [(t.sheet, recognise(t.headers)[0]) for t in tables] == [
        ("Referrals", LAYOUTS_BY_NAME["referrals"]), ("Hub", LAYOUTS_BY_NAME["hub_referrals"])]
