"""Personal data never echoed: a child's name, identifier and date of birth planted in every
column of a record-level file, and in its file and sheet names, appear in no output, no table of
either database, no Parquet row store, no log and not in Dagster's run storage."""

from __future__ import annotations

import contextlib
import io
import shutil
from datetime import datetime

import duckdb
import pytest
import xlsxwriter

from tests.conftest import STRATEGIES, make_settings

KEY = "a-test-key-that-is-not-a-secret"
NAME, IDENTIFIER, DOB = "Persephone Quillfeather", "QX-7781-CHILD", "17/04/2011"
DOB_IN_A_NAME = "17-04-2011"  # (a sheet or file name cannot hold "/")
SECRETS = [NAME, "Quillfeather", IDENTIFIER, DOB, "2011-04-17", DOB_IN_A_NAME]
LIST3 = ["Child Unique ID", "Date of Referral", "Referral NFA?", "Neglect identified", "Referral Source"]
LIST7 = ["Child Unique ID", "Child Protection Plan Start Date", "Initial Category of Abuse",
         "Latest Category of Abuse", "Child Protection Plan End Date", "Number of Previous Child Protection Plans"]
LIST2 = ["Child Unique ID", "Assessment start date", "Assessment completion date",
         "Organisation completing assessment", "Neglect identified"]


def planted_workbook(path) -> None:
    """Good rows, then rows with a personal value in each column in turn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(path) as book:
        dates = book.add_format({"num_format": "dd/mm/yyyy"})

        def sheet(name, header, good):
            ws = book.add_worksheet(name)
            ws.write_row(0, 0, header)
            rows = [good, *([secret if i == column else cell for i, cell in enumerate(good)]
                            for column in range(1, len(header)) for secret in (NAME, IDENTIFIER, DOB))]
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    (ws.write_datetime(r, c, value, dates) if isinstance(value, datetime) else ws.write(r, c, value))

        sheet(f"List 3 {NAME}", LIST3, ["A1", datetime(2020, 4, 1), "b) No", "Y", "q) 6: Police"])
        sheet(f"List 7 {IDENTIFIER}", LIST7, ["A1", datetime(2020, 4, 2), "a) Neglect", "a) Neglect", "", 0])
        # (list 2's organisation is free text: it is data, listed for the data team, so it is not planted)
        sheet(f"List 2 {DOB_IN_A_NAME}", LIST2[:3] + LIST2[4:], ["A1", datetime(2020, 4, 3), datetime(2020, 4, 9), "Y"])


@pytest.mark.filterwarnings("ignore")
def test_a_name_an_identifier_and_a_birth_date_planted_everywhere_come_out_nowhere(tmp_path, monkeypatch):
    from pipelines.cli import main

    settings = make_settings(tmp_path)
    (settings.raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", settings.raw_dir / "strategies")
    planted_workbook(settings.raw_dir / "E06000057" / f"{NAME} {IDENTIFIER} {DOB_IN_A_NAME}.xlsx")
    (tmp_path / "dagster_home").mkdir()
    for name, value in {"SCORECARD_RAW_DIR": settings.raw_dir, "SCORECARD_DB": settings.db_path,
                        "SCORECARD_OUT_DIR": settings.out_dir, "DAGSTER_HOME": tmp_path / "dagster_home",
                        "SCORECARD_PSEUDONYM_KEY": KEY, "BROWSER_PATH": "/bin/false"}.items():  # (no PNGs: faster)
        monkeypatch.setenv(name, str(value))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["build"])
    output = out.getvalue()
    assert code == 1, output  # the planted rows are refused: the file is quarantined
    assert "quarantined" in output

    found = [("build output", s) for s in SECRETS if s in output]
    for database in (settings.db_path, settings.build_db_path):
        with duckdb.connect(str(database), read_only=True) as conn:
            tables = conn.execute("select schema_name, table_name from duckdb_tables() union all select "
                                  "schema_name, view_name from duckdb_views() where not internal").fetchall()
            for schema, table in tables:
                text = "\n".join(str(row) for row in conn.execute(f"select * from {schema}.{table}").fetchall())
                found += [(f"{database.name} {schema}.{table}", s) for s in SECRETS if s in text]
    # Every file written outside the raw folder: reports, charts, quarantine, Parquet, Dagster's storage and logs.
    written = [p for p in tmp_path.rglob("*") if p.is_file() and settings.raw_dir not in p.parents]
    assert any("dagster_home" in str(p) for p in written) and any(p.suffix == ".md" for p in written)
    for path in written:
        data = path.read_bytes()
        found += [(str(path.relative_to(tmp_path)), s) for s in SECRETS
                  if s.encode() in data or s.encode("utf-16-le") in data]
    assert found == []


def test_the_data_team_finds_a_file_from_its_reference_on_its_own_terminal(tmp_path, monkeypatch, capsys):
    from pipelines.cli import main
    from scorecard.ingest.file_references import file_reference

    settings = make_settings(tmp_path)
    planted_workbook(settings.raw_dir / "E06000057" / "annex a.xlsx")
    monkeypatch.setenv("SCORECARD_RAW_DIR", str(settings.raw_dir))
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    reference = file_reference("E06000057/annex a.xlsx", KEY)
    assert reference.startswith("E06000057/record-level file ") and reference.endswith(".xlsx")
    assert main(["which", reference]) == 0
    assert capsys.readouterr().out.strip() == str(settings.raw_dir / "E06000057" / "annex a.xlsx")
    assert main(["which", "E06000057/record-level file 000000000000.xlsx"]) == 1


def test_a_changed_record_level_file_still_runs_only_the_record_level_loaders(tmp_path, monkeypatch):
    """The inventory names a record-level file by reference: the build's choice of loaders to run
    for a changed file finds it by its reference."""
    from pipelines.cli import _loaders_to_skip
    from scorecard.ingest.file_references import file_reference

    settings = make_settings(tmp_path)
    settings.build_db_path.parent.mkdir(parents=True)
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    with duckdb.connect(str(settings.build_db_path)) as conn:
        conn.execute("create schema raw; create table raw.extract_files (path varchar, source varchar, layout varchar)")
        conn.execute("insert into raw.extract_files values (?, 'record_level', 'annex_a_list3'), "
                     "('csc/referrals.csv', 'partner_return', 'referrals')",
                     [file_reference("E06000057/annex a.xlsx", KEY)])
    skipped = _loaders_to_skip(settings, ["E06000057/annex a.xlsx"])
    assert skipped is not None and ["raw", "referrals"] in skipped
    assert not any(key[-1] == "annex_a_list3" for key in skipped)
