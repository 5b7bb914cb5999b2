"""Loading OHID Fingertips exports as published (``scorecard.ingest.fingertips``), file by file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from scorecard.ingest.fingertips import FIGURE_KEY, FINGERTIPS_SCHEMA, read_fingertips
from scorecard.load.file_refs import FileRead, FileRef, SyncOutcome
from scorecard.load.ledger import file_by_file, files_of, sync_files


def read_fingertips_file(raw_dir: Path, ref: FileRef) -> FileRead:
    read = read_fingertips(raw_dir / ref.path, ref.path)
    rows = read.frame.with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    return FileRead(rows, rows.height, read.problems)


def sync_fingertips(conn: duckdb.DuckDBPyConnection, raw_dir: Path, out_dir: Path) -> SyncOutcome:
    """Bring ``raw.fingertips`` in line with the Fingertips exports now under the raw folder."""
    empty = pl.DataFrame(schema=FINGERTIPS_SCHEMA).with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    return sync_files(conn, table="raw.fingertips", source="fingertips", layout="fingertips",
                      files=files_of(conn, "fingertips"),
                      read=file_by_file(lambda ref: read_fingertips_file(raw_dir, ref)), empty=empty,
                      out_dir=out_dir, key=FIGURE_KEY)
