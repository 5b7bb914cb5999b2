"""Raw layer: every extract under the raw folder, recognised, validated and loaded.

``raw/extract_files`` lists every data file seen and what it was recognised as. Then one
asset per partner-return layout (``raw/<layout>``) reads that layout's files, validates
them with pandera and, only when every row passes, replaces its table. Its check is
blocking: a refused file stops everything downstream, so nothing is published from it.
"""


import json
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.core.strategies import strategies
from expectations.layouts import LAYOUTS, Layout
from expectations.partner_returns import Problem, validate_layout
from pipelines.ees import recognise_ees
from pipelines.extracts import discover_files, read_tables, recognise_file, sha256_of
from pipelines.resources import ScorecardPaths
from pipelines.warehouse import preview_markdown, replace_table

MAX_MESSAGES_IN_METADATA = 50


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dg.asset(
    key=["raw", "extract_files"],
    group_name="raw",
    check_specs=[dg.AssetCheckSpec("every_file_recognised", asset=["raw", "extract_files"],
                                   description="Every data file under the raw folder matches a known layout.")],
    description="Every data file under the raw folder: size, sha256 and the layout its header matched.",
)
def extract_files(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    raw_dir = paths.settings.raw_dir
    seen_at = datetime.now(timezone.utc).replace(microsecond=0)
    rows = []
    for path in discover_files(raw_dir):
        file_facts = {"path": display_path(path), "size_bytes": path.stat().st_size, "sha256": sha256_of(path),
                      "seen_at": seen_at}
        if (dataset := recognise_ees(path)) is not None:
            rows.append({**file_facts, "sheet": None, "source": "dfe_published", "layout": dataset,
                         "recognition": f"DfE open data (EES), dataset '{dataset}'"})
            continue
        for recognition in recognise_file(path):
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


def _read_layout_text(layout: Layout, files: pl.DataFrame) -> pl.DataFrame:
    """All tables recognised as ``layout``, as text, with where each row came from."""
    frames = [pl.DataFrame(schema={**{c: pl.String for c in layout.column_names}, "source_file": pl.String,
                                   "source_sheet": pl.String, "source_row": pl.Int64})]
    for path, sheets in files.group_by("path", maintain_order=True).agg("sheet").iter_rows():
        wanted = set(sheets)
        for table in read_tables(Path(path)):
            if table.sheet not in wanted:
                continue
            frames.append(
                table.frame.rename(layout.match_headers(table.headers))
                .with_columns(source_file=pl.lit(path), source_sheet=pl.lit(table.sheet, dtype=pl.String))
                .select(*layout.column_names, "source_file", "source_sheet", "source_row")
                # Rows blank in every layout column are spacing, not data.
                .filter(~pl.all_horizontal(pl.col(c).is_null() for c in layout.column_names))
            )
    return pl.concat(frames, how="vertical")


def write_validation_report(out_dir: Path, name: str, title: str, files: list[str], rows: int,
                            problems: list[Problem]) -> Path:
    """JSON for machines and Markdown for people, one pair per source, rewritten every build."""
    report_dir = out_dir / "validation"
    report_dir.mkdir(parents=True, exist_ok=True)
    status = "refused" if problems else "accepted"
    (report_dir / f"{name}.json").write_text(json.dumps(
        {"layout": name, "status": status, "files": files, "rows": rows,
         "problems": [p.as_dict() for p in problems]}, indent=2), encoding="utf-8")
    lines = [f"# {title} ({name}): {status}", "", f"{rows} rows from {len(files)} file(s).", ""]
    lines += [f"- {p.message()}" for p in problems] or ["No problems found."]
    markdown = report_dir / f"{name}.md"
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return markdown


def validity_result(problems: list[Problem], report: Path, rows: int) -> dg.AssetCheckResult:
    """The blocking ``valid`` check of a raw asset: every problem in plain words, or the rows that passed."""
    messages = [p.message() for p in problems]
    return dg.AssetCheckResult(
        check_name="valid", passed=not problems,
        description=(f"{len(problems)} problem(s); nothing from these files was loaded. See {report}."
                     if problems else f"{rows} rows passed."),
        metadata={"problems": len(problems), "messages": dg.MetadataValue.json(messages[:MAX_MESSAGES_IN_METADATA]),
                  "report": dg.MetadataValue.path(str(report))},
    )


def build_raw_layout_asset(layout: Layout) -> dg.AssetsDefinition:
    key = ["raw", layout.name]

    @dg.asset(
        key=key,
        deps=[extract_files, strategies],
        group_name="raw",
        description=f"{layout.title}: {layout.description} Loaded only when every row passes validation.",
        check_specs=[dg.AssetCheckSpec("valid", asset=key, blocking=True,
                                       description=f"Every {layout.name} file passes the layout's pandera schemas.")],
    )
    def raw_layout(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
        settings = paths.settings
        with duckdb.get_connection() as conn:
            area_codes = frozenset(code for (code,) in conn.execute("select area_code from core.partnership_areas").fetchall())
            files = conn.execute("select path, sheet from raw.extract_files where source = 'partner_return' "
                                 "and layout = ? order by path, sheet", [layout.name]).pl()
        text = _read_layout_text(layout, files)
        typed, problems = validate_layout(layout, text, area_codes)
        file_list = files["path"].unique(maintain_order=True).to_list()
        report = write_validation_report(settings.out_dir, layout.name, layout.title, file_list, text.height,
                                         problems)
        for problem in problems[:MAX_MESSAGES_IN_METADATA]:
            context.log.error(problem.message())
        metadata: dict = {"files": dg.MetadataValue.json(file_list), "rows_read": text.height,
                          "report": dg.MetadataValue.path(str(report))}
        if not problems:
            with duckdb.get_connection() as conn:
                metadata["rows_loaded"] = replace_table(conn, "raw", layout.name, typed)
                metadata["preview"] = dg.MetadataValue.md(preview_markdown(conn, f"raw.{layout.name}"))
        return dg.MaterializeResult(metadata=metadata, check_results=[validity_result(problems, report, text.height)])

    return raw_layout


raw_layout_assets = [build_raw_layout_asset(layout) for layout in LAYOUTS]
