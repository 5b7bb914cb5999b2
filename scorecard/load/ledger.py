"""Loading extracts file by file, with a ledger, so nothing is lost, duplicated or half-written.

Each raw table keeps, for every row, the file (and sheet) it came from and that file's
sha256. A build then, for each source table:

- skips a file whose content it already holds (an unchanged file is not reloaded);
- replaces exactly a changed file's own rows, in the same transaction as its ledger row,
  once the new version passes validation (files that passed are written a batch per
  transaction, read ahead on worker threads meanwhile);
- keeps the rows in a DuckDB table, or, for millions of record-level rows, as a Parquet file
  per source file with a view over them (``scorecard.load.row_stores``);
- quarantines a file that fails: nothing from it is loaded, its last good version (if any)
  stays in use, and a report lists every problem;
- retires the rows of a file that is no longer there, and says so;
- reloads every file when a new release reads them into other columns or types, or another
  way (a new pseudonymisation key, say).

Every outcome is a row in ``raw.load_ledger``: path, sheet, size, sha256, source, layout,
status, rows read, rows accepted, problems and time.
"""

import hashlib
import json
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from expectations.partner_returns import Problem
from expectations.problem_groups import group_failures
from scorecard.load.file_refs import FileRead, FileRef, SyncOutcome
from scorecard.load.row_stores import ParquetRows, RowStore, TableRows
from scorecard.load.warehouse import append_rows
from scorecard.model.markdown import escape_markdown

T = TypeVar("T")
MAX_MESSAGES_IN_METADATA = 50
# Files that passed are written together, in one transaction, up to about this many rows: fewer
# commits, while holding at most this many rows in memory.
ROWS_PER_TRANSACTION = 1_000_000
# Three reading threads on two cores: a thread's Python steps (and polars' single-threaded ones)
# leave a core idle that a third fills (raw tables ~8% faster at 10M referrals than with two).
READ_THREADS = 3
READ_AHEAD = 3  # batches of files read but not yet written, at most
# A batch is at most 16 MB of files (or one larger file): reading one takes seconds. A reader
# that has not answered in this long is stuck, and the build says so rather than wait for ever.
READ_BATCH_TIMEOUT_SECONDS = 900
BATCH_FILES = 32  # files read together, at most (``sync_files``'s batch_bytes)

LEDGER_DDL = """
create table if not exists raw.load_ledger (
    recorded_at timestamptz, path varchar, sheet varchar, sha256 varchar, size_bytes bigint,
    source varchar, layout varchar, status varchar, rows_read bigint, rows_accepted bigint,
    problems bigint, detail varchar)
"""


_LEDGER_SCHEMA = {"recorded_at": pl.Datetime("us", "UTC"), "path": pl.String, "sheet": pl.String, "sha256": pl.String,
                  "size_bytes": pl.Int64, "source": pl.String, "layout": pl.String, "status": pl.String,
                  "rows_read": pl.Int64, "rows_accepted": pl.Int64, "problems": pl.Int64, "detail": pl.String}


def _ledger_row(ref: FileRef | None, path: str, sheet: str | None, source: str, layout: str, status: str,
                rows_read: int, rows_accepted: int, problems: int, detail: str) -> tuple:
    return (datetime.now(UTC), path, sheet, ref.sha256 if ref else None, ref.size_bytes if ref else None,
            source, layout, status, rows_read, rows_accepted, problems, detail)


def _record(conn: duckdb.DuckDBPyConnection, *rows: tuple) -> None:
    """Rows (``_ledger_row``) added to the ledger in one statement, however many files they are about."""
    append_rows(conn, "raw.load_ledger", pl.DataFrame(rows, schema=_LEDGER_SCHEMA, orient="row"))


def quarantine_report_path(out_dir: Path, ref: FileRef) -> Path:
    """The report of a refused file (or sheet): its name made safe, and unique by a digest of the
    exact path and sheet, so that two files whose names differ only by a space never share one."""
    where = ref.path + (f"__{ref.sheet}" if ref.sheet else "")
    name = re.sub(r"[^0-9A-Za-z._-]+", "_", where)[:120]
    digest = hashlib.sha256(json.dumps([ref.path, ref.sheet]).encode()).hexdigest()[:8]
    return out_dir / "quarantine" / f"{name}-{digest}.md"


def _write_quarantine_report(out_dir: Path, ref: FileRef, problems: list[Problem], kept_rows: int) -> Path:
    markdown = quarantine_report_path(out_dir, ref)
    markdown.parent.mkdir(parents=True, exist_ok=True)
    kept = (f"Its last good version ({kept_rows} rows) stays in use until a corrected file arrives."
            if kept_rows else "No earlier version of it was loaded, so its figures are missing until it is corrected.")
    markdown.with_suffix(".json").write_text(json.dumps(
        {"file": ref.path, "sheet": ref.sheet, "sha256": ref.sha256, "status": "quarantined",
         "rows_kept_from_last_good_version": kept_rows, "problems": [p.as_dict() for p in problems]},
        indent=2), encoding="utf-8")
    # (what the report quotes, file names included, is escaped: it is shown, never run)
    lines = [f"# Quarantined: {escape_markdown(ref.where)}", "", f"Nothing from this version was loaded. {kept}", "",
             f"{len(problems)} problem(s):", ""] + [f"- {escape_markdown(p.message())}" for p in problems]
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return markdown


def _clear_quarantine_report(out_dir: Path, ref: FileRef) -> None:
    report = quarantine_report_path(out_dir, ref)
    for path in (report, report.with_suffix(".json")):
        path.unlink(missing_ok=True)


def _key_conflicts(conn: duckdb.DuckDBPyConnection, table: str, ref: FileRef, rows: pl.DataFrame,
                   key: Sequence[str]) -> list[Problem]:
    """Rows of the incoming file whose key another file already gives."""
    """Rows of the incoming file whose key another file already gives, grouped by that file
    (``group_failures``: a whole file given twice is one problem, not one a row)."""
    if not key or rows.is_empty():
        return []
    conn.register("_incoming_keys", rows.select(*key, "source_row").to_arrow())
    try:
        clashes = conn.execute(
            f"select incoming.source_row as row, existing.source_file as other_file, existing.source_row as other_row "
            f"from _incoming_keys as incoming join {table} as existing using ({', '.join(key)}) "
            f"where not (existing.source_file = ? and existing.source_sheet is not distinct from ?) "
            f"order by incoming.source_row", [ref.path, ref.sheet]).pl()
    finally:
        conn.unregister("_incoming_keys")
    first, last = pl.col("other_row").min().over("other_file"), pl.col("other_row").max().over("other_file")
    other_rows = pl.when(first == last).then(pl.format("row {}", first)).otherwise(pl.format("rows {}-{}", first, last))
    return group_failures(clashes.select(
        file=pl.lit(ref.path), sheet=pl.lit(ref.sheet, dtype=pl.String), row=pl.col("row").cast(pl.Int64),
        column=pl.lit(None, dtype=pl.String), value=pl.lit(None, dtype=pl.String),
        rule=pl.format("{} ({}) already gives the same {}; each may appear in only one file", "other_file",
                       other_rows, pl.lit(", ".join(key))),
        withheld=pl.lit(False)))


class ReadTimeout(RuntimeError):
    """A batch of files whose reading gave no answer within READ_BATCH_TIMEOUT_SECONDS."""


@contextmanager
def _transaction(conn: duckdb.DuckDBPyConnection, store: RowStore) -> Iterator[None]:
    """One transaction over a table's rows and their ledger rows, with the store's own work
    before the commit, after it, or after a rollback."""
    conn.execute("begin transaction")
    try:
        yield
        store.before_commit()
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        store.after_rollback()
        raise
    store.after_commit()


def _batches(refs: Sequence[FileRef], batch_bytes: int) -> Iterator[list[FileRef]]:
    """Consecutive files, as many as come to ``batch_bytes`` (a larger file alone; 0: one by one),
    at most BATCH_FILES of them, so that many small files still make batches for both threads."""
    batch: list[FileRef] = []
    size = 0
    for ref in refs:
        if batch and (size + ref.size_bytes > batch_bytes or len(batch) == BATCH_FILES):
            yield batch
            batch, size = [], 0
        batch.append(ref)
        size += ref.size_bytes
    if batch:
        yield batch


def read_ahead(read: Callable[[Sequence[FileRef]], Sequence[T]], refs: Sequence[FileRef], batch_bytes: int,
               timeout: float = READ_BATCH_TIMEOUT_SECONDS) -> Iterator[tuple[FileRef, T]]:
    """(ref, what ``read`` gave for it) in order, the next batches of files read on worker threads
    while the caller writes this one: polars, numpy and DuckDB release the GIL for most of their
    work, so they overlap on two cores. At most READ_AHEAD batches wait in memory."""
    batches = list(_batches(refs, batch_bytes))
    if len(batches) < 2:
        yield from ((ref, result) for batch in batches for ref, result in zip(batch, read(batch), strict=True))
        return
    pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="read-files")
    try:
        queued = deque((batch, pool.submit(read, batch)) for batch in batches[:READ_AHEAD])
        following = iter(batches[READ_AHEAD:])
        while queued:
            batch, future = queued.popleft()
            if (next_batch := next(following, None)) is not None:
                queued.append((next_batch, pool.submit(read, next_batch)))
            try:
                results = future.result(timeout=timeout)
            except FuturesTimeout:
                raise ReadTimeout(
                    f"Reading {', '.join(ref.where for ref in batch[:3])}"
                    + (f" and {len(batch) - 3} more files" if len(batch) > 3 else "")
                    + f" gave no answer within {timeout:g} s; nothing of them was loaded") from None
            yield from zip(batch, results, strict=True)
    finally:
        # Not waiting for a reader that never answers: its thread is left to end on its own.
        pool.shutdown(wait=False, cancel_futures=True)


def file_by_file(read: Callable[[FileRef], FileRead]) -> Callable[[Sequence[FileRef]], list[FileRead]]:
    """A reader of one file as ``sync_files`` calls readers: with a batch of files."""
    return lambda refs: [read(ref) for ref in refs]


def _latest_quarantined(conn: duckdb.DuckDBPyConnection, layout: str) -> set[tuple[str, str | None]]:
    """The files (and sheets) of ``layout`` whose latest outcome in the ledger is a refusal."""
    return set(conn.execute("""
        select path, sheet from raw.load_ledger where layout = ?
        qualify row_number() over (partition by path, sheet order by recorded_at desc) = 1
            and status = 'quarantined'
    """, [layout]).fetchall())


def _split_by_change(files: Sequence[FileRef], held: dict[tuple[str, str | None], str]
                     ) -> tuple[list[FileRef], list[FileRef]]:
    """``files`` split, in their order, into those whose version the table holds already (unchanged)
    and the rest (changed or new)."""
    unchanged: list[FileRef] = []
    changed: list[FileRef] = []
    for ref in files:
        if held.get((ref.path, ref.sheet)) == ref.sha256:
            unchanged.append(ref)
        else:
            changed.append(ref)
    return unchanged, changed


def _end_quarantine_of_put_back(conn: duckdb.DuckDBPyConnection, store: RowStore, out_dir: Path, source: str,
                                layout: str, unchanged: Sequence[FileRef]) -> None:
    """Of the ``unchanged`` files, those refused last time are the last good version put back: no
    longer refused (a ledger row says so, in one transaction, and the quarantine report goes)."""
    refused = _latest_quarantined(conn, layout)
    put_back = [ref for ref in unchanged if (ref.path, ref.sheet) in refused]
    if put_back:  # the last good version of a refused file, put back: no longer refused
        with _transaction(conn, store):
            _record(conn, *(_ledger_row(ref, ref.path, ref.sheet, source, layout, "loaded", 0, 0, 0,
                                        "the last good version put back: its rows were in use already")
                            for ref in put_back))
        for ref in put_back:
            _clear_quarantine_report(out_dir, ref)


UNREADABLE = ("it could not be read: it is damaged or not laid out as a table (a stray quote, a NUL byte or "
              "a field too long, say); nothing of this version was loaded")


Reader = Callable[[Sequence[FileRef]], list[FileRead]]


def _read_each_alone_on_failure(read: Reader, empty: pl.DataFrame, fatal: tuple[type[BaseException], ...]) -> Reader:
    """``read``, but a batch that fails is read again file by file, and a file that fails alone
    becomes that file's problem (named, never with the error's text: a parser quotes the cells it
    choked on). ``fatal`` errors (a missing key, say) are about the build, not a file: raised."""
    def read_safely(refs: Sequence[FileRef]) -> list[FileRead]:
        try:
            return read(refs)
        except fatal:
            raise
        except Exception as error:  # noqa: BLE001 - one bad file is that file's problem
            if len(refs) > 1:
                return [result for ref in refs for result in read_safely([ref])]
            [ref] = refs
            return [FileRead(empty.clear(), 0, [Problem(ref.path, ref.sheet, None, None, None,
                                                        f"{UNREADABLE} ({type(error).__name__})")])]
    return read_safely


def _present_but_unread(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, int, str]]:
    """Files under the raw folder that no layout recognises now (unreadable, damaged): path ->
    (sha256, size, why). A loader keeps such a file's last good version rather than retire it."""
    if not conn.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                        "and table_name = 'extract_files'").fetchone()[0]:
        return {}
    return {path: (sha256, size, why) for path, sha256, size, why in conn.execute(
        "select path, any_value(sha256), any_value(size_bytes), string_agg(distinct recognition, '; ') "
        "from raw.extract_files group by path having bool_and(layout is null)").fetchall()}


def sync_files(conn: duckdb.DuckDBPyConnection, *, table: str, source: str, layout: str, files: Sequence[FileRef],
               read: Callable[[Sequence[FileRef]], list[FileRead]], empty: pl.DataFrame, out_dir: Path,
               key: Sequence[str] = (), parquet_dir: Path | None = None, version: str = "",
               batch_bytes: int = 0, fatal: tuple[type[BaseException], ...] = ()) -> SyncOutcome:
    """Bring ``table`` (schema.name) in line with ``files``, file by file (see the module docstring).

    ``read`` reads a batch of files, each ``FileRead`` in the order given (``file_by_file`` makes
    one from a reader of one file): consecutive changed files are read together up to
    ``batch_bytes`` (0: one by one), for a reader whose cost per call matters (many small files).

    The rows are kept in the DuckDB table, or, given ``parquet_dir``, as Parquet files there with
    ``table`` a view over them (``scorecard.load.row_stores``). ``version`` names how the rows are
    read beyond their columns (e.g. how child keys are made): rows read another way are not kept.

    One bad file is that file's problem: a file ``read`` fails on is quarantined (``fatal``
    errors excepted), and a file whose rows the table holds that is still under the raw folder but
    can no longer be read (``raw.extract_files``) is quarantined too, its last good version kept,
    never retired as if removed.
    """
    if key and parquet_dir is not None:
        raise ValueError("key conflicts are checked in DuckDB tables only")
    conn.execute(LEDGER_DDL)
    outcome = SyncOutcome()
    read = _read_each_alone_on_failure(read, empty, fatal)
    store: RowStore = TableRows(conn, table) if parquet_dir is None else ParquetRows(conn, table, parquet_dir)
    with _transaction(conn, store):
        if reset := store.prepare(empty.with_columns(source_sha256=pl.lit(None, dtype=pl.String)), version):
            _record(conn, _ledger_row(None, table, None, source, layout, "reset", 0, 0, 0,
                                      f"{reset}: every file is loaded again"))
    held = store.held()

    current = {(ref.path, ref.sheet) for ref in files}
    unread = _present_but_unread(conn)
    for (path, sheet) in sorted(set(held) - current, key=str):
        if path in unread:  # still there, but this version cannot be read: the last good one stays
            sha256, size, why = unread[path]
            ref = FileRef(path, sheet, sha256, size)
            problems = [Problem(path, sheet, None, None, None, f"this version {why}")]
            report = _write_quarantine_report(out_dir, ref, problems, store.rows_of(path, sheet))
            _record(conn, _ledger_row(ref, path, sheet, source, layout, "quarantined", 0, 0, 1, str(report)))
            outcome.quarantined[ref] = problems
            continue
        with _transaction(conn, store):
            retired = store.remove(path, sheet)
            _record(conn, _ledger_row(None, path, sheet, source, layout, "retired", 0, 0, 0,
                                      f"file no longer under the raw folder: its {retired} rows were retired"))
        outcome.retired.append((path, sheet, retired))

    # Files read, passed and staged, not yet written: (ref, rows read, rows accepted, staged rows).
    pending: list[tuple[FileRef, int, int, object]] = []
    pending_rows = 0

    def write_pending() -> None:
        """Write the files passed so far, each replacing its own rows, with their ledger rows, in one
        transaction: one commit per batch rather than per file (a commit costs a WAL flush)."""
        nonlocal pending_rows
        if not pending:
            return
        with _transaction(conn, store):
            ledger = []
            for ref, rows_read, rows_accepted, staged in pending:
                replacing = (ref.path, ref.sheet) in held
                if replacing:  # (a new file has no rows to replace: skip scanning the table)
                    store.remove(ref.path, ref.sheet)
                store.add(ref, staged)
                ledger.append(_ledger_row(ref, ref.path, ref.sheet, source, layout, "loaded", rows_read, rows_accepted,
                                          0, "replaced its earlier rows" if replacing else "new file"))
            _record(conn, *ledger)
        for ref, *_ in pending:
            _clear_quarantine_report(out_dir, ref)
            outcome.loaded.append(ref)
        pending.clear()
        pending_rows = 0

    def read_and_stage(refs: Sequence[FileRef]) -> list[tuple[FileRead, object]]:
        """On a reading thread: the files read, and the rows of each that passed staged."""
        return [(result, None if result.problems else store.stage(ref, result.rows))
                for ref, result in zip(refs, read(refs), strict=True)]

    unchanged, changed = _split_by_change(files, held)
    outcome.unchanged.extend(unchanged)
    _end_quarantine_of_put_back(conn, store, out_dir, source, layout, outcome.unchanged)
    for ref, (result, staged) in read_ahead(read_and_stage, changed, batch_bytes):
        if key and not result.problems:
            write_pending()  # key conflicts are checked against every file passed before this one
        problems = result.problems or _key_conflicts(conn, table, ref, result.rows, key)
        if problems:
            report = _write_quarantine_report(out_dir, ref, problems, store.rows_of(ref.path, ref.sheet))
            _record(conn, _ledger_row(ref, ref.path, ref.sheet, source, layout, "quarantined", result.rows_read, 0,
                                      len(problems), str(report)))
            outcome.quarantined[ref] = problems
            continue
        pending.append((ref, result.rows_read, result.rows.height, staged))
        pending_rows += result.rows.height
        if pending_rows >= ROWS_PER_TRANSACTION:
            write_pending()
    write_pending()
    return outcome


def write_outcome_report(out_dir: Path, name: str, title: str, outcome: SyncOutcome) -> Path:
    """This build's outcome for one source, as JSON for machines and Markdown for people."""
    report_dir = out_dir / "validation"
    report_dir.mkdir(parents=True, exist_ok=True)
    status = "quarantined files" if outcome.quarantined else "accepted"
    (report_dir / f"{name}.json").write_text(json.dumps({
        "layout": name, "status": status,
        "loaded": [r.where for r in outcome.loaded], "unchanged": [r.where for r in outcome.unchanged],
        "quarantined": [r.where for r in outcome.quarantined],
        "retired": [{"file": p, "sheet": s, "rows": n} for p, s, n in outcome.retired],
        "problems": [p.as_dict() for p in outcome.problems]}, indent=2), encoding="utf-8")
    lines = [f"# {title} ({name}): {status}", ""]
    for label, refs in (("Loaded", outcome.loaded), ("Unchanged, not reloaded", outcome.unchanged)):
        lines += [f"{label}: {len(refs)} file(s)."] + [f"- {escape_markdown(r.where)}" for r in refs] + [""]
    lines += [f"Retired: {escape_markdown(p)} ({n} rows)" for p, _, n in outcome.retired]
    for ref, problems in outcome.quarantined.items():
        lines += ["", f"## Quarantined: {escape_markdown(ref.where)}", ""] + [
            f"- {escape_markdown(p.message())}" for p in problems]
    if not outcome.quarantined:
        lines.append("No problems found.")
    markdown = report_dir / f"{name}.md"
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return markdown


def ledger_summary(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many files (and sheets) the ledger shows in each status, by each one's latest outcome."""
    conn.execute(LEDGER_DDL)
    return dict(conn.execute("""
        select status, count(*) from (
            select status from raw.load_ledger
            qualify row_number() over (partition by path, sheet, layout order by recorded_at desc) = 1)
        group by status order by status
    """).fetchall())


def files_of(conn: duckdb.DuckDBPyConnection, source: str, layout: str | None = None) -> list[FileRef]:
    """The files (and sheets) under the raw folder now recognised as ``source`` (and ``layout``)."""
    query = ("select path, sheet, sha256, size_bytes from raw.extract_files where source = ? "
             + ("and layout = ? " if layout else "") + "order by path, sheet")
    rows = conn.execute(query, [source, layout] if layout else [source]).fetchall()
    return [FileRef(*row) for row in rows]
