"""Core layer: conformed observations, reporting periods and indicator series."""


import dagster as dg
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.core.strategies import strategies
from assets.raw.dfe_open_data import dfe_open_data
from assets.raw.partner_returns import raw_layout_assets
from assets.raw.record_level import record_level
from assets.sql_tables import sql_table_asset
from scorecard.model.catalogue import INDICATORS
from scorecard.ingest.record_level import monthly_measures
from scorecard.model.statistics import byar_interval, wilson_interval
from scorecard.load.warehouse import ensure_schemas, preview_markdown, replace_table, sql_text


sources = sql_table_asset(
    "core", "sources", deps=[],
    description="The sources a figure can come from, in their order of precedence.")

areas = sql_table_asset(
    "core", "areas", deps=[strategies, dfe_open_data],
    description="Every area: the partnerships' authorities, and every authority, region and England published.")

@dg.asset(key=["core", "record_level_measures"], deps=[record_level], group_name="core",
          description="Monthly measures per area from the record-level tables, by sql/record_level/*.sql "
                      "(docs/record_level.md gives the counting rules).")
def record_level_measures(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        rows = replace_table(conn, "core", "record_level_measures", monthly_measures(conn))
        preview = preview_markdown(conn, "core.record_level_measures")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


observations = sql_table_asset(
    "core", "observations", deps=[*raw_layout_assets, dfe_open_data, record_level_measures],
    description="Every figure from every source as one long table (source, area, period, measure, breakdown, count).")

observation_periods = sql_table_asset(
    "core", "observation_periods", deps=[observations],
    description="Observations at reporting periods: months, and financial years rolled up from months.")


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


@dg.asset(key=["core", "indicator_series"], deps=[observation_periods], group_name="core",
          description="Every catalogue indicator, computed by its sql/indicators/<id>.sql, for every area and period.")
def indicator_series(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
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
        preview = preview_markdown(conn, "core.indicator_series")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()),
        "rows_per_indicator": dg.MetadataValue.json({i.indicator_id: counts.get(i.indicator_id, 0) for i in INDICATORS}),
        "preview": dg.MetadataValue.md(preview)})
