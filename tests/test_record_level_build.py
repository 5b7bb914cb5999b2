"""Record-level extracts through the whole build: hand-worked counts, and no personal data out."""

import contextlib
import io
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from tests.conftest import STRATEGIES, make_settings, run_cli

KEY = "a-test-key-that-is-not-a-secret"
NAMES = ["Amelia Thornberry", "Jacob Featherstone", "Olivia Pemberton"]
CHILD_IDS = ["CHILD-ALPHA-0001", "CHILD-BRAVO-0002", "CHILD-CHARLIE-0003"]
DOBS = [datetime(2011, 4, 17), datetime(2013, 9, 23), datetime(2015, 1, 5)]
POSTCODES = ["NE61 9QQ", "NE46 7XY", "NE22 5ZZ"]
WORKER = "Persephone Worthington"


def annex_a(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(path) as book:
        dates = book.add_format({"num_format": "dd/mm/yyyy"})

        def sheet(name, header, rows):
            ws = book.add_worksheet(name)
            ws.write_row(0, 0, ["Annex A return: Northumberland"])  # a title row above the header
            ws.write_row(2, 0, header)
            for r, row in enumerate(rows, start=3):
                for c, value in enumerate(row):
                    (ws.write_datetime(r, c, value, dates) if isinstance(value, datetime) else ws.write(r, c, value))

        sheet("List 3 - Referrals", ["Child Unique ID", "Forename", "Surname", "Date of Birth", "Postcode",
                                     "Date of Referral", "Referral Source", "Referral NFA?",
                                     "Number of Referrals in Last 12 Months", "Allocated Worker"], [
            # child 1: referred in April and again in September 2017 (a re-referral within 12 months)
            [CHILD_IDS[0], *NAMES[0].split(), DOBS[0], POSTCODES[0], datetime(2017, 4, 10), "q) 6: Police",
             "b) No", 0, WORKER],
            [CHILD_IDS[0], *NAMES[0].split(), DOBS[0], POSTCODES[0], datetime(2017, 9, 1), "q) 6: Police",
             "b) No", 1, WORKER],
            [CHILD_IDS[1], *NAMES[1].split(), DOBS[1], POSTCODES[1], datetime(2017, 4, 20), "a) School",
             "a) Yes", 0, WORKER],
            [CHILD_IDS[2], *NAMES[2].split(), DOBS[2], POSTCODES[2], datetime(2017, 6, 2), "a) School",
             "b) No", 0, WORKER],
        ])
        sheet("List 7 - Child Protection", ["Child Unique ID", "Forename", "Surname", "Date of Birth",
                                            "Child Protection Plan Start Date", "Initial Category of Abuse",
                                            "Latest Category of Abuse", "Child Protection Plan End Date",
                                            "Number of Previous Child Protection Plans", "Allocated Worker"], [
            [CHILD_IDS[0], *NAMES[0].split(), DOBS[0], datetime(2017, 5, 3), "a) Neglect", "a) Neglect", "", 1, WORKER],
            [CHILD_IDS[1], *NAMES[1].split(), DOBS[1], datetime(2017, 5, 20), "b) Emotional abuse",
             "a) Neglect", datetime(2017, 6, 30), 0, WORKER],
            # Ended in April: the extract's window opens then, so May's starts are complete.
            [CHILD_IDS[2], *NAMES[2].split(), DOBS[2], datetime(2016, 11, 1), "c) Physical abuse",
             "c) Physical abuse", datetime(2017, 4, 30), 0, WORKER],
        ])


def episodes(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
                    f"{CHILD_IDS[2]},01/02/2017,S,C2,N1,U1,PR1,,X1,,{POSTCODES[2]},{POSTCODES[1]},SC123456\n"
                    f"{CHILD_IDS[0]},15/01/2017,S,C2,N1,U1,PR1,31/03/2017,E11,,{POSTCODES[0]},{POSTCODES[1]},SC123456\n")


@pytest.fixture(scope="module")
def record_build(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("records"))
    (settings.raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", settings.raw_dir / "strategies")
    annex_a(settings.raw_dir / "social_care" / "E06000057" / "annex_a_2017.xlsx")
    episodes(settings.raw_dir / "E06000057_northumberland" / "903" / "episodes.csv")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        patch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
        code = run_cli(settings, "build")
    return settings, code, out.getvalue()


def test_record_level_counts_reach_the_warehouse(record_build):
    settings, code, output = record_build
    assert code == 0, output
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        def monthly(indicator_id, period):
            return conn.execute("select numerator, denominator, source from marts.indicator_values where "
                                "indicator_id = ? and area_code = 'E06000057' and period_label = ?",
                                [indicator_id, period]).fetchone()
        # LAC at 31 March 2017 from SSDA903: child 3 (no end) yes; child 1 ceased on 31 March, so no.
        assert monthly("lac_count", "2017-03") == (1, None, "record_level")
        # Plans open at 31 May 2017: both, latest category neglect for both.
        assert monthly("cpp_neglect_pct", "2017-05") == (2, 2, "record_level")
        # 30 June: child 2's plan ended that day, so only child 1's is open.
        assert monthly("cpp_neglect_pct", "2017-06") == (1, 1, "record_level")
        # Started in May: one under neglect (initial), one emotional abuse.
        assert monthly("cpp_neglect_start_pct", "2017-05") == (1, 2, "record_level")
        assert monthly("cpp_repeat_pct", "2017-05") == (1, 2, "record_level")


def test_no_child_identifier_name_birth_date_postcode_or_worker_leaves_the_build(record_build):
    settings, code, output = record_build
    assert code == 0, output
    secrets = [*CHILD_IDS, *NAMES, *(n.split()[1] for n in NAMES), *POSTCODES, WORKER, "Worthington",
               *(d.strftime("%d/%m/%Y") for d in DOBS), *(d.strftime("%Y-%m-%d") for d in DOBS)]
    found = []
    for database in (settings.db_path, settings.build_db_path):
        with duckdb.connect(str(database), read_only=True) as conn:
            for schema, table in conn.execute("select schema_name, table_name from duckdb_tables()").fetchall():
                text = "\n".join(str(row) for row in conn.execute(f"select * from {schema}.{table}").fetchall())
                found += [(database.name, table, s) for s in secrets if s in text]
    for path in settings.out_dir.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".md", ".json", ".txt", ".csv"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            found += [(str(path), s) for s in secrets if s in text]
    found += [("build output", s) for s in secrets if s in output]
    assert found == []


def test_record_level_tables_are_not_published(record_build):
    settings, _, _ = record_build
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        published = {t for (t,) in conn.execute("select table_name from duckdb_tables() where schema_name = 'raw'").fetchall()}
    assert not published & {"annex_a_list3", "annex_a_list7", "ssda903_episodes"}
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        keys = conn.execute("select child_key from raw.annex_a_list3").fetchall()
    assert len(keys) == 4 and all(isinstance(k, int) and k != 0 for (k,) in keys)  # keyed BLAKE2b, 64 bits


def test_without_the_key_the_build_stops_and_says_how_to_fix_it(record_build, tmp_path):
    settings, _, _ = record_build
    copy = make_settings(tmp_path)
    shutil.copytree(settings.raw_dir, copy.raw_dir)
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        patch.delenv("SCORECARD_PSEUDONYM_KEY", raising=False)
        code = run_cli(copy, "build")
    assert code == 1
    assert "SCORECARD_PSEUDONYM_KEY is not set" in out.getvalue()
    assert not copy.db_path.exists()


def test_a_record_level_file_outside_an_authority_folder_is_quarantined(tmp_path):
    settings = make_settings(tmp_path)
    (settings.raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", settings.raw_dir / "strategies")
    episodes(settings.raw_dir / "unsorted" / "episodes.csv")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        patch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
        code = run_cli(settings, "build")
    assert code == 1
    assert ("unsorted/episodes.csv: refused because a record-level file carries no local authority, so it must "
            "sit in a folder named after the authority's ONS code") in out.getvalue()


def test_raw_rows_read_by_an_older_release_with_another_key_format_are_loaded_again(tmp_path):
    """An earlier release stored child_key as 64 hex characters: those rows cannot be joined with
    new ones, so a table whose columns changed is dropped and every file read again."""
    from assets.raw.loading import FileRead, FileRef, sync_files
    from assets.raw.record_level import raw_table_frame

    ref = FileRef("E06000057/annex_a.csv", None, "a" * 64, 100)
    rows = raw_table_frame("annex_a_list3")
    new_row = pl.DataFrame({"area_code": ["E06000057"], "child_key": [42], "referral_date": [datetime(2020, 4, 1).date()],
                            "source_row": [2], "source_file": [ref.path]}).select(
        [pl.col(c).cast(t) if c in ("area_code", "child_key", "referral_date", "source_row", "source_file")
         else pl.lit(None, t).alias(c) for c, t in rows.schema.items()])
    read_calls = []

    def read(file: FileRef) -> FileRead:
        read_calls.append(file)
        return FileRead(new_row, 1, [])

    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.annex_a_list3 (area_code varchar, child_key varchar, referral_date date, "
                     "referral_nfa boolean, neglect boolean, source_row bigint, source_file varchar, "
                     "source_sheet varchar, source_sha256 varchar)")
        conn.execute("insert into raw.annex_a_list3 values ('E06000057', repeat('f', 64), date '2020-04-01', null, "
                     f"null, 2, '{ref.path}', null, '{ref.sha256}')")  # the same file, unchanged
        outcome = sync_files(conn, table="raw.annex_a_list3", source="record_level", layout="annex_a_list3",
                             files=[ref], read=read, empty=rows, out_dir=tmp_path / "out")
        assert read_calls == [ref] and outcome.loaded == [ref] and not outcome.unchanged
        assert conn.execute("select child_key from raw.annex_a_list3").fetchall() == [(42,)]
        [(detail,)] = conn.execute("select detail from raw.load_ledger where status = 'reset'").fetchall()
        assert "child_key" in detail and "every file is loaded again" in detail
        # The next build finds the table as it reads it: the unchanged file is not read again.
        again = sync_files(conn, table="raw.annex_a_list3", source="record_level", layout="annex_a_list3",
                           files=[ref], read=read, empty=rows, out_dir=tmp_path / "out")
        assert again.unchanged == [ref] and len(read_calls) == 1
