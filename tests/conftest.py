"""Shared fixtures: a sample raw folder for two partnerships, built once per test session."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT, Settings

SHARED_REFERENCE = PROJECT_ROOT.parent / "shared" / "reference" / "ees"
STRATEGIES = PROJECT_ROOT / "data" / "raw" / "strategies"
# Northumberland for the seed figures; Hartlepool & Stockton for a two-authority partnership.
FIXTURE_PARTNERSHIPS = ("northumberland", "hartlepool_stockton")


def shared_reference() -> Path:
    """../shared/reference/ees, or skip: it exists on this team's machines and in CI only."""
    if SHARED_REFERENCE.is_dir():
        return SHARED_REFERENCE
    if os.environ.get("SCORECARD_REQUIRE_SHARED"):
        pytest.fail(f"{SHARED_REFERENCE} is missing, and CI requires it")
    pytest.skip(f"{SHARED_REFERENCE} is not here (it exists only on the team's machines and in CI)")


def make_settings(root: Path) -> Settings:
    return Settings(raw_dir=root / "raw", db_path=root / "marts" / "warehouse.duckdb", out_dir=root / "marts")


def write_fixture_raw(raw_dir: Path, partnerships=FIXTURE_PARTNERSHIPS) -> None:
    from scorecard.sample import write_sample

    (raw_dir / "strategies").mkdir(parents=True, exist_ok=True)
    for name in partnerships:
        shutil.copy(STRATEGIES / f"{name}.yaml", raw_dir / "strategies" / f"{name}.yaml")
    write_sample(raw_dir, partnerships=partnerships)


def run_cli(settings: Settings, *args: str,
            chart_images: bool = True) -> int:
    """Run `scorecard <args>` with the SCORECARD_* environment pointing at ``settings``.
    ``chart_images=False``: charts without PNGs (SCORECARD_CHART_IMAGES=off), for a test of
    something else: no Chromium is started (tests/test_png_export.py tests drawing them)."""
    from pipelines.cli import main

    env = {"SCORECARD_RAW_DIR": str(settings.raw_dir), "SCORECARD_DB": str(settings.db_path),
           "SCORECARD_OUT_DIR": str(settings.out_dir)}
    if not chart_images:
        env["SCORECARD_CHART_IMAGES"] = "off"
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("DAGSTER_HOME", raising=False)
        return main(list(args))


def build_without_drawing(settings: Settings) -> None:
    """Build and publish the warehouse, skipping the charts and reports (fast, for SQL tests)."""
    import dagster as dg

    from pipelines.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("build_scorecard")
    drawing = {dg.AssetKey(["outputs", name]) for name in ("chart_images", "indicator_charts", "partnership_reports")}
    selection = [k for k in job.asset_layer.asset_graph.get_all_asset_keys() if k not in drawing]
    with contextlib.redirect_stderr(io.StringIO()):
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=selection,
                                        raise_on_error=False)
    failures = [str(e.step_failure_data.error.cause or e.step_failure_data.error.message)
                for e in result.all_events if e.is_step_failure]
    assert result.success, failures


def build_tables(settings: Settings, *tables: str) -> None:
    """Build ``tables`` ("schema.table") and everything upstream of them into the build database
    (``settings.build_db_path``), in process, with every loader: nothing else, nothing published,
    nothing drawn."""
    import dagster as dg

    from pipelines.definitions import build_definitions

    defs = build_definitions(settings)
    wanted = dg.AssetSelection.assets(*(dg.AssetKey(table.split(".")) for table in tables))
    selection = wanted.upstream() | dg.AssetSelection.groups("raw")
    keys = selection.required_multi_asset_neighbors().resolve(defs.resolve_asset_graph())
    job = defs.resolve_job_def("build_scorecard")
    with contextlib.redirect_stderr(io.StringIO()):
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), asset_selection=list(keys),
                                        raise_on_error=False)
    failures = [str(e.step_failure_data.error.cause or e.step_failure_data.error.message)
                for e in result.all_events if e.is_step_failure]
    assert result.success, failures


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: Settings
    exit_code: int
    output: str


# How long a pytest-xdist worker waits for another worker's build of the sample (a bound, not a
# guess at its length: it fails the test rather than hang).
SHARED_BUILD_WAIT_SECONDS = 900


def build_sample(root: Path) -> BuiltWarehouse:
    settings = make_settings(root)
    write_fixture_raw(settings.raw_dir)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run_cli(settings, "build")
    return BuiltWarehouse(settings, code, out.getvalue())


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> BuiltWarehouse:
    """Sample extracts for two partnerships, built once through `scorecard build`, for every test
    that only reads it. Under pytest-xdist the workers share one build: the first to ask makes it,
    under a file lock, and the others wait for it (a whole build is the suite's costliest step)."""
    from filelock import FileLock

    if worker_id == "master":  # (not distributed)
        return build_sample(tmp_path_factory.mktemp("built"))
    root = tmp_path_factory.getbasetemp().parent / "built"
    outcome = root / "outcome.json"
    with FileLock(str(root) + ".lock", timeout=SHARED_BUILD_WAIT_SECONDS):
        if not outcome.is_file():
            shutil.rmtree(root, ignore_errors=True)
            made = build_sample(root)
            outcome.write_text(json.dumps({"exit_code": made.exit_code, "output": made.output}), encoding="utf-8")
    recorded = json.loads(outcome.read_text(encoding="utf-8"))
    return BuiltWarehouse(make_settings(root), recorded["exit_code"], recorded["output"])


@pytest.fixture()
def warehouse(built: BuiltWarehouse):
    import duckdb

    assert built.exit_code == 0, built.output
    with duckdb.connect(str(built.settings.db_path), read_only=True) as conn:
        yield conn


@pytest.fixture()
def copy_of_built(built: BuiltWarehouse, tmp_path: Path) -> Settings:
    """The built fixture's raw folder and outputs (warehouse, build database, charts), copied so a
    test may spoil them; charts whose figures do not change are then not drawn again."""
    assert built.exit_code == 0, built.output
    root = tmp_path / "copy"
    shutil.copytree(built.settings.raw_dir, root / "raw")
    shutil.copytree(built.settings.out_dir, root / "marts")
    return make_settings(root)


def build_cli(settings: Settings, *args: str, chart_images: bool = True) -> tuple[int, str]:
    """`scorecard build <args>` on ``settings``: its exit code and everything it printed
    (``chart_images``: as ``run_cli``'s)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run_cli(settings, "build", *args, chart_images=chart_images)
    return code, out.getvalue()


# The files that take longest, longest first: pytest-xdist hands the workers whole files in the
# order they were collected, so these go out first and the two workers finish together, rather
# than one running a long file alone at the end.
LONGEST_FIRST = ("test_publication.py", "test_png_export.py", "test_pipeline.py", "test_atomic_publication.py",
                 "test_charts.py", "test_refusals.py", "test_report_as_at.py", "test_reported_figures.py",
                 "test_report.py", "test_incremental.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))  # (stable: the rest as collected)
