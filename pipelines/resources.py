"""Dagster resources: where the project reads and writes, the build database, the browser that
draws chart PNGs, and the process that runs the Great Expectations suite."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from expectations.marts import SuiteOutcome, SuiteWorker, validate_scorecard
from pipelines import early_start
from pipelines.png_renderer import PngRenderer, browser_wanted_at_start
from pipelines.settings import Settings

if TYPE_CHECKING:
    import pandas as pd


class ScorecardPaths(dg.ConfigurableResource):
    """The raw folder, the published warehouse and the output folder (see ``pipelines.settings``)."""

    raw_dir: str
    db_path: str
    out_dir: str
    disclosure_control: bool = True

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.raw_dir), Path(self.db_path), Path(self.out_dir), self.disclosure_control)


class ChartBrowser(dg.ConfigurableResource):
    """The headless browser that draws the chart PNGs (``pipelines.png_renderer.PngRenderer``).

    When no chart has been drawn yet (a first build, or the charts folder was emptied), every
    chart will be, so the browser is started as the run starts (or taken over from
    `scorecard build`, which starts it sooner: ``pipelines.early_start``): its start-up (~3 s,
    ~5 CPU seconds) then overlaps other work instead of holding up the charts. Otherwise
    ``write_charts`` starts one only if a chart changed. Closed when the run ends, whether or
    not the charts step ran.
    """

    charts_dir: str
    _renderer: PngRenderer | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._renderer = early_start.take(PngRenderer)
        if self._renderer is None and browser_wanted_at_start(Path(self.charts_dir)):
            self._renderer = PngRenderer()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    @property
    def started(self) -> PngRenderer | None:
        """The browser started for this run, if it was."""
        return self._renderer


class ExpectationsWorker(dg.ConfigurableResource):
    """Great Expectations in a process of its own (``expectations.marts.SuiteWorker``), started
    as the run starts (or taken over from `scorecard build`: ``pipelines.early_start``): its
    import (~2-3 s) then overlaps other work instead of holding up the check on
    ``marts.scorecard``. Closed when the run ends."""

    _worker: SuiteWorker | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._worker = early_start.take(SuiteWorker) or SuiteWorker()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def validate(self, frame: pd.DataFrame) -> SuiteOutcome:
        """The suite's outcome on ``frame`` (in this process when no run started the worker)."""
        return self._worker.validate(frame) if self._worker is not None else validate_scorecard(frame)


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    settings.build_db_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "paths": ScorecardPaths(raw_dir=str(settings.raw_dir), db_path=str(settings.db_path),
                                out_dir=str(settings.out_dir), disclosure_control=settings.disclosure_control),
        "duckdb": DuckDBResource(database=str(settings.build_db_path), connection_config=settings.duckdb_config),
        "chart_browser": ChartBrowser(charts_dir=str(settings.charts_dir)),
        "expectations": ExpectationsWorker(),
    }
