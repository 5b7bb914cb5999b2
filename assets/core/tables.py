"""Core layer: conformed observations, reporting periods, indicator series and what feeds them."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.sql_tables import keys_of, sql_table_asset
from pipelines.resources import ScorecardPaths
from scorecard.load.progress import step_progress
from scorecard.load.warehouse import preview_markdown, replace_table
from scorecard.model.catalogue import IndicatorFileError, catalogue_for
from scorecard.transform.indicator_series import build_indicator_series, indicator_sql_tables_read
from scorecard.transform.record_level_measures import monthly_measures, record_level_tables_read

sources = sql_table_asset(
    "core", "sources",
    description="The sources a figure can come from, in their order of precedence.")

areas = sql_table_asset(
    "core", "areas",
    description="Every area: the partnerships' authorities, and every authority, region and England published.")

statistical_neighbours = sql_table_asset(
    "core", "statistical_neighbours",
    description="Each authority's ten statistical neighbours, by ONS code (newest DfE model supplied).")

@dg.asset(key=["core", "record_level_measures"], deps=keys_of(record_level_tables_read()), group_name="core",
          description="Monthly measures per area from the record-level tables, by sql/record_level/*.sql "
                      "(docs/record_level.md gives the counting rules).")
def record_level_measures(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    progress = step_progress(context.log.info)
    with duckdb.get_connection() as conn:
        # (seconds at national scale, with nothing else to say while the queries run)
        progress.always("core.record_level_measures: counting the monthly measures of the record-level tables")
        rows = replace_table(conn, "core", "record_level_measures", monthly_measures(conn))
        preview = preview_markdown(conn, "core.record_level_measures")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


observations = sql_table_asset(
    "core", "observations",
    description="Every figure from every source as one long table (source, area, period, measure, breakdown, count).")

observation_periods = sql_table_asset(
    "core", "observation_periods",
    description="Observations at reporting periods: months, and financial years rolled up from months.")

stale_figures = sql_table_asset(
    "core", "stale_figures", drawn=False,
    description="Indicators and areas resting on a quarantined file's last good version.")


@dg.asset(key=["core", "indicator_series"], deps=keys_of(indicator_sql_tables_read()), group_name="core",
          description="Every catalogue indicator (data/raw/indicators/<id>.yaml), for every area and "
                      "period, with 95% and 99.8% confidence limits.")
def indicator_series(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    try:
        catalogue = catalogue_for(paths.settings.raw_dir)
        with duckdb.get_connection() as conn:
            rows_per_indicator = build_indicator_series(conn, catalogue)
            preview = preview_markdown(conn, "core.indicator_series")
    except IndicatorFileError as error:
        raise dg.Failure(description=f"Indicator file refused: {error}") from None
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(rows_per_indicator.values()),
        "rows_per_indicator": dg.MetadataValue.json(rows_per_indicator),
        "preview": dg.MetadataValue.md(preview)})
