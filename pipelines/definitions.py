"""The one Dagster entry point: every asset, check, job, schedule, sensor and resource."""

from __future__ import annotations

import dagster as dg

from assets.outputs import publish as outputs
from assets.outputs.publish import TABLE_MODULES
from pipelines.jobs import build_scorecard, step_finished_lines
from pipelines.resources import resources_for
from pipelines.schedules import monthly_build
from pipelines.sensors import raw_folder_changed
from pipelines.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    modules = [*TABLE_MODULES, outputs]
    return dg.Definitions(
        assets=dg.load_assets_from_modules(modules),
        asset_checks=dg.load_asset_checks_from_modules(modules),
        jobs=[build_scorecard],
        schedules=[monthly_build],
        sensors=[raw_folder_changed],
        resources=resources_for(settings),
        loggers={**dg.default_loggers(), "step_finished_lines": step_finished_lines},
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
