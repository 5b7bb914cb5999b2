"""Raw layer: every extract under the raw folder, recognised; then one asset per partner-return
layout (``raw/<layout>``) brings its table in line with that layout's files, file by file
(``scorecard.load.partner_returns``): each validated with pandera, a failing file quarantined
while its last good version stays in use.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from expectations.layouts import LAYOUTS, Layout
from pipelines.checks import load_result
from pipelines.resources import ScorecardPaths
from pipelines.settings import pseudonym_key
from scorecard.ingest.inventory import inventory, unrecognised
from scorecard.load.partner_returns import sync_layout
from scorecard.load.progress import step_progress
from scorecard.load.warehouse import preview_markdown, replace_table


@dg.asset(
    key=["raw", "extract_files"],
    group_name="raw",
    check_specs=[dg.AssetCheckSpec("every_file_recognised", asset=["raw", "extract_files"],
                                   description="Every data file under the raw folder matches a known layout.")],
    description="Every data file under the raw folder (paths relative to it): size, sha256 and the layout "
                "its header matched.",
)
def extract_files(context: dg.AssetExecutionContext, paths: ScorecardPaths,
                  duckdb: DuckDBResource) -> dg.MaterializeResult:
    # (every file is hashed and its first rows read: seconds for national extracts)
    step_progress(context.log.info).always("raw.extract_files: hashing and recognising the files under the raw folder")
    files = inventory(paths.settings.raw_dir, pseudonym_key())
    messages = unrecognised(files)
    for message in messages:
        context.log.warning(message)
    with duckdb.get_connection() as conn:
        replace_table(conn, "raw", "extract_files", files)
        preview = preview_markdown(conn, "raw.extract_files")
    return dg.MaterializeResult(
        metadata={"files": files["path"].n_unique(), "tables_recognised": files.height - len(messages),
                  "preview": dg.MetadataValue.md(preview)},
        check_results=[dg.AssetCheckResult(
            check_name="every_file_recognised", passed=not messages, severity=dg.AssetCheckSeverity.WARN,
            metadata={"not_recognised": dg.MetadataValue.json(messages)},
            description="\n".join(messages) or "Every data file matched a layout.",
        )],
    )


def build_raw_layout_asset(layout: Layout) -> dg.AssetsDefinition:
    key = ["raw", layout.name]

    @dg.asset(
        key=key,
        deps=[extract_files, dg.AssetKey(["core", "partnership_areas"])],  # (the areas a return may name)
        group_name="raw",
        description=f"{layout.title}: {layout.description} Loaded file by file; a file that fails "
                    "validation is quarantined and its last good version stays in use.",
        check_specs=[dg.AssetCheckSpec("valid", asset=key,
                                       description=f"Every {layout.name} file passes the layout's pandera schemas.")],
    )
    def raw_layout(context: dg.AssetExecutionContext, paths: ScorecardPaths,
                   duckdb: DuckDBResource) -> dg.MaterializeResult:
        settings = paths.settings
        with duckdb.get_connection() as conn:
            outcome = sync_layout(conn, layout, settings.raw_dir, settings.out_dir)
            preview = preview_markdown(conn, f"raw.{layout.name}")
            rows = conn.execute(f"select count(*) from raw.{layout.name}").fetchone()[0]
        return load_result(context, settings.out_dir, layout.name, layout.title, outcome,
                           {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})

    return raw_layout


raw_layout_assets = [build_raw_layout_asset(layout) for layout in LAYOUTS]
