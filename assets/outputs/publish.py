"""Outputs: the published warehouse, and the charts drawn from it."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.marts.benchmarking import benchmarks, contributory_factors, scorecard, spc
from assets.marts.tables import (eha_neglect_by_agency, indicator_values, indicators, published_value_checks,
                                 source_disagreements, targets)
from scorecard.publish.charts import write_charts
from scorecard.publish.report import write_reports
from pipelines.resources import ChartBrowser, ScorecardPaths
from scorecard.load.warehouse import publish


@dg.asset(key=["outputs", "published_warehouse"], group_name="outputs",
          deps=[indicators, indicator_values, targets, scorecard, eha_neglect_by_agency, source_disagreements,
                published_value_checks, benchmarks, spc, contributory_factors],
          description="Copies the checked build over the warehouse analysts query, in one atomic rename.")
def published_warehouse(paths: ScorecardPaths) -> dg.MaterializeResult:
    settings = paths.settings
    publish(settings.build_db_path, settings.db_path)
    return dg.MaterializeResult(metadata={"warehouse": dg.MetadataValue.path(str(settings.db_path)),
                                          "size_bytes": settings.db_path.stat().st_size})


@dg.asset(key=["outputs", "indicator_charts"], group_name="outputs", deps=[published_warehouse],
          description="One plotly chart per indicator and area (offline HTML and PNG) and an index page.")
def indicator_charts(paths: ScorecardPaths, duckdb: DuckDBResource, chart_browser: ChartBrowser) -> dg.MaterializeResult:
    charts_dir = paths.settings.charts_dir
    with duckdb.get_connection() as conn:
        charts = write_charts(conn, charts_dir, disclosure_control=paths.settings.disclosure_control,
                              renderer=chart_browser.started)
    return dg.MaterializeResult(metadata={
        "charts": len(charts), "index": dg.MetadataValue.path(str(charts_dir / "index.html"))})


@dg.asset(key=["outputs", "partnership_reports"], group_name="outputs", deps=[published_warehouse, indicator_charts],
          description="One self-contained HTML report per partnership: the scorecard, then a section per "
                      "indicator (chart and a sentence from the data), and the contributory factors.")
def partnership_reports(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    with duckdb.get_connection() as conn:
        reports = write_reports(conn, settings.reports_dir, settings.charts_dir,
                                disclosure_control=settings.disclosure_control)
    return dg.MaterializeResult(metadata={
        "reports": dg.MetadataValue.json([str(r) for r in reports]),
        "disclosure_control": settings.disclosure_control})
