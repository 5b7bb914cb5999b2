"""The one reader (scorecard.ingest.reader): every source finds its table the same way, whatever
encoding, delimiter or workbook cells a file arrives with."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from scorecard.ingest import reader
from scorecard.ingest.ees import read_ees, recognise_ees
from scorecard.ingest.files import read_tables
from scorecard.ingest.reader import SNIFF_BYTES, UnreadableFile, sniff_text, text_head
from scorecard.ingest.record_level import read_record_level
from tests.conftest import shared_reference

KEY = "a-test-key-that-is-not-a-secret"
AREA = "E06000057"


def resaved(source: Path, target: Path, encoding: str, delimiter: str) -> Path:
    """``source`` (a comma-separated UTF-8 CSV) as Excel's other "Save as" choices write it."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    target.write_bytes((codecs.BOM_UTF16_LE if encoding == "utf-16-le" else b"") + text.getvalue().encode(encoding))
    return target


@pytest.mark.parametrize(("encoding", "delimiter", "name"), [
    ("utf-16-le", "\t", "referrals.txt"),  # Excel's "Unicode text"
    ("cp1252", ";", "referrals.csv"),  # a European "CSV (semicolon)"
])
def test_dfe_open_data_is_read_the_same_however_excel_saved_it(tmp_path: Path, encoding, delimiter, name):
    original = shared_reference() / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
    copy = resaved(original, tmp_path / name, encoding, delimiter)
    assert recognise_ees(copy) == recognise_ees(original) == "c1_referrals"
    as_published, as_saved = read_ees(original, "c1.csv"), read_ees(copy, "c1.csv")
    assert as_saved.frame.equals(as_published.frame) and as_saved.frame.height > 1000
    assert as_saved.problems == as_published.problems


def test_the_encoding_and_delimiter_are_decided_from_the_first_bytes(tmp_path: Path):
    # A character cut in two by the end of the sample is not taken for a bad byte (Windows-1252).
    path = tmp_path / "long.csv"
    lines = "Child Unique ID;Date of Referral\n" + "A1;01/04/2020\n" * (SNIFF_BYTES // 14 - 10)
    lines += "x" * (SNIFF_BYTES - 1 - len(lines))  # then "é", its two bytes either side of the sample's end
    path.write_bytes((lines + "é;01/04/2020\n").encode("utf-8"))
    assert path.read_bytes()[SNIFF_BYTES - 1:SNIFF_BYTES + 1] == "é".encode()
    text_format = sniff_text(path)
    assert (text_format.encoding, text_format.delimiter, text_format.utf8) == ("utf-8", ";", True)
    rows, lines_before, _ = text_head(path)
    assert rows[:2] == [["Child Unique ID", "Date of Referral"], ["A1", "01/04/2020"]] and lines_before[:2] == [0, 1]

    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(UnreadableFile, match="it is not text"):
        sniff_text(binary)


def list3(rows: list[list]) -> list[list]:
    return [["Referrals (list 3)"], [], ["Child Unique ID", "Date of Referral", "Referral Source"], *rows]


def test_a_record_level_list_reads_alike_from_a_csv_a_semicolon_file_and_a_workbook(tmp_path: Path):
    """Title rows above the header, a numeric child ID that Excel stores as 12345.0, a date cell, a
    #N/A from a failed lookup: the same rows, the same keyed child, the same problem."""
    folder = tmp_path / AREA
    folder.mkdir()
    rows = list3([["12345", "01/04/2020", "1A"], ["12346", "02/04/2020", "#N/A"]])
    (folder / "list3.csv").write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    (folder / "list3_semicolon.csv").write_bytes(
        ("\r\n".join(";".join(row) for row in rows) + "\r\n").encode("cp1252"))
    workbook = folder / "list3.xlsx"
    with xlsxwriter.Workbook(workbook) as book:
        sheet = book.add_worksheet("Referrals")
        dates = book.add_format({"num_format": "dd/mm/yyyy"})
        for r, row in enumerate(list3([])):
            sheet.write_row(r, 0, row)
        sheet.write_number(3, 0, 12345)
        sheet.write_datetime(3, 1, datetime(2020, 4, 1), dates)
        sheet.write_string(3, 2, "1A")
        sheet.write_number(4, 0, 12346)
        sheet.write_datetime(4, 1, datetime(2020, 4, 2), dates)
        sheet.write_formula(4, 2, "=NA()", value="#N/A")

    def read(path: Path) -> tuple[pl.DataFrame, list[str]]:
        [table] = read_record_level(path, KEY, AREA)
        return table.frame, [p.message().split(": ", 1)[1] for p in table.problems]

    csv_frame, csv_problems = read(folder / "list3.csv")
    assert csv_frame.height == 2
    for other in (folder / "list3_semicolon.csv", workbook):
        frame, problems = read(other)
        assert frame.equals(csv_frame), other.name
        assert problems == csv_problems, other.name


def test_a_partner_return_with_title_rows_finds_its_header_as_far_down_as_every_source(tmp_path: Path):
    path = tmp_path / "referrals.csv"
    title = [f"Referrals return, note {n}" for n in range(reader.HEADER_SEARCH_ROWS - 2)]
    path.write_text("\n".join([*title, "area_code,period,referrals,rereferrals_within_12_months,referrals_neglect",
                               f"{AREA},2017-09,250,40,30"]) + "\n", encoding="utf-8")
    [table] = read_tables(path)
    assert table.frame.select("period", "source_row").rows() == [("2017-09", reader.HEADER_SEARCH_ROWS)]
