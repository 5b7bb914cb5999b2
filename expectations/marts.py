"""Great Expectations for the marts: the suite in scorecard_suite.json, run on pandas.

STACK.md: GX's SQL datasource fails on DuckDB (results read after the connection closes),
so the mart is read with DuckDB and validated through GX's pandas datasource.

A build validates in a ``SuiteWorker``: a process of its own that imports Great Expectations
(~2-3 s) while the build loads and transforms, instead of the check waiting for the import.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (not imported here: `scorecard build` starts the worker before it imports pandas)
    import pandas as pd

SUITE_PATH = Path(__file__).with_name("scorecard_suite.json")


@dataclass(frozen=True)
class SuiteOutcome:
    success: bool
    evaluated: int
    failed: list[str]


def load_suite_spec(path: Path = SUITE_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def validate_scorecard(frame: pd.DataFrame, path: Path = SUITE_PATH) -> SuiteOutcome:
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
    for expectation in spec["expectations"]:
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


# The worker runs at a lower priority: its import then takes only CPU the build leaves idle
# (the validation itself is a fraction of a second).
WORKER_NICENESS = 10


class SuiteError(RuntimeError):
    """An error the suite raised in the worker process, with the worker's traceback."""


def serve(connection: Connection, niceness: int = WORKER_NICENESS) -> None:
    """The worker process (``python -m expectations.suite_worker``): import Great Expectations,
    then validate each frame sent, in turn, until the build closes its end."""
    os.nice(niceness)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle: it closes us
    import great_expectations  # noqa: F401  (the slow part, done before the first frame arrives)

    while True:
        try:
            frame = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("passed on", validate_scorecard(frame)))
        except Exception as error:
            # As text: the build need not import (or be able to rebuild) GX's exception classes.
            connection.send(("raised", f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}"))


class SuiteWorker:
    """``validate_scorecard`` in a process started now, which imports Great Expectations while
    the caller goes on; ``validate`` sends it a frame and waits for the outcome; ``close`` ends it.

    A plain subprocess, not ``multiprocessing``: a spawned process re-runs the caller's main
    script, which a script that builds without a ``__main__`` guard would not survive.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._log = tempfile.TemporaryFile()  # its output, quoted if it stops unexpectedly
        # The same modules as this process (-P: not whatever the working folder holds).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-m", "expectations.suite_worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                env=env)
        except BaseException:
            ours.close()
            self._log.close()
            raise
        finally:
            theirs.close()
        self._connection = Connection(ours.detach())

    def validate(self, frame: pd.DataFrame) -> SuiteOutcome:
        """The suite's outcome; raises ``SuiteError`` if the suite raised."""
        try:
            self._connection.send(frame)
            kind, value = self._connection.recv()
        except (EOFError, OSError) as error:
            self._stop(wait=5)
            self._log.seek(0)
            said = self._log.read().decode(errors="replace").strip()[-2000:]
            raise RuntimeError(f"The Great Expectations worker process stopped unexpectedly (exit code "
                               f"{self._process.returncode})" + (f": {said}" if said else ".")) from error
        if kind == "raised":
            raise SuiteError(f"The Great Expectations suite failed to run: {value}")
        return value

    def close(self) -> None:
        """End the worker: it exits once it sees its connection closed, or is stopped if it is
        still importing."""
        self._connection.close()
        self._stop(wait=0.5)
        self._log.close()

    def _stop(self, wait: float) -> None:
        try:
            self._process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
