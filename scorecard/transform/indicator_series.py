"""``core.indicator_series``: every catalogue indicator, for every area and period, with 95% and
99.8% confidence limits by the indicator's method. A ratio or a count of measures is computed by
the table macros in ``sql/macros/indicators.sql``; an indicator needing more, by the SQL file
beside its YAML (``scorecard.model.catalogue``)."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from scorecard.load.warehouse import ensure_schemas, replace_table, sql_text, tables_read
from scorecard.model.catalogue import INDICATORS, Indicator, IndicatorFileError
from scorecard.model.statistics import byar_interval, wilson_interval

# The table macros sql/macros/indicators.sql defines.
MACROS = {"core.count_indicator", "core.ratio_indicator", "core.fingertips_indicator"}
# What an indicator's own SQL file may read: the asset's dependencies are declared before any
# data team's file is read, so a file reading anything else is refused.
INDICATOR_SQL_READS = {"core.observation_periods"}


def indicator_sql_tables_read() -> set[str]:
    """The tables the indicator macros read (the asset's dependencies)."""
    return tables_read(sql_text("macros/indicators.sql")) - MACROS


def indicator_query(indicator: Indicator) -> tuple[str, list]:
    """The query computing ``indicator`` per source, area and period, and its parameters."""
    if indicator.sql_path is not None:
        text = indicator.sql_path.read_text(encoding="utf-8")
        if not tables_read(text) <= INDICATOR_SQL_READS:
            raise IndicatorFileError(
                f"{indicator.sql_path}: reads {', '.join(sorted(tables_read(text) - INDICATOR_SQL_READS))}; an "
                f"indicator's SQL file may read only {', '.join(sorted(INDICATOR_SQL_READS))}")
        return text, []
    numerator, denominator = indicator.numerator, indicator.denominator
    if denominator is None:
        return "select * from core.count_indicator(?, ?)", [numerator.measure, numerator.breakdown]
    return ("select * from core.ratio_indicator(?, ?, ?, ?, ?)",
            [numerator.measure, numerator.breakdown, denominator.measure, denominator.breakdown,
             indicator.interval_method[1]])


def with_intervals(series: pl.DataFrame, catalogue: tuple[Indicator, ...] = INDICATORS) -> pl.DataFrame:
    """Add 95% and 99.8% confidence limits to every value, by each indicator's method."""
    parts = []
    for indicator in catalogue:
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
        # Fingertips' published limits are the reference: kept as they are, never recomputed.
        published = (part["source"] == "fingertips").to_numpy()
        parts.append(part.with_columns(
            pl.Series(name, np.where(published, part[name].cast(pl.Float64).to_numpy(),
                                     np.where(missing, np.nan, values))).fill_nan(None)
            for name, values in limits.items()))
    return pl.concat(parts) if parts else series


def build_indicator_series(conn: duckdb.DuckDBPyConnection,
                           catalogue: tuple[Indicator, ...] = INDICATORS) -> dict[str, int]:
    """Rebuild ``core.indicator_series``; rows per indicator."""
    # Every indicator's query first, so a refused SQL file stops the step before it writes anything.
    queries = {i.indicator_id: indicator_query(i) for i in catalogue if i.numerator is not None}
    ensure_schemas(conn)
    conn.execute(sql_text("macros/indicators.sql"))
    conn.execute("""
        create or replace temp table computed (
            indicator_id varchar, source varchar, area_code varchar, period_type varchar,
            period_label varchar, period_start date, period_end date, numerator bigint,
            denominator bigint, value double, value_note varchar,
            ci95_low double, ci95_high double, ci998_low double, ci998_high double)
    """)
    for indicator_id, (query, parameters) in queries.items():
        conn.execute(f"insert into computed by name select ? as indicator_id, * from ({query})",
                     [indicator_id, *parameters])
    for indicator in (i for i in catalogue if i.fingertips_id is not None):
        conn.execute("insert into computed by name select ? as indicator_id, * "
                     "from core.fingertips_indicator(?, ?, ?)",
                     [indicator.indicator_id, indicator.fingertips_id, indicator.fingertips_category,
                      indicator.headline_period_type])
    replace_table(conn, "core", "indicator_series",
                  with_intervals(conn.execute("select * from computed").pl(), catalogue))
    counts = dict(conn.execute("select indicator_id, count(*) from core.indicator_series group by 1").fetchall())
    return {i.indicator_id: counts.get(i.indicator_id, 0) for i in catalogue}
