"""Writing a mart from a frame: its contract's columns, in order, with their comments."""

from __future__ import annotations

import duckdb
import polars as pl

from scorecard.load.warehouse import comment_on, replace_table
from scorecard.model.contract import MARTS_BY_NAME


def write_mart(conn: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> int:
    """Replace the mart ``name`` (``marts.<table>``) with ``frame``'s contract columns; rows written."""
    mart = MARTS_BY_NAME[name]
    schema, table = name.split(".")
    rows = replace_table(conn, schema, table, frame.select(list(mart.columns)))
    comment_on(conn, mart.name, mart.description, mart.columns)
    return rows
