"""Raw layer: every extract under the raw folder, recognised, validated and loaded.

``raw/extract_files`` lists every data file seen now and what it was recognised as. Then
one asset per partner-return layout (``raw/<layout>``) brings its table in line with that
layout's files, file by file (``scorecard.load.ledger``): each validated with pandera, a failing
file quarantined while its last good version stays in use.
"""


from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from expectations.layouts import LAYOUTS, Layout
from pipelines.checks import load_result
from scorecard.load.ledger import FileRead, FileRef, file_by_file, sync_files
from expectations.partner_returns import validate_layout
from scorecard.ingest.ees import recognise_ees
from scorecard.ingest.neighbours import recognise_neighbours
from scorecard.ingest.record_level import recognise_record_level
from scorecard.ingest.files import discover_files, read_tables, recognise_file, sha256_of_files
from pipelines.resources import ScorecardPaths
from scorecard.load.warehouse import preview_markdown, replace_table

def raw_relative(path: Path, raw_dir: Path) -> str:
    """A file's identity: its path under the raw folder, so the warehouse survives the folder moving."""
    return path.relative_to(raw_dir).as_posix()


@dg.asset(
    key=["raw", "extract_files"],
    group_name="raw",
    check_specs=[dg.AssetCheckSpec("every_file_recognised", asset=["raw", "extract_files"],
                                   description="Every data file under the raw folder matches a known layout.")],
    description="Every data file under the raw folder (paths relative to it): size, sha256 and the layout "
                "its header matched.",
)
def extract_files(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    raw_dir = paths.settings.raw_dir
    seen_at = datetime.now(timezone.utc).replace(microsecond=0)
    rows = []
    found = discover_files(raw_dir)
    for path, sha256 in zip(found, sha256_of_files(found)):
        file_facts = {"path": raw_relative(path, raw_dir), "size_bytes": path.stat().st_size, "sha256": sha256,
                      "seen_at": seen_at}
        if recognise_neighbours(path):
            rows.append({**file_facts, "sheet": None, "source": "dfe_reference", "layout": "statistical_neighbours",
                         "recognition": "DfE statistical neighbours"})
            continue
        if (dataset := recognise_ees(path)) is not None:
            rows.append({**file_facts, "sheet": None, "source": "dfe_published", "layout": dataset,
                         "recognition": f"DfE open data (EES), dataset '{dataset}'"})
            continue
        record_level = recognise_record_level(path)
        for kind, sheet in record_level:
            rows.append({**file_facts, "sheet": sheet, "source": "record_level", "layout": kind,
                         "recognition": f"record-level extract '{kind}'"})
        record_sheets = {sheet for _, sheet in record_level}
        for recognition in recognise_file(path):
            if record_level and recognition.sheet in record_sheets:
                continue
            if record_level and recognition.layout is None:
                continue  # other sheets of an Annex A workbook (lists 1, 4, 5...) hold nothing we use
            rows.append({**file_facts, "sheet": recognition.sheet, "source": "partner_return",
                         "layout": recognition.layout.name if recognition.layout else None,
                         "recognition": recognition.reason})
    frame = pl.DataFrame(rows, schema={"path": pl.String, "sheet": pl.String, "source": pl.String,
                                       "layout": pl.String,
                                       "recognition": pl.String, "size_bytes": pl.Int64, "sha256": pl.String,
                                       "seen_at": pl.Datetime("us", "UTC")})
    unrecognised = frame.filter(pl.col("layout").is_null())
    messages = [f"{r['path']}" + (f", sheet '{r['sheet']}'" if r["sheet"] else "") + f": not loaded, {r['recognition']}"
                for r in unrecognised.iter_rows(named=True)]
    for message in messages:
        context.log.warning(message)
    with duckdb.get_connection() as conn:
        replace_table(conn, "raw", "extract_files", frame)
        preview = preview_markdown(conn, "raw.extract_files")
    return dg.MaterializeResult(
        metadata={"files": frame["path"].n_unique(), "tables_recognised": frame.height - unrecognised.height,
                  "preview": dg.MetadataValue.md(preview)},
        check_results=[dg.AssetCheckResult(
            check_name="every_file_recognised", passed=not messages, severity=dg.AssetCheckSeverity.WARN,
            metadata={"not_recognised": dg.MetadataValue.json(messages)},
            description="\n".join(messages) or "Every data file matched a layout.",
        )],
    )


def read_layout_file(layout: Layout, raw_dir: Path, ref: FileRef, area_codes: frozenset[str]) -> FileRead:
    """One file (or sheet) of ``layout``: its rows validated and typed, or its problems."""
    table = next(t for t in read_tables(raw_dir / ref.path) if t.sheet == ref.sheet)
    text = (table.frame.rename(layout.match_headers(table.headers))
            .with_columns(source_file=pl.lit(ref.path), source_sheet=pl.lit(ref.sheet, dtype=pl.String))
            .select(*layout.column_names, "source_file", "source_sheet", "source_row")
            # Rows blank in every layout column are spacing, not data.
            .filter(~pl.all_horizontal(pl.col(c).is_null() for c in layout.column_names)))
    typed, problems = validate_layout(layout, text, area_codes)
    return FileRead(typed, text.height, problems)


def empty_layout_rows(layout: Layout) -> pl.DataFrame:
    """The typed, empty frame of a layout: the shape of its raw table."""
    text = pl.DataFrame(schema={**{c: pl.String for c in layout.column_names}, "source_file": pl.String,
                                "source_sheet": pl.String, "source_row": pl.Int64})
    return validate_layout(layout, text, frozenset())[0]


def files_of(conn, source: str, layout: str | None = None) -> list[FileRef]:
    """The files (and sheets) under the raw folder now recognised as ``source`` (and ``layout``)."""
    query = ("select path, sheet, sha256, size_bytes from raw.extract_files where source = ? "
             + ("and layout = ? " if layout else "") + "order by path, sheet")
    rows = conn.execute(query, [source, layout] if layout else [source]).fetchall()
    return [FileRef(*row) for row in rows]


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
    def raw_layout(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
        settings = paths.settings
        with duckdb.get_connection() as conn:
            area_codes = frozenset(code for (code,) in conn.execute("select area_code from core.partnership_areas").fetchall())
            outcome = sync_files(
                conn, table=f"raw.{layout.name}", source="partner_return", layout=layout.name,
                files=files_of(conn, "partner_return", layout.name),
                read=file_by_file(lambda ref: read_layout_file(layout, settings.raw_dir, ref, area_codes)),
                empty=empty_layout_rows(layout), out_dir=settings.out_dir, key=layout.unique_key_columns)
            preview = preview_markdown(conn, f"raw.{layout.name}")
            rows = conn.execute(f"select count(*) from raw.{layout.name}").fetchone()[0]
        return load_result(context, settings.out_dir, layout.name, layout.title, outcome,
                           {"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})

    return raw_layout


raw_layout_assets = [build_raw_layout_asset(layout) for layout in LAYOUTS]
