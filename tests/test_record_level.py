"""Record-level extracts: reading them as data teams have them, without personal data, and the
monthly measures the SQL derives from them, worked out by hand.

The workbooks are written with xlsxwriter rather than openpyxl because only xlsxwriter stores a
formula's cached value, which is what a reader sees in a real workbook saved by Excel.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from expectations.layouts import CPP_CATEGORIES, EARLY_HELP_AGENCIES
from expectations.problem_groups import MAX_RANGES, ProblemGroup
from scorecard.ingest.record_level import (
    SCHEMAS,
    PseudonymKeyMissing,
    RecordTable,
    annex_a_list_number,
    parse_value,
    pseudonymise,
    read_record_level,
    read_record_levels,
    recognise_record_level,
    shipped_vocabulary,
    sources_for,
)
from scorecard.ingest.siphash import siphash24_scalar
from scorecard.load.record_level import load_raw
from scorecard.transform.record_level_measures import RECORD_LEVEL_SQL, monthly_measures, sql_path

KEY = "test-key-not-a-secret"
NORTHUMBERLAND, DURHAM = "E06000057", "E06000047"
DOB = datetime(2014, 7, 19)
# Every personal value the inputs hold: none may come out of the library in any form.
PERSONAL = [
    "CH-R1-ZQ", "CH-R2-ZQ", "CH-R3-ZQ", "CH-R4-ZQ", "CH-R5-ZQ", "CH-R6-ZQ", "CH-RX-ZQ",
    "CH-E1-ZQ", "CH-E2-ZQ", "CH-E3-ZQ", "CH-E4-ZQ", "CH-E5-ZQ",
    "CH-K1-ZQ", "CH-K2-ZQ", "CH-K3-ZQ", "CH-K4-ZQ", "CH-K5-ZQ", "CH-K6-ZQ", "CH-K7-ZQ",
    "CH-L1-ZQ", "CH-L2-ZQ", "CH-L3-ZQ", "LAC-A-ZQ", "LAC-B-ZQ", "LAC-C-ZQ", "LAC-D-ZQ", "LAC-E-ZQ",
    "LAC-F-ZQ", "LAC-G-ZQ", "HUB-1-ZQ",
    "Olivia", "Smithson", "Janet Workerly", "Gertrude", "Quennell",
    "2014-07-19", "19/07/2014", "NE61 2AB", "NE65 0XY", "DH1 3LE", "A123456789012", "SC123456",
]


# ---------------------------------------------------------------------------------------------
# Writing the test files


def write_sheet(workbook: xlsxwriter.Workbook, name: str, rows: list[list], first_row: int = 0) -> None:
    """Rows from ``first_row`` (0-based); a tuple (formula, cached value) is a formula cell."""
    sheet = workbook.add_worksheet(name)
    as_date = workbook.add_format({"num_format": "dd/mm/yyyy"})
    as_datetime = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for r, row in enumerate(rows, start=first_row):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, tuple):
                formula, cached = value
                cell_format = as_date if isinstance(cached, int) and cached > 40000 else None
                sheet.write_formula(r, c, formula, cell_format, cached)
            elif isinstance(value, datetime):
                sheet.write_datetime(r, c, value, as_datetime if value.hour or value.minute else as_date)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), as_date)
            elif isinstance(value, str):
                sheet.write_string(r, c, value)
            else:
                sheet.write(r, c, value)


def write_csv(path: Path, rows: list[list[str]], bom: bool = False) -> Path:
    text = "\n".join(",".join(row) for row in rows) + "\n"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


LIST2 = [
    ["Annex A: List 2 - Early help"],
    ["Extract run 01/07/2020"],
    ["Child\u00a0Unique ID", "Forename", "Surname", "Date of Birth", "ASSESSMENT START DATE ",
     "Assessment completion date", "Organisation completing  assessment", "Neglect identified",
     "Allocated Worker"],
    ["CH-E1-ZQ", "Olivia", "Smithson", DOB, date(2020, 4, 3), date(2020, 5, 1), "q) 6: Police", "a) Yes",
     "Janet Workerly"],                                                                       # row 5
    ["CH-E2-ZQ", "Gertrude", "Quennell", DOB, date(2020, 4, 20), None, "School", "b) No", "Janet Workerly"],
    ["CH-E2-ZQ", "Gertrude", "Quennell", DOB, date(2020, 4, 20), None, "School", "b) No", "Janet Workerly"],
    ["CH-E3-ZQ", "Olivia", "Smithson", DOB, "25/04/2020", None, "c) 3B: Health services - Health visitor",
     "N", None],                                                                              # row 8
    [],                                                                                       # row 9: blank
    ["CH-E4-ZQ", "Olivia", "Smithson", DOB, date(2020, 6, 10), None, "Voluntary sector", "Yes", None],
    ["CH-E5-ZQ", "Olivia", "Smithson", DOB, date(2020, 6, 11), None, "Martian embassy", None, None],  # row 11
]

LIST3 = [
    ["Annex A - List 3: Referrals"],
    [],
    ["Child\u00a0Unique ID", "Forename", "Surname", "Date of Birth", "Date of\u00a0Referral", "Referral Source",
     "Referral NFA?", "Number of Referrals in Last 12 Months", "Neglect identified", "Allocated Worker"],
    ["CH-R1-ZQ", "Olivia", "Smithson", DOB, date(2020, 1, 10), "q) 6: Police", "b) No", 1, "Y", "Janet Workerly"],
    ["CH-R1-ZQ", "Olivia", "Smithson", DOB, datetime(2021, 1, 10, 14, 30), "q) 6: Police", "a) Yes", 2, "N",
     "Janet Workerly"],                                                                       # row 5
    ["CH-R2-ZQ", "Gertrude", "Quennell", DOB, "09/01/2020", "a) 1A: Individual", "b) No", 1, None, None],
    ["CH-R2-ZQ", "Gertrude", "Quennell", DOB, "10/01/2021", "a) 1A: Individual", "b) No", 1, None, None],
    ["CH-R3-ZQ", "Olivia", "Smithson", DOB, date(2020, 2, 29), "Schools", "b) No", 1, "No", None],
    ["CH-R3-ZQ", "Olivia", "Smithson", DOB, date(2021, 2, 28), "Schools", "b) No", 2, "No", None],
    ["CH-R4-ZQ", "Olivia", "Smithson", DOB, date(2021, 1, 20), "Police", "b) No", 1, "Y", None],   # row 10
    ["CH-R4-ZQ", "Olivia", "Smithson", DOB, date(2021, 1, 20), "Police", "b) No", 1, "N", None],   # same day
    ["CH-R5-ZQ", "Olivia", "Smithson", DOB, date(2020, 6, 1), "Police", "b) No", 1, "N", None],
    ["CH-R5-ZQ", "Olivia", "Smithson", DOB, "15/06/2020", "Police", "b) No", 2, "maybe", None],   # row 13
    [],
    # A day number without date formatting (2021-01-05), and a neglect flag from a formula.
    ["CH-R6-ZQ", "Olivia", "Smithson", DOB, 44201, "Police", ("=IF(1=1,\"a) Yes\",\"b) No\")", "a) Yes"), 1,
     ("=IF(1=1,\"a) Yes\",\"b) No\")", "a) Yes"), None],                                       # row 15
    ["#N/A", "Olivia", "Smithson", DOB, date(2020, 3, 3), "Police", "b) No", 1, "N", None],     # row 16
    ["CH-RX-ZQ", "Olivia", "Smithson", DOB, "see Olivia Smithson's file", "Police", "b) No", 1, "N", None],  # 17
    ["CH-RX-ZQ", "Olivia", "Smithson", DOB, "31/02/2021", "Police", "b) No", 1, "N", None],     # row 18
]

LIST7 = [
    ["Annex A List 7 - Child protection"],
    ["Child Unique ID", "Surname", "Date of Birth", "Allocated Worker", "Child Protection Plan Start Date",
     "Initial Category of Abuse", "Latest Category of Abuse", "Date of latest review conference",
     "Child Protection Plan End Date", "Number of Previous Child Protection Plans"],
    ["CH-K1-ZQ", "Smithson", DOB, "Janet Workerly", date(2019, 5, 1), "a) Neglect", "d) Emotional abuse",
     date(2020, 1, 1), None, 0],
    ["CH-K2-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 4, 15), "NEG", None, None, date(2020, 5, 31), "1"],
    ["CH-K3-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 4, 20), "Physical abuse", "Physical", None, None, 0],
    ["CH-K4-ZQ", "Smithson", DOB, "Janet Workerly", date(2018, 1, 1), "Neglect", "Neglect", None,
     date(2020, 4, 10), None],
    ["CH-K4-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 6, 5), "a) Neglect", "Neglect", None, None, None],
    ["CH-K5-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 6, 30), "e) Multiple/not recommended", "Multiple",
     None, None, "#N/A"],
    ["CH-K6-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 5, 2), "Sexual abuse", "Sexual abuse", None,
     ("=DATE(2020,6,1)", 43983), 0],
    ["CH-K7-ZQ", "Smithson", DOB, "Janet Workerly", date(2020, 5, 20), "Bullying", None, None, None, 0],  # row 10
]

LIST8 = [
    ["Child Unique ID", "Forename", "Manager", "Date Started to be Looked After", "Placement postcode",
     "Date Ceased to be Looked After"],
    ["CH-L1-ZQ", "Olivia", "Janet Workerly", date(2019, 1, 1), "NE61 2AB", date(2020, 3, 31)],
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("record_level")
    annex_a = folder / "annex_a_2020.xlsx"
    with xlsxwriter.Workbook(annex_a) as workbook:
        write_sheet(workbook, "Cover", [["Annex A return for Northumberland"], ["Contact: Janet Workerly"]])
        write_sheet(workbook, "List 1", [["Child Unique ID", "Forename", "Date of Birth", "Date of Contact"],
                                         ["CH-R1-ZQ", "Olivia", DOB, date(2020, 1, 1)]])
        write_sheet(workbook, " list\u00a02 ", LIST2, first_row=1)  # row 1 left empty: numbering must hold
        write_sheet(workbook, "List 3 - Referrals", LIST3)
        write_sheet(workbook, "LIST 7", LIST7)
        write_sheet(workbook, "List 8", LIST8)
        write_sheet(workbook, "List 9", [["Child Unique ID", "Forename"], ["CH-R1-ZQ", "Olivia"]])

    episodes = write_csv(folder / "episodes.csv", [
        ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE",
         "HOME_POST", "PL_POST", "URN"],
        ["LAC-A-ZQ", "01/04/2019", "S", "C2", "N1", "U1", "PR1", "31/03/2020", "E11", "", "NE61 2AB", "NE65 0XY",
         "SC123456"],
        ["LAC-B-ZQ", "31/03/2020", "S", "C2", "N1", "U1", "PR1", "", "", "", "NE61 2AB", "NE65 0XY", "SC123456"],
        ["LAC-C-ZQ", "10/01/2020", "S", "C2", "N1", "U1", "PR1", "15/02/2020", "X1", "CARPL", "NE61 2AB",
         "NE65 0XY", "SC123456"],
        ["LAC-C-ZQ", "15/02/2020", "P", "C2", "N1", "U3", "PR1", "", "", "", "NE61 2AB", "NE65 0XY", "SC123456"],
        ["LAC-D-ZQ", "01/06/2018", "S", "C2", "N1", "U1", "PR1", "10/02/2020", "E13", "", "NE61 2AB", "NE65 0XY",
         "SC123456"],
        ["LAC-E-ZQ", "05/05/2015", "S", "C2", "N1", "U1", "PR1", "", "", "", "NE61 2AB", "NE65 0XY", "SC123456"],
        ["LAC-F-ZQ", "01/03/2020", "S", "C2", "N1", "U1", "PR1", "20/03/2020", "E11", "", "NE61 2AB", "NE65 0XY",
         "SC123456"],
        ["LAC-G-ZQ", "05/03/2020", "S", "C2", "N1", "U1", "PR1", "", "", "", "NE61 2AB", "NE65 0XY", "SC123456"],
        ["", "05/03/2020", "S", "C2", "N1", "U1", "PR1", "", "", "", "NE61 2AB", "NE65 0XY", "SC123456"],  # row 10
    ])
    header = write_csv(folder / "header.csv", [
        ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
        ["LAC-A-ZQ", "1", "19/07/2014", "WBRI", "A123456789012", "", ""],
    ])
    list8_durham = write_csv(folder / "durham_list8.csv", [
        ["Child Unique ID", "Surname", "Date Started to be Looked After", "Date Ceased to be Looked After",
         "Placement postcode"],
        ["CH-L1-ZQ", "Quennell", "01/01/2019", "31/03/2020", "DH1 3LE"],
        ["CH-L2-ZQ", "Quennell", "31/03/2020", "", "DH1 3LE"],
        ["CH-L3-ZQ", "Quennell", "15/02/2020", "", "DH1 3LE"],
    ], bom=True)
    hub = folder / "front_door_log.xlsx"
    with xlsxwriter.Workbook(hub) as workbook:
        write_sheet(workbook, "Log", [
            ["Front door log, neglect tagging"],
            ["Referral Date", "LA code", "Neglect", "Outcome", "Child ID", "Notes", "Worker"],
            [date(2020, 4, 2), NORTHUMBERLAND, "Y", "Dealt with by the hub", "HUB-1-ZQ",
             "Mum (Olivia Smithson) asked for help", "Janet Workerly"],
            [date(2020, 4, 10), NORTHUMBERLAND, "yes", "Stepped up to social work", None, None, None],
            [date(2020, 4, 28), NORTHUMBERLAND, "N", "Dealt with by hub", None, None, None],
            [date(2020, 6, 3), NORTHUMBERLAND, True, "a) Early help hub", None, None, None],
            [date(2020, 6, 4), NORTHUMBERLAND, "Y", "NFA", None, None, None],
            [date(2020, 6, 5), NORTHUMBERLAND, "Y", "Passed to Narnia", None, None, None],     # row 8
            [date(2020, 5, 15), DURHAM, "true", "dealt with by the hub", None, None, None],
            [None, NORTHUMBERLAND, "Y", "NFA", None, "Quennell", None],                       # row 10
            [date(2020, 5, 16), "E0600005", "Y", "NFA", None, None, None],                    # row 11
        ])
    return {"annex_a": annex_a, "episodes": episodes, "header": header, "list8_durham": list8_durham, "hub": hub}


@pytest.fixture(scope="module")
def tables(files: dict[str, Path]) -> list[RecordTable]:
    return [
        *read_record_level(files["annex_a"], KEY, NORTHUMBERLAND),
        *read_record_level(files["episodes"], KEY, NORTHUMBERLAND),
        *read_record_level(files["header"], KEY, NORTHUMBERLAND),
        *read_record_level(files["list8_durham"], KEY, DURHAM),
        *read_record_level(files["hub"], KEY, None),
    ]


@pytest.fixture(scope="module")
def measures(tables: list[RecordTable]) -> pl.DataFrame:
    with duckdb.connect() as conn:
        load_raw(conn, tables)
        return monthly_measures(conn)


def by_kind(tables: list[RecordTable], kind: str) -> RecordTable:
    (table,) = [t for t in tables if t.kind == kind and (kind != "annex_a_list8" or t.path.suffix == ".xlsx")]
    return table


def series(measures: pl.DataFrame, area: str, measure: str, breakdown: str) -> dict[str, int]:
    """{'2020-04': count, ...} for one measure and breakdown of one area."""
    rows = measures.filter((pl.col("area_code") == area) & (pl.col("measure") == measure)
                           & (pl.col("breakdown") == breakdown)).sort("month")
    return {m.strftime("%Y-%m"): c for m, c in rows.select("month", "count").iter_rows()}


def months(*labels_and_counts: tuple[str, int]) -> dict[str, int]:
    return dict(labels_and_counts)


# ---------------------------------------------------------------------------------------------
# Recognising and reading


def test_tables_are_recognised_by_sheet_name_and_by_header(files):
    assert recognise_record_level(files["annex_a"]) == [
        ("annex_a_list2", " list\u00a02 "), ("annex_a_list3", "List 3 - Referrals"),
        ("annex_a_list7", "LIST 7"), ("annex_a_list8", "List 8")]
    assert recognise_record_level(files["episodes"]) == [("ssda903_episodes", None)]
    assert recognise_record_level(files["header"]) == [("ssda903_header", None)]
    assert recognise_record_level(files["list8_durham"]) == [("annex_a_list8", None)]
    assert recognise_record_level(files["hub"]) == [("hub_log", "Log")]


@pytest.mark.parametrize(("sheet", "number"), [
    ("List 3", 3), ("List 3 - Referrals", 3), ("list3", 3), (" LIST\u00a007 ", 7), ("List_8 LAC", 8),
    ("List 10", 10), ("List 1", 1), ("Lists", None), ("Cover", None), ("Checklist 3", None),
])
def test_annex_a_sheets_are_found_by_their_list_number(sheet, number):
    assert annex_a_list_number(sheet) == number


def test_frames_hold_only_the_documented_columns_typed(tables):
    for table in tables:
        if table.kind == "ssda903_header":
            assert table.frame.shape == (0, 0)  # recognised, and nothing of it kept
        else:
            assert dict(table.frame.schema) == SCHEMAS[table.kind], table.kind


def test_list2_rows_codes_and_problems(tables):
    table = by_kind(tables, "annex_a_list2")
    frame = table.frame.sort("source_row")
    assert frame["source_row"].to_list() == [5, 6, 7, 8, 10, 11]  # the empty first row counts
    assert frame["assessment_start"].to_list() == [date(2020, 4, 3), date(2020, 4, 20), date(2020, 4, 20),
                                                  date(2020, 4, 25), date(2020, 6, 10), date(2020, 6, 11)]
    assert frame["agency"].to_list() == ["Police", "School", "School", "Health visiting", "Voluntary sector",
                                         "Unmapped"]
    # Free text is data: the organisation is kept as written, beside its agency group.
    assert frame["organisation"].to_list() == ["q) 6: Police", "School", "School",
                                               "c) 3B: Health services - Health visitor", "Voluntary sector",
                                               "Martian embassy"]
    assert frame["neglect"].to_list() == [True, False, False, False, True, None]
    assert frame["assessment_completed"].to_list()[:2] == [date(2020, 5, 1), None]
    assert frame["area_code"].unique().to_list() == [NORTHUMBERLAND]
    assert table.problems == []  # an organisation nobody mapped is listed, not refused


def test_list3_rows_and_problems_name_the_cell_never_its_content(tables):
    table = by_kind(tables, "annex_a_list3")
    # Rows 16 (#N/A identifier), 17 and 18 (no readable date) cannot be counted.
    assert sorted(table.frame["source_row"].to_list()) == [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15]
    assert table.frame.filter(pl.col("source_row") == 15)["referral_date"].item() == date(2021, 1, 5)
    assert table.frame.filter(pl.col("source_row") == 15)["neglect"].item() is True  # a formula's value
    assert table.frame.filter(pl.col("source_row") == 5)["referral_nfa"].item() is True
    problems = [(p.row, p.column, p.value, getattr(p, "withheld", None)) for p in table.problems]
    assert problems == [
        (13, "Neglect identified", None, True),  # a coded cell's content is not shown either
        (16, "Child Unique ID", None, False),
        (17, "Date of Referral", None, True),  # rows 17 and 18: one problem
    ]
    message = table.problems[2].message()
    assert "column 'Date of Referral': 2 rows are refused" in message and "rows 17-18" in message
    assert "not shown" in message and "Olivia" not in message


def test_list7_categories_and_counts(tables):
    frame = by_kind(tables, "annex_a_list7").frame.sort("source_row")
    assert frame["initial_category"].to_list() == ["Neglect", "Neglect", "Physical abuse", "Neglect", "Neglect",
                                                   "Multiple", "Sexual abuse", None]
    assert frame["latest_category"].to_list() == ["Emotional abuse", None, "Physical abuse", "Neglect", "Neglect",
                                                  "Multiple", "Sexual abuse", None]
    assert frame["previous_plans"].to_list() == [0, 1, 0, None, None, None, 0, 0]
    assert frame["plan_end"].to_list()[6] == date(2020, 6, 1)  # a formula's cached date
    [problem] = by_kind(tables, "annex_a_list7").problems
    assert (problem.row, problem.column, problem.value) == (10, "Initial Category of Abuse", None)  # not shown


def test_ssda903_episodes_keep_three_columns_and_the_header_table_nothing(tables):
    episodes = by_kind(tables, "ssda903_episodes")
    assert episodes.frame.height == 8
    [problem] = episodes.problems
    assert (problem.row, problem.column, problem.value) == (10, "CHILD", None)
    assert by_kind(tables, "ssda903_header").problems == []


def test_hub_log_outcomes_and_areas_come_from_the_file(tables):
    table = by_kind(tables, "hub_log")
    frame = table.frame.sort("source_row")
    assert frame["source_row"].to_list() == [3, 4, 5, 6, 7, 8, 9]
    assert frame["area_code"].to_list() == [NORTHUMBERLAND] * 6 + [DURHAM]
    assert frame["outcome"].to_list() == ["hub", "stepped_up", "hub", "hub", "nfa", None, "hub"]
    assert frame["neglect"].to_list() == [True, True, False, True, True, True, True]
    assert frame["child_key"].null_count() == 6
    assert [(p.row, p.column, p.value) for p in table.problems] == [
        (8, "Outcome", None), (10, "Referral Date", None), (11, "LA code", None)]  # no cell's content shown


def test_no_personal_data_leaves_the_library(tables, measures):
    texts: list[str] = []
    for table in tables:
        texts.extend(table.frame.columns)
        for column in table.frame.columns:
            texts.extend(str(v) for v in table.frame[column].to_list())
        for problem in table.problems:
            texts.append(problem.message())
            texts.extend(str(v) for v in asdict(problem).values())
    for column in measures.columns:
        texts.extend(str(v) for v in measures[column].to_list())
    blob = "\n".join(texts)
    for value in PERSONAL:
        assert value not in blob, value
    for forbidden in ("forename", "surname", "date_of_birth", "dob", "postcode", "worker", "upn", "notes"):
        assert not any(forbidden in c.lower() for t in tables for c in t.frame.columns)


def child_key(identifier: str, key: str | bytes) -> int:
    """child_key as docs/record_level.md defines it, computed the slow way: SipHash-2-4 of the
    identifier's UTF-8 bytes under the 16-byte BLAKE2b hash of the key, read as a signed integer."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    unsigned = siphash24_scalar(hashlib.blake2b(secret, digest_size=16, person=b"child_key").digest(),
                                identifier.encode("utf-8"))
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def test_child_keys_are_the_keyed_hash_of_the_identifier(tables):
    expected = child_key("CH-K4-ZQ", KEY)
    frame = by_kind(tables, "annex_a_list7").frame
    assert frame.filter(pl.col("child_key") == expected).height == 2


def test_a_missing_key_is_a_clear_error(files):
    for key in (None, ""):
        with pytest.raises(PseudonymKeyMissing, match="SCORECARD_PSEUDONYM_KEY"):
            read_record_level(files["annex_a"], key, NORTHUMBERLAND)
    # Nothing to pseudonymise: no key needed.
    assert read_record_level(files["header"], None, NORTHUMBERLAND)[0].kind == "ssda903_header"


def test_a_hub_log_csv_with_title_rows_and_no_child_ids_needs_no_key(tmp_path):
    log = write_csv(tmp_path / "hub.csv", [
        ["Front door log"], ["exported", "2020"], [],
        ["referral_date", "la_code", "neglect", "outcome", "free_text"],
        ["01/04/2020", NORTHUMBERLAND, "Y", "stepped up", "Olivia Smithson"],
        [],
        ["02/04/2020", NORTHUMBERLAND, "maybe", "stepped up", "Olivia Smithson"],
    ])
    [table] = read_record_level(log, None, None)
    assert table.frame.select("area_code", "neglect", "outcome", "source_row").rows() == [
        (NORTHUMBERLAND, True, "stepped_up", 5)]
    assert [(p.row, p.column, p.value) for p in table.problems] == [(7, "neglect", None)]


def test_a_hub_log_without_an_area_column_takes_the_area_given(tmp_path):
    log = write_csv(tmp_path / "hub.csv", [["Date", "Neglect", "Hub outcome"], ["01/04/2020", "N", "NFA"]])
    [table] = read_record_level(log, None, DURHAM)
    assert table.frame["area_code"].to_list() == [DURHAM]
    [table] = read_record_level(log, None, None)
    assert table.frame.is_empty() and "'la_code' is missing" in table.problems[0].message()


def test_problems_are_grouped_by_column_and_rule_without_the_cells_content(tmp_path):
    rows = [["CHILD", "DECOM", "DEC"]] + [[f"LAC-{i}-ZQ", "someday", ""] for i in range(412)]
    rows += [["LAC-X-ZQ", "01/04/2020", ""], ["LAC-Y-ZQ", "19/07/2014 tbc", ""]]
    [table] = read_record_level(write_csv(tmp_path / "episodes.csv", rows), KEY, NORTHUMBERLAND)
    [problem] = table.problems
    assert isinstance(problem, ProblemGroup) and (problem.rows_affected, problem.row) == (413, 2)
    assert problem.message() == (
        f"{tmp_path / 'episodes.csv'}, column 'DECOM': 413 rows are refused because it must be a date: an Excel "
        "date, or a date written dd/mm/yyyy or yyyy-mm-dd, rows 2-413, 415 (their content is not shown: it is "
        "about a child).")
    assert "someday" not in str(problem.as_dict()) and "19/07/2014" not in str(problem.as_dict())


def test_coded_cells_are_grouped_their_ranges_capped_and_their_content_never_shown(tmp_path):
    header = ["Child Unique ID", "Date of Referral", "Referral NFA?"]
    rows = [header] + [[f"C{i}", "01/04/2020", ["Olivia", "TBC", "?", "maybe", "dunno"][i % 5] if i % 2 else "No"]
                       for i in range(40)]
    [table] = read_record_level(write_csv(tmp_path / "referrals.csv", rows), KEY, NORTHUMBERLAND)
    [problem] = table.problems
    assert problem.rows_affected == 20 and len(problem.row_ranges) == MAX_RANGES and problem.more_ranges == 15
    assert problem.examples == () and problem.value is None and problem.withheld
    assert problem.message().endswith("rows 3, 5, 7, 9, 11 and 15 more (their content is not shown: it is "
                                      "about a child).")
    assert "Olivia" not in str(problem.as_dict())


def test_files_read_together_give_each_file_what_it_gives_alone(files, tmp_path):
    """Tables of one kind with the same columns are typed as one frame (``read_record_levels``):
    each file still gets its own rows, row numbers, area and problems, as when read alone."""
    header = ["Child Unique ID", "Date of Referral", "Referral NFA?", "Neglect identified"]
    some_bad = write_csv(tmp_path / "referrals_a.csv", [
        header, ["CH-R1-ZQ", "01/04/2020", "No", "Y"], ["CH-R2-ZQ", "someday", "No", "N"], [],
        ["CH-R3-ZQ", "02/04/2020", "perhaps", ""]])
    all_bad = write_csv(tmp_path / "referrals_b.csv", [header] + [
        [f"CH-R{i}-ZQ", "31/02/2021", "No", "N"] for i in range(103)])
    inputs = [(files["annex_a"], NORTHUMBERLAND), (some_bad, DURHAM), (files["episodes"], NORTHUMBERLAND),
              (files["header"], NORTHUMBERLAND), (files["list8_durham"], DURHAM), (all_bad, NORTHUMBERLAND),
              (files["hub"], None)]
    together = read_record_levels(inputs, KEY)
    alone = [read_record_level(path, KEY, area) for path, area in inputs]
    assert [[(t.kind, t.path, t.sheet, t.problems) for t in tables] for tables in together] == \
        [[(t.kind, t.path, t.sheet, t.problems) for t in tables] for tables in alone]
    for file_together, file_alone in zip(together, alone):
        assert all(a.frame.equals(b.frame) for a, b in zip(file_together, file_alone))
    # Three list 3 tables (with problems in two of them) and two list 8 tables of two areas were
    # typed together, and each kept its own.
    list3 = [t for tables in together for t in tables if t.kind == "annex_a_list3"]
    assert [t.frame.height for t in list3] == [11, 2, 0]
    assert [(p.row, p.column) for p in list3[1].problems] == [(3, "Date of Referral"), (5, "Referral NFA?")]
    assert [(p.column, p.rows_affected) for p in list3[2].problems] == [("Date of Referral", 103)]
    list8 = [t for tables in together for t in tables if t.kind == "annex_a_list8"]
    assert [t.frame["area_code"].unique().to_list() for t in list8] == [[NORTHUMBERLAND], [DURHAM]]


def test_a_missing_column_is_reported_and_nothing_is_read(tmp_path):
    workbook_path = tmp_path / "annex_a.xlsx"
    with xlsxwriter.Workbook(workbook_path) as workbook:
        write_sheet(workbook, "List 7", [["Title"], ["Child Unique ID", "Child Protection Plan Start Date",
                                                     "Initial Category of Abuse", "Latest Category of Abuse"],
                                         ["CH-K1-ZQ", date(2020, 1, 1), "Neglect", "Neglect"]])
        write_sheet(workbook, "List 3", [])  # an empty list: nothing to read, nothing wrong
    list7, list3 = read_record_level(workbook_path, KEY, NORTHUMBERLAND)
    assert list7.frame.is_empty() and list3.frame.is_empty() and list3.problems == []
    [problem] = list7.problems
    assert (problem.row, problem.column) == (2, None)
    assert "'Child Protection Plan End Date' is missing" in problem.message()
    assert "CH-K1-ZQ" not in problem.message()


def test_annex_a_lists_as_csv_are_recognised_by_header(tmp_path):
    path = write_csv(tmp_path / "referrals.csv", [
        ["Child Unique ID", "Date of Birth", "Referral Date", "Referral NFA", "Allocated Worker"],
        ["1234", "19/07/2014", "2020-05-04", "a) Yes", "Janet Workerly"],
        ["1234.0", "19/07/2014", "04/06/2020", "No", "Janet Workerly"],
    ], bom=True)
    [table] = read_record_level(path, KEY, NORTHUMBERLAND)
    assert table.kind == "annex_a_list3"
    assert table.frame["referral_date"].to_list() == [date(2020, 5, 4), date(2020, 6, 4)]
    assert table.frame["referral_nfa"].to_list() == [True, False]
    assert table.frame["neglect"].to_list() == [None, None]  # no neglect column: unknown, not "no"
    assert table.frame["child_key"].n_unique() == 1  # 1234 stored as a number in Excel is the same child


def test_the_shipped_vocabulary_gives_the_warehouse_names():
    vocabulary = shipped_vocabulary()
    assert vocabulary.problems == []
    assert set(vocabulary.values("categories_of_abuse").values()) == set(CPP_CATEGORIES)
    assert set(vocabulary.values("organisations").values()) == set(EARLY_HELP_AGENCIES)
    assert set(vocabulary.values("referral_sources").values()) <= set(EARLY_HELP_AGENCIES)


def test_the_documentation_lists_every_accepted_header():
    text = (Path(__file__).resolve().parent.parent / "docs" / "record_level.md").read_text(encoding="utf-8")
    for source in sources_for(shipped_vocabulary()):
        assert f"`{source.kind}`" in text
        for item in source.fields:
            for header in item.accepted:
                assert f"`{header}`" in text, (source.kind, header)


def test_header_aliases_never_overlap_within_a_source():
    for source in sources_for(shipped_vocabulary()):
        accepted = [h for f in source.fields for h in f.accepted]
        assert len(accepted) == len(set(accepted)), source.kind


# ---------------------------------------------------------------------------------------------
# Coded values


@pytest.mark.parametrize(("text", "expected"), [
    ("a) Neglect", "Neglect"), ("NEG", "Neglect"), ("N", "Neglect"), ("neglect ", "Neglect"),
    ("d) Emotional abuse", "Emotional abuse"), ("Emotional", "Emotional abuse"), ("EMO", "Emotional abuse"),
    ("b) Physical Abuse", "Physical abuse"), ("c) Sexual abuse", "Sexual abuse"), ("SAB", "Sexual abuse"),
    ("e) Multiple/not recommended", "Multiple"), ("Multiple", "Multiple"), ("MUL", "Multiple"),
    ("Abuse or neglect", None), ("Bullying", None),
])
def test_categories_of_abuse(text, expected):
    assert parse_value("category", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("q) 6: Police", "Police"), ("6", "Police"), ("Police", "Police"), ("h) 2A: Schools", "School"),
    ("School", "School"), ("3B: Health services - Health visitor", "Health visiting"),
    ("School nurse", "School nursing"), ("3A", "GP and health"), ("GP", "GP and health"),
    ("4: Housing", "Housing"), ("5D", "Early help service"), ("Early Help Team", "Early help service"),
    ("Children's Centre", "Children's centre"), ("VCS", "Voluntary sector"), ("a) 1A: Individual", "Other"),
    ("Other", "Other"), ("Police Manager", "Unmapped"), ("Martian embassy", "Unmapped"),
])
def test_organisations(text, expected):
    assert parse_value("organisation", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("a) Yes", True), ("Y", True), ("yes", True), ("TRUE", True), ("1", True),
    ("b) No", False), ("N", False), ("false", False), ("0", False), ("maybe", None),
])
def test_yes_no(text, expected):
    assert parse_value("yes_no", text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Domestic abuse, Neglect", True), ("2B: Neglect; 3A: Domestic abuse", True), ("a) Neglect", True),
    ("Abuse or neglect", False), ("Emotional abuse", False), ("No neglect", False),
])
def test_neglect_among_factors_identified(text, expected):
    assert parse_value("neglect_factors", text) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-03-15 00:00:00", date(2020, 3, 15)), ("2020-03-15 10:30:00", date(2020, 3, 15)),
    ("15/03/2020", date(2020, 3, 15)), ("5/3/2020", date(2020, 3, 5)), ("15/03/2020 09:00", date(2020, 3, 15)),
    ("2020-03-15", date(2020, 3, 15)), ("43905", date(2020, 3, 15)), ("43905.5", date(2020, 3, 15)),
    ("31/02/2020", None), ("2020", None), ("03/15/2020", None), ("15/03/20", None), ("soon", None),
])
def test_dates(text, expected):
    assert parse_value("date", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Dealt with by the hub", "hub"), ("Early help hub", "hub"), ("stepped down to early help", "hub"),
    ("Stepped up to social work", "stepped_up"), ("Referred to children's social care", "stepped_up"),
    ("No further action", "nfa"), ("NFA", "nfa"), ("c) NFA", "nfa"), ("Pending", None),
])
def test_hub_outcomes(text, expected):
    assert parse_value("outcome", text) == expected


@pytest.mark.parametrize(("text", "expected"), [("0", 0), ("2", 2), ("2.0", 2), ("None", 0), ("-1", None),
                                                ("two", None)])
def test_previous_plan_counts(text, expected):
    assert parse_value("count", text) == expected


def test_pseudonymise_hashes_each_identifier_with_the_key():
    ids = pl.Series("id", ["A1", "B2", None, "A1"])
    keyed = pseudonymise(ids, KEY)
    assert keyed[0] == keyed[3] == child_key("A1", KEY)
    assert keyed[2] is None and keyed.dtype == pl.Int64
    assert pseudonymise(ids, "another key")[0] != keyed[0]
    assert pseudonymise(pl.Series("id", [None, None], dtype=pl.String), None).null_count() == 2
    with pytest.raises(PseudonymKeyMissing):
        pseudonymise(ids, None)


# ---------------------------------------------------------------------------------------------
# The monthly measures, worked out by hand


def test_every_sql_file_is_one_of_the_record_level_queries():
    assert {p.stem for p in sql_path("x").parent.glob("*.sql")} == set(RECORD_LEVEL_SQL)


def test_measures_have_the_shape_the_warehouse_expects(measures):
    assert dict(measures.schema) == {"area_code": pl.String(), "month": pl.Date(), "measure": pl.String(),
                                     "breakdown": pl.String(), "count": pl.Int64()}
    assert measures.filter(pl.col("month").dt.day() != 1).is_empty()
    assert measures.unique(["area_code", "month", "measure", "breakdown"]).height == measures.height


def test_referrals_and_rereferrals(measures):
    zeros = {f"2020-{m:02d}": 0 for m in range(1, 13)} | {"2021-01": 0, "2021-02": 0}
    # Jan 2020: R1, R2. Feb: R3 (29th). Jun: R5 twice. Jan 2021: R1, R2, R4 (two rows on one day:
    # one referral), R6. Feb 2021: R3.
    assert series(measures, NORTHUMBERLAND, "referrals", "All referrals") == zeros | {
        "2020-01": 2, "2020-02": 1, "2020-06": 2, "2021-01": 4, "2021-02": 1}
    # R1 10/01/2020 -> 10/01/2021: exactly 12 months, a re-referral. R2 09/01/2020 -> 10/01/2021:
    # 12 months and a day, not. R3 29/02/2020 -> 28/02/2021: within 12 months. R5's June 2020
    # re-referral falls in the first 12 months, when the history is incomplete: not given.
    assert series(measures, NORTHUMBERLAND, "rereferrals", "All referrals") == {"2021-01": 1, "2021-02": 1}
    # R1's first referral (Y); R4 (Y on one of its two same-day rows) and R6 (a formula's "a) Yes").
    assert series(measures, NORTHUMBERLAND, "referrals_neglect", "All referrals") == zeros | {
        "2020-01": 1, "2021-01": 2}


def test_referrals_neglect_is_not_given_where_no_extract_records_neglect(tmp_path):
    path = write_csv(tmp_path / "referrals.csv", [["Child Unique ID", "Date of Referral"],
                                                  ["A", "01/04/2020"], ["B", "02/05/2020"]])
    with duckdb.connect() as conn:
        load_raw(conn, read_record_level(path, KEY, DURHAM))
        result = monthly_measures(conn)
    assert set(result["measure"]) == {"referrals"}
    assert series(result, DURHAM, "referrals", "All referrals") == {"2020-04": 1, "2020-05": 1}


def test_early_help_assessments_by_agency(measures):
    # E2 is given twice (one assessment); E5's organisation nobody mapped counts under Unmapped.
    expected_started = {
        "Police": [1, 0, 0], "School": [1, 0, 0], "Health visiting": [1, 0, 0],
        "Voluntary sector": [0, 0, 1], "Unmapped": [0, 0, 1]}
    expected_neglect = {
        "Police": [1, 0, 0], "School": [0, 0, 0], "Health visiting": [0, 0, 0],
        "Voluntary sector": [0, 0, 1], "Unmapped": [0, 0, 0]}
    for agency, counts in expected_started.items():
        assert series(measures, NORTHUMBERLAND, "eha_started", agency) == dict(
            zip(["2020-04", "2020-05", "2020-06"], counts)), agency
        assert series(measures, NORTHUMBERLAND, "eha_started_neglect", agency) == dict(
            zip(["2020-04", "2020-05", "2020-06"], expected_neglect[agency])), agency
    assert set(measures.filter(pl.col("measure") == "eha_started")["breakdown"]) == set(expected_started)


def test_child_protection_plans(measures):
    def cpp(measure: str, breakdown: str) -> list[int]:
        result = series(measures, NORTHUMBERLAND, measure, breakdown)
        assert list(result) == ["2020-04", "2020-05", "2020-06"]  # the window opens with K4's first plan ending
        return list(result.values())

    # Started: Apr K2 (NEG), K3 (physical); May K6 (sexual), K7 (no readable category);
    # Jun K4's second plan (neglect), K5 (multiple). K1 and K4's first plan started before the window.
    assert cpp("cpp_started", "Neglect") == [1, 0, 1]
    assert cpp("cpp_started", "Physical abuse") == [1, 0, 0]
    assert cpp("cpp_started", "Sexual abuse") == [0, 1, 0]
    assert cpp("cpp_started", "Multiple") == [0, 0, 1]
    assert cpp("cpp_started", "Emotional abuse") == [0, 0, 0]
    # Open at 30 April: K1 (latest emotional), K2 (no latest: initial neglect), K3 (K4's plan ended 10 April).
    # 31 May: K1, K3, K6 (ends 1 June); K2 ended on 31 May, so is not open then; K7 has no category.
    # 30 June: K1, K3, K4 (second plan), K5 (started 30 June); K6 ended 1 June.
    assert cpp("cpp_open", "Emotional abuse") == [1, 1, 1]
    assert cpp("cpp_open", "Neglect") == [1, 0, 1]
    assert cpp("cpp_open", "Physical abuse") == [1, 1, 1]
    assert cpp("cpp_open", "Sexual abuse") == [0, 1, 0]
    assert cpp("cpp_open", "Multiple") == [0, 0, 1]
    # Repeats: K2 says 1 previous plan; K4's June plan follows its earlier plan in the file.
    assert cpp("cpp_repeat_started", "All categories") == [2, 2, 2]
    assert cpp("cpp_repeat_subsequent", "All categories") == [1, 0, 1]
    assert cpp("cpp_repeat_started", "Neglect") == [1, 0, 1]
    assert cpp("cpp_repeat_subsequent", "Neglect") == [1, 0, 1]


def test_children_looked_after_from_ssda903(measures):
    # 29 Feb: A (ceases 31 Mar), C (second episode from 15 Feb), E; D ceased 10 Feb.
    # 31 Mar: B (DECOM 31 Mar), C, E, G; A's DEC is 31 March, so not then; F came and went in March.
    # Northumberland's list 8 is not used: SSDA903 is given for the area.
    assert series(measures, NORTHUMBERLAND, "children_looked_after", "All children") == {
        "2020-02": 3, "2020-03": 4}


def test_children_looked_after_from_list8(measures):
    # L1 ceased on 31 March (not looked after then); L2 started on 31 March; L3 since February.
    assert series(measures, DURHAM, "children_looked_after", "All children") == {"2020-03": 2}


def test_hub_referrals(measures):
    assert series(measures, NORTHUMBERLAND, "hub_referrals", "All referrals") == {
        "2020-04": 3, "2020-05": 0, "2020-06": 3}
    assert series(measures, NORTHUMBERLAND, "hub_neglect_referrals", "All referrals") == {
        "2020-04": 2, "2020-05": 0, "2020-06": 3}
    assert series(measures, NORTHUMBERLAND, "hub_neglect_handled", "All referrals") == {
        "2020-04": 1, "2020-05": 0, "2020-06": 1}
    assert series(measures, DURHAM, "hub_neglect_referrals", "All referrals") == {"2020-05": 1}
    assert series(measures, DURHAM, "hub_neglect_handled", "All referrals") == {"2020-05": 1}


def test_overlapping_extracts_count_each_plan_and_referral_once():
    def table(kind: str, rows: list[dict]) -> RecordTable:
        frame = pl.DataFrame(rows).with_columns(area_code=pl.lit(NORTHUMBERLAND), source_row=pl.lit(2))
        return RecordTable(kind, Path("x"), None, frame.select(
            [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
             for c, t in SCHEMAS[kind].items()]), [])

    plan = {"child_key": 1, "plan_start": date(2020, 4, 1), "initial_category": "Neglect"}
    older = table("annex_a_list7", [plan | {"latest_category": "Neglect", "plan_end": None},
                                    {"child_key": 2, "plan_start": date(2020, 4, 2), "plan_end": date(2020, 4, 30),
                                     "initial_category": "Neglect", "latest_category": "Neglect"}])
    newer = table("annex_a_list7", [plan | {"latest_category": "Emotional abuse", "plan_end": date(2020, 6, 10)}])
    referrals = [table("annex_a_list3", [{"child_key": 1, "referral_date": date(2020, 4, 1)}])] * 2
    with duckdb.connect() as conn:
        load_raw(conn, [older, newer, *referrals])
        result = monthly_measures(conn)
    assert series(result, NORTHUMBERLAND, "cpp_repeat_started", "All categories") == {
        "2020-04": 2, "2020-05": 0, "2020-06": 0}
    # The newer extract's end (10 June) and latest category (emotional abuse) win.
    assert series(result, NORTHUMBERLAND, "cpp_open", "Emotional abuse") == {"2020-04": 1, "2020-05": 1,
                                                                             "2020-06": 0}
    assert series(result, NORTHUMBERLAND, "referrals", "All referrals") == {"2020-04": 1}


def test_each_sql_file_runs_on_its_own(tables):
    with duckdb.connect() as conn:
        load_raw(conn, tables)
        for name in RECORD_LEVEL_SQL:
            result = conn.execute(sql_path(name).read_text(encoding="utf-8")).pl()
            assert result.columns == ["area_code", "month", "measure", "breakdown", "count"], name
            # (these tables hold no CIN census return: tests/test_cin_census.py counts its assessments)
            assert result.height > 0 or name == "cin_assessments_monthly", name
