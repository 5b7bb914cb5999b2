"""Record-level extracts through the whole build: hand-worked counts, and no personal data out.
(A file outside an authority's folder, and a missing key, are asset-level tests in test_assets.py.)"""

import contextlib
import io
import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from scorecard.ingest.record_level import PseudonymKeyMissing
from scorecard.load.file_refs import FileRead, FileRef
from scorecard.load.record_level import BATCH_BYTES, raw_table_frame, sync_record_level
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
        code = run_cli(settings, "build", chart_images=False)  # (record-level counts, not PNGs, are tested)
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
            for schema, table in conn.execute("select schema_name, table_name from duckdb_tables() union all "
                                              "select schema_name, view_name from duckdb_views() "
                                              "where not internal").fetchall():
                text = "\n".join(str(row) for row in conn.execute(f"select * from {schema}.{table}").fetchall())
                found += [(database.name, table, s) for s in secrets if s in text]
    parquet_files = list(settings.record_level_dir.rglob("*.parquet"))
    assert parquet_files
    for path in parquet_files:
        text = "\n".join(str(row) for row in pl.read_parquet(path).rows())
        found += [(str(path), s) for s in secrets if s in text]
    for path in settings.out_dir.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".md", ".json", ".txt", ".csv"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            found += [(str(path), s) for s in secrets if s in text]
    found += [("build output", s) for s in secrets if s in output]
    assert found == []


def test_record_level_tables_are_not_published(record_build):
    settings, _, _ = record_build
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        published = {t for (t,) in conn.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' "
            "union all select view_name from duckdb_views() where schema_name = 'raw'").fetchall()}
    assert published and not {t for t in published if t.startswith(("annex_a", "ssda903", "hub_log"))}
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        keys = conn.execute("select child_key from raw.annex_a_list3").fetchall()
    assert len(keys) == 4 and all(isinstance(k, int) and k != 0 for (k,) in keys)  # SipHash-2-4, 64 bits


def test_a_new_key_rebuilds_the_record_level_tables_though_no_file_changed(record_build, tmp_path):
    settings, code, output = record_build
    assert code == 0, output
    copy = make_settings(tmp_path)  # the raw folder and every output, so unchanged charts are not written again
    shutil.copytree(settings.raw_dir, copy.raw_dir)
    shutil.copytree(settings.out_dir, copy.out_dir)

    def build(key: str) -> str:
        out = io.StringIO()
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            patch.setenv("SCORECARD_PSEUDONYM_KEY", key)
            assert run_cli(copy, "build", chart_images=False) == 0, out.getvalue()
        return out.getvalue()

    def child_keys() -> set[int]:
        with duckdb.connect(str(copy.build_db_path), read_only=True) as conn:
            return {k for (k,) in conn.execute("select child_key from raw.annex_a_list3").fetchall()}

    before = child_keys()
    assert "Nothing changed" in build(KEY)
    output = build("a new key")
    assert "Nothing changed" not in output and "not reloaded" not in output
    after = child_keys()
    assert len(after) == len(before) == 3 and not after & before  # every child keyed anew, none twice
    with duckdb.connect(str(copy.build_db_path), read_only=True) as conn:
        assert conn.execute("select count(*) from raw.load_ledger where status = 'reset'").fetchone()[0] >= 1
    assert "Nothing changed" in build("a new key")


def referral_rows(*child_keys: int) -> pl.DataFrame:
    """raw.annex_a_list3 rows as the reader gives them (no provenance), one per child key."""
    return raw_table_frame("annex_a_list3").drop("source_file", "source_sheet").vstack(pl.DataFrame({
        "area_code": ["E06000057"] * len(child_keys), "child_key": list(child_keys),
        "referral_date": [date(2020, 4, 1)] * len(child_keys), "source_row": list(range(2, 2 + len(child_keys)))},
    ).with_columns(referral_nfa=pl.lit(None, pl.Boolean), neglect=pl.lit(None, pl.Boolean)).select(
        raw_table_frame("annex_a_list3").drop("source_file", "source_sheet").columns))


class Reader:
    """A stand-in for the record-level reader: each file's rows from a dict, the calls counted."""

    def __init__(self, rows: dict[str, pl.DataFrame]):
        self.rows, self.calls, self.batches = rows, [], []

    def __call__(self, refs: list[FileRef]) -> list[FileRead]:
        self.batches.append([ref.path for ref in refs])
        results = []
        for ref in refs:
            self.calls.append(ref.path)
            if isinstance(self.rows[ref.path], Exception):
                raise self.rows[ref.path]
            results.append(FileRead(self.rows[ref.path], self.rows[ref.path].height, []))
        return results


def sync_referrals(conn, tmp_path, refs, reader, key=KEY):
    conn.execute("create schema if not exists raw")
    return sync_record_level(conn, "annex_a_list3", refs, reader, key, tmp_path / "out", tmp_path / "record_level")


def ledger(conn, status):
    return conn.execute("select path, detail from raw.load_ledger where status = ? order by recorded_at",
                        [status]).fetchall()


def test_raw_rows_kept_in_a_table_by_an_older_release_are_loaded_again(tmp_path):
    """An earlier release kept record-level rows in a DuckDB table, child_key as 64 hex characters:
    those rows cannot be joined with new ones, so the table is dropped and every file read again."""
    ref = FileRef("E06000057/annex_a.csv", None, "a" * 64, 100)
    reader = Reader({ref.path: referral_rows(42)})
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        conn.execute("create schema raw")
        conn.execute("create table raw.annex_a_list3 (area_code varchar, child_key varchar, referral_date date, "
                     "referral_nfa boolean, neglect boolean, source_row bigint, source_file varchar, "
                     "source_sheet varchar, source_sha256 varchar)")
        conn.execute("insert into raw.annex_a_list3 values ('E06000057', repeat('f', 64), date '2020-04-01', null, "
                     f"null, 2, '{ref.path}', null, '{ref.sha256}')")  # the same file, unchanged
        outcome = sync_referrals(conn, tmp_path, [ref], reader)
        assert reader.calls == [ref.path] and outcome.loaded == [ref] and not outcome.unchanged
        assert conn.execute("select child_key, source_file from raw.annex_a_list3").fetchall() == [(42, ref.path)]
        [(_, detail)] = ledger(conn, "reset")
        assert detail == ("the rows are now kept as Parquet files beside the build database: every file is "
                          "loaded again")
        # The next build finds the rows as it reads them: the unchanged file is not read again.
        again = sync_referrals(conn, tmp_path, [ref], reader)
        assert again.unchanged == [ref] and len(reader.calls) == 1


def test_a_new_pseudonymisation_key_loads_every_file_again(tmp_path):
    """Rows keyed with two keys would split every child in two: a new key empties the table first."""
    ref = FileRef("E06000057/annex_a.csv", None, "a" * 64, 100)
    reader = Reader({ref.path: referral_rows(42)})
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        sync_referrals(conn, tmp_path, [ref], reader)
        assert sync_referrals(conn, tmp_path, [ref], reader).unchanged == [ref]
        outcome = sync_referrals(conn, tmp_path, [ref], reader, key="a new key")
        assert outcome.loaded == [ref] and reader.calls == [ref.path, ref.path]
        [(_, detail)] = ledger(conn, "reset")
        assert detail.startswith("the way rows are read changed (now: SipHash-2-4, key check ")
        assert KEY not in detail and "a new key" not in detail
        assert conn.execute("select count(*) from raw.annex_a_list3").fetchone()[0] == 1


def test_record_level_rows_are_kept_as_one_parquet_file_per_source_file(tmp_path):
    first, second = (FileRef(f"E0600005{i}/annex_a.csv", None, str(i) * 64, 100) for i in (7, 8))
    folder = tmp_path / "record_level" / "annex_a_list3"
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        sync_referrals(conn, tmp_path, [first, second], Reader({first.path: referral_rows(1, 2),
                                                                second.path: referral_rows(3)}))
        assert len(list(folder.iterdir())) == 2
        assert conn.execute("select source_file, count(*) from raw.annex_a_list3 group by all order by 1"
                            ).fetchall() == [(first.path, 2), (second.path, 1)]
        # A new version of the first file replaces its rows and its Parquet file.
        changed = FileRef(first.path, None, "c" * 64, 100)
        outcome = sync_referrals(conn, tmp_path, [changed, second], Reader({first.path: referral_rows(5)}))
        assert outcome.loaded == [changed] and outcome.unchanged == [second]
        assert conn.execute("select source_sha256, child_key from raw.annex_a_list3 where source_file = ?",
                            [first.path]).fetchall() == [(changed.sha256, 5)]
        assert len(list(folder.iterdir())) == 2
        # A file gone from the raw folder: its rows and its Parquet file are retired.
        assert sync_referrals(conn, tmp_path, [second], Reader({})).retired == [(first.path, None, 1)]
        assert conn.execute("select distinct source_file from raw.annex_a_list3").fetchall() == [(second.path,)]
        assert len(list(folder.iterdir())) == 1


def test_small_files_are_read_together_and_each_keeps_its_own_rows(tmp_path):
    """Consecutive changed files are read in batches of up to BATCH_BYTES (a larger file alone),
    and each file still gets its own rows, Parquet file and ledger row."""
    sizes = [BATCH_BYTES // 4, BATCH_BYTES // 4, BATCH_BYTES // 2, BATCH_BYTES * 2, 1, 1]
    refs = [FileRef(f"E0600004{i}/annex_a.csv", None, str(i) * 64, size) for i, size in enumerate(sizes)]
    reader = Reader({ref.path: referral_rows(*range(10 * i, 10 * i + i + 1)) for i, ref in enumerate(refs)})
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        outcome = sync_referrals(conn, tmp_path, refs, reader)
        assert reader.batches == [[r.path for r in refs[:3]], [refs[3].path], [r.path for r in refs[4:]]]
        assert outcome.loaded == refs
        assert conn.execute("select source_file, count(*), min(child_key) from raw.annex_a_list3 group by all "
                            "order by 1").fetchall() == [(ref.path, i + 1, 10 * i) for i, ref in enumerate(refs)]
        assert ledger(conn, "loaded") == [(ref.path, "new file") for ref in refs]
        assert len(list((tmp_path / "record_level" / "annex_a_list3").iterdir())) == len(refs)


def test_a_build_stopped_part_way_leaves_the_rows_as_they_were(tmp_path):
    """Files staged by a build that fails before its commit are not listed, not seen, and deleted
    by the next build, which loads them properly."""
    # (each file a batch of its own: the first two are read and staged before the third fails)
    refs = [FileRef(f"E0600005{i}/annex_a.csv", None, str(i) * 64, BATCH_BYTES) for i in range(3)]
    folder = tmp_path / "record_level" / "annex_a_list3"
    with duckdb.connect(str(tmp_path / "build.duckdb")) as conn:
        sync_referrals(conn, tmp_path, refs[:1], Reader({refs[0].path: referral_rows(1)}))
        before = conn.execute("select * from raw.annex_a_list3").fetchall()
        failing = Reader({refs[0].path: referral_rows(9), refs[1].path: referral_rows(2),
                          refs[2].path: PseudonymKeyMissing("key gone")})
        changed = [FileRef(refs[0].path, None, "c" * 64, BATCH_BYTES), *refs[1:]]
        # (an error about the build, not about one file: a file that cannot be read is only its own problem)
        with pytest.raises(PseudonymKeyMissing, match="key gone"):
            sync_referrals(conn, tmp_path, changed, failing)
        assert conn.execute("select * from raw.annex_a_list3").fetchall() == before
        assert len(list(folder.iterdir())) > 1  # what the failed build staged
        outcome = sync_referrals(conn, tmp_path, changed, Reader({refs[0].path: referral_rows(9),
                                                                  refs[1].path: referral_rows(2),
                                                                  refs[2].path: referral_rows(3)}))
        assert outcome.loaded == changed
        assert sorted(conn.execute("select child_key from raw.annex_a_list3").fetchall()) == [(2,), (3,), (9,)]
        assert len(list(folder.iterdir())) == 3
