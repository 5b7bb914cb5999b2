"""Schedule and sensor: builds start monthly, and when the raw folder's content changes."""

import os
from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.resources import ScorecardPaths
from pipelines.schedules import monthly_build
from pipelines.sensors import raw_folder_changed
from tests.conftest import make_settings


def evaluate(raw_dir: Path, cursor: str | None):
    paths = ScorecardPaths(raw_dir=str(raw_dir), db_path=str(raw_dir / "w.duckdb"), out_dir=str(raw_dir))
    context = dg.build_sensor_context(cursor=cursor, resources={"paths": paths})
    result = raw_folder_changed(context)
    return result, context.cursor


def test_sensor_requests_a_build_only_when_content_changes(tmp_path: Path):
    extract = tmp_path / "csc" / "referrals.csv"
    extract.parent.mkdir()
    extract.write_text("area_code,period\n")
    first, cursor = evaluate(tmp_path, None)
    assert isinstance(first, dg.RunRequest)

    again, cursor = evaluate(tmp_path, cursor)
    assert isinstance(again, dg.SkipReason)

    os.utime(extract, ns=(1, 1))  # touched, content unchanged
    touched, cursor = evaluate(tmp_path, cursor)
    assert isinstance(touched, dg.SkipReason)

    extract.write_text("area_code,period\nE06000057,2017-09\n")
    changed, cursor = evaluate(tmp_path, cursor)
    assert isinstance(changed, dg.RunRequest) and changed.run_key != first.run_key
    assert changed.tags["changed_files"] == "csc/referrals.csv"

    (tmp_path / "new.xlsx").write_bytes(b"x")
    added, _ = evaluate(tmp_path, cursor)
    assert isinstance(added, dg.RunRequest) and "new.xlsx" in added.tags["changed_files"]


def test_a_monthly_schedule_runs_the_build_job():
    assert monthly_build.cron_schedule == "0 6 1 * *"
    assert monthly_build.job_name == "build_scorecard"


def test_definitions_load_with_every_layer_and_in_process_execution(tmp_path: Path):
    """The one test of the whole Definitions: as `dagster definitions validate -m pipelines.definitions`
    loads them (the module's one Definitions object), and as the build makes them."""
    import pipelines.definitions as module

    assert [name for name, value in vars(module).items() if isinstance(value, dg.Definitions)] == ["defs"]
    dg.Definitions.validate_loadable(module.defs)
    defs = build_definitions(make_settings(tmp_path))
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"raw/referrals", "core/observations", "marts/scorecard", "outputs/indicator_charts"} <= keys
    job = defs.resolve_job_def("build_scorecard")
    assert job.executor_def.name == "in_process"
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert {"valid", "every_file_recognised", "great_expectations_suite"} <= checks


def test_the_build_database_has_a_memory_limit_the_environment_can_raise(tmp_path: Path):
    import duckdb

    from pipelines.resources import resources_for
    from pipelines.settings import load_settings

    def shown(limit: str) -> str:  # as DuckDB displays a limit ('1GB' -> '953.6 MiB')
        with duckdb.connect(config={"memory_limit": limit}) as conn:
            return conn.execute("select current_setting('memory_limit')").fetchone()[0]

    env = {"SCORECARD_DB": str(tmp_path / "w.duckdb")}
    for environ, expected in ((env, "750MB"), ({**env, "SCORECARD_DUCKDB_MEMORY": "3GB"}, "3GB")):
        settings = load_settings(environ)
        assert settings.duckdb_config == {"memory_limit": expected}
        with resources_for(settings)["duckdb"].get_connection() as conn:
            limit = conn.execute("select current_setting('memory_limit')").fetchone()[0]
        assert limit == shown(expected) != shown("2GB")



def test_chart_pngs_start_before_the_warehouse_is_checked(tmp_path: Path):
    """outputs/chart_images (which hands Chromium the PNGs) needs nothing the Great Expectations
    check guards, and goes first among the steps ready with it, so Chromium draws while the check
    and the publication run; the charts step, after the publication, waits for the PNGs."""
    graph = build_definitions(make_settings(tmp_path)).resolve_asset_graph()
    images = dg.AssetKey(["outputs", "chart_images"])
    ancestors, todo = set(), [images]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys - ancestors:
            ancestors.add(parent)
            todo.append(parent)
    assert dg.AssetKey(["marts", "scorecard"]) not in ancestors
    assert {dg.AssetKey(["marts", "indicator_values"]), dg.AssetKey(["marts", "spc"])} <= ancestors
    assert int(graph.get(images).assets_def.op.tags["dagster/priority"]) > 0
    charts = graph.get(dg.AssetKey(["outputs", "indicator_charts"])).parent_keys
    assert charts == {images, dg.AssetKey(["outputs", "published_warehouse"])}
    # A table no chart is drawn from waits while the charts' tables are built (NOT_DRAWN), and
    # none the charts are drawn from does.
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] not in ("raw", "core", "marts") or not node.is_materializable:
            continue
        priority = int(node.assets_def.op.tags.get("dagster/priority", "0"))
        if key in ancestors:
            assert priority >= 0, key
        elif all(other not in ancestors for other in node.assets_def.keys):
            assert priority < 0, key
