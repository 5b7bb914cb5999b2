"""One factory for every table built from a ``.sql`` file, so each is built and described alike."""


from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource

from scorecard.model.contract import MARTS_BY_NAME
from scorecard.load.warehouse import build_table_from_sql, comment_on, preview_markdown


def sql_table_asset(schema: str, table: str, deps: Sequence, description: str) -> dg.AssetsDefinition:
    """An asset that rebuilds ``schema.table`` from ``sql/<schema>/<table>.sql``."""

    @dg.asset(key=[schema, table], deps=list(deps), group_name=schema, description=description)
    def sql_table(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            rows = build_table_from_sql(conn, schema, table)
            if (mart := MARTS_BY_NAME.get(f"{schema}.{table}")) is not None:
                comment_on(conn, mart.name, mart.description, mart.columns)
            preview = preview_markdown(conn, f"{schema}.{table}")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})

    return sql_table
