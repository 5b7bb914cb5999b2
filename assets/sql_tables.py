"""One factory for every table built from a ``.sql`` file, so each is built and described alike,
and the rule that gives every asset built from SQL its dependencies: the tables its SQL reads."""


from collections.abc import Iterable

import dagster as dg
from dagster_duckdb import DuckDBResource

from scorecard.load.warehouse import build_table_from_sql, comment_on, preview_markdown, sql_text, tables_read
from scorecard.model.contract import MARTS_BY_NAME

# The op tags of a table no chart is drawn from: among the steps ready at once, Dagster runs those
# of higher priority first, so the charts' tables are built, and outputs/chart_images hands
# Chromium the PNGs, before these (which are then built while Chromium draws).
NOT_DRAWN = {"dagster/priority": "-1"}


def keys_of(tables: Iterable[str]) -> list[dg.AssetKey]:
    """The asset keys of ``schema.table`` names (every table a build writes is an asset of that key)."""
    return [dg.AssetKey(name.split(".")) for name in sorted(tables)]


def sql_table_asset(schema: str, table: str, description: str, drawn: bool = True) -> dg.AssetsDefinition:
    """An asset that rebuilds ``schema.table`` from ``sql/<schema>/<table>.sql``, depending on
    exactly the tables that file reads. ``drawn=False``: no chart is drawn from it (NOT_DRAWN)."""

    @dg.asset(key=[schema, table], deps=keys_of(tables_read(sql_text(f"{schema}/{table}.sql"))),
              group_name=schema, description=description, op_tags=None if drawn else NOT_DRAWN)
    def sql_table(duckdb: DuckDBResource) -> dg.MaterializeResult:
        with duckdb.get_connection() as conn:
            rows = build_table_from_sql(conn, schema, table)
            if (mart := MARTS_BY_NAME.get(f"{schema}.{table}")) is not None:
                comment_on(conn, mart.name, mart.description, mart.columns)
            preview = preview_markdown(conn, f"{schema}.{table}")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})

    return sql_table
