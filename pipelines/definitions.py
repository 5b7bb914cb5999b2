"""The one Dagster entry point: every asset, check, job, schedule, sensor and resource."""

from __future__ import annotations

import dagster as dg

from assets.core import strategies as core_strategies
from assets.core import tables as core_tables
from assets.marts import benchmarking
from assets.marts import tables as mart_tables
from assets.outputs import publish as outputs
from assets.raw import dfe_open_data, partner_returns, record_level
from pipelines.jobs import build_scorecard
from pipelines.resources import resources_for
from pipelines.schedules import monthly_build
from pipelines.sensors import raw_folder_changed
from pipelines.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    modules = [partner_returns, dfe_open_data, record_level, core_strategies, core_tables, mart_tables, benchmarking, outputs]
    return dg.Definitions(
        assets=dg.load_assets_from_modules(modules),
        asset_checks=dg.load_asset_checks_from_modules(modules),
        jobs=[build_scorecard],
        schedules=[monthly_build],
        sensors=[raw_folder_changed],
        resources=resources_for(settings),
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
