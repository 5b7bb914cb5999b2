"""The indicator catalogue as tables: ``marts.indicators`` for analysts, and
``core.indicator_measures`` (which measures each indicator is made from) for the SQL."""

from __future__ import annotations

from dataclasses import asdict

import duckdb
import polars as pl

from scorecard.load.warehouse import replace_table
from scorecard.model.catalogue import INDICATORS
from scorecard.transform.marts_tables import write_mart


def build_catalogue_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild both tables; rows written to each."""
    indicators = pl.DataFrame([asdict(i) for i in INDICATORS])
    measures = pl.DataFrame([{"indicator_id": i.indicator_id, "measure": m} for i in INDICATORS for m in i.measures])
    return {"marts.indicators": write_mart(conn, "marts.indicators", indicators),
            "core.indicator_measures": replace_table(conn, "core", "indicator_measures", measures)}
