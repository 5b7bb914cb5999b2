"""The one job: build everything, in process (STACK.md: a process per step costs ~3 s here)."""

import logging

import dagster as dg

from scorecard.load.progress import step_progress

# A line naming the step that just finished, at most one every few seconds (``scorecard build``
# prints them): with the record-level loaders' own lines and the CLI's heartbeat, a build is
# never silent long enough to look hung.
STEPS_FINISHED = step_progress()


class _StepFinishedLines(logging.Handler):
    """Says a step's name as Dagster reports it finished (the ``dagster_meta`` Dagster gives
    every logger's records)."""

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is not None and event.is_step_success:
            STEPS_FINISHED.note(f"{event.step_key.replace('__', '.')} built")


# A logger, not a success hook: a hook's every run is one more event written to Dagster's storage.
@dg.logger(description="Names each step as it finishes, for `scorecard build`'s terminal (at most every few s).")
def step_finished_lines(init_context: dg.InitLoggerContext) -> logging.Logger:
    lines = logging.Logger("scorecard.steps_finished", level=logging.DEBUG)
    lines.addHandler(_StepFinishedLines())
    return lines


build_scorecard = dg.define_asset_job(
    "build_scorecard", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="Load every extract, rebuild the marts, publish the warehouse and draw the charts.")
