"""The data team's vocabulary as data (data/raw/vocabulary/*.csv), and free text as data: an
organisation nobody mapped loads as written, is listed once, and one line moves it."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import xlsxwriter

from expectations.record_level import UNMAPPED
from scorecard.ingest.file_references import file_reference
from scorecard.ingest.files import discover_files
from scorecard.ingest.record_level import read_record_level
from scorecard.ingest.vocabulary import SHIPPED_VOCABULARY_DIR, load_vocabulary
from scorecard.model.markdown import escape_markdown
from tests.conftest import STRATEGIES, build_tables, make_settings

KEY = "a-test-key-that-is-not-a-secret"
AREA = "E06000057"


def write_vocabulary(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------------------------------------
# Reading the vocabulary files


def test_a_local_file_adds_lines_and_wins_over_the_shipped_ones(tmp_path):
    shipped = tmp_path / "shipped"
    write_vocabulary(shipped, "organisations.csv", "value,means\nSchool,School\nFamily hub,Early help service\n")
    raw = tmp_path / "raw"
    # Excel's older "CSV" is Windows-1252; a second file of a vocabulary is named organisations.<anything>.csv
    write_vocabulary(raw / "vocabulary", "organisations.top_town.csv",
                     "Value,Means\nTop Town Academy,school\nFamily Hub,Children's centre\n\nSt Anne’s,School\n",
                     encoding="cp1252")
    vocabulary = load_vocabulary(raw, shipped_dir=shipped)
    assert vocabulary.problems == []
    assert vocabulary.lookup("organisations", "TOP TOWN  ACADEMY") == "School"  # case and spacing ignored
    assert vocabulary.lookup("organisations", "St Anne's") == "School"
    assert vocabulary.lookup("organisations", "family hub") == "Children's centre"  # the local line wins
    assert vocabulary.lookup("organisations", "Health Visiting North") is None


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-16", "\t"), ("cp1252", ";")])
def test_a_vocabulary_file_excel_saved_another_way_is_read_alike(tmp_path, encoding, delimiter):
    raw = tmp_path / "raw"
    write_vocabulary(raw / "vocabulary", "organisations.csv",
                     f"value{delimiter}means\nSt Anne’s{delimiter}School\n", encoding=encoding)
    vocabulary = load_vocabulary(raw, shipped_dir=tmp_path / "none")
    assert vocabulary.problems == [] and vocabulary.lookup("organisations", "St Anne's") == "School"


def test_lines_that_cannot_be_used_are_skipped_and_named(tmp_path):
    shipped = tmp_path / "shipped"
    write_vocabulary(shipped, "categories_of_abuse.csv",
                     "value,means\nNEG,Neglect\nneglect only,Bullying\n,Neglect\nneg.,Physical abuse\n")
    write_vocabulary(shipped, "colours.csv", "value,means\nred,Red\n")
    write_vocabulary(shipped, "yes_no.csv", "yes,Yes\n")
    vocabulary = load_vocabulary(None, shipped_dir=shipped)
    assert vocabulary.lookup("categories_of_abuse", "a) NEG") == "Neglect"
    assert vocabulary.problems == [
        "vocabulary (shipped)/categories_of_abuse.csv, line 3: 'means' must be one of Neglect, Emotional abuse, "
        "Physical abuse, Sexual abuse, Multiple; line skipped",
        "vocabulary (shipped)/categories_of_abuse.csv, line 4: both 'value' and 'means' must be filled in; "
        "line skipped",
        "vocabulary (shipped)/categories_of_abuse.csv, line 5: this value already means 'Neglect' "
        "(vocabulary (shipped)/categories_of_abuse.csv, line 2); line skipped",
        "vocabulary (shipped)/colours.csv: not a vocabulary this project reads (the file names it reads: "
        "headers.csv, organisations.csv, referral_sources.csv, categories_of_abuse.csv, yes_no.csv, "
        "hub_outcomes.csv); its lines are not used",
        "vocabulary (shipped)/yes_no.csv, line 1: the first line must be the header 'value,means'; "
        "the file's lines are not used",
    ]


def test_the_digest_changes_with_meaning_only(tmp_path):
    raw = tmp_path / "raw"
    before = load_vocabulary(raw).digest
    path = write_vocabulary(raw / "vocabulary", "organisations.csv", "value,means\n")
    assert load_vocabulary(raw).digest == before  # a file with no lines means nothing new
    path.write_text("value,means\nTop Town Academy,School\n", encoding="utf-8")
    assert load_vocabulary(raw).digest != before
    path.write_text("value,means\n\n Top Town Academy ,School\n", encoding="utf-8")
    assert load_vocabulary(raw).digest == load_vocabulary(raw).digest


def test_vocabulary_files_are_not_extracts(tmp_path):
    raw = tmp_path / "raw"
    write_vocabulary(raw / "vocabulary", "organisations.csv", "value,means\nTop Town Academy,School\n")
    write_vocabulary(raw / "E06000057" / "vocabulary", "not_vocabulary.csv", "a,b\n1,2\n")
    assert [p.relative_to(raw).as_posix() for p in discover_files(raw)] == ["E06000057/vocabulary/not_vocabulary.csv"]


def test_the_shipped_vocabulary_files_are_two_columns_excel_opens():
    for path in sorted(SHIPPED_VOCABULARY_DIR.glob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "value,means", path.name


def test_markdown_reports_show_quoted_text_inert():
    assert escape_markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert escape_markdown("a | b\n# c") == "a \\| b \\# c"


# ---------------------------------------------------------------------------------------------
# Free text is data: a real-format Annex A, and one line that moves its assessments


LIST2_HEADER = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)", "Disability",
                "Assessment start date", "Assessment completion date", "Organisation completing assessment"]
# As real workbooks write it: school names, localities, teams, codes, blanks. (Row numbers as Excel shows them.)
LIST2_ROWS = [
    ["EH0001", "b) Female", "a) WBRI", datetime(2014, 3, 2), 6, "b) No", datetime(2020, 4, 1),
     datetime(2020, 4, 28), "Top Town Academy"],                                                   # row 2
    ["EH0002", "a) Male", "a) WBRI", datetime(2016, 7, 9), 3, "b) No", datetime(2020, 4, 3), None,
     "Early Help Locality 2"],
    ["EH0003", "a) Male", "c) WIRT", datetime(2012, 1, 15), 8, "a) Yes", datetime(2020, 4, 9), None,
     "Top Town Academy"],
    ["EH0004", "b) Female", "a) WBRI", datetime(2019, 11, 30), 0, "b) No", datetime(2020, 5, 12), None,
     "Health Visiting North"],
    ["EH0005", "b) Female", "a) WBRI", datetime(2011, 5, 5), 9, "b) No", datetime(2020, 5, 20), None,
     "q) 6: Police"],
    ["EH0006", "a) Male", "a) WBRI", datetime(2013, 8, 8), 6, "b) No", datetime(2020, 6, 2), None,
     "  Top Town\u00a0Academy "],                                                                  # row 7
]


def real_annex_a(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(path) as book:
        dates = book.add_format({"num_format": "dd/mm/yyyy"})
        book.add_worksheet("List 1 - Contacts").write_row(0, 0, ["Child Unique ID", "Gender", "Date of Contact"])
        sheet = book.add_worksheet("List 2 - Early Help")
        sheet.write_row(0, 0, LIST2_HEADER)
        for r, row in enumerate(LIST2_ROWS, start=1):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)


def test_free_text_organisations_load_as_written_in_the_unmapped_group(tmp_path):
    path = tmp_path / AREA / "annex_a.xlsx"
    real_annex_a(path)
    [table] = read_record_level(path, KEY, AREA)
    assert table.problems == []
    assert table.frame.sort("source_row")["agency"].to_list() == [
        UNMAPPED, UNMAPPED, UNMAPPED, UNMAPPED, "Police", UNMAPPED]
    assert table.frame.sort("source_row")["organisation"].to_list() == [
        "Top Town Academy", "Early Help Locality 2", "Top Town Academy", "Health Visiting North", "q) 6: Police",
        "Top Town Academy"]  # (trimmed, the non-breaking space read as a space)


def unmapped(settings) -> list[tuple]:
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        return conn.execute("select vocabulary, value, rows, files from marts.unmapped_values").fetchall()


def agencies(settings) -> dict[str, int]:
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        return dict(conn.execute("select agency, count(*) from raw.annex_a_list2 group by agency").fetchall())


def test_one_line_in_organisations_csv_moves_the_assessments_at_the_next_build(tmp_path, monkeypatch):
    settings = make_settings(tmp_path)
    (settings.raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", settings.raw_dir / "strategies")
    real_annex_a(settings.raw_dir / AREA / "annex_a_2020.xlsx")
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)

    build_tables(settings, "marts.unmapped_values", "core.partnership_areas")
    workbook = file_reference(f"{AREA}/annex_a_2020.xlsx", KEY)  # (never named as written)
    assert unmapped(settings) == [("organisations", "Top Town Academy", 3, workbook),
                                  ("organisations", "Early Help Locality 2", 1, workbook),
                                  ("organisations", "Health Visiting North", 1, workbook)]
    assert agencies(settings) == {UNMAPPED: 5, "Police": 1}
    report = json.loads((settings.validation_dir / "unmapped_values.json").read_text(encoding="utf-8"))
    assert report["unmapped"][0] == {"vocabulary": "organisations", "value": "Top Town Academy", "rows": 3,
                                     "files": [workbook]}
    assert "| organisations.csv | Top Town Academy | 3 |" in (
        settings.validation_dir / "unmapped_values.md").read_text(encoding="utf-8")

    # No code changed: one line in the raw folder's vocabulary, and the next build reads the file again.
    write_vocabulary(settings.raw_dir / "vocabulary", "organisations.csv",
                     "value,means\nTop Town Academy,School\nHealth Visiting North,Health visiting\n")
    build_tables(settings, "marts.unmapped_values", "core.partnership_areas")
    assert unmapped(settings) == [("organisations", "Early Help Locality 2", 1, workbook)]
    assert agencies(settings) == {"School": 3, "Health visiting": 1, "Police": 1, UNMAPPED: 1}
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        statuses = conn.execute("select status, detail from raw.load_ledger where layout = 'annex_a_list2' "
                                "order by recorded_at").fetchall()
    assert [status for status, _ in statuses] == ["loaded", "reset", "loaded"]


@pytest.mark.parametrize("bad", ["value,means\nTop Town Academy,Schools\n"])
def test_a_bad_vocabulary_line_is_reported_and_the_rest_used(tmp_path, bad):
    raw = tmp_path / "raw"
    write_vocabulary(raw / "vocabulary", "organisations.csv", bad + "Early Help Locality 2,Early help service\n")
    vocabulary = load_vocabulary(raw)
    assert vocabulary.lookup("organisations", "Early Help Locality 2") == "Early help service"
    assert vocabulary.lookup("organisations", "Top Town Academy") is None
    assert vocabulary.problems == ["vocabulary/organisations.csv, line 2: 'means' must be one of "
                                   "Early help service, School, Health visiting, School nursing, GP and health, "
                                   "Police, Housing, Voluntary sector, Children's centre, Other; line skipped"]
