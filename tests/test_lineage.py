"""Lineage: every table a build writes is an asset key, and each asset built from SQL depends on
exactly the tables its SQL reads."""

from __future__ import annotations

import dagster as dg
import pytest

from pipelines.definitions import defs
from scorecard.load.warehouse import RECORD_LEVEL_TABLES, sql_text, tables_read
from scorecard.paths import SQL_DIR
from scorecard.transform.indicator_series import indicator_sql_tables_read
from scorecard.transform.record_level_measures import RECORD_LEVEL_SQL, record_level_tables_read, sql_path
from scorecard.transform.spc import SERIES_SQL

GRAPH = defs.resolve_asset_graph()
TABLE_KEYS = {".".join(key.path) for key in GRAPH.get_all_asset_keys() if key.path[0] in ("raw", "core", "marts")}
NEVER_PUBLISHED = {f"raw.{kind}" for kind in RECORD_LEVEL_TABLES}  # pseudonymous rows stay in the build


def upstream_of(name: str) -> set[str]:
    return {".".join(key.path) for key in GRAPH.get(dg.AssetKey(name.split("."))).parent_keys}


def test_the_published_warehouse_holds_exactly_the_table_assets(warehouse):
    tables = {f"{schema}.{name}" for schema, name in warehouse.execute("""
        select schema_name, table_name from duckdb_tables()
        union all select schema_name, view_name from duckdb_views() where not internal""").fetchall()}
    assert tables == TABLE_KEYS - NEVER_PUBLISHED


def test_the_build_database_holds_the_record_level_assets_the_warehouse_leaves_out(built):
    import duckdb

    with duckdb.connect(str(built.settings.build_db_path), read_only=True) as conn:
        views = {f"raw.{name}" for (name,) in conn.execute(
            "select view_name from duckdb_views() where schema_name = 'raw'").fetchall()}
    assert views >= NEVER_PUBLISHED


@pytest.mark.parametrize("path", sorted([*SQL_DIR.glob("core/*.sql"), *SQL_DIR.glob("marts/*.sql")]),
                         ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_each_sql_table_asset_depends_on_exactly_the_tables_its_sql_reads(path):
    name = f"{path.parent.name}.{path.stem}"
    assert name in TABLE_KEYS, f"{path} builds no asset"
    assert upstream_of(name) == tables_read(path.read_text(encoding="utf-8"))


def test_assets_computed_in_python_depend_on_what_their_sql_reads():
    assert upstream_of("core.indicator_series") == indicator_sql_tables_read() == {"core.observation_periods",
                                                                                 "raw.fingertips"}
    assert upstream_of("marts.spc") == upstream_of("core.spc_summary") == tables_read(SERIES_SQL)
    assert upstream_of("core.record_level_measures") == record_level_tables_read() == set().union(
        *(tables_read(sql_path(name).read_text(encoding="utf-8")) for name in RECORD_LEVEL_SQL))
    assert upstream_of("marts.benchmarks") == tables_read(sql_text("marts/benchmarks.sql"))


def test_the_ledger_follows_every_loader():
    loaders = {key for key in TABLE_KEYS if key.startswith("raw.")} - {"raw.extract_files", "raw.load_ledger"}
    assert upstream_of("raw.load_ledger") == loaders


def test_tables_read_ignores_ctes_and_sees_joins_and_subqueries():
    sql = """
        with recent as (select * from core.observations where period_end > date '2020-01-01'),
        referrals as (select * from raw.referrals)
        select * from recent join marts.indicators using (indicator_id)
        join referrals using (area_code)
        where area_code in (select area_code from core.areas)
    """
    # (a CTE called referrals does not hide raw.referrals, which it reads)
    assert tables_read(sql) == {"core.observations", "marts.indicators", "core.areas", "raw.referrals"}


def test_core_observations_follows_every_partner_return_loader():
    from expectations.layouts import LAYOUTS

    assert {f"raw.{layout.name}" for layout in LAYOUTS} <= upstream_of("core.observations")
