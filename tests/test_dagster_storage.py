"""The Dagster home's storage (pipelines/dagster_storage.py): runs recorded through kept-open
connections, in Dagster's own format, so its stock storage and UI read them."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import dagster as dg
import pytest

from pipelines.dagster_storage import KEPT_RUN_DATABASES, PooledSqliteEventLogStorage, PooledSqliteRunStorage

PROJECT_DAGSTER_YAML = Path(__file__).resolve().parent.parent / ".dagster_home" / "dagster.yaml"


@dg.asset
def first() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[first])
def second() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 4})


JOB = dg.Definitions(assets=[first, second]).resolve_implicit_global_asset_job_def()


@pytest.fixture()
def dagster_home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_the_project_dagster_home_uses_the_pooled_storage(dagster_home):
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PooledSqliteRunStorage)
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)


def test_runs_recorded_through_the_pooled_storage_are_read_by_dagsters_own(dagster_home, monkeypatch):
    with dg.DagsterInstance.get() as instance:
        result = JOB.execute_in_process(instance=instance)
        assert result.success
        run_id = result.run_id

    # The same folder opened with Dagster's stock SQLite storage, as `dagster dev` would without
    # this project's configuration.
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.get() as stock:
        assert type(stock.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert stock.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        kinds = [e.dagster_event.event_type_value for e in stock.all_logs(run_id) if e.dagster_event]
        assert kinds.count("ASSET_MATERIALIZATION") == 2
        latest = stock.get_latest_materialization_event(dg.AssetKey("second"))
        assert latest is not None and latest.run_id == run_id
        assert latest.asset_materialization.metadata["rows"] == dg.IntMetadataValue(4)


def test_the_pooled_storage_keeps_only_the_latest_run_databases_open(dagster_home):
    with dg.DagsterInstance.get() as instance:
        run_ids = [JOB.execute_in_process(instance=instance).run_id for _ in range(KEPT_RUN_DATABASES + 2)]
        engines = instance.event_log_storage._engines._engines
        assert len(engines) <= KEPT_RUN_DATABASES + 1  # and the index
        # Every run is still readable, its database reopened when asked for.
        assert all(instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS for run_id in run_ids)
        assert len(instance.all_logs(run_ids[0])) > 0
    assert not engines  # closing the instance closes its connections


def test_a_runs_events_reach_a_watcher_as_they_are_written(dagster_home):
    """The UI streams a run's events through ``watch``; the pooled storage's writes land in the
    run's write-ahead log, which its watcher must notice too."""
    with dg.DagsterInstance.get() as instance:
        run_id = JOB.execute_in_process(instance=instance).run_id
        received: list[str] = []
        arrived = threading.Event()

        def callback(event, cursor):
            received.append(event.message)
            if "written while watched" in event.message:
                arrived.set()

        instance.event_log_storage.watch(run_id, None, callback)
        try:
            instance.report_engine_event("written while watched", instance.get_run_by_id(run_id))
            assert arrived.wait(timeout=20), received
        finally:
            instance.event_log_storage.end_watch(run_id, callback)
