"""Raw layer: DfE open data (EES CSVs) as published, every figure kept with its suppression reason."""

from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.raw.partner_returns import extract_files, validity_result, write_validation_report
from pipelines.ees import EES_COLUMNS, read_ees
from pipelines.resources import ScorecardPaths
from pipelines.warehouse import preview_markdown, replace_table

KEY = ["raw", "dfe_open_data"]


@dg.asset(
    key=KEY, deps=[extract_files], group_name="raw",
    description="Every DfE open-data CSV under the raw folder, long: one row per file row and figure, "
                "with suppressed figures missing and their reason in value_note.",
    check_specs=[dg.AssetCheckSpec("valid", asset=KEY, blocking=True,
                                   description="Every row has a known geographic level, a readable "
                                               "time_period and, for local authorities, an ONS code.")],
)
def dfe_open_data(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        files = [path for (path,) in conn.execute(
            "select distinct path from raw.extract_files where source = 'dfe_published' order by path").fetchall()]
    frames, problems = [], []
    for path in files:
        read = read_ees(Path(path), path)
        frames.append(read.frame)
        problems += read.problems
    frame = pl.concat(frames) if frames else pl.DataFrame(schema={c: pl.String for c in EES_COLUMNS})
    report = write_validation_report(settings.out_dir, "dfe_open_data", "DfE open data", files, frame.height, problems)
    for problem in problems[:50]:
        context.log.error(problem.message())
    metadata: dict = {"files": dg.MetadataValue.json(files), "figures": frame.height}
    if not problems:
        with duckdb.get_connection() as conn:
            replace_table(conn, "raw", "dfe_open_data", frame.cast({"source_row": pl.Int64, "value": pl.Float64,
                                                                   "period_start": pl.Date, "period_end": pl.Date}))
            metadata["preview"] = dg.MetadataValue.md(preview_markdown(conn, "raw.dfe_open_data"))
    return dg.MaterializeResult(metadata=metadata, check_results=[validity_result(problems, report, frame.height)])
