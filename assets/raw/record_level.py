"""Raw layer: record-level extracts (Annex A lists 2, 3, 7 and 8, SSDA903 episodes, CIN census
returns, the front-door log), pseudonymised and stripped of personal data as they are read
(``scorecard.load.record_level``); one table per kind, never published."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw.partner_returns import extract_files
from pipelines.checks import load_result
from pipelines.resources import ScorecardPaths
from pipelines.settings import pseudonym_key
from scorecard.ingest.record_level import PseudonymKeyMissing
from scorecard.load.progress import step_progress
from scorecard.load.record_level import sync_every_kind
from scorecard.load.warehouse import RECORD_LEVEL_TABLES


@dg.multi_asset(
    name="record_level",
    specs=[dg.AssetSpec(["raw", kind], deps=[extract_files], group_name="raw",
                        description=f"Record-level extract rows ({kind}), pseudonymised (SCORECARD_PSEUDONYM_KEY) "
                                    "with names, dates of birth, postcodes and workers dropped; never published.")
           for kind in RECORD_LEVEL_TABLES],
    check_specs=[dg.AssetCheckSpec("valid", asset=["raw", kind],
                                   description=f"Every {kind} file can be placed and read.")
                 for kind in RECORD_LEVEL_TABLES],
)
def record_level(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource):
    """Every record-level file, loaded file by file into ``raw.<kind>`` (a view over Parquet files)."""
    settings = paths.settings
    with duckdb.get_connection() as conn:
        try:
            outcomes = sync_every_kind(conn, settings.raw_dir, pseudonym_key(), settings.out_dir,
                                       settings.record_level_dir, step_progress(context.log.info))
        except PseudonymKeyMissing as missing:
            raise dg.Failure(description=str(missing)) from None
        rows = {kind: conn.execute(f"select count(*) from raw.{kind}").fetchone()[0] for kind in outcomes}
    for kind, outcome in outcomes.items():
        yield load_result(context, settings.out_dir, f"record_level_{kind}", f"Record-level extracts ({kind})",
                          outcome, {"dagster/row_count": rows[kind]}, asset_key=["raw", kind])
