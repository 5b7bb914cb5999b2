"""Raw layer: DfE open data (EES CSVs) as published, every figure kept with its suppression reason,
and the DfE's statistical-neighbour models."""

import dataclasses
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.checks import load_result
from scorecard.load.ledger import FileRead, FileRef, file_by_file, sync_files
from assets.raw.partner_returns import extract_files, files_of
from scorecard.ingest.ees import EES_COLUMNS, read_ees
from scorecard.ingest.neighbours import read_neighbours
from pipelines.resources import ScorecardPaths
from scorecard.load.warehouse import preview_markdown

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
                             files=files_of(conn, "dfe_published"),
                             read=file_by_file(lambda ref: read_published_file(settings.raw_dir, ref)), empty=empty,
                             out_dir=settings.out_dir, key=FIGURE_KEY)
        rows = conn.execute("select count(*) from raw.dfe_open_data").fetchone()[0]
        preview = preview_markdown(conn, "raw.dfe_open_data")
    return load_result(context, settings.out_dir, "dfe_open_data", "DfE open data", outcome,
                       {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


NEIGHBOURS_KEY = ["raw", "statistical_neighbours"]
NEIGHBOUR_SCHEMA = {"old_la_code": pl.String, "la_name": pl.String, "neighbour_rank": pl.Int64,
                    "neighbour_old_la_code": pl.String, "closeness": pl.String, "model": pl.String,
                    "source_row": pl.Int64, "source_file": pl.String, "source_sheet": pl.String}


def read_neighbour_file(raw_dir: Path, ref: FileRef) -> FileRead:
    read = read_neighbours(raw_dir / ref.path)
    rows = read.frame.with_columns(source_file=pl.lit(ref.path), source_sheet=pl.lit(None, dtype=pl.String))
    problems = [dataclasses.replace(p, file=ref.path) for p in read.problems]
    return FileRead(rows.select(list(NEIGHBOUR_SCHEMA)).cast(NEIGHBOUR_SCHEMA), rows.height, problems)


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
        outcome = sync_files(conn, table="raw.statistical_neighbours", source="dfe_reference",
                             layout="statistical_neighbours", files=files_of(conn, "dfe_reference"),
                             read=file_by_file(lambda ref: read_neighbour_file(settings.raw_dir, ref)),
                             empty=pl.DataFrame(schema=NEIGHBOUR_SCHEMA), out_dir=settings.out_dir,
                             key=("old_la_code", "neighbour_rank", "model"))
        rows = conn.execute("select count(*) from raw.statistical_neighbours").fetchone()[0]
    return load_result(context, settings.out_dir, "statistical_neighbours", "Statistical neighbours", outcome,
                       {"dagster/row_count": rows})
