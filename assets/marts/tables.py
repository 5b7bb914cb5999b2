"""Marts: the analyst-facing tables (the warehouse contract in scorecard/model/contract.py)."""


from dataclasses import asdict

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.core.strategies import strategies
from assets.core.tables import areas, indicator_series, observation_periods, observations, sources
from assets.raw.partner_returns import raw_layout_assets
from assets.raw.dfe_open_data import dfe_open_data
from assets.sql_tables import sql_table_asset
from scorecard.model.catalogue import INDICATORS
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.load.warehouse import comment_on, preview_markdown, replace_table


@dg.asset(key=["marts", "indicators"], group_name="marts",
          description="The indicator catalogue (scorecard/model/catalogue.py) as a table.")
def indicators(duckdb: DuckDBResource) -> dg.MaterializeResult:
    frame = pl.DataFrame([asdict(i) for i in INDICATORS])
    mart = MARTS_BY_NAME["marts.indicators"]
    measures = pl.DataFrame([{"indicator_id": i.indicator_id, "measure": m} for i in INDICATORS for m in i.measures])
    with duckdb.get_connection() as conn:
        replace_table(conn, "marts", "indicators", frame.select(list(mart.columns)))
        comment_on(conn, mart.name, mart.description, mart.columns)
        replace_table(conn, "core", "indicator_measures", measures)
    return dg.MaterializeResult(metadata={"dagster/row_count": frame.height})


indicator_values_by_source = sql_table_asset(
    "marts", "indicator_values_by_source", deps=[indicator_series, areas, sources],
    description=MARTS_BY_NAME["marts.indicator_values_by_source"].description)

indicator_values = sql_table_asset(
    "marts", "indicator_values", deps=[indicator_values_by_source],
    description=MARTS_BY_NAME["marts.indicator_values"].description)

source_disagreements = sql_table_asset(
    "marts", "source_disagreements", deps=[indicator_values_by_source],
    description=MARTS_BY_NAME["marts.source_disagreements"].description)

published_value_checks = sql_table_asset(
    "marts", "published_value_checks", deps=[indicator_series, dfe_open_data],
    description=MARTS_BY_NAME["marts.published_value_checks"].description)

targets = sql_table_asset(
    "marts", "targets", deps=[indicator_values, indicators],
    description=MARTS_BY_NAME["marts.targets"].description)

trajectories = sql_table_asset(
    "marts", "trajectories", deps=[targets, strategies],
    description=MARTS_BY_NAME["marts.trajectories"].description)

stale_figures = sql_table_asset(
    "core", "stale_figures", deps=[observations, indicators, *raw_layout_assets, dfe_open_data],
    description="Indicators and areas resting on a quarantined file's last good version.")

eha_neglect_by_agency = sql_table_asset(
    "marts", "eha_neglect_by_agency", deps=[areas, observation_periods],
    description=MARTS_BY_NAME["marts.eha_neglect_by_agency"].description)
