"""``core.record_level_measures``: the monthly measures of the record-level tables, by
``sql/record_level/*.sql`` (docs/record_level.md gives the counting rules)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from scorecard.load.warehouse import tables_read
from scorecard.paths import SQL_DIR

RECORD_LEVEL_SQL = ("referrals_monthly", "cpp_monthly", "eha_monthly", "lac_monthly", "hub_monthly",
                    "cin_assessments_monthly")


def sql_path(name: str) -> Path:
    """``sql/record_level/<name>.sql``."""
    return SQL_DIR / "record_level" / f"{name}.sql"


def record_level_tables_read() -> set[str]:
    """The raw tables the measures read (the asset's dependencies)."""
    return set().union(*(tables_read(sql_path(name).read_text(encoding="utf-8")) for name in RECORD_LEVEL_SQL))


def monthly_measures(conn: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every measure of every ``sql/record_level/*.sql`` file: area_code, month, measure, breakdown, count."""
    parts = [conn.execute(sql_path(name).read_text(encoding="utf-8")).pl() for name in RECORD_LEVEL_SQL]
    return pl.concat(parts).sort("area_code", "measure", "breakdown", "month")
