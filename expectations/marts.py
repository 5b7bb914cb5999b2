"""Great Expectations for the marts: the suite in scorecard_suite.json, run on pandas.

STACK.md: GX's SQL datasource fails on DuckDB (results read after the connection closes),
so the mart is read with DuckDB and validated through GX's pandas datasource.

It runs in the build's own process as an ordinary blocking asset check on ``marts.scorecard``
(``assets.marts.benchmarking``); Great Expectations is imported when the check first runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SUITE_PATH = Path(__file__).with_name("scorecard_suite.json")


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[str]


def load_suite_spec(path: Path = SUITE_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def suite_expectations(indicator_ids: list[str], path: Path = SUITE_PATH) -> list[dict]:
    """The suite's expectations, and one that ``indicator_id`` holds only the build's catalogue ids
    (the indicator files decide them, so they are not written in the JSON)."""
    return [*load_suite_spec(path)["expectations"],
            {"type": "expect_column_values_to_be_in_set",
             "kwargs": {"column": "indicator_id", "value_set": list(indicator_ids)}}]


def validate_scorecard(frame: pd.DataFrame, indicator_ids: list[str], path: Path = SUITE_PATH) -> SuiteOutcome:
    """Validate ``marts.scorecard`` (as pandas) against the suite; failures in plain words."""
    import great_expectations as gx  # slow to import (~2.5 s): only when a check runs
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    spec = load_suite_spec(path)
    context = gx.get_context(mode="ephemeral")
    # Otherwise GX draws a progress bar on stderr for every metric, burying the build's messages.
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (context.data_sources.add_pandas("marts")
                        .add_dataframe_asset("scorecard")
                        .add_batch_definition_whole_dataframe("whole table"))
    suite = context.suites.add(gx.ExpectationSuite(name=spec["name"]))
    for expectation in suite_expectations(indicator_ids, path):
        suite.add_expectation_configuration(
            ExpectationConfiguration(type=expectation["type"], kwargs=expectation["kwargs"]))
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
    failed = []
    for outcome in result.results:
        if not outcome.success:
            config = outcome.expectation_config
            column = config.kwargs.get("column") or config.kwargs.get("column_list")
            examples = (outcome.result or {}).get("partial_unexpected_list") or []
            failed.append(f"{config.type} on {column}" + (f" (e.g. {examples[:3]})" if examples else ""))
    return SuiteOutcome(bool(result.success), len(result.results), failed)
