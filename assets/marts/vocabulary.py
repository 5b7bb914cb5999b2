"""Marts: what the data team's vocabulary does not place (``marts.unmapped_values``), and its report."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.sql_tables import NOT_DRAWN, keys_of
from pipelines.resources import ScorecardPaths
from scorecard.ingest.vocabulary import load_vocabulary
from scorecard.load.warehouse import build_table_from_sql, comment_on, sql_text, tables_read
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.transform.unmapped_values import write_unmapped_report

UNMAPPED_VALUES = MARTS_BY_NAME["marts.unmapped_values"]


@dg.asset(key=["marts", "unmapped_values"], group_name="marts", description=UNMAPPED_VALUES.description,
          deps=keys_of(tables_read(sql_text("marts/unmapped_values.sql"))), op_tags=NOT_DRAWN)
def unmapped_values(paths: ScorecardPaths, duckdb: DuckDBResource) -> dg.MaterializeResult:
    settings = paths.settings
    problems = load_vocabulary(settings.raw_dir).problems
    with duckdb.get_connection() as conn:
        rows = build_table_from_sql(conn, "marts", "unmapped_values")
        comment_on(conn, UNMAPPED_VALUES.name, UNMAPPED_VALUES.description, UNMAPPED_VALUES.columns)
        report = write_unmapped_report(conn, settings.validation_dir, problems)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "vocabulary_problems": len(problems),
                                          "report": dg.MetadataValue.path(str(report))})
