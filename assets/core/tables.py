"""Core layer: areas and targets from the strategy files, conformed observations, indicator series."""


import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.raw.partner_returns import raw_layout_assets
from assets.sql_tables import sql_table_asset
from pipelines.catalogue import INDICATORS
from pipelines.resources import ScorecardPaths
from pipelines.strategies import StrategyFileError, load_strategies
from pipelines.warehouse import ensure_schemas, preview_markdown, replace_table, sql_text


@dg.asset(key=["core", "strategies"], group_name="core",
          description="Partnerships, their areas and their targets, from data/raw/strategies/*.yaml.")
def strategies(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    try:
        loaded = load_strategies(paths.settings.strategies_dir)
    except StrategyFileError as error:
        raise dg.Failure(description=f"Strategy file refused: {error}") from None
    areas = pl.DataFrame(
        [{"area_code": a.code, "area_name": a.name, "region": a.region, "partnership": s.partnership,
          "partnership_name": s.name, "strategy": s.strategy} for s in loaded for a in s.areas])
    targets = pl.DataFrame(
        [{"partnership": s.partnership, "area_code": code, "indicator_id": t.indicator_id,
          "baseline_period": t.baseline_period,
          "baseline_period_end": t.baseline_period_end,
          "stated_baseline_value": t.baseline_value, "target_value": t.target_value,
          "target_change_pct": t.target_change_pct, "target_date": t.target_date,
          "amber_tolerance_pct": t.amber_tolerance_pct, "illustrative": t.illustrative,
          "note": t.note, "source": t.source}
         for s in loaded for t in s.targets for code in t.area_codes],
        schema_overrides={"stated_baseline_value": pl.Float64, "target_value": pl.Float64,
                          "target_change_pct": pl.Float64, "note": pl.String, "source": pl.String})
    with duckdb.get_connection() as conn:
        replace_table(conn, "core", "areas", areas)
        replace_table(conn, "core", "strategy_targets", targets)
    return dg.MaterializeResult(metadata={"partnerships": len(loaded), "areas": areas.height,
                                          "targets": targets.height})


observations = sql_table_asset(
    "core", "observations", deps=raw_layout_assets,
    description="Every partner-return figure as one long table (area, period, measure, breakdown, count).")

observation_periods = sql_table_asset(
    "core", "observation_periods", deps=[observations],
    description="Observations at reporting periods: months, and financial years rolled up from months.")


@dg.asset(key=["core", "indicator_series"], deps=[observation_periods], group_name="core",
          description="Every catalogue indicator, computed by its sql/indicators/<id>.sql, for every area and period.")
def indicator_series(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        ensure_schemas(conn)
        conn.execute("""
            create or replace table core.indicator_series (
                indicator_id varchar, area_code varchar, period_type varchar, period_label varchar,
                period_start date, period_end date, numerator bigint, denominator bigint, value double)
        """)
        for indicator in INDICATORS:
            conn.execute(
                "insert into core.indicator_series by name select ? as indicator_id, * from ("
                + sql_text(f"indicators/{indicator.indicator_id}.sql") + ")",
                [indicator.indicator_id])
        counts = dict(conn.execute("select indicator_id, count(*) from core.indicator_series group by 1").fetchall())
        preview = preview_markdown(conn, "core.indicator_series")
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(counts.values()),
        "rows_per_indicator": dg.MetadataValue.json({i.indicator_id: counts.get(i.indicator_id, 0) for i in INDICATORS}),
        "preview": dg.MetadataValue.md(preview)})
