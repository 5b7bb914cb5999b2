"""Loading the DfE's files: open data (EES CSVs) as published, every figure kept with its
suppression reason, and the statistical-neighbour models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import polars as pl

from scorecard.ingest.ees import EES_COLUMNS, read_ees
from scorecard.ingest.neighbours import read_neighbours
from scorecard.load.file_refs import FileRead, FileRef, SyncOutcome
from scorecard.load.ledger import file_by_file, files_of, sync_files

# One published figure per dataset, area, period, filter and indicator, across all files.
FIGURE_KEY = ("dataset", "area_code", "time_period", "filters", "indicator")
EES_SCHEMA = {**{c: pl.String for c in EES_COLUMNS}, "source_row": pl.Int64, "value": pl.Float64,
              "period_start": pl.Date, "period_end": pl.Date}
NEIGHBOUR_SCHEMA = {"old_la_code": pl.String, "la_name": pl.String, "neighbour_rank": pl.Int64,
                    "neighbour_old_la_code": pl.String, "closeness": pl.String, "model": pl.String,
                    "source_row": pl.Int64, "source_file": pl.String, "source_sheet": pl.String}


def read_published_file(raw_dir: Path, ref: FileRef) -> FileRead:
    read = read_ees(raw_dir / ref.path, ref.path)
    rows = read.frame.cast(EES_SCHEMA).with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    return FileRead(rows, rows.height, read.problems)


def read_neighbour_file(raw_dir: Path, ref: FileRef) -> FileRead:
    read = read_neighbours(raw_dir / ref.path)
    rows = read.frame.with_columns(source_file=pl.lit(ref.path), source_sheet=pl.lit(None, dtype=pl.String))
    problems = [dataclasses.replace(p, file=ref.path) for p in read.problems]
    return FileRead(rows.select(list(NEIGHBOUR_SCHEMA)).cast(NEIGHBOUR_SCHEMA), rows.height, problems)


def sync_dfe_open_data(conn: duckdb.DuckDBPyConnection, raw_dir: Path, out_dir: Path) -> SyncOutcome:
    """Bring ``raw.dfe_open_data`` in line with the EES files now under the raw folder."""
    empty = pl.DataFrame(schema=EES_SCHEMA).with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    return sync_files(conn, table="raw.dfe_open_data", source="dfe_published", layout="dfe_open_data",
                      files=files_of(conn, "dfe_published"),
                      read=file_by_file(lambda ref: read_published_file(raw_dir, ref)), empty=empty,
                      out_dir=out_dir, key=FIGURE_KEY)


def sync_statistical_neighbours(conn: duckdb.DuckDBPyConnection, raw_dir: Path, out_dir: Path) -> SyncOutcome:
    """Bring ``raw.statistical_neighbours`` in line with the neighbour files now under the raw folder."""
    return sync_files(conn, table="raw.statistical_neighbours", source="dfe_reference",
                      layout="statistical_neighbours", files=files_of(conn, "dfe_reference"),
                      read=file_by_file(lambda ref: read_neighbour_file(raw_dir, ref)),
                      empty=pl.DataFrame(schema=NEIGHBOUR_SCHEMA), out_dir=out_dir,
                      key=("old_la_code", "neighbour_rank", "model"))
