"""Marts for committees: benchmarks (England, region, statistical neighbours), statistical
process control, and the scorecard that brings them together, checked by Great Expectations."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.marts.tables import mart_from_sql
from assets.sql_tables import keys_of
from expectations.marts import validate_scorecard
from scorecard.load.warehouse import preview_markdown, sql_text, tables_read
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.transform.benchmarks import build_benchmarks
from scorecard.transform.spc import SERIES_SQL, build_spc


@dg.asset(key=["marts", "benchmarks"], deps=keys_of(tables_read(sql_text("marts/benchmarks.sql"))),
          group_name="marts", description=MARTS_BY_NAME["marts.benchmarks"].description)
def benchmarks(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        rows = build_benchmarks(conn)
        preview = preview_markdown(conn, "marts.benchmarks")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


@dg.multi_asset(
    specs=[dg.AssetSpec(["marts", "spc"], deps=keys_of(tables_read(SERIES_SQL)), group_name="marts",
                        description=MARTS_BY_NAME["marts.spc"].description),
           dg.AssetSpec(["core", "spc_summary"], deps=keys_of(tables_read(SERIES_SQL)), group_name="core",
                        description="The SPC variation and assurance icons of each partnership area's series.")],
    name="spc")
def spc(duckdb: DuckDBResource):
    """XmR charts of each partnership area's monthly series, and their icons."""
    with duckdb.get_connection() as conn:
        rows = build_spc(conn)
    for table, count in rows.items():
        yield dg.MaterializeResult(asset_key=table.split("."), metadata={"dagster/row_count": count})


scorecard = mart_from_sql("scorecard", drawn=False)


@dg.asset_check(asset=scorecard, blocking=True, name="great_expectations_suite",
                description="marts.scorecard against the Great Expectations suite in "
                            "expectations/scorecard_suite.json.")
def scorecard_expectations(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        frame = conn.execute("select * from marts.scorecard").df()
        indicator_ids = [row[0] for row in conn.execute("select indicator_id from marts.indicators").fetchall()]
    outcome = validate_scorecard(frame, indicator_ids)
    return dg.AssetCheckResult(
        passed=outcome.success,
        description=("All expectations met." if outcome.success
                     else "Failed: " + "; ".join(outcome.failed)),
        metadata={"expectations": outcome.evaluated, "failed": dg.MetadataValue.json(outcome.failed)},
    )
