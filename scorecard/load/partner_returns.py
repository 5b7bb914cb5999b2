"""Loading partner returns: each layout's files validated with pandera and loaded file by file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from expectations.layouts import Layout
from expectations.partner_returns import validate_layout
from scorecard.ingest.files import read_tables
from scorecard.load.file_refs import FileRead, FileRef, SyncOutcome
from scorecard.load.ledger import file_by_file, files_of, sync_files


def read_layout_file(layout: Layout, raw_dir: Path, ref: FileRef, area_codes: frozenset[str]) -> FileRead:
    """One file (or sheet) of ``layout``: its rows validated and typed, or its problems."""
    table = next(t for t in read_tables(raw_dir / ref.path) if t.sheet == ref.sheet)
    text = (table.frame.rename(layout.match_headers(table.headers))
            .with_columns(source_file=pl.lit(ref.path), source_sheet=pl.lit(ref.sheet, dtype=pl.String))
            .select(*layout.column_names, "source_file", "source_sheet", "source_row")
            # Rows blank in every layout column are spacing, not data.
            .filter(~pl.all_horizontal(pl.col(c).is_null() for c in layout.column_names)))
    typed, problems = validate_layout(layout, text, area_codes)
    return FileRead(typed, text.height, problems)


def empty_layout_rows(layout: Layout) -> pl.DataFrame:
    """The typed, empty frame of a layout: the shape of its raw table."""
    text = pl.DataFrame(schema={**{c: pl.String for c in layout.column_names}, "source_file": pl.String,
                                "source_sheet": pl.String, "source_row": pl.Int64})
    return validate_layout(layout, text, frozenset())[0]


def sync_layout(conn: duckdb.DuckDBPyConnection, layout: Layout, raw_dir: Path, out_dir: Path) -> SyncOutcome:
    """Bring ``raw.<layout>`` in line with the layout's files now under the raw folder. A return
    may name only the partnerships' areas (``core.partnership_areas``)."""
    area_codes = frozenset(code for (code,) in conn.execute("select area_code from core.partnership_areas").fetchall())
    return sync_files(
        conn, table=f"raw.{layout.name}", source="partner_return", layout=layout.name,
        files=files_of(conn, "partner_return", layout.name),
        read=file_by_file(lambda ref: read_layout_file(layout, raw_dir, ref, area_codes)),
        empty=empty_layout_rows(layout), out_dir=out_dir, key=layout.unique_key_columns)
