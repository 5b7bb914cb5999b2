"""The one job: build everything, in process (STACK.md: a process per step costs ~3 s here)."""

import dagster as dg

build_scorecard = dg.define_asset_job(
    "build_scorecard", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="Load every extract, rebuild the marts, publish the warehouse and draw the charts.")
