"""One big record-level file: typed in parts to the same rows and problems as whole, the same
figures as the same rows split over many files, each file hashed once per build and not read
whole to be recognised, and progress lines while it is read (never a cell or a file's real name).

Nothing here is timed: `bench.run --layout one-file` times the one-big-file case."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bench.generate import Dataset, Params, generate
from bench.implementations import bare_duckdb, differences, project
from bench.run import Run, report
from pipelines.cli import _progress_printed
from scorecard.ingest.files import one_hash_per_file, sha256_of, sha256_of_files
from scorecard.ingest.inventory import inventory
from scorecard.ingest.record_level import keyed_hash, keyed_hashes, read_record_levels
from scorecard.load.file_refs import FileRef
from scorecard.load.progress import Progress, step_progress
from scorecard.load.record_level import read_record_files, sync_every_kind
from scorecard.load.warehouse import replace_table

KEY = "a-test-key-that-is-not-a-secret"
AREA = "E06000057"
REAL_NAME = "Olivia Smithson referrals.csv"  # a child's name in a file name: never shown
HEADER = ["Child Unique ID", "Forename", "Date of Birth", "Date of Referral", "Referral NFA?", "Neglect identified"]


def messy_referrals(path: Path, rows: int, messy: bool = True) -> Path:
    """A list 3 CSV under title rows, with bad dates, bad codes, blank cells and blank rows
    spread over its length (so over every part when typed in parts); or without them."""
    lines = ["Annex A list 3 - referrals", "", ",".join(HEADER)]
    for i in range(rows):
        if not messy:
            lines.append(f"CH-{i % 700}-ZQ,Olivia,19/07/2014,{1 + i % 28:02d}/{1 + i % 12:02d}/2020,N,Y")
            continue
        if i % 97 == 13:
            lines.append("")  # a blank row
            continue
        date = "someday" if i % 89 == 5 else "" if i % 101 == 7 else f"{1 + i % 28:02d}/{1 + i % 12:02d}/2020"
        nfa = "perhaps" if i % 83 == 3 else ("a) Yes", "b) No", "N", "")[i % 4]
        lines.append(",".join([f"CH-{i % 700}-ZQ", "Olivia", "19/07/2014", date, nfa, ("Y", "N", "")[i % 3]]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_large_table_typed_in_parts_gives_the_rows_and_problems_it_gives_whole(tmp_path):
    path = messy_referrals(tmp_path / "referrals.csv", 2_000)
    [[whole]] = read_record_levels([(path, AREA)], KEY, part_rows=1_000_000)
    typed: list[tuple[int, int]] = []
    [[in_parts]] = read_record_levels([(path, AREA)], KEY, on_rows=lambda i, rows: typed.append((i, rows)),
                                      part_rows=150)
    assert whole.frame.height > 1_500 and whole.problems  # (rows kept, and problems in every part)
    assert in_parts.frame.equals(whole.frame)
    assert in_parts.problems == whole.problems
    # rows numbered as a spreadsheet numbers the file's lines: title, blank line, header, then row i on line 4 + i
    [not_dates] = [p for p in whole.problems if p.column == "Date of Referral" and p.withheld]
    expected = [4 + i for i in range(2_000) if i % 89 == 5 and i % 97 != 13]
    assert not_dates.rows_affected == len(expected) and not_dates.row == expected[0]
    # told part by part: 14 parts of 150 rows (the last shorter), up to every row below the header
    assert [rows for _, rows in typed] == [*range(150, 2_000, 150), 2_000]
    assert {i for i, _ in typed} == {0}


def test_a_byte_that_is_not_utf8_late_in_a_large_file_is_read_as_it_is_whole(tmp_path):
    """A CSV read as it streams in is read as strict UTF-8 until a bad byte, then on from there
    with bad bytes replaced: the same rows and problems as when it is read in one batch."""
    path = messy_referrals(tmp_path / "referrals.csv", 1_000, messy=False)
    lines = path.read_bytes().split(b"\n")
    lines[900] = lines[900].replace(b",N,Y", b",\xffN\xe9,Y")  # (Windows-1252 bytes in a coded cell)
    path.write_bytes(b"\n".join(lines))
    [[whole]] = read_record_levels([(path, AREA)], KEY, part_rows=1_000_000)
    [[in_parts]] = read_record_levels([(path, AREA)], KEY, part_rows=100)
    assert in_parts.frame.equals(whole.frame) and in_parts.problems == whole.problems
    assert whole.frame.height == 1_000  # (the row with the bad bytes too)


def test_a_large_file_among_small_ones_is_typed_in_parts_and_each_keeps_its_own(tmp_path):
    big = messy_referrals(tmp_path / "big.csv", 1_200)
    small = messy_referrals(tmp_path / "small.csv", 90)
    other = messy_referrals(tmp_path / "other.csv", 40)
    files = [(small, AREA), (big, "E06000047"), (other, AREA)]
    together = read_record_levels(files, KEY, part_rows=500)
    alone = [read_record_levels([file], KEY, part_rows=1_000_000)[0] for file in files]
    for [a], [b] in zip(together, alone):
        assert a.frame.equals(b.frame) and a.problems == b.problems


def test_progress_names_the_file_by_reference_and_counts_its_rows_never_its_cells(tmp_path):
    raw = tmp_path / "raw"
    messy_referrals(raw / AREA / REAL_NAME, 1_000)
    files = inventory(raw, KEY)
    [row] = files.rows(named=True)
    assert row["layout"] == "annex_a_list3" and REAL_NAME not in row["path"]
    ref = FileRef(row["path"], row["sheet"], row["sha256"], row["size_bytes"])
    lines: list[str] = []
    [read] = read_record_files(raw, [ref], "annex_a_list3", KEY, progress=Progress(lines.append, interval_seconds=0),
                               part_rows=100)
    assert read.rows.height > 900
    assert lines[0] == f"annex_a_list3: reading {ref.path}"
    counted = [line for line in lines if line.endswith("rows read, checked and pseudonymised so far")]
    assert counted == [f"annex_a_list3: {ref.path}: {rows:,} rows read, checked and pseudonymised so far"
                       for rows in range(100, 1_001, 100)]
    said = "\n".join(lines)
    for personal in ("Olivia", "CH-", "19/07/2014", "Smithson", "someday", "perhaps"):
        assert personal not in said


def test_each_kind_says_when_it_starts_and_what_it_loaded(tmp_path):
    raw = tmp_path / "raw"
    messy_referrals(raw / AREA / REAL_NAME, 300, messy=False)
    conn = duckdb.connect()
    conn.execute("create schema raw")
    replace_table(conn, "raw", "extract_files", inventory(raw, KEY))
    lines: list[str] = []
    outcomes = sync_every_kind(conn, raw, KEY, tmp_path / "out", tmp_path / "record_level",
                               Progress(lines.append, interval_seconds=0))
    assert len(outcomes["annex_a_list3"].loaded) == 1
    assert lines[0].startswith("annex_a_list3: 1 file(s), ") and lines[0].endswith(" MB")
    assert lines[-1].startswith("annex_a_list3: 1 file(s) loaded, 0 unchanged, 0 refused (")
    assert any("rows read, checked and pseudonymised so far" in line for line in lines)
    assert not any(REAL_NAME in line or "Olivia" in line for line in lines)


def test_progress_says_a_line_at_most_once_an_interval_and_always_at_a_step_start():
    now = [0.0]
    lines: list[str] = []
    progress = Progress(lines.append, interval_seconds=5.0, clock=lambda: now[0])
    progress.note("first")  # the first line is said at once
    now[0] = 4.0
    progress.note("too soon")
    progress.always("a step starts")
    now[0] = 8.0
    progress.note("still too soon after the step started")
    now[0] = 9.5
    progress.note("five seconds on")
    assert lines == ["first", "a step starts", "five seconds on"]


def test_scorecard_build_prints_the_progress_lines(capsys):
    with _progress_printed():
        step_progress().always("annex_a_list3: 1 file(s), 345 MB")
    step_progress().always("after the build: not printed")
    printed = capsys.readouterr().out
    assert "annex_a_list3: 1 file(s), 345 MB" in printed
    assert "after the build" not in printed


def proc_bytes_read() -> int:
    """Bytes this process has read through read() calls so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts bytes read through /proc/self/io (Linux)")
def test_a_build_hashes_each_file_once_and_recognises_a_big_csv_by_its_head(tmp_path):
    raw = tmp_path / "raw"
    path = messy_referrals(raw / AREA / REAL_NAME, 200_000)
    size = path.stat().st_size
    assert size > 5_000_000
    with one_hash_per_file():
        first = sha256_of_files([path])  # the build's fingerprint hashes the raw folder...
        before = proc_bytes_read()
        files = inventory(raw, KEY)  # ...then raw.extract_files lists every file with its sha256
        read_again = proc_bytes_read() - before
    assert files["sha256"].to_list() == first and files["layout"].to_list() == ["annex_a_list3"]
    assert read_again < size / 10  # neither hashed again nor read whole to be recognised
    # Outside a build, a file is read each time it is hashed (it may have changed in place).
    before = proc_bytes_read()
    assert sha256_of(path) == first[0]
    assert proc_bytes_read() - before >= size


def split_into_files(dataset: Dataset, into: Path, parts: int) -> Dataset:
    """The dataset's rows with each authority's file of each kind split into ``parts`` files
    (in the same folder, each with the header row)."""
    shutil.copytree(dataset.root, into)
    for path in sorted(into.glob("*/*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        step = -(-frame.height // parts)
        for number in range(parts):
            frame.slice(number * step, step).write_csv(path.with_name(f"{path.stem}_part{number + 1}.csv"),
                                                       null_value="")
        path.unlink()
    return Dataset(into, dataset.params, dataset.rows, dataset.areas)


def test_one_big_file_gives_the_figures_of_the_same_rows_in_many_files(tmp_path):
    one_file = generate(Params(referrals=3_000, plans=600, assessments=300, areas=1, seed=11), tmp_path / "one",
                        quiet=True)
    assert [len(one_file.files(kind)) for kind in ("annex_a_list3", "annex_a_list7", "annex_a_list2")] == [1, 1, 1]
    many = split_into_files(one_file, tmp_path / "many" / one_file.root.name, 5)
    assert len(list(many.root.glob("*/*.csv"))) == 15
    from_one = project(one_file, tmp_path / "work_one")
    assert from_one.height > 0 and from_one.filter(pl.col("measure") == "rereferrals")["count"].sum() > 0
    assert differences(from_one, bare_duckdb(one_file)) is None
    assert differences(from_one, project(many, tmp_path / "work_many")) is None


def test_the_bench_report_judges_one_big_file_against_twice_bare_duckdb():
    runs = [Run(10_000_000, "duckdb", 9.0, 1_400_000_000, 12_985_000, 6_648, layout="one-file"),
            Run(10_000_000, "project", 14.4, 1_300_000_000, 12_985_000, 6_648,
                {"inventory": 0.7, "raw_tables": 9.0, "read": 8.0, "measures": 4.5, "read_threads": 3},
                layout="one-file")]
    text = report(runs, [], [Params.for_size(10_000_000, 1)], rounds=1)
    assert "| 10M | 12,985,000 | 9.00 | – | 1,335 | 14.40 | – | 1,240 | 1.60 |" in text
    assert "project build within 2× bare DuckDB: 1.60× — **met**" in text
    assert "10M, one-file: files found, hashed (sha256) and recognised 0.70 s" in text
    slow = [runs[0], Run(10_000_000, "project", 19.0, 1, 12_985_000, 6_648, layout="one-file")]
    assert "2.11× — **missed** (the target is 18.0 s)" in report(slow, [], [], rounds=1)


@pytest.mark.parametrize("key", ["test-key", "kéy", b"\x00\xffbinary"])
def test_one_texts_keyed_hash_is_its_keyed_hash_among_many(key):
    """File references hash one path at a time (``keyed_hash``), as ``keyed_hashes`` would."""
    texts = ["E06000057/Olivia Smithson referrals.csv", "", "List 3 Olivia", "x" * 300, "Ünïcode"]
    assert [keyed_hash(text, key) for text in texts] == keyed_hashes(pl.Series(texts), key).tolist()
