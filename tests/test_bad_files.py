"""One bad file is that file's problem: unreadable, encrypted, truncated, binary, a huge field, a
stray quote or a NUL byte quarantines that file with a message naming it, its last good version
stays in use (never retired as if removed), and everything else loads."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from assets.raw.dfe_open_data import dfe_open_data
from assets.raw.partner_returns import extract_files
from assets.raw.record_level import record_level
from scorecard.ingest.file_references import file_reference
from scorecard.ingest.inventory import inventory
from scorecard.load.file_refs import FileRead, FileRef
from scorecard.load.ledger import UNREADABLE, file_by_file, sync_files
from tests.conftest import build_cli
from tests.test_assets import REFERRALS_HEADER, Folder, report_of

KEY = "a-test-key-that-is-not-a-secret"
AREA = "E06000057"
EMPTY = pl.DataFrame(schema={"n": pl.Int64, "source_file": pl.String, "source_sheet": pl.String})
SECRET_NAME, SECRET_ID, SECRET_DOB = "Persephone Quillfeather", "CHILD-SECRET-7788", "17/04/2011"


def list3_workbook(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("List 3")
        sheet.write_row(0, 0, ["Child Unique ID", "Date of Referral"])
        sheet.write_row(1, 0, ["A1", "01/04/2020"])
    return path.read_bytes()


def bad_files(raw: Path) -> dict[str, str]:
    """Every kind of bad file, under an authority's folder: relative path -> what its line must say."""
    folder = raw / AREA
    workbook = list3_workbook(folder / "good.xlsx")
    (folder / "empty.xlsx").write_bytes(b"")
    (folder / "encrypted.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    (folder / "truncated.xlsx").write_bytes(workbook[: len(workbook) // 2])
    (folder / "binary.xlsx").write_bytes(bytes(range(256)) * 8)
    (folder / "huge_field.csv").write_text(f"Child Unique ID,Date of Referral\n{SECRET_ID}," + "x" * 200_000 + "\n")
    return {
        f"{AREA}/empty.xlsx": "the file is empty",
        f"{AREA}/encrypted.xlsx": "password-protected",
        f"{AREA}/truncated.xlsx": "not an Excel workbook",
        f"{AREA}/binary.xlsx": "not an Excel workbook",
        f"{AREA}/huge_field.csv": "a field too long",
    }


def test_the_inventory_lists_every_unreadable_file_with_the_reason_and_reads_the_rest(tmp_path):
    expected = bad_files(tmp_path)
    found = inventory(tmp_path, KEY)
    good = file_reference(f"{AREA}/good.xlsx", KEY)  # (a record-level file is never named as written)
    assert found.filter(pl.col("path") == good).select("sheet", "layout").rows() == [("List 3", "annex_a_list3")]
    for path, why in expected.items():
        # An unrecognised file in an authority's folder may be a damaged extract named after a child.
        [line] = found.filter(pl.col("path") == file_reference(path, KEY)).iter_rows(named=True)
        assert line["layout"] is None and why in line["recognition"], (path, line["recognition"])
        assert SECRET_ID not in line["recognition"]
    assert not set(expected) & set(found["path"])


def test_a_damaged_new_version_of_a_known_extract_keeps_the_last_good_one_under_its_reference(
        tmp_path, monkeypatch):
    folder = Folder(tmp_path)
    extract = f"{AREA}/{SECRET_NAME} referrals.csv"
    folder.write(extract, "Child Unique ID,Date of Referral\nA1,01/04/2020\nB2,02/04/2020\n")
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    assert folder.materialize([extract_files, record_level]).success
    (folder.raw / extract).write_bytes(b"")  # the new version came through empty
    result = folder.materialize([extract_files, record_level])
    reference = file_reference(extract, KEY)
    checks = {"/".join(e.asset_key.path): e for e in result.get_asset_check_evaluations()}
    assert checks["raw/annex_a_list3"].passed is False and reference in checks["raw/annex_a_list3"].description
    assert folder.query("select count(*) from raw.annex_a_list3") == [(2,)]  # the last good version
    assert folder.query("select status from raw.load_ledger where path = ? order by recorded_at desc limit 1",
                        [reference]) == [("quarantined",)]
    assert not folder.query("select * from raw.load_ledger where status = 'retired'")
    stored = folder.query("select string_agg(path, ' ') from raw.extract_files")[0][0]
    stored += folder.query("select string_agg(path, ' ') from raw.load_ledger")[0][0]
    assert SECRET_NAME not in stored


def test_a_file_a_reader_fails_on_is_quarantined_and_the_batch_still_loads(tmp_path):
    refs = [FileRef(name, None, name * 64, 10) for name in "abc"]

    def read(batch):
        if any(ref.path == "b" for ref in batch):  # a parser that quotes the cell it choked on
            raise pl.exceptions.ComputeError(f"could not parse `{SECRET_NAME}`")
        return [FileRead(pl.DataFrame({"n": [1]}), 1, []) for _ in batch]

    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        outcome = sync_files(conn, table="raw.t", source="test", layout="t", files=refs, read=read,
                             empty=EMPTY, out_dir=tmp_path, batch_bytes=1_000)
        assert conn.execute("select source_file from raw.t order by 1").fetchall() == [("a",), ("c",)]
    [(ref, [problem])] = outcome.quarantined.items()
    assert ref.path == "b" and problem.message() == f"b: refused because {UNREADABLE} (ComputeError)."
    assert SECRET_NAME not in "".join(p.read_text() for p in tmp_path.rglob("*.*"))


def test_a_damaged_new_version_of_a_known_return_keeps_the_last_good_one(tmp_path):
    folder = Folder(tmp_path)
    good = REFERRALS_HEADER + "E06000057,2017-08,250,40,30\n"
    referrals = folder.write("csc/referrals.csv", good)
    folder.write("csc/older.csv", REFERRALS_HEADER + "E06000057,2016-08,200,30,20\n")
    assert folder.load_referrals().passed
    for damaged in (good.replace("250", "2\x0050"),  # a NUL byte
                    good.replace("E06000057,2017-08", 'E06000057,"2017-08')):  # one stray quote
        referrals.write_text(damaged, encoding="utf-8")
        valid = folder.load_referrals()
        assert not valid.passed and "csc/referrals.csv" in valid.description
        # Not retired as if removed: the last good version stays in use, and the ledger says why.
        assert folder.query("select source_file, referrals from raw.referrals order by 1") == [
            ("csc/older.csv", 200), ("csc/referrals.csv", 250)]
        [(status, detail)] = folder.query("select status, detail from raw.load_ledger where path = "
                                          "'csc/referrals.csv' order by recorded_at desc limit 1")
        assert status == "quarantined" and detail == str(report_of(folder.out, "csc/referrals.csv"))
        assert "Its last good version (1 rows) stays in use" in Path(detail).read_text(encoding="utf-8")
    assert not folder.query("select * from raw.load_ledger where status = 'retired'")


def test_unreadable_record_level_and_dfe_files_are_quarantined_and_the_rest_loads(tmp_path, monkeypatch):
    folder = Folder(tmp_path)
    bad_files(folder.raw)
    folder.write(f"{AREA}/stray_quote.csv",
                 f'Child Unique ID,Date of Referral\n{SECRET_ID},"{SECRET_DOB}\nB2,02/04/2020\n')
    folder.write("dfe/c1_stray_quote.csv",
                 'time_period,time_identifier,geographic_level,country_code,country_name\n'
                 '202021,"Financial year,National,E92000001,England\n')
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    result = folder.materialize([extract_files, record_level, dfe_open_data])
    assert result.success
    checks = {"/".join(e.asset_key.path): e for e in result.get_asset_check_evaluations()}
    assert checks["raw/annex_a_list3"].passed is False
    assert file_reference(f"{AREA}/stray_quote.csv", KEY) in checks["raw/annex_a_list3"].description
    assert folder.query("select count(*), count(distinct source_file) from raw.annex_a_list3") == [(1, 1)]
    ledger = dict(folder.query("select path, status from raw.load_ledger"))
    assert ledger[file_reference(f"{AREA}/good.xlsx", KEY)] == "loaded"
    assert ledger[file_reference(f"{AREA}/stray_quote.csv", KEY)] == "quarantined"
    assert ledger["dfe/c1_stray_quote.csv"] == "quarantined" and not checks["raw/dfe_open_data"].passed
    text = "".join(p.read_text(encoding="utf-8") for p in folder.out.rglob("*.*"))
    assert SECRET_ID not in text and SECRET_DOB not in text


def test_a_build_with_bad_files_publishes_the_rest_and_names_each(copy_of_built):
    raw = copy_of_built.raw_dir
    referrals = raw / "childrens_social_care" / "northumberland_referrals.csv"
    referrals.write_bytes(referrals.read_bytes().replace(b",", b",\x00", 1))  # a NUL byte in a known return
    (raw / "inbox").mkdir()
    (raw / "inbox" / "empty.xlsx").write_bytes(b"")
    (raw / "inbox" / "encrypted.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    code, output = build_cli(copy_of_built, chart_images=False)  # (the charts are not what is tested)
    assert code == 1, output
    assert "Published warehouse:" in output
    assert "inbox/empty.xlsx: not loaded, could not be read as an Excel workbook: the file is empty" in output
    assert "inbox/encrypted.xlsx: not loaded" in output
    with duckdb.connect(str(copy_of_built.db_path), read_only=True) as conn:
        stale = conn.execute("select distinct stale_reason from marts.scorecard where stale_reason like "
                             "'%northumberland_referrals.csv%'").fetchall()
        retired = conn.execute("select count(*) from raw.load_ledger where status = 'retired'").fetchone()[0]
    assert stale and retired == 0


def test_a_file_read_alone_that_fails_is_named_and_the_rest_loads(tmp_path):
    """``file_by_file`` readers (partner returns, DfE files) get the same protection."""
    refs = [FileRef("ok.csv", None, "1" * 64, 1), FileRef("bad.csv", None, "2" * 64, 1)]

    def read_one(ref):
        if ref.path == "bad.csv":
            raise ValueError("field larger than field limit (131072)")
        return FileRead(pl.DataFrame({"n": [1]}), 1, [])

    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        outcome = sync_files(conn, table="raw.t", source="test", layout="t", files=refs, read=file_by_file(read_one),
                             empty=EMPTY, out_dir=tmp_path)
    assert [r.path for r in outcome.loaded] == ["ok.csv"] and [r.path for r in outcome.quarantined] == ["bad.csv"]


# ---------------------------------------------------------------------------------------------
# Strategy files: YAML read safely, and no message prints a parsed structure


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(tmp_path):
    from scorecard.ingest.strategies import StrategyFileError, load_strategy
    from tests.test_strategies import VALID

    bomb = "".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 9) + "]\n" for i in range(1, 12))
    path = tmp_path / "bomb.yaml"
    path.write_text("x0: &x0 lol\n" + bomb + VALID.replace("name: Testshire Safeguarding", "name: *x11 #"))
    started = time.perf_counter()
    try:
        load_strategy(path)
    except StrategyFileError as refused:
        message = str(refused)
    assert time.perf_counter() - started < 2
    assert message == (f"{path}: line 2: YAML aliases (*name) are not accepted in a strategy file; "
                       "write the value out")


def test_a_message_names_a_structure_without_printing_it(tmp_path):
    from scorecard.ingest.strategies import StrategyFileError, load_strategy
    from tests.test_strategies import VALID

    path = tmp_path / "testshire.yaml"
    path.write_text(VALID.replace("name: Testshire Safeguarding Children Partnership",
                                  "name: {" + ", ".join(f"k{i}: {'v' * 50}" for i in range(1000)) + "}"))
    try:
        load_strategy(path)
    except StrategyFileError as refused:
        message = str(refused)
    assert message == f"{path}: field 'name': must be text, found a mapping of 1000 field(s)"


# ---------------------------------------------------------------------------------------------
# Record-level rows are checked with pandera, as partner returns are


def test_record_level_rows_are_checked_against_their_pandera_schema():
    from expectations.record_level import SCHEMAS, contract_breaches

    good = pl.DataFrame({"area_code": ["E06000057"], "child_key": [1], "referral_date": [None], "referral_nfa": [None],
                         "neglect": [True], "source_row": [2]}, schema=SCHEMAS["annex_a_list3"])
    assert contract_breaches("annex_a_list3", good.with_columns(referral_date=pl.lit("2020-04-01").str.to_date())) == []
    assert contract_breaches("annex_a_list3", good.with_columns(area_code=pl.lit("Newcastle"))) == [
        "column 'area_code' breaks str_matches('^[EWSN]\\d{8}$')", "column 'referral_date' breaks not_nullable"]
    plans = pl.DataFrame(schema=SCHEMAS["annex_a_list7"]).vstack(pl.DataFrame(
        {"area_code": ["E06000057"], "child_key": [1], "plan_start": [None], "plan_end": [None],
         "initial_category": ["Bullying"], "latest_category": [None], "previous_plans": [-1],
         "return_reference_date": [None], "source_row": [2]},
        schema=SCHEMAS["annex_a_list7"]))
    assert set(contract_breaches("annex_a_list7", plans)) == {
        "column 'plan_start' breaks not_nullable", "column 'previous_plans' breaks greater_than_or_equal_to(0)",
        "column 'initial_category' breaks isin(['Neglect', 'Emotional abuse', 'Physical abuse', 'Sexual abuse', "
        "'Multiple'])"}
