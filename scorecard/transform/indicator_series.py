"""``core.indicator_series``: every catalogue indicator, by its ``sql/indicators/<id>.sql``, for
every area and period, with 95% and 99.8% confidence limits by the indicator's method."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from scorecard.load.warehouse import ensure_schemas, replace_table, sql_text, tables_read
from scorecard.model.catalogue import INDICATORS
from scorecard.model.statistics import byar_interval, wilson_interval


def indicator_sql_tables_read() -> set[str]:
    """The tables the indicator files and their macros read (the asset's dependencies)."""
    texts = [sql_text("macros/indicators.sql")] + [sql_text(f"indicators/{i.indicator_id}.sql") for i in INDICATORS]
    macros = {"core.count_indicator", "core.ratio_indicator"}  # table macros the macros file defines
    return set().union(*(tables_read(text) for text in texts)) - macros


def with_intervals(series: pl.DataFrame) -> pl.DataFrame:
    """Add 95% and 99.8% confidence limits to every value, by each indicator's method."""
    parts = []
    for indicator in INDICATORS:
        part = series.filter(pl.col("indicator_id") == indicator.indicator_id)
        method, multiplier = indicator.interval_method
        numerator = part["numerator"].cast(pl.Float64).to_numpy()
        denominator = part["denominator"].cast(pl.Float64).to_numpy()
        limits = {}
        for level, suffix in ((0.95, "95"), (0.998, "998")):
            if method == "proportion":
                low, high = wilson_interval(numerator, denominator, level)
            else:
                low, high = byar_interval(numerator, level)
                if method == "rate":
                    low, high = low / denominator, high / denominator
            limits[f"ci{suffix}_low"] = low * multiplier
            limits[f"ci{suffix}_high"] = high * multiplier
        missing = part["value"].is_null().to_numpy()
        parts.append(part.with_columns(
            pl.Series(name, np.where(missing, np.nan, values)).fill_nan(None) for name, values in limits.items()))
    return pl.concat(parts) if parts else series


def build_indicator_series(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild ``core.indicator_series``; rows per indicator."""
    ensure_schemas(conn)
    conn.execute(sql_text("macros/indicators.sql"))
    conn.execute("""
        create or replace temp table computed (
            indicator_id varchar, source varchar, area_code varchar, period_type varchar,
            period_label varchar, period_start date, period_end date, numerator bigint,
            denominator bigint, value double, value_note varchar)
    """)
    for indicator in INDICATORS:
        conn.execute(
            "insert into computed by name select ? as indicator_id, * from ("
            + sql_text(f"indicators/{indicator.indicator_id}.sql") + ")",
            [indicator.indicator_id])
    replace_table(conn, "core", "indicator_series", with_intervals(conn.execute("select * from computed").pl()))
    counts = dict(conn.execute("select indicator_id, count(*) from core.indicator_series group by 1").fetchall())
    return {i.indicator_id: counts.get(i.indicator_id, 0) for i in INDICATORS}
