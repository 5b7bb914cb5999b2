"""Dagster resources: where the project reads and writes, the build database, and the browser that
draws chart PNGs."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from pipelines.settings import Settings
from scorecard.publish.png_renderer import PngRenderer, browser_wanted_at_start


class ScorecardPaths(dg.ConfigurableResource):
    """The raw folder, the published warehouse and the output folder (see ``pipelines.settings``)."""

    raw_dir: str
    db_path: str
    out_dir: str
    disclosure_control: bool = True
    report_as_at: str = ""  # ISO date, or empty for the last complete quarter in the data
    chart_images: bool = True

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.raw_dir), Path(self.db_path), Path(self.out_dir), self.disclosure_control,
                        chart_images=self.chart_images,
                        report_as_at=date.fromisoformat(self.report_as_at) if self.report_as_at else None)


class BuildDatabase(DuckDBResource):
    """The build database (``DuckDBResource``), held open while a run lasts.

    Each asset still takes its own connection (``get_connection``), but DuckDB then finds the
    database already open in this process: an asset's connection costs no re-opening, and closing
    it no checkpoint (a third of a small asset's time). The database is checkpointed once, when
    the run ends, or when the warehouse is published (``scorecard.load.warehouse.publish``).
    """

    _held: contextlib.ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._held = contextlib.ExitStack()
        self._held.enter_context(self.get_connection())

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None


class ChartBrowser(dg.ConfigurableResource):
    """The headless browser that draws the chart PNGs (``scorecard.publish.png_renderer.PngRenderer``).

    When no chart has been drawn yet (a first build, or the charts folder was emptied), every
    chart will be, so the browser is started as the run starts: its start-up then overlaps the
    loading steps instead of holding up the charts. Otherwise ``write_charts`` starts one only
    if a chart changed. Closed when the run ends, whether or not the charts step ran.
    """

    charts_dir: str
    timeout_seconds: float = 60.0  # to start, and for each PNG (Settings.browser_timeout_seconds)
    images: bool = True  # False: no PNG is drawn (Settings.chart_images)
    _renderer: PngRenderer | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.images and browser_wanted_at_start(Path(self.charts_dir)):
            self._renderer = PngRenderer(startup_timeout=self.timeout_seconds, png_timeout=self.timeout_seconds)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    @property
    def started(self) -> PngRenderer | None:
        """The browser started for this run, if it was."""
        return self._renderer

    def renderer(self) -> PngRenderer:
        """The browser for this run, started now if it was not yet."""
        if self._renderer is None:
            self._renderer = PngRenderer(startup_timeout=self.timeout_seconds, png_timeout=self.timeout_seconds)
        return self._renderer


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    settings.build_db_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "paths": ScorecardPaths(raw_dir=str(settings.raw_dir), db_path=str(settings.db_path),
                                out_dir=str(settings.out_dir), disclosure_control=settings.disclosure_control,
                                report_as_at=settings.report_as_at.isoformat() if settings.report_as_at else "",
                                chart_images=settings.chart_images),
        "duckdb": BuildDatabase(database=str(settings.build_db_path), connection_config=settings.duckdb_config),
        "chart_browser": ChartBrowser(charts_dir=str(settings.charts_dir),
                                      timeout_seconds=settings.browser_timeout_seconds, images=settings.chart_images),
    }
