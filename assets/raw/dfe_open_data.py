"""Raw layer: DfE open data (EES CSVs) as published, every figure kept with its suppression reason,
and the DfE's statistical-neighbour models (``scorecard.load.dfe``)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw.partner_returns import extract_files
from pipelines.checks import load_result
from pipelines.resources import ScorecardPaths
from scorecard.load.dfe import sync_dfe_open_data, sync_statistical_neighbours
from scorecard.load.warehouse import preview_markdown

KEY = ["raw", "dfe_open_data"]
NEIGHBOURS_KEY = ["raw", "statistical_neighbours"]


@dg.asset(
    key=KEY, deps=[extract_files], group_name="raw",
    description="Every DfE open-data CSV under the raw folder, long: one row per file row and figure, "
                "with suppressed figures missing and their reason in value_note.",
    check_specs=[dg.AssetCheckSpec("valid", asset=KEY,
                                   description="Every row has a known geographic level, a readable "
                                               "time_period and, for local authorities, an ONS code.")],
)
def dfe_open_data(context: dg.AssetExecutionContext, paths: ScorecardPaths,
                  duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        outcome = sync_dfe_open_data(conn, settings.raw_dir, settings.out_dir)
        rows = conn.execute("select count(*) from raw.dfe_open_data").fetchone()[0]
        preview = preview_markdown(conn, "raw.dfe_open_data")
    return load_result(context, settings.out_dir, "dfe_open_data", "DfE open data", outcome,
                       {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


@dg.asset(
    key=NEIGHBOURS_KEY, deps=[extract_files], group_name="raw",
    description="The DfE's statistical-neighbour models (the 2025 wide file, or the 2021 groupings): "
                "each authority's ten neighbours, by old three-digit codes.",
    check_specs=[dg.AssetCheckSpec("valid", asset=NEIGHBOURS_KEY,
                                   description="Every row names an authority and its neighbours.")],
)
def statistical_neighbours(context: dg.AssetExecutionContext, paths: ScorecardPaths,
                           duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        outcome = sync_statistical_neighbours(conn, settings.raw_dir, settings.out_dir)
        rows = conn.execute("select count(*) from raw.statistical_neighbours").fetchone()[0]
    return load_result(context, settings.out_dir, "statistical_neighbours", "Statistical neighbours", outcome,
                       {"dagster/row_count": rows})
