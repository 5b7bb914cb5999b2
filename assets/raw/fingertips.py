"""Raw layer: OHID Fingertips exports as published (``scorecard.load.fingertips``)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw.partner_returns import extract_files
from pipelines.checks import load_result
from pipelines.resources import ScorecardPaths
from scorecard.load.fingertips import sync_fingertips
from scorecard.load.warehouse import preview_markdown

KEY = ["raw", "fingertips"]


@dg.asset(
    key=KEY, deps=[extract_files], group_name="raw",
    description="Every OHID Fingertips export under the raw folder: one row per indicator, area, sex, age, "
                "category and period, with the value, the published 95% and 99.8% limits, count, "
                "denominator and value note, as published.",
    check_specs=[dg.AssetCheckSpec("valid", asset=KEY,
                                   description="Every row has an indicator number, an area code, and numbers "
                                               "(or blanks) where Fingertips publishes numbers.")],
)
def fingertips(context: dg.AssetExecutionContext, paths: ScorecardPaths,
               duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        outcome = sync_fingertips(conn, settings.raw_dir, settings.out_dir)
        rows = conn.execute("select count(*) from raw.fingertips").fetchone()[0]
        preview = preview_markdown(conn, "raw.fingertips")
    return load_result(context, settings.out_dir, "fingertips", "OHID Fingertips", outcome,
                       {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})
