"""The DuckDB warehouse: building tables from the project's ``.sql`` files, and publishing.

Assets write to a *build* database beside the published one. Only a build whose every
blocking check passed is published, by copying the build file and renaming it over the
warehouse in one step, so an analyst never sees a half-written or refused build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import polars as pl

from scorecard.paths import SQL_DIR

SCHEMAS = ("raw", "core", "marts")
# Record-level tables hold pseudonymous child keys: built and kept in the build database,
# never copied into the warehouse analysts open.
RECORD_LEVEL_TABLES = ("annex_a_list2", "annex_a_list3", "annex_a_list7", "annex_a_list8",
                       "ssda903_episodes", "hub_log", "cin_assessments")


def parquet_store_tables(view: str) -> tuple[str, str]:
    """The two tables beside a view over Parquet files (``scorecard.load.row_stores.ParquetRows``):
    the list of its files, and the empty table that gives it its columns when there are none."""
    return f"{view}__files", f"{view}__empty"


def sql_text(relative_path: str) -> str:
    """The text of ``sql/<relative_path>``; the one way code reads SQL files."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def tables_read(sql: str) -> set[str]:
    """The ``schema.table`` names a statement reads, by sqlglot's DuckDB parser: what an asset
    built from it depends on. Every table the project's SQL reads is schema-qualified, so a name
    without a schema is one of the statement's own CTEs."""
    import sqlglot
    from sqlglot import exp

    read = set()
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            # A CTE's name stands only for unqualified references: core.x is a table even
            # where a CTE is called x.
            if table.name and table.db:
                read.add(f"{table.db}.{table.name}")
    return read


def ensure_schemas(conn: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        conn.execute(f"create schema if not exists {schema}")


def build_table_from_sql(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    """(Re)build ``schema.table`` from ``sql/<schema>/<table>.sql`` (a single SELECT); rows written."""
    ensure_schemas(conn)
    conn.execute(f"create or replace table {schema}.{table} as\n{sql_text(f'{schema}/{table}.sql')}")
    return conn.execute(f"select count(*) from {schema}.{table}").fetchone()[0]


def execute_with_frame(conn: duckdb.DuckDBPyConnection, frame: pl.DataFrame, statement: str,
                       parameters: list | None = None) -> None:
    """Run ``statement`` (with its ``parameters``), in which ``_frame`` names the polars frame
    (registered for that statement alone)."""
    conn.register("_frame", frame.to_arrow())
    try:
        conn.execute(statement, parameters)
    finally:
        conn.unregister("_frame")


def replace_table(conn: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame) -> int:
    """(Re)build ``schema.table`` from a polars frame; rows written."""
    ensure_schemas(conn)
    execute_with_frame(conn, frame, f"create or replace table {schema}.{table} as select * from _frame")
    return frame.height


def append_rows(conn: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    """Add a polars frame's rows to ``table``, column by name, in one statement (a DuckDB statement
    costs about a millisecond: rows gathered into one frame are added for the price of one)."""
    execute_with_frame(conn, frame, f"insert into {table} by name select * from _frame")


def comment_on(conn: duckdb.DuckDBPyConnection, table: str, description: str, columns: dict[str, str]) -> None:
    conn.execute(f"comment on table {table} is $${description}$$")
    for column, text in columns.items():
        conn.execute(f"comment on column {table}.{column} is $${text}$$")


def preview_markdown(conn: duckdb.DuckDBPyConnection, table: str, limit: int = 5) -> str:
    """A few rows of a table as markdown, for the asset's page in Dagster."""
    frame = conn.execute(f"select * from {table} limit {limit}").pl()
    if frame.is_empty():
        return "_(no rows)_"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    body = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])


def publish(build: duckdb.DuckDBPyConnection, build_db: Path, published_db: Path) -> None:
    """Make the build the published warehouse atomically (a rename), durable before it returns.

    ``build`` is a connection to the build database, ``build_db``: it is checkpointed first, so
    the file holds everything written. The copy is made beside the warehouse, the record-level
    tables are dropped from it, and only then does it replace the warehouse: a reader sees the
    old file or the new, never a mix, and a build killed at any moment leaves the old one as it was.
    """
    build.execute("checkpoint")
    published_db.parent.mkdir(parents=True, exist_ok=True)
    staging = published_db.with_name(f".{published_db.name}.publishing")
    staging.unlink(missing_ok=True)
    shutil.copyfile(build_db, staging)
    with duckdb.connect(str(staging)) as conn:
        for table in RECORD_LEVEL_TABLES:  # views over Parquet files (scorecard.load.row_stores), and their lists
            conn.execute(f"drop view if exists raw.{table}")
            for relation in (table, *parquet_store_tables(table)):
                conn.execute(f"drop table if exists raw.{relation}")
        conn.execute("checkpoint")
    # Dropped tables leave free blocks holding their old bytes; a fresh copy leaves them behind.
    compacted = published_db.with_name(f".{published_db.name}.compacted")
    compacted.unlink(missing_ok=True)
    with duckdb.connect(str(compacted)) as conn:
        conn.execute(f"attach '{staging}' as staging (read_only)")
        conn.execute("copy from database staging to " + conn.execute("select current_database()").fetchone()[0])
        conn.execute("detach staging")
    staging.unlink()
    with compacted.open("rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(compacted, published_db)
    directory = os.open(published_db.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
