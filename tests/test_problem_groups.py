"""Problems grouped by file, column and rule, with a few examples and a cap per file, in bounded
memory: a file of many bad rows gives a short report, not a line (or an object) a cell."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import duckdb
import polars as pl

from expectations.layouts import LAYOUTS_BY_NAME
from expectations.problem_groups import FAILURE_SCHEMA, MAX_GROUPS_PER_FILE, ProblemGroup, group_failures
from scorecard.load.file_refs import FileRef
from scorecard.load.ledger import file_by_file, quarantine_report_path, sync_files
from scorecard.load.partner_returns import empty_layout_rows, read_layout_file

REFERRALS = LAYOUTS_BY_NAME["referrals"]
AREAS = frozenset({"E06000057"})
HEADER = "area_code,period,referrals,rereferrals_within_12_months,referrals_neglect\n"


def test_a_column_of_bad_dates_is_one_line_with_its_rows_and_examples():
    failures = pl.DataFrame({
        "file": "extract.csv", "sheet": None, "row": list(range(2, 414)), "column": "Date of Referral",
        "value": ["TBC"] * 400 + ["unknown"] * 12, "rule": "it must be a date", "withheld": False,
    }, schema=FAILURE_SCHEMA)
    [problem] = group_failures(failures)
    assert problem.message() == ("extract.csv, column 'Date of Referral': 412 rows are refused because it must be "
                                 "a date, rows 2-413, e.g. 'TBC', 'unknown'.")


def test_past_the_cap_the_rest_of_a_file_is_counted_in_one_line():
    failures = pl.DataFrame({"file": "wide.csv", "sheet": None, "row": 2, "column": [f"c{i}" for i in range(80)],
                             "value": "x", "rule": "it must be a number", "withheld": False}, schema=FAILURE_SCHEMA)
    problems = group_failures(failures)
    assert len(problems) == MAX_GROUPS_PER_FILE + 1
    assert problems[-1].message() == (
        "wide.csv: refused because 30 more kinds of problem, in 30 more cells, are not listed (at most 50 are): "
        "correct those listed and the rest are shown next time.")


def test_a_large_file_of_bad_rows_gives_a_short_report(tmp_path):
    rows = 60_000
    raw = tmp_path / "raw"
    (raw / "csc").mkdir(parents=True)
    # Every row's count is not a number: 60,000 bad cells, one line.
    lines = [f"E06000057,{2000 + i // 12}-{i % 12 + 1:02d},lots,40,30\n" for i in range(rows)]
    path = raw / "csc" / "referrals.csv"
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    ref = FileRef("csc/referrals.csv", None, "0" * 64, path.stat().st_size)
    read = read_layout_file(REFERRALS, raw, ref, AREAS)
    [problem] = read.problems
    assert isinstance(problem, ProblemGroup) and problem.rows_affected == rows
    assert problem.message() == (f"csc/referrals.csv, column 'referrals': {rows:,} rows are refused because a count "
                                 f"must be a whole number of 0 or more, rows 2-{rows + 1}, e.g. 'lots'.")
    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        outcome = sync_files(conn, table="raw.referrals", source="partner_return", layout="referrals", files=[ref],
                             read=file_by_file(lambda _: read), empty=empty_layout_rows(REFERRALS),
                             out_dir=tmp_path / "out", key=REFERRALS.unique_key_columns)
    assert list(outcome.quarantined) == [ref]
    report = quarantine_report_path(tmp_path / "out", ref)
    assert report.stat().st_size < 2_000 and report.with_suffix(".json").stat().st_size < 2_000
    assert json.loads(report.with_suffix(".json").read_text())["problems"][0]["rows_affected"] == rows


def test_report_names_cannot_collide_and_markdown_quotes_are_inert(tmp_path):
    refs = [FileRef(name, None, "0" * 64, 1) for name in ("a b.csv", "a_b.csv", "a  b.csv")]
    assert len({quarantine_report_path(tmp_path, ref) for ref in refs}) == 3
    assert len({quarantine_report_path(tmp_path, FileRef("x.xlsx", sheet, "", 1)) for sheet in ("S 1", "S_1")}) == 2

    raw = tmp_path / "raw"
    name = "<img src=x onerror=alert(1)>.csv"
    (raw).mkdir()
    (raw / name).write_text(HEADER + "E06000057,2017-08,<b>lots</b>,40,30\n", encoding="utf-8")
    ref = FileRef(name, None, "0" * 64, 1)
    with duckdb.connect() as conn:
        conn.execute("create schema raw")
        sync_files(conn, table="raw.referrals", source="partner_return", layout="referrals", files=[ref],
                   read=file_by_file(lambda r: read_layout_file(REFERRALS, raw, r, AREAS)),
                   empty=empty_layout_rows(REFERRALS), out_dir=tmp_path / "out", key=REFERRALS.unique_key_columns)
    text = quarantine_report_path(tmp_path / "out", ref).read_text(encoding="utf-8")
    assert "<img" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;\\.csv" in text and "&lt;b&gt;lots&lt;/b&gt;" in text


# Read in a process of its own, so its peak memory is its own: 20 MB of bad rows in a partner
# return, every count, date and area refused, then quarantined with its report.
BAD_ROWS_CHILD = """
import json, re, sys
from pathlib import Path
import duckdb
from expectations.layouts import LAYOUTS_BY_NAME
from scorecard.load.file_refs import FileRef
from scorecard.load.ledger import file_by_file, quarantine_report_path, sync_files
from scorecard.load.partner_returns import empty_layout_rows, read_layout_file
layout, raw, out = LAYOUTS_BY_NAME["referrals"], Path(sys.argv[1]), Path(sys.argv[2])
ref = FileRef("csc/referrals.csv", None, "0" * 64, (raw / "csc/referrals.csv").stat().st_size)
read = read_layout_file(layout, raw, ref, frozenset({"E06000057"}))
with duckdb.connect() as conn:
    conn.execute("create schema raw")
    sync_files(conn, table="raw.referrals", source="partner_return", layout="referrals", files=[ref],
               read=file_by_file(lambda _: read), empty=empty_layout_rows(layout), out_dir=out,
               key=layout.unique_key_columns)
report = quarantine_report_path(out, ref)
# (this process's own peak: VmHWM starts afresh at exec, where ru_maxrss keeps the parent's)
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1])
print(json.dumps({"problems": len(read.problems), "rows": sum(p.rows_affected for p in read.problems),
                  "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()), "peak": peak_kb * 1024}))
"""
# Before problems were grouped, this file took 3.1 GB (and 617 MB of reports); checked whole, 1.3 GB.
PEAK_BOUND_BYTES = 1_000_000_000


def test_twenty_megabytes_of_bad_rows_give_a_short_report_in_bounded_memory(tmp_path):
    raw = tmp_path / "raw"
    (raw / "csc").mkdir(parents=True)
    line = "Northumberland,Sept 2017,lots,forty,thirty\n"
    rows = 20_000_000 // len(line)
    (raw / "csc" / "referrals.csv").write_text(HEADER + line * rows, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", BAD_ROWS_CHILD, str(raw), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert outcome["problems"] <= 10 and outcome["rows"] >= rows  # a line per column and rule, not per cell
    assert outcome["bytes"] < 20_000
    assert outcome["peak"] < PEAK_BOUND_BYTES, f"peak {outcome['peak'] / 1e9:.2f} GB"


def test_checked_a_part_at_a_time_a_file_gives_the_problems_it_gives_whole(tmp_path, monkeypatch):
    from expectations import partner_returns

    raw = tmp_path / "raw"
    (raw / "csc").mkdir(parents=True)
    # Bad counts in runs that cross the parts' edges, blanks, a bad period and a duplicated row.
    lines = [f"E06000057,{2000 + i // 12}-{i % 12 + 1:02d},{'lots' if 5 <= i < 19 or i % 9 == 0 else 250},"
             f"{'' if i in (3, 4, 30) else 40},30\n" for i in range(40)]
    lines += ["E06000057,Sept 2017,250,40,30\n", lines[1]]
    (raw / "csc" / "referrals.csv").write_text(HEADER + "".join(lines), encoding="utf-8")
    ref = FileRef("csc/referrals.csv", None, "0" * 64, 1)
    whole = read_layout_file(REFERRALS, raw, ref, AREAS)
    monkeypatch.setattr(partner_returns, "CHECK_ROWS", 7)
    in_parts = read_layout_file(REFERRALS, raw, ref, AREAS)
    assert [p.message() for p in in_parts.problems] == [p.message() for p in whole.problems]
    assert len(whole.problems) >= 4 and in_parts.rows.equals(whole.rows)
    assert "rows 2, 7-20, 29, 38, e.g. 'lots'" in " ".join(p.message() for p in whole.problems)  # one run 7-20
