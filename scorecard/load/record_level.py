"""Loading record-level extracts (Annex A lists 2, 3, 7 and 8, SSDA903 episodes, CIN census returns,
the front-door log), pseudonymised and stripped of personal data as they are read.

A record-level file belongs to the local authority whose ONS code names a folder it sits
in under the raw folder, at any depth (``<raw>/E06000057/annex_a_2017.xlsx``); the hub log
names its authority in its own ``la_code`` column. Each kind of table is loaded file by file,
like the partner returns (``scorecard.load.ledger``), its rows kept as Parquet files beside the
build database with ``raw.<kind>`` a view over them. These hold pseudonymous keys, so they are
never published (``scorecard.load.warehouse.publish``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb
import polars as pl

from expectations.partner_returns import Problem
from expectations.record_level import contract_breaches
from scorecard.ingest.file_references import area_from_folders, real_paths, sheet_reference
from scorecard.ingest.files import discover_files
from scorecard.ingest.inventory import raw_relative
from scorecard.ingest.record_level import (
    PART_ROWS,
    SCHEMAS,
    PseudonymKeyMissing,
    RecordTable,
    empty_frame,
    pseudonym_check,
    read_record_levels,
)
from scorecard.ingest.vocabulary import Vocabulary, load_vocabulary
from scorecard.load.file_refs import FileRead, FileRef, SyncOutcome
from scorecard.load.ledger import files_of, sync_files
from scorecard.load.progress import Progress, silent
from scorecard.load.warehouse import RECORD_LEVEL_TABLES, execute_with_frame

assert set(RECORD_LEVEL_TABLES) <= set(SCHEMAS), "every record-level table has a schema"

# Consecutive files are read together up to this size: the typing of a table costs a few
# milliseconds whatever its size, which a national run's hundreds of small files would feel,
# and this bounds what the reading threads hold (a few hundred thousand rows a batch).
BATCH_BYTES = 16_000_000


def record_level_paths(raw_dir: Path, key: str | None) -> dict[str, str]:
    """{reference: path under the raw folder} of every data file (``file_references``): how the
    warehouse names a record-level file, and where to read it."""
    return real_paths([raw_relative(path, raw_dir) for path in discover_files(raw_dir)], key)


def read_record_files(raw_dir: Path, refs: Sequence[FileRef], kind: str, key: str | None,
                      vocabulary: Vocabulary | None = None, paths: dict[str, str] | None = None,
                      progress: Progress | None = None, part_rows: int = PART_ROWS) -> list[FileRead]:
    """Each file's ``kind`` rows (the tables on the ref's sheet), pseudonymised, and its problems;
    the files are read together (``read_record_levels``) with the raw folder's vocabulary.
    ``progress`` is told which file is read and how many of its rows are done (by reference); a
    table longer than ``part_rows`` is typed in parts (``read_record_levels``)."""
    vocabulary = vocabulary or load_vocabulary(raw_dir)
    progress = progress or silent()
    # (the warehouse names a file and a sheet by reference, never as written: file_references)
    real = paths if paths is not None else record_level_paths(raw_dir, key)
    area_of = {ref.path: area_from_folders(ref.path) for ref in refs}
    placed = [path for path, area in area_of.items() if (area is not None or kind == "hub_log") and path in real]
    if placed:
        progress.note(f"{kind}: reading {placed[0]}" + (f" and {len(placed) - 1} more file(s)" if len(placed) > 1
                                                        else ""))

    def rows_typed(index: int, rows: int) -> None:
        progress.note(f"{kind}: {placed[index]}: {rows:,} rows read, checked and pseudonymised so far")

    tables_in = dict(zip(placed, read_record_levels([(raw_dir / real[path], area_of[path]) for path in placed], key,
                                                    vocabulary, rows_typed, part_rows)))
    results = []
    for ref in refs:
        if ref.path not in tables_in:
            results.append(FileRead(empty_frame(kind), 0, [Problem(
                ref.path, ref.sheet, None, None, None,
                "a record-level file carries no local authority, so it must sit in a folder named after the "
                "authority's ONS code under the raw folder (E06000057/..., say)")]))
            continue
        tables = [t for t in tables_in[ref.path] if t.kind == kind and sheet_reference(t.sheet, key) == ref.sheet]
        frame = pl.concat([t.frame for t in tables]) if tables else empty_frame(kind)
        problems = [dataclasses.replace(p, file=ref.path, sheet=ref.sheet) for t in tables for p in t.problems]
        results.append(FileRead(frame, frame.height, problems))  # (sync_files adds source_file and source_sheet)
    return _checked(kind, refs, results)


def _checked(kind: str, refs: Sequence[FileRef], results: list[FileRead]) -> list[FileRead]:
    """The rows checked against the kind's pandera schema (``expectations.record_level``): the
    batch at once, and only if it breaks the schema each file, whose file is then refused."""
    if not contract_breaches(kind, pl.concat([r.rows for r in results]) if results else empty_frame(kind)):
        return results
    return [FileRead(r.rows, r.rows_read, r.problems + [
        Problem(ref.path, ref.sheet, None, None, None, f"its rows as read break the record-level contract: {breach}")
        for breach in contract_breaches(kind, r.rows)]) for ref, r in zip(refs, results)]


def raw_table_frame(kind: str) -> pl.DataFrame:
    """The empty frame ``raw.<kind>`` is created from: the kind's columns and where each row came from."""
    return empty_frame(kind).with_columns(source_file=pl.lit(None, dtype=pl.String),
                                          source_sheet=pl.lit(None, dtype=pl.String))


def sync_record_level(conn: duckdb.DuckDBPyConnection, kind: str, files: Sequence[FileRef],
                      read: Callable[[Sequence[FileRef]], list[FileRead]], key: str | None, out_dir: Path,
                      record_level_dir: Path, vocabulary: Vocabulary | None = None) -> SyncOutcome:
    """Bring ``raw.<kind>`` in line with the kind's files: a view over a Parquet file per source
    file under ``record_level_dir/<kind>``, stamped with how child keys were made, so that rows
    keyed another way (another key, or an earlier release's hash) are never mixed with new ones,
    and with the vocabulary they were read with, so that a changed vocabulary reads every file again."""
    version = pseudonym_check(key) if key else ""
    if vocabulary is not None:
        version += f"; vocabulary {vocabulary.digest[:16]}"
    return sync_files(conn, table=f"raw.{kind}", source="record_level", layout=kind, files=files, read=read,
                      empty=raw_table_frame(kind), out_dir=out_dir, parquet_dir=record_level_dir / kind,
                      version=version, batch_bytes=BATCH_BYTES, fatal=(PseudonymKeyMissing,))


def sync_every_kind(conn: duckdb.DuckDBPyConnection, raw_dir: Path, key: str | None, out_dir: Path,
                    record_level_dir: Path, progress: Progress | None = None) -> dict[str, SyncOutcome]:
    """Bring every ``raw.<kind>`` in line with the record-level files now under the raw folder,
    telling ``progress`` how it goes (each kind's start and end, the file being read, rows so far).

    Raises ``PseudonymKeyMissing`` when there are record-level files and no key to hash their
    child identifiers with."""
    progress = progress or silent()
    all_files = files_of(conn, "record_level")
    if all_files and key is None:
        raise PseudonymKeyMissing(
            "SCORECARD_PSEUDONYM_KEY is not set, and record-level files are present ("
            + ", ".join(sorted({f.path for f in all_files})[:5])
            + "). Set it to a long secret kept outside the repository: child identifiers are "
              "replaced by a keyed hash as they are read, and the same key must be used every time.")
    vocabulary, paths = load_vocabulary(raw_dir), record_level_paths(raw_dir, key)
    outcomes = {}
    for kind in RECORD_LEVEL_TABLES:
        files = files_of(conn, "record_level", kind)
        if files:
            progress.always(f"{kind}: {len(files)} file(s), {sum(f.size_bytes for f in files) / 1e6:,.0f} MB")
        started = time.monotonic()
        outcomes[kind] = outcome = sync_record_level(
            conn, kind, files, lambda refs, kind=kind: read_record_files(raw_dir, refs, kind, key, vocabulary, paths,
                                                                         progress),
            key, out_dir, record_level_dir, vocabulary)
        if files:
            progress.always(f"{kind}: {len(outcome.loaded)} file(s) loaded, {len(outcome.unchanged)} unchanged, "
                            f"{len(outcome.quarantined)} refused ({time.monotonic() - started:.1f} s)")
    return outcomes


def load_raw(conn: duckdb.DuckDBPyConnection, tables: Iterable[RecordTable]) -> dict[str, int]:
    """Create ``raw.<kind>`` for every kind the SQL reads, from the tables' frames (empty if none).

    Returns the rows loaded per kind.
    """
    frames: dict[str, list[pl.DataFrame]] = {kind: [] for kind in SCHEMAS}
    for table in tables:
        if table.kind in frames:
            frames[table.kind].append(table.frame)
    conn.execute("create schema if not exists raw")
    counts = {}
    for kind, parts in frames.items():
        frame = pl.concat(parts) if parts else empty_frame(kind)
        execute_with_frame(conn, frame, f"create or replace table raw.{kind} as select * from _frame")
        counts[kind] = frame.height
    return counts
