"""Outputs: the published warehouse, and the charts and reports drawn from it."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.core import strategies as core_strategies
from assets.core import tables as core_tables
from assets.marts import benchmarking
from assets.marts import tables as mart_tables
from assets.marts import vocabulary as mart_vocabulary
from assets.raw import dfe_open_data, fingertips, ledger, partner_returns, record_level
from pipelines.resources import ChartBrowser, ScorecardPaths
from scorecard.load.warehouse import publish
from scorecard.publish.charts import start_pngs, write_charts
from scorecard.publish.report import write_reports

TABLE_MODULES = [partner_returns, dfe_open_data, fingertips, record_level, ledger, core_strategies, core_tables,
                 mart_tables, benchmarking, mart_vocabulary]
# Every table the build writes: the warehouse is published only once all of them are built.
EVERY_TABLE = sorted({key for asset in dg.load_assets_from_modules(TABLE_MODULES) for key in asset.keys},
                     key=lambda key: key.path)


@dg.asset(key=["outputs", "published_warehouse"], group_name="outputs", deps=EVERY_TABLE,
          description="Copies the checked build over the warehouse analysts query, in one atomic rename.")
def published_warehouse(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as build:
        publish(build, settings.build_db_path, settings.db_path)
    return dg.MaterializeResult(metadata={"warehouse": dg.MetadataValue.path(str(settings.db_path)),
                                          "size_bytes": settings.db_path.stat().st_size})


# The marts a chart's figure shows (scorecard.publish.marts.read_marts without marts.scorecard).
CHART_MARTS = [dg.AssetKey(["marts", name]) for name in (
    "indicators", "indicator_values", "indicator_breakdowns", "targets", "benchmarks", "spc",
    "contributory_factors")] + [
    dg.AssetKey(["core", "partnership_areas"])]


# Runs as soon as the marts it draws are built, ahead of the warehouse's checks ("dagster/priority"
# orders the steps that are ready), so Chromium draws in its own processes while they run.
@dg.asset(key=["outputs", "chart_images"], group_name="outputs", deps=CHART_MARTS,
          op_tags={"dagster/priority": "1"},
          description="Starts drawing the PNG of every chart whose figure changed, into a staging folder beside "
                      "the charts, while the warehouse is checked and published; outputs/indicator_charts waits "
                      "for them and moves them into place.")
def chart_images(paths: ScorecardPaths, duckdb: DuckDBResource, chart_browser: ChartBrowser) -> dg.MaterializeResult:
    if not chart_browser.images:  # (SCORECARD_CHART_IMAGES=off)
        return dg.MaterializeResult(metadata={"pngs_started": 0})
    with duckdb.get_connection() as conn:
        started = start_pngs(conn, paths.settings.charts_dir, chart_browser.renderer,
                             disclosure_control=paths.settings.disclosure_control)
    return dg.MaterializeResult(metadata={"pngs_started": started})


@dg.asset(key=["outputs", "indicator_charts"], group_name="outputs", deps=[published_warehouse, chart_images],
          description="One plotly chart per indicator and area (offline HTML and PNG) and an index page. A PNG "
                      "the browser did not draw in time is named, and drawn by the next build.")
def indicator_charts(context: dg.AssetExecutionContext, paths: ScorecardPaths, duckdb: DuckDBResource,
                     chart_browser: ChartBrowser) -> dg.MaterializeResult:
    charts_dir = paths.settings.charts_dir
    with duckdb.get_connection() as conn:
        charts = write_charts(conn, charts_dir, png=chart_browser.images,
                              disclosure_control=paths.settings.disclosure_control,
                              renderer=chart_browser.started, browser_timeout=chart_browser.timeout_seconds)
    metadata = {"charts": len(charts), "index": dg.MetadataValue.path(str(charts_dir / "index.html"))}
    if charts.png_message:  # (the build's final message repeats it: pipelines.cli)
        context.log.warning(charts.png_message)
        metadata["png_export"] = charts.png_message
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(key=["outputs", "partnership_reports"], group_name="outputs", deps=[published_warehouse, indicator_charts],
          description="One self-contained HTML report and one Word paper per partnership: the committee's "
                      "periods as at a date (SCORECARD_REPORT_AS_AT, else the last complete quarter), the "
                      "scorecard, then a section per indicator (chart and a sentence from the data), and the "
                      "contributory factors. The figures shown are added to the record beside the warehouse.")
def partnership_reports(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        reports = write_reports(conn, settings.reports_dir, settings.charts_dir,
                                disclosure_control=settings.disclosure_control, as_at=settings.report_as_at,
                                history_path=settings.reported_figures_path, images=settings.chart_images)
    return dg.MaterializeResult(metadata={
        "reports": dg.MetadataValue.json([str(r) for r in reports]),
        "disclosure_control": settings.disclosure_control})
