"""The one job: build everything, in process (STACK.md: a process per step costs ~3 s here)."""

import dagster as dg

from scorecard.load.progress import step_progress

# A line naming the step that just finished, at most one every few seconds (``scorecard build``
# prints them): with the record-level loaders' own lines and the CLI's heartbeat, a build is
# never silent long enough to look hung.
STEPS_FINISHED = step_progress()


@dg.success_hook(name="step_finished_line")
def step_finished_line(context: dg.HookContext) -> None:
    STEPS_FINISHED.note(f"{context.step_key.replace('__', '.')} built")


build_scorecard = dg.define_asset_job(
    "build_scorecard", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    hooks={step_finished_line},
    description="Load every extract, rebuild the marts, publish the warehouse and draw the charts.")
