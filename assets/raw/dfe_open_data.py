"""Raw layer: DfE open data (EES CSVs) as published, every figure kept with its suppression reason."""

from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.raw.loading import (MAX_MESSAGES_IN_METADATA, FileRead, FileRef, outcome_check, outcome_metadata,
                                sync_files, write_outcome_report)
from assets.raw.partner_returns import extract_files, files_of
from pipelines.ees import EES_COLUMNS, read_ees
from pipelines.resources import ScorecardPaths
from pipelines.warehouse import preview_markdown

KEY = ["raw", "dfe_open_data"]
# One published figure per dataset, area, period, filter and indicator, across all files.
FIGURE_KEY = ("dataset", "area_code", "time_period", "filters", "indicator")
EES_SCHEMA = {**{c: pl.String for c in EES_COLUMNS}, "source_row": pl.Int64, "value": pl.Float64,
              "period_start": pl.Date, "period_end": pl.Date}


def read_published_file(raw_dir: Path, ref: FileRef) -> FileRead:
    read = read_ees(raw_dir / ref.path, ref.path)
    rows = read.frame.cast(EES_SCHEMA).with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    return FileRead(rows, rows.height, read.problems)


@dg.asset(
    key=KEY, deps=[extract_files], group_name="raw",
    description="Every DfE open-data CSV under the raw folder, long: one row per file row and figure, "
                "with suppressed figures missing and their reason in value_note.",
    check_specs=[dg.AssetCheckSpec("valid", asset=KEY,
                                   description="Every row has a known geographic level, a readable "
                                               "time_period and, for local authorities, an ONS code.")],
)
def dfe_open_data(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    empty = pl.DataFrame(schema=EES_SCHEMA).with_columns(source_sheet=pl.lit(None, dtype=pl.String))
    with duckdb.get_connection() as conn:
        outcome = sync_files(conn, table="raw.dfe_open_data", source="dfe_published", layout="dfe_open_data",
                             files=files_of(conn, "dfe_published"), read=lambda ref: read_published_file(settings.raw_dir, ref), empty=empty,
                             out_dir=settings.out_dir, key=FIGURE_KEY)
        rows = conn.execute("select count(*) from raw.dfe_open_data").fetchone()[0]
        preview = preview_markdown(conn, "raw.dfe_open_data")
    write_outcome_report(settings.out_dir, "dfe_open_data", "DfE open data", outcome)
    for problem in outcome.problems[:MAX_MESSAGES_IN_METADATA]:
        context.log.error(problem.message())
    return dg.MaterializeResult(
        metadata={**outcome_metadata(outcome), "dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)},
        check_results=[outcome_check(outcome, settings.out_dir)])
