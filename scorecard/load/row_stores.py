"""Where ``sync_files`` keeps a raw table's rows: in the DuckDB table itself, or as Parquet files.

Both keep, for every row, the file (and sheet) it came from and that file's sha256, and both
change only inside the caller's transaction, so a build that stops part way leaves the rows
as they were.

- ``TableRows``: a DuckDB table (partner returns, DfE open data: thousands of rows).
- ``ParquetRows``: one Parquet file per source file in a folder beside the build database,
  ``table`` a view over them (record-level extracts: millions of rows). DuckDB appends about
  two million rows a second here, on the one thread that holds the connection; polars writes
  Parquet ten times faster, on the threads that read the files. A file's Parquet is written
  (under a name no other version shares), and flushed to disk, before the transaction that
  lists it in ``<table>__files`` and points the view at it commits; the files it replaces are
  deleted only after that commit; files no commit lists (a build stopped part way) are deleted
  by the next build.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb
import polars as pl

from scorecard.load.warehouse import append_rows, execute_with_frame, parquet_store_tables

if TYPE_CHECKING:
    from scorecard.load.file_refs import FileRef

PROVENANCE = ("source_file", "source_sheet", "source_sha256")
# A file's rows: its path and sheet (None for a CSV) as the two parameters.
OF_FILE = "source_file = ? and source_sheet is not distinct from ?"


def columns_of(conn: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in conn.execute(f"describe {relation}").fetchall()]


def _table_exists(conn: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation.split(".")
    return conn.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                        [schema, name]).fetchone()[0] > 0


def _changed_columns(before: list[tuple[str, str]], after: list[tuple[str, str]]) -> str:
    return ", ".join(sorted({column for column, _ in set(before) ^ set(after)}))


def _provenance(ref: FileRef, columns: list[str]) -> dict[str, str | None]:
    """Where the rows came from, from the file's ref: the columns the reader did not write itself."""
    return {name: value for name, value in zip(PROVENANCE, (ref.path, ref.sheet, ref.sha256))
            if name not in columns}


class RowStore(Protocol):
    def prepare(self, empty: pl.DataFrame, version: str) -> str | None:
        """Create the table if needed; if it holds rows read another way (columns, types or
        ``version`` changed), empty it first and return why (the caller loads every file again)."""

    def held(self) -> dict[tuple[str, str | None], str]:
        """(file, sheet) -> sha256 of the version whose rows the table holds."""

    def stage(self, ref: FileRef, rows: pl.DataFrame) -> object:
        """Work done on the reading thread, before the rows are written (thread-safe)."""

    def remove(self, path: str, sheet: str | None) -> int:
        """Drop a file's rows (in the caller's transaction); how many there were."""

    def add(self, ref: FileRef, staged: object) -> None:
        """Add a file's staged rows (in the caller's transaction)."""

    def before_commit(self) -> None:
        """Last work inside the caller's transaction (what ``add`` staged made durable)."""

    def after_commit(self) -> None:
        """Clean up what the commit made obsolete."""

    def after_rollback(self) -> None:
        """Forget what the rolled-back transaction was to change."""

    def rows_of(self, path: str, sheet: str | None) -> int:
        """How many rows of the file the table holds."""


@dataclass
class TableRows:
    """Rows in the DuckDB table ``table`` itself."""

    conn: duckdb.DuckDBPyConnection
    table: str

    def prepare(self, empty: pl.DataFrame, version: str) -> str | None:
        # (``version`` is for readers that can read a file two ways: none of this store's can)
        self.conn.register("_empty", empty.to_arrow())
        try:
            reason = None
            if _table_exists(self.conn, self.table) and (
                    before := columns_of(self.conn, self.table)) != (after := columns_of(self.conn, "_empty")):
                reason = f"the table's columns changed ({_changed_columns(before, after)})"
                self.conn.execute(f"drop table {self.table}")
            self.conn.execute(f"create table if not exists {self.table} as select * from _empty")
        finally:
            self.conn.unregister("_empty")
        return reason

    def held(self) -> dict[tuple[str, str | None], str]:
        return {(path, sheet): sha for path, sheet, sha in self.conn.execute(
            f"select distinct source_file, source_sheet, source_sha256 from {self.table}").fetchall()}

    def stage(self, ref: FileRef, rows: pl.DataFrame) -> pl.DataFrame:
        return rows

    def remove(self, path: str, sheet: str | None) -> int:
        return self.conn.execute(f"delete from {self.table} where {OF_FILE}", [path, sheet]).fetchone()[0]

    def add(self, ref: FileRef, staged: pl.DataFrame) -> None:
        provenance = _provenance(ref, staged.columns)
        stamped = "".join(f", ?::varchar as {name}" for name in provenance)
        execute_with_frame(self.conn, staged, f"insert into {self.table} by name select *{stamped} from _frame",
                           list(provenance.values()))

    def before_commit(self) -> None:
        pass

    def after_commit(self) -> None:
        pass

    def after_rollback(self) -> None:
        pass

    def rows_of(self, path: str, sheet: str | None) -> int:
        return self.conn.execute(f"select count(*) from {self.table} where {OF_FILE}", [path, sheet]).fetchone()[0]


# ``<table>__files``: the Parquet file holding each source file's rows
_LISTING_SCHEMA = {"source_file": pl.String, "source_sheet": pl.String, "source_sha256": pl.String,
                   "parquet_file": pl.String, "rows": pl.Int64}


@dataclass(frozen=True)
class StagedParquet:
    name: str  # file name in the store's folder
    rows: int


@dataclass
class ParquetRows:
    """Rows in one Parquet file per source file under ``folder``; ``table`` is a view over them,
    ``<table>__files`` lists them and ``<table>__empty`` gives the view its columns when there are none."""

    conn: duckdb.DuckDBPyConnection
    table: str
    folder: Path

    def __post_init__(self) -> None:
        self.files_table, self.empty_table = parquet_store_tables(self.table)
        self._superseded: list[str] = []  # files this transaction stops listing (or never listed)
        self._added: list[tuple[FileRef, StagedParquet]] = []  # files this transaction lists
        self._schema: pl.Schema = pl.Schema()

    def prepare(self, empty: pl.DataFrame, version: str) -> str | None:
        conn = self.conn
        reason = None
        if _table_exists(conn, self.table):  # an earlier release kept these rows in the table itself
            reason = "the rows are now kept as Parquet files beside the build database"
            conn.execute(f"drop table {self.table}")
        conn.register("_empty", empty.to_arrow())
        try:
            if _table_exists(conn, self.empty_table):
                before, after = columns_of(conn, self.empty_table), columns_of(conn, "_empty")
                stamped = conn.execute("select comment from duckdb_tables() where schema_name || '.' || table_name = ?",
                                       [self.files_table]).fetchone()
                holds_rows = stamped is not None and conn.execute(
                    f"select count(*) from {self.files_table}").fetchone()[0] > 0
                if before != after or (stamped or [None])[0] != version:
                    if holds_rows and not reason:
                        reason = (f"the table's columns changed ({_changed_columns(before, after)})" if before != after
                                  else f"the way rows are read changed (now: {version})")
                    conn.execute(f"drop table {self.empty_table}")
                    conn.execute(f"drop table if exists {self.files_table}")
            conn.execute(f"create table if not exists {self.empty_table} as select * from _empty")
        finally:
            conn.unregister("_empty")
        conn.execute(f"create table if not exists {self.files_table} (source_file varchar, source_sheet varchar, "
                     "source_sha256 varchar, parquet_file varchar, rows bigint)")
        conn.execute(f"comment on table {self.files_table} is $${version}$$")
        self._schema = empty.schema  # what every Parquet file holds, column by column
        self.folder.mkdir(parents=True, exist_ok=True)
        listed = {name for (name,) in conn.execute(f"select parquet_file from {self.files_table}").fetchall()}
        # Files written by a build that stopped before its commit, or emptied by a reset: deleted
        # once this commits (after_commit).
        self._superseded = [path.name for path in self.folder.iterdir() if path.name not in listed]
        self._point_view()  # (the folder may have moved since the view was made)
        return reason

    def _point_view(self) -> None:
        names = [name for (name,) in self.conn.execute(
            f"select parquet_file from {self.files_table} order by source_file, source_sheet").fetchall()]
        # (every file has the empty table's columns and types: ``stage``; a reset empties the folder)
        query = f"select * from {self.empty_table}"
        if names:
            paths = ", ".join("'" + str(self.folder / name).replace("'", "''") + "'" for name in names)
            query = f"select * from read_parquet([{paths}])"
        self.conn.execute(f"create or replace view {self.table} as {query}")

    def held(self) -> dict[tuple[str, str | None], str]:
        return {(path, sheet): sha for path, sheet, sha in self.conn.execute(
            f"select source_file, source_sheet, source_sha256 from {self.files_table}").fetchall()}

    def stage(self, ref: FileRef, rows: pl.DataFrame) -> StagedParquet:
        """Write the rows, with where they came from, to a Parquet file of their own."""
        provenance = _provenance(ref, rows.columns)
        # (one value per file: as a categorical, Parquet stores and polars writes it once)
        frame = rows.with_columns(pl.lit(value, dtype=pl.Categorical).alias(name) for name, value in provenance.items())
        frame = frame.select(pl.col(name) if name in provenance else pl.col(name).cast(dtype)
                             for name, dtype in self._schema.items())
        identity = hashlib.sha256(f"{ref.path}\0{ref.sheet}".encode()).hexdigest()[:16]
        name = f"{identity}-{ref.sha256[:16]}.parquet"
        writing = self.folder / f".{name}.writing"
        frame.write_parquet(writing, compression="lz4", statistics=True)
        os.replace(writing, self.folder / name)  # (made durable by before_commit, on the main thread)
        return StagedParquet(name, frame.height)

    def remove(self, path: str, sheet: str | None) -> int:
        removed = self.conn.execute(
            f"delete from {self.files_table} where {OF_FILE} returning parquet_file, rows", [path, sheet]).fetchall()
        self._superseded += [name for name, _ in removed]
        return sum(rows for _, rows in removed)

    def add(self, ref: FileRef, staged: StagedParquet) -> None:
        self._added.append((ref, staged))  # listed by before_commit, all in one statement

    def before_commit(self) -> None:
        """The files this transaction lists are on disk, names too (done here, on the thread that
        waits for the readers, rather than on the readers), then listed, all in one statement."""
        for _, staged in self._added:
            with (self.folder / staged.name).open("rb+") as handle:
                os.fsync(handle.fileno())
        directory = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        if self._added:
            append_rows(self.conn, self.files_table, pl.DataFrame(
                [(ref.path, ref.sheet, ref.sha256, staged.name, staged.rows) for ref, staged in self._added],
                orient="row", schema=_LISTING_SCHEMA))
            self._added.clear()
        self._point_view()

    def after_commit(self) -> None:
        for name in self._superseded:
            (self.folder / name).unlink(missing_ok=True)
        self._superseded.clear()

    def after_rollback(self) -> None:
        self._superseded.clear()  # still listed: kept (the staged files are deleted by the next build)
        self._added.clear()

    def rows_of(self, path: str, sheet: str | None) -> int:
        return self.conn.execute(f"select coalesce(sum(rows), 0) from {self.files_table} where {OF_FILE}",
                                 [path, sheet]).fetchone()[0]
