"""The build's two slow-starting helpers, started as `scorecard build` begins.

The Chromium that draws the chart PNGs (~3 s to start, ~5 CPU seconds) and the process that
imports Great Expectations (~2-3 s) are each started by their Dagster resource as a run starts
(``pipelines.resources``). `scorecard build` starts them sooner, before it imports the pipeline:
those imports and the run's set-up keep one core busy for ~3 s, and the helpers' start-up takes
the other. The resources then take them over (``take``); whatever a run did not take is closed
when it ends (``close_untaken``). Only light modules are imported here, for that reason.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from expectations.marts import SuiteWorker
from pipelines.png_renderer import PngRenderer, browser_wanted_at_start

Helper = TypeVar("Helper", PngRenderer, SuiteWorker)

_started: dict[type, PngRenderer | SuiteWorker] = {}


def start(charts_dir: Path) -> None:
    """Start the suite's worker, and the browser if every chart will be drawn."""
    if SuiteWorker not in _started:
        _started[SuiteWorker] = SuiteWorker()
    if PngRenderer not in _started and browser_wanted_at_start(charts_dir):
        _started[PngRenderer] = PngRenderer()


def take(kind: type[Helper]) -> Helper | None:
    """The helper of this kind started early, now the caller's to close; None if none was."""
    return _started.pop(kind, None)


def close_untaken() -> None:
    """Close every helper no run took; one that fails to close does not stop the others, nor
    hide the outcome of the build (it is only reported)."""
    while _started:
        _, helper = _started.popitem()
        try:
            helper.close()
        except Exception as error:
            print(f"Could not close {type(helper).__name__}: {error!r}", file=sys.stderr)
