"""`scorecard build` starts the browser and the Great Expectations worker before it imports the
pipeline (pipelines/early_start.py); the run's resources take them over, and what a run did not
take is closed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from expectations.marts import SuiteWorker
from pipelines import early_start
from pipelines.png_renderer import MANIFEST, PngRenderer, find_browser
from pipelines.resources import ChartBrowser, ExpectationsWorker
from tests.conftest import make_settings

needs_chromium = pytest.mark.skipif(find_browser() is None, reason="PNG export needs Chromium (make chromium)")


@pytest.fixture(autouse=True)
def nothing_left_started():
    yield
    early_start.close_untaken()


def test_starting_early_imports_nothing_heavy():
    """Its point is to start before the pipeline's imports, so it must not make them itself."""
    code = ("import sys, pipelines.early_start; "
            "print([m for m in ('dagster', 'pandas', 'plotly', 'polars', 'duckdb', 'scipy', 'pipelines.definitions') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@needs_chromium
def test_the_run_takes_over_what_was_started_early(tmp_path: Path):
    early_start.start(tmp_path / "charts")  # no charts drawn yet: the browser too
    browser, expectations = ChartBrowser(charts_dir=str(tmp_path / "charts")), ExpectationsWorker()
    context = dg.build_init_resource_context()
    started = dict(early_start._started)
    assert set(started) == {PngRenderer, SuiteWorker}
    browser.setup_for_execution(context)
    expectations.setup_for_execution(context)
    try:
        assert browser.started is started[PngRenderer]
        assert expectations._worker is started[SuiteWorker]
        assert early_start._started == {}
    finally:
        browser.teardown_after_execution(context)
        expectations.teardown_after_execution(context)
    assert started[SuiteWorker]._process.poll() is not None


def test_with_charts_drawn_only_the_worker_starts_early_and_an_untaken_one_is_closed(tmp_path: Path, monkeypatch):
    import pipelines.png_renderer

    monkeypatch.setattr(pipelines.png_renderer, "find_browser", lambda: "/usr/bin/chromium")  # (only the charts decide)
    charts_dir = tmp_path / "charts"
    charts_dir.mkdir()
    (charts_dir / MANIFEST).write_text(json.dumps({"E06000057/rereferral_pct": "digest"}))
    early_start.start(charts_dir)
    assert set(early_start._started) == {SuiteWorker}
    worker = early_start._started[SuiteWorker]
    early_start.close_untaken()
    assert early_start._started == {} and worker._process.poll() is not None


def test_scorecard_build_starts_the_helpers_before_it_imports_the_pipeline_and_closes_them(tmp_path, monkeypatch):
    import pipelines.definitions
    from pipelines.cli import main

    settings = make_settings(tmp_path)
    settings.raw_dir.mkdir(parents=True)
    events = []

    started = []

    def start(charts_dir: Path) -> None:
        events.append("helpers started")
        started.append(SuiteWorker())
        early_start._started[SuiteWorker] = started[0]

    def build_definitions(settings):
        events.append("pipeline built")
        raise RuntimeError("stop here")

    monkeypatch.setattr(early_start, "start", start)
    monkeypatch.setattr(pipelines.definitions, "build_definitions", build_definitions)
    for name, value in {"SCORECARD_RAW_DIR": settings.raw_dir, "SCORECARD_DB": settings.db_path,
                        "SCORECARD_OUT_DIR": settings.out_dir}.items():
        monkeypatch.setenv(name, str(value))
    with pytest.raises(RuntimeError, match="stop here"):
        main(["build"])
    assert events == ["helpers started", "pipeline built"]
    assert early_start._started == {} and started[0]._process.poll() is not None  # closed: no run took it
