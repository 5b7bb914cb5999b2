"""A corpus of messy partner returns, and what a person gets from each.

Every file is generated here, into tmp_path, from a few good rows of a layout, then spoiled
the way agencies' files are: encodings, delimiters, title rows, blank rows and columns,
workbook cell types, header variants and bad values. Each is driven as the pipeline drives
it (read_tables -> recognise -> rename -> validate_layout) and must give one exact result:
accepted with these typed values, refused with these problems (sheet, row as a spreadsheet
shows it, column, value, rule), or not recognised for this reason.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from expectations.layouts import LAYOUTS_BY_NAME
from expectations.partner_returns import Problem, validate_layout
from scorecard.ingest.files import read_tables, recognise, recognise_file

AREAS = frozenset({"E06000057"})
AREA = "E06000057"

REFERRALS = ("area_code", "period", "referrals", "rereferrals_within_12_months", "referrals_neglect")
REFERRAL_ROWS = [(AREA, "2017-09", "250", "40", "30"), (AREA, "2017-10", "260", "41", "31"),
                 (AREA, "2017-11", "270", "42", "32")]
REFERRAL_TYPED = ("period_label", "referrals", "rereferrals_within_12_months", "referrals_neglect")
REFERRALS_ACCEPTED = [("2017-09", 250, 40, 30), ("2017-10", 260, 41, 31), ("2017-11", 270, 42, 32)]

LAC = ("area_code", "snapshot_date", "children_looked_after", "population_aged_0_17")
LAC_TYPED = ("period_label", "children_looked_after", "population_aged_0_17")
LAC_ACCEPTED = [("2016-03-31", 406, 62100), ("2017-03-31", 386, 62300)]

CPP = ("area_code", "period", "plan_status", "category", "children")
CPP_ROWS = [(AREA, "2016/17", "Open at period end", "Neglect", "121"),
            (AREA, "2016/17", "Open at period end", "Emotional abuse", "91")]
CPP_TYPED = ("period_label", "plan_status", "category", "children")
CPP_ACCEPTED = [("2016/17", "Open at period end", "Neglect", 121),
                ("2016/17", "Open at period end", "Emotional abuse", 91)]

COUNT_RULE = "a count must be a whole number of 0 or more"
BLANK_RULE = "every cell in this column must be filled in"
DUPLICATE_RULE = "another row already gives area_code E06000057, period_label 2017-09"


# --- expected results ---


@dataclass(frozen=True)
class Accepted:
    """A table that passes: its typed values, and optionally text cells exactly as read."""

    layout: str
    columns: tuple[str, ...]
    rows: list[tuple]
    sheet: str | None = None
    text: dict[str, list[str | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    """A table refused with these (sheet, row, column, value, start of the rule) problems."""

    layout: str
    problems: list[tuple[str | None, int | None, str | None, str | None, str]]
    sheet: str | None = None


@dataclass(frozen=True)
class NotRecognised:
    reason: str  # a part of the reason recognise_file gives


# --- writing files ---


def csv_bytes(header: tuple[str, ...] | list[str], rows: list, *, delimiter: str = ",", encoding: str = "utf-8",
              before: list[list[str]] = (), newline: str = "\r\n") -> bytes:
    """Rows as Excel writes them: quoted only where needed, CRLF, optional rows above the header."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerows([*before, header, *rows])
    return out.getvalue().encode(encoding)


@dataclass(frozen=True)
class Formula:
    formula: str
    value: object  # the value Excel saved with it (calamine reads this, not the formula)


@dataclass(frozen=True)
class FormattedBlank:
    """An empty cell that carries formatting, so Excel counts it in the sheet's used range."""


def workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    """Sheets of rows from A1 (None: an empty cell; []: an empty row), cells typed as Excel types them."""
    with xlsxwriter.Workbook(path) as book:
        day = book.add_format({"num_format": "dd/mm/yyyy"})
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    if isinstance(cell, str):
                        sheet.write_string(r, c, cell)
                    elif isinstance(cell, (date, datetime)):
                        sheet.write_datetime(r, c, cell, day)
                    elif isinstance(cell, (int, float)):
                        sheet.write_number(r, c, cell)
                    elif isinstance(cell, Formula):
                        sheet.write_formula(r, c, cell.formula, None, cell.value)
                    elif isinstance(cell, FormattedBlank):
                        sheet.write_blank(r, c, None, day)


def as_numbers(rows: list[tuple]) -> list[list]:
    """Text rows with counts as Excel numbers (floats, as calamine reads every number)."""
    return [[float(c) if c.isdigit() else c for c in row] for row in rows]


def write(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def openpyxl_formulas(path: Path) -> None:
    """A workbook written by a program: formulas saved without the value Excel would compute."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Return"
    sheet.append(REFERRALS)
    sheet.append([AREA, "2017-09", 250, 40, "=C2-220"])
    book.save(path)


def workbook_named_csv(path: Path) -> None:
    real = path.with_suffix(".xlsx")
    workbook(real, {"Sheet1": [list(REFERRALS), *as_numbers(REFERRAL_ROWS)]})
    real.rename(path)


# --- the corpus ---

CASES = [
    # Encodings and delimiters.
    pytest.param("utf8_bom.csv", write(b"\xef\xbb\xbf" + csv_bytes(REFERRALS, REFERRAL_ROWS)),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED)], id="utf8-bom"),
    pytest.param("windows_1252.csv",
                 write(csv_bytes([*REFERRALS, "Notes"],
                                 [(*REFERRAL_ROWS[0], "£120 for taxis"), (*REFERRAL_ROWS[1], "didn’t include café"),
                                  (*REFERRAL_ROWS[2], "")], encoding="cp1252")),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED,
                           text={"notes": ["£120 for taxis", "didn’t include café", None]})], id="cp1252-notes"),
    pytest.param("unicode_text.txt",  # Excel's "Unicode text": UTF-16 LE with a BOM, tabs, numbers as shown
                 write(csv_bytes(REFERRALS, [(AREA, "2014/15", "5,882", "1,765", "600")], delimiter="\t",
                                 encoding="utf-16")),
                 [Accepted("referrals", REFERRAL_TYPED, [("2014/15", 5882, 1765, 600)])], id="utf16le-tabs"),
    pytest.param("utf16_be.csv", write(b"\xfe\xff" + csv_bytes(REFERRALS, REFERRAL_ROWS, encoding="utf-16-be")),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED)], id="utf16be-commas"),
    pytest.param("semicolons.csv",  # European Excel: semicolons, so "5,882" needs no quotes
                 write(csv_bytes(REFERRALS, [(AREA, "2014/15", "5,882", "1,765", "600")], delimiter=";")),
                 [Accepted("referrals", REFERRAL_TYPED, [("2014/15", 5882, 1765, 600)])], id="semicolons"),
    pytest.param("old_mac.csv", write(csv_bytes(REFERRALS, REFERRAL_ROWS, newline="\r")),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED)], id="cr-line-endings"),

    # Layout of the rows: titles, blanks, ragged rows.
    pytest.param("title_rows.csv",
                 write(csv_bytes(REFERRALS, [REFERRAL_ROWS[0], (AREA, "2017-10", "-4", "1", "1"), REFERRAL_ROWS[2]],
                                 before=[["Northumberland: referrals return"], ["Produced 01/10/2017", ""], []])),
                 [Refused("referrals", [(None, 6, "referrals", "-4", COUNT_RULE)])], id="csv-title-rows"),
    pytest.param("title_rows.xlsx",  # title in A1, two blank rows, table from B4
                 lambda p: workbook(p, {"Return": [
                     ["Northumberland: referrals return"], [], [], [None, *REFERRALS],
                     *[[None, *row] for row in as_numbers(REFERRAL_ROWS[:2])],
                     [None, AREA, "2017-11", 270.0, 42.0, "n/k"],
                     [None, AREA, "2017-12", Formula("=VLOOKUP(B8,Totals!A:B,2,FALSE)", "#N/A"), 1.0, 1.0]]}),
                 [Refused("referrals", [("Return", 7, "referrals_neglect", "n/k", COUNT_RULE),
                                        ("Return", 8, "referrals", "#N/A", COUNT_RULE)], sheet="Return")],
                 id="xlsx-title-rows"),
    pytest.param("blank_rows_between.csv",
                 write(csv_bytes(REFERRALS, [REFERRAL_ROWS[0], (), ("", "", "", "", ""), REFERRAL_ROWS[1],
                                             (AREA, "Sept 2017", "5", "1", "1")])),
                 [Refused("referrals", [(None, 6, "period", "Sept 2017", "the period must be a month")])],
                 id="blank-rows-between"),
    pytest.param("trailing_blanks.csv",
                 write(csv_bytes([*REFERRALS, "", "", ""], [(*row, "", " ", "") for row in REFERRAL_ROWS]
                                 + [("",) * 8, (), ("",) * 8])),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED)], id="csv-trailing-blanks"),
    pytest.param("trailing_blanks.xlsx",  # formatted empty cells and a space stretch the used range
                 lambda p: workbook(p, {"Sheet1": [
                     [*REFERRALS, FormattedBlank()], *[[*row, " "] for row in as_numbers(REFERRAL_ROWS)],
                     [], [FormattedBlank()] * 8]}),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED, sheet="Sheet1")],
                 id="xlsx-trailing-blanks"),
    pytest.param("ragged.csv",  # a row cut short, and one with a stray cell past the header
                 write(b"area_code,period,referrals,rereferrals_within_12_months,referrals_neglect\r\n"
                       b"E06000057,2017-09,250,40,30,extra\r\nE06000057,2017-10,260,41\r\n"),
                 [Refused("referrals", [(None, 3, "referrals_neglect", None, BLANK_RULE)])], id="ragged-rows"),

    # Values as agencies write them.
    pytest.param("thousands.csv", write(csv_bytes(REFERRALS, [(AREA, "2014/15", "5,882", "1,765", "340")])),
                 [Accepted("referrals", REFERRAL_TYPED, [("2014/15", 5882, 1765, 340)])], id="thousands-separators"),
    pytest.param("lac_uk_dates.csv",
                 write(csv_bytes(LAC, [(AREA, "31/03/2016", "406", "62,100"), (AREA, "31/03/2017", "386", "62,300")])),
                 [Accepted("looked_after_children", LAC_TYPED, LAC_ACCEPTED)], id="uk-dates"),
    pytest.param("lac_excel_dates.xlsx",
                 lambda p: workbook(p, {"LAC": [list(LAC), [AREA, date(2016, 3, 31), 406, 62100],
                                                [AREA, datetime(2017, 3, 31), 386.0, 62300.0]]}),
                 [Accepted("looked_after_children", LAC_TYPED, LAC_ACCEPTED, sheet="LAC",
                            text={"snapshot_date": ["2016-03-31", "2017-03-31"],
                                              "children_looked_after": ["406", "386"]})],
                 id="excel-date-cells"),
    pytest.param("float_counts.xlsx",
                 lambda p: workbook(p, {"Sheet1": [list(REFERRALS), *as_numbers(REFERRAL_ROWS)]}),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED, sheet="Sheet1",
                           text={"referrals": ["250", "260", "270"]})], id="xlsx-float-counts"),
    pytest.param("decimal_count.xlsx",
                 lambda p: workbook(p, {"Sheet1": [list(REFERRALS), [AREA, "2017-09", 12.5, 1.0, 1.0]]}),
                 [Refused("referrals", [("Sheet1", 2, "referrals", "12.5", COUNT_RULE)], sheet="Sheet1")],
                 id="decimal-count"),
    pytest.param("formula.xlsx",  # calamine reads the value Excel saved with the formula
                 lambda p: workbook(p, {"Sheet1": [list(REFERRALS),
                                                   [AREA, "2017-09", Formula("=200+50", 250), 40, 30]]}),
                 [Accepted("referrals", REFERRAL_TYPED, [("2017-09", 250, 40, 30)], sheet="Sheet1")], id="formula"),
    pytest.param("formula_not_computed.xlsx", openpyxl_formulas,  # no saved value: the cell reads blank
                 [Refused("referrals", [("Return", 2, "referrals_neglect", None, BLANK_RULE)], sheet="Return")],
                 id="formula-without-saved-value"),
    pytest.param("lookup_errors.xlsx",  # a failed VLOOKUP: error cells keep the text Excel shows
                 lambda p: workbook(p, {"Sheet1": [list(REFERRALS),
                                                   [AREA, "2017-09", 250, 40, Formula("=NA()", "#N/A")],
                                                   [AREA, "2017-10", Formula("=1/0", "#DIV/0!"), 41, 31]]}),
                 [Refused("referrals", [("Sheet1", 2, "referrals_neglect", "#N/A", COUNT_RULE),
                                        ("Sheet1", 3, "referrals", "#DIV/0!", COUNT_RULE)], sheet="Sheet1")],
                 id="error-cells"),

    # Headers.
    pytest.param("header_variants.csv",
                 write(csv_bytes([" Area Code ", "PERIOD", "Referrals", "Re-referrals within 12\u00a0months",
                                  "Neglect referrals"], [(AREA, "2017-09", "250\u00a0", " 40", "30 ")])),
                 [Accepted("referrals", REFERRAL_TYPED, [("2017-09", 250, 40, 30)])], id="header-variants"),
    pytest.param("extra_and_reordered.csv",
                 write(csv_bytes(["Team", "referrals_neglect", "period", "Notes", "referrals",
                                  "rereferrals_within_12_months", "area_code"],
                                 [("Front door", r[4], r[1], "", r[2], r[3], r[0]) for r in REFERRAL_ROWS])),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED)], id="extra-and-reordered-columns"),
    pytest.param("missing_column.csv",
                 write(csv_bytes(["area_code", "period", "referrals", "referrals_neglect"],
                                 [(AREA, "2017-09", "250", "30")], before=[["Referrals return"], []])),
                 NotRecognised("the closest is 'referrals', which also needs column(s) rereferrals_within_12_months"),
                 id="missing-column"),

    # Files that hold nothing, or are not what their name says.
    pytest.param("empty.csv", write(b""), NotRecognised("holds no table: the file is empty"), id="empty-file"),
    pytest.param("blank_lines.csv", write(b"\r\n ,,\r\n\r\n"),
                 NotRecognised("holds no table: its first 30 rows are blank"), id="only-blank-lines"),
    pytest.param("header_only.csv", write(csv_bytes(REFERRALS, [])),
                 [Accepted("referrals", REFERRAL_TYPED, [])], id="header-only"),
    pytest.param("garbage.csv", write(random.Random(7).randbytes(4096)),
                 NotRecognised("could not be read as text: it is not text (it holds binary data"), id="binary-as-csv"),
    pytest.param("workbook.csv", workbook_named_csv,
                 NotRecognised("it is a zip archive (an Excel workbook, perhaps) with a text file's name"),
                 id="workbook-named-csv"),
    pytest.param("not_a_zip.xlsx", write(csv_bytes(REFERRALS, REFERRAL_ROWS)),
                 NotRecognised("could not be read as an Excel workbook: it is not an Excel workbook "
                               "(an .xlsx file is a zip archive and this one is not"), id="xlsx-not-a-zip"),
    pytest.param("old_format.xlsx", write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
                 NotRecognised("it is an old-style .xls workbook or a password-protected one"), id="xls-or-encrypted"),

    # Bad values: refused with the exact cell.
    pytest.param("negative.csv",
                 write(csv_bytes(REFERRALS, [REFERRAL_ROWS[0], (AREA, "2017-10", "260", "-1", "31")])),
                 [Refused("referrals", [(None, 3, "rereferrals_within_12_months", "-1", COUNT_RULE)])],
                 id="negative-count"),
    pytest.param("decimal.csv", write(csv_bytes(REFERRALS, [(AREA, "2017-09", "250.5", "40", "30")])),
                 [Refused("referrals", [(None, 2, "referrals", "250.5", COUNT_RULE)])], id="decimal-count-csv"),
    pytest.param("part_above_whole.csv", write(csv_bytes(REFERRALS, [(AREA, "2017-09", "250", "300", "30")])),
                 [Refused("referrals", [(None, 2, "rereferrals_within_12_months", "300",
                                         "rereferrals_within_12_months may not be more than referrals")])],
                 id="part-above-whole"),
    pytest.param("unknown_category.csv",
                 write(csv_bytes(CPP, [*CPP_ROWS, (AREA, "2016/17", "Open at period end", "Domestic abuse", "3")])),
                 [Refused("cpp_by_category", [(None, 4, "category", "Domestic abuse", "it must be one of: Neglect")])],
                 id="unknown-category"),
    pytest.param("wrong_period.csv", write(csv_bytes(REFERRALS, [(AREA, "09/2017", "250", "40", "30")])),
                 [Refused("referrals", [(None, 2, "period", "09/2017",
                                         'the period must be a month written "2017-09"')])],
                 id="wrong-period-format"),
    pytest.param("duplicates.csv",
                 write(csv_bytes(REFERRALS, [REFERRAL_ROWS[0], REFERRAL_ROWS[1], REFERRAL_ROWS[0]])),
                 [Refused("referrals", [(None, 2, None, None, DUPLICATE_RULE)])],  # one problem, rows 2 and 4
                 id="duplicate-rows"),
    pytest.param("front_door.xlsx",  # two layouts on two sheets, an empty sheet between them
                 lambda p: workbook(p, {"Referrals": [list(REFERRALS), *as_numbers(REFERRAL_ROWS)], "Notes": [],
                                        "Plans": [["Child protection plans at 31 March 2017"], list(CPP),
                                                  *as_numbers(CPP_ROWS)]}),
                 [Accepted("referrals", REFERRAL_TYPED, REFERRALS_ACCEPTED, sheet="Referrals"),
                  Accepted("cpp_by_category", CPP_TYPED, CPP_ACCEPTED, sheet="Plans")],
                 id="two-layouts-and-an-empty-sheet"),
]


@dataclass(frozen=True)
class Outcome:
    layout: str
    sheet: str | None
    text: pl.DataFrame  # the table as read
    typed: pl.DataFrame
    problems: list[Problem]


def outcomes(path: Path) -> list[Outcome]:
    """Each table of a file, read, recognised and validated as the pipeline does."""
    found = []
    for table in read_tables(path):
        layout, reason = recognise(table.headers)
        assert layout is not None, reason
        text = (table.frame.rename(layout.match_headers(table.headers))
                .with_columns(source_file=pl.lit(path.name), source_sheet=pl.lit(table.sheet, dtype=pl.String))
                .select(*layout.column_names, "source_file", "source_sheet", "source_row"))
        typed, problems = validate_layout(layout, text, AREAS)
        found.append(Outcome(layout.name, table.sheet, table.frame, typed, problems))
    return found


@pytest.mark.parametrize(("name", "make", "expected"), CASES)
def test_messy_file(tmp_path: Path, name: str, make: Callable[[Path], None],
                    expected: list[Accepted | Refused] | NotRecognised) -> None:
    path = tmp_path / name
    make(path)
    recognitions = recognise_file(path)
    if isinstance(expected, NotRecognised):
        assert [(r.layout, r.sheet) for r in recognitions] == [(None, None)]
        assert expected.reason in recognitions[0].reason
        return
    assert [(r.sheet, r.layout.name if r.layout else r.reason) for r in recognitions] == [
        (e.sheet, e.layout) for e in expected]
    found = outcomes(path)
    assert [(o.layout, o.sheet) for o in found] == [(e.layout, e.sheet) for e in expected]
    for got, want in zip(found, expected):
        problems = [(p.sheet, p.row, p.column, p.value, p.rule) for p in got.problems]
        assert all(p.file == path.name for p in got.problems)
        if isinstance(want, Refused):
            # Rules are compared by their start: the rest lists allowed values or areas.
            assert [p[:4] for p in problems] == [p[:4] for p in want.problems]
            assert all(g[4].startswith(w[4]) for g, w in zip(problems, want.problems)), problems
        else:
            assert problems == []
            assert got.typed.select(want.columns).rows() == want.rows
            for column, cells in want.text.items():
                assert got.text[column].to_list() == cells, column


def test_rows_keep_the_numbers_a_spreadsheet_shows(tmp_path: Path) -> None:
    """Title, blank and header rows all count; blank rows are dropped without renumbering."""
    path = tmp_path / "numbered.csv"
    path.write_bytes(csv_bytes(REFERRALS, [REFERRAL_ROWS[0], (), REFERRAL_ROWS[1], ("",) * 5, REFERRAL_ROWS[2]],
                               before=[["Title"], []]))
    (table,) = read_tables(path)
    assert table.headers == list(REFERRALS)
    assert table.frame["source_row"].to_list() == [4, 6, 8]
    assert table.frame.schema["source_row"] == pl.Int64
    assert all(table.frame.schema[c] == pl.String for c in table.headers)


def test_a_large_file_is_read_in_one_pass(tmp_path: Path) -> None:
    """200,000 rows under two title rows: numbered right through without a per-row loop."""
    rows = 200_000
    frame = pl.DataFrame({"area_code": [AREA] * rows, "period": ["2017-09"] * rows,
                          "referrals": pl.int_range(rows, eager=True).cast(pl.String),
                          "rereferrals_within_12_months": ["1"] * rows, "referrals_neglect": ["1"] * rows})
    path = tmp_path / "large.csv"
    path.write_bytes(b"Big return\r\n\r\n" + frame.write_csv().encode())
    (table,) = read_tables(path)
    assert table.frame.height == rows
    assert table.frame["source_row"][-1] == rows + 3
    assert table.frame["referrals"][-1] == str(rows - 1)
    assert recognise(table.headers)[0] is LAYOUTS_BY_NAME["referrals"]
