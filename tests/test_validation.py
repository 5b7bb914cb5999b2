"""Recognising layouts and validating partner returns: every rule, with the message a person gets."""

import csv
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from expectations.layouts import LAYOUTS, LAYOUTS_BY_NAME, normalise_header
from expectations.partner_returns import validate_layout
from scorecard.ingest.files import recognise
from scorecard.load.file_refs import FileRef
from scorecard.load.partner_returns import read_layout_file

AREAS = frozenset({"E06000057", "E06000001"})
REFERRALS = LAYOUTS_BY_NAME["referrals"]


def referral_rows(*rows: tuple, file: str = "returns/referrals.csv") -> pl.DataFrame:
    """Text rows of the referrals layout, numbered as a spreadsheet would (header = row 1)."""
    frame = pl.DataFrame([list(r) for r in rows], schema=list(REFERRALS.column_names), orient="row")
    return frame.with_columns(source_file=pl.lit(file), source_sheet=pl.lit(None, dtype=pl.String),
                              source_row=pl.int_range(2, frame.height + 2, dtype=pl.Int64))


GOOD = ("E06000057", "2017-08", "250", "40", "30")


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_each_layout_is_recognised_by_its_header_alone(layout):
    assert recognise(list(layout.column_names))[0] is layout
    assert recognise(["extra_column", *reversed(layout.column_names)])[0] is layout


def test_headers_match_whatever_their_case_spacing_and_punctuation():
    written = ["Area Code", "PERIOD", " Referrals ", "Re-referrals within 12\u00a0months", "Neglect referrals"]
    assert recognise([normalise_header(h) for h in written])[0] is REFERRALS


def test_an_unknown_header_is_explained_by_the_closest_layout():
    layout, reason = recognise(["area_code", "period", "referrals", "rereferrals"])
    assert layout is None
    assert "closest is 'referrals'" in reason and "rereferrals_within_12_months" in reason


def test_good_rows_are_typed_and_thousands_separators_accepted():
    rows = referral_rows(GOOD, ("e06000057", "2016/17", "5,882", "1,765", "600"))
    typed, problems = validate_layout(REFERRALS, rows, AREAS)
    assert problems == []
    assert typed.select("area_code", "period_type", "period_label", "referrals").rows() == [
        ("E06000057", "month", "2017-08", 250), ("E06000057", "financial_year", "2016/17", 5882)]


@pytest.mark.parametrize(("bad_row", "column", "value", "rule"), [
    (("E06000057", "2017-09", "-4", "1", "1"), "referrals", "-4", "a count must be a whole number of 0 or more"),
    (("E06000057", "2017-09", "12.5", "1", "1"), "referrals", "12.5", "a count must be a whole number of 0 or more"),
    (("E06000057", "2017-09", "many", "1", "1"), "referrals", "many", "a count must be a whole number of 0 or more"),
    (("E09999999", "2017-09", "10", "1", "1"), "area_code", "E09999999", "the area must be the ONS code"),
    (("E06000057", "Sept 2017", "10", "1", "1"), "period", "Sept 2017", 'the period must be a month written "2017-09"'),
    (("E06000057", "2017-09", "10", "11", "1"), "rereferrals_within_12_months", "11",
     "rereferrals_within_12_months may not be more than referrals"),
    (("E06000057", "2017-09", None, "1", "1"), "referrals", None, "every cell in this column must be filled in"),
])
def test_each_rule_names_file_row_column_value_and_rule(bad_row, column, value, rule):
    _, problems = validate_layout(REFERRALS, referral_rows(GOOD, bad_row), AREAS)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.value) == (
        "returns/referrals.csv", None, 3, column, value)
    assert problem.rule.startswith(rule)
    shown = "a blank cell" if value is None else f"'{value}'"
    assert problem.message().startswith(f"returns/referrals.csv, row 3, column '{column}': ")
    assert shown in problem.message() and rule in problem.message()


def test_a_category_outside_the_allowed_list_is_refused():
    layout = LAYOUTS_BY_NAME["cpp_by_category"]
    text = pl.DataFrame({"area_code": ["E06000057"] * 2, "period": ["2016/17"] * 2,
                         "plan_status": ["open at period end", "Open at period end"],
                         "category": ["neglect", "Domestic abuse"], "children": ["121", "3"],
                         "source_file": ["cpp.xlsx"] * 2, "source_sheet": ["Plans"] * 2, "source_row": [2, 3]})
    typed, problems = validate_layout(layout, text, AREAS)
    assert [(p.sheet, p.row, p.column, p.value) for p in problems] == [("Plans", 3, "category", "Domestic abuse")]
    assert "it must be one of: Neglect, Emotional abuse" in problems[0].rule
    assert typed["category"].to_list() == ["Neglect"]  # canonical spelling whatever the case


def test_the_same_key_twice_is_refused_even_across_files():
    first = referral_rows(GOOD, file="a.csv")
    second = referral_rows(("E06000057", "2017-08", "251", "40", "30"), file="b.csv")
    _, problems = validate_layout(REFERRALS, pl.concat([first, second]), AREAS)
    assert {(p.file, p.row) for p in problems} == {("a.csv", 2), ("b.csv", 2)}
    assert all("may appear only once" in p.rule for p in problems)


def test_every_problem_in_a_file_is_listed_not_just_the_first():
    rows = [GOOD, ("E06000057", "2017-10", "-1", "1", "1"), ("X", "2017-11", "5", "1", "1"),
            ("E06000057", "2017-12", "5", "9", "1")]
    _, problems = validate_layout(REFERRALS, referral_rows(*rows), AREAS)
    assert [(p.row, p.column) for p in problems] == [
        (3, "referrals"), (4, "area_code"), (5, "rereferrals_within_12_months")]


# --- a file read as a build reads it (scorecard.load.partner_returns.read_layout_file) ---

NORTHUMBERLAND = frozenset({"E06000057"})
REFERRAL_FILE = [("E06000057", f"2017-{month:02d}", str(200 + month), "40", "30") for month in range(1, 11)]
CPP_FILE = [("E06000057", "2016/17", "Open at period end", "Neglect", "121"),
            ("E06000057", "2016/17", "Open at period end", "Emotional abuse", "91"),
            ("E06000057", "2016/17", "Started in period", "Neglect", "80")]


def write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_file(raw_dir: Path, relative: str, layout_name: str, sheet: str | None = None):
    ref = FileRef(relative, sheet, "0" * 64, (raw_dir / relative).stat().st_size)
    return read_layout_file(LAYOUTS_BY_NAME[layout_name], raw_dir, ref, NORTHUMBERLAND)


@pytest.mark.parametrize(("layout", "row", "column", "value", "rule"), [
    ("referrals", 5, "referrals", "-12", "a count must be a whole number of 0 or more"),
    ("referrals", 6, "referrals", "lots", "a count must be a whole number of 0 or more"),
    ("referrals", 7, "rereferrals_within_12_months", "99999",
     "rereferrals_within_12_months may not be more than referrals on the same row"),
    ("referrals", 8, "area_code", "E06000099", "the area must be the ONS code of a local authority"),
    ("referrals", 9, "period", "Sep 2014", 'the period must be a month written "2017-09"'),
    ("referrals", 10, "referrals_neglect", "", "every cell in this column must be filled in"),
    ("cpp_by_category", 3, "category", "Domestic abuse", "it must be one of: Neglect, Emotional abuse"),
    ("cpp_by_category", 4, "plan_status", "Closed", "it must be one of: Open at period end, Started in period"),
])
def test_a_bad_cell_in_a_file_is_named_by_file_row_column_value_and_rule(tmp_path, layout, row, column, value, rule):
    spec = LAYOUTS_BY_NAME[layout]
    rows = [list(r) for r in (REFERRAL_FILE if layout == "referrals" else CPP_FILE)]
    rows[row - 2][spec.column_names.index(column)] = value
    relative = f"childrens_social_care/northumberland_{layout}.csv"
    write_csv(tmp_path / relative, spec.column_names, rows)
    read = read_file(tmp_path, relative, layout)
    shown = "a blank cell" if value == "" else f"the value '{value}'"
    [message] = [p.message() for p in read.problems]
    assert message.startswith(f"{relative}, row {row}, column '{column}': {shown} is refused because {rule}")
    assert read.rows_read == len(rows)


def test_a_duplicated_row_in_a_file_names_both_rows(tmp_path):
    relative = "childrens_social_care/northumberland_referrals.csv"
    write_csv(tmp_path / relative, REFERRALS.column_names, [*REFERRAL_FILE, REFERRAL_FILE[0]])
    [message] = [p.message() for p in read_file(tmp_path, relative, "referrals").problems]
    last = len(REFERRAL_FILE) + 2
    assert message.startswith(f"{relative}: 2 rows are refused because another row already gives area_code E06000057")
    assert message.endswith(f", rows 2, {last}.")


def test_a_bad_workbook_cell_is_named_by_sheet_and_the_row_excel_shows(tmp_path):
    layout = LAYOUTS_BY_NAME["early_help_assessments"]
    relative = "early_help/northumberland_early_help_assessments.xlsx"
    (tmp_path / "early_help").mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Assessments"
    sheet.append(list(layout.column_names))
    for month in range(1, 13):
        sheet.append(["E06000057", f"2017-{month:02d}", "School", month + 20, 5])
    sheet.cell(row=12, column=layout.column_names.index("assessments_started") + 1, value=-3)
    book.save(tmp_path / relative)
    read = read_file(tmp_path, relative, "early_help_assessments", sheet="Assessments")
    assert [p.message() for p in read.problems] == [
        f"{relative}, sheet 'Assessments', row 12, column 'assessments_started': the value '-3' is refused "
        "because a count must be a whole number of 0 or more."]
