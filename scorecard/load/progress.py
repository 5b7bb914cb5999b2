"""Lines saying how a long loading step is moving, so that a build never sits silent.

Reading a national extract takes a while; a terminal that prints nothing for twenty seconds
looks hung. A ``Progress`` says what is being done (the step, the file by its reference, the
rows so far), at most one line every ``interval_seconds`` and always at a step's start and
end. Lines go to the Dagster step's log and to ``TERMINAL_LOG``, which ``scorecard build``
prints. They never hold a cell, and a record-level file is named by its reference
(``scorecard.ingest.file_references``), never as written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

# ``scorecard build`` prints this logger's lines as the build runs (``pipelines.cli``).
TERMINAL_LOG = logging.getLogger("scorecard.progress")
DEFAULT_INTERVAL_SECONDS = 5.0
# Progress is never worth waiting for: a line that cannot take the lock this soon is dropped.
LOCK_TIMEOUT_SECONDS = 1.0


class Progress:
    """Says progress lines through ``say``: ``note`` at most once every ``interval_seconds``
    (0: every line), ``always`` every time. Safe to call from several reading threads."""

    def __init__(self, say: Callable[[str], None], interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._say = say
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._last_said: float | None = None
        self._lock = threading.Lock()

    def note(self, line: str) -> None:
        """``line``, unless another was said less than ``interval_seconds`` ago."""
        if not self._lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
            return
        try:
            now = self._clock()
            due = self._last_said is None or now - self._last_said >= self.interval_seconds
            if due:
                self._last_said = now
        finally:
            self._lock.release()
        if due:
            self._say(line)

    def always(self, line: str) -> None:
        """``line`` now (a step's start or end), restarting the interval."""
        if self._lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
            try:
                self._last_said = self._clock()
            finally:
                self._lock.release()
        self._say(line)


def step_progress(step_log: Callable[[str], None] | None = None,
                  interval_seconds: float = DEFAULT_INTERVAL_SECONDS) -> Progress:
    """A ``Progress`` whose lines go to ``step_log`` (a Dagster step's ``context.log.info``), if
    given, and to ``TERMINAL_LOG``."""
    def say(line: str) -> None:
        if step_log is not None:
            step_log(line)
        TERMINAL_LOG.info(line)
    return Progress(say, interval_seconds)


def silent() -> Progress:
    """A ``Progress`` that says nothing."""
    return Progress(lambda line: None, interval_seconds=float("inf"))
