"""Marts: the analyst-facing tables (the warehouse contract in scorecard/model/contract.py)."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.sql_tables import NOT_DRAWN, sql_table_asset
from pipelines.resources import ScorecardPaths
from scorecard.load.reported_figures import load_reported_figures
from scorecard.model.catalogue import IndicatorFileError, catalogue_for
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.model.reported import ReportedFiguresError
from scorecard.transform.catalogue_tables import build_catalogue_tables


@dg.multi_asset(
    specs=[dg.AssetSpec(["marts", "indicators"], group_name="marts",
                        description=MARTS_BY_NAME["marts.indicators"].description),
           dg.AssetSpec(["core", "indicator_measures"], group_name="core",
                        description="The measures each indicator is made from (numerator or denominator, "
                                    "breakdown, flow or stock), for the SQL.")],
    name="indicator_catalogue")
def indicator_catalogue(paths: ScorecardPaths, duckdb: DuckDBResource):
    """The indicator catalogue (the indicator files, scorecard/model/catalogue.py) as tables."""
    try:
        catalogue = catalogue_for(paths.settings.raw_dir)
    except IndicatorFileError as error:
        raise dg.Failure(description=f"Indicator file refused: {error}") from None
    with duckdb.get_connection() as conn:
        rows = build_catalogue_tables(conn, catalogue)
    for table, count in rows.items():
        yield dg.MaterializeResult(asset_key=table.split("."), metadata={"dagster/row_count": count})


def mart_from_sql(table: str, drawn: bool = True) -> dg.AssetsDefinition:
    return sql_table_asset("marts", table, description=MARTS_BY_NAME[f"marts.{table}"].description, drawn=drawn)


indicator_values_by_source = mart_from_sql("indicator_values_by_source")
indicator_values = mart_from_sql("indicator_values")
source_disagreements = mart_from_sql("source_disagreements", drawn=False)
published_value_checks = mart_from_sql("published_value_checks", drawn=False)
targets = mart_from_sql("targets")
trajectories = mart_from_sql("trajectories", drawn=False)
milestones = mart_from_sql("milestones", drawn=False)
eha_neglect_by_agency = mart_from_sql("eha_neglect_by_agency", drawn=False)
indicator_breakdowns = mart_from_sql("indicator_breakdowns")
contributory_factors = mart_from_sql("contributory_factors")


@dg.asset(key=["marts", "reported_figures"], group_name="marts", op_tags=NOT_DRAWN,
          description=MARTS_BY_NAME["marts.reported_figures"].description)
def reported_figures(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    try:
        with duckdb.get_connection() as conn:
            rows = load_reported_figures(conn, paths.settings.reported_figures_path)
    except ReportedFiguresError as error:
        raise dg.Failure(description=str(error)) from None
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


revisions = mart_from_sql("revisions", drawn=False)
