"""Dagster's SQLite storage under $DAGSTER_HOME, with its connections kept open.

Dagster's own SQLite storage makes a new SQLAlchemy engine, and so a new SQLite connection, for
every read and write, and closes it after: a sample build records ~225 events through ~1,300
connections, each set up (dialect, pragmas) and closed again (the last connection to a WAL
database checkpoints it as it closes). That was 2-3 s of a 30 s build. These subclasses keep one
engine, with a small pool of open connections, per database file instead. The files, tables and
format are Dagster's own, so the UI, the daemon and Dagster's stock classes read them as ever.

`.dagster_home/dagster.yaml` selects it:

    storage:
      custom:
        module: pipelines.dagster_storage
        class: PooledSqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._utils import mkdir_p
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from watchdog.observers import Observer

# Each run's events go to a database of their own: engines are kept for the few used last (the
# run in progress, and runs the UI is showing), so a long-lived webserver holds few files open.
KEPT_RUN_DATABASES = 8


class _Engines:
    """One engine (with its pool of open connections) per SQLite database file, least recently
    used dropped beyond ``keep``."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn_string: str) -> Engine:
        with self._lock:
            engine = self._engines.pop(conn_string, None)
            if engine is None:
                # check_same_thread=False: the pool hands a connection to whichever thread asks
                # (the webserver's watchers, the run's steps); each uses it alone, in turn.
                # max_overflow=-1: never make a caller wait for a connection (Dagster's NullPool
                # never does either); two are kept open between uses.
                engine = create_engine(conn_string, pool_size=2, max_overflow=-1, connect_args={
                    "timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})
            self._engines[conn_string] = engine
            while len(self._engines) > self._keep:
                _, dropped = self._engines.popitem(last=False)
                dropped.dispose()
            return engine

    def dispose(self) -> None:
        with self._lock:
            while self._engines:
                self._engines.popitem()[1].dispose()


class _WalWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's watcher of a run's events (it streams them to the UI), woken by the run's
    write-ahead log too: with connections kept open, writes reach ``<run>.db`` itself only at
    checkpoints, where Dagster's own storage, closing each connection, checkpoints every write."""

    @property
    def patterns(self) -> list[str]:
        return [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event) -> None:  # (Dagster's asserts the path is the .db file's)
        self._process_log()


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` (a database per run, and an index), connections kept open."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self._engines = _Engines(keep=KEPT_RUN_DATABASES + 1)  # + the index
        super().__init__(base_dir, inst_data)

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's own (same lock, same first-use set-up of a database), without the new
        # engine each time.
        with self._db_lock:
            engine = self._engines.get(self.conn_string_for_shard(shard))
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def watch(self, run_id: str, cursor: str | None, callback) -> None:
        # As Dagster's own, with the watcher above.
        if not self._obs:
            self._obs = Observer()
            self._obs.start()
        watchdog = _WalWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))

    def wipe(self) -> None:
        self._engines.dispose()  # (its files are deleted: no connection may outlive them)
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._engines.dispose()


class PooledSqliteRunStorage(SqliteRunStorage):
    """``SqliteRunStorage`` (runs.db), connections kept open."""

    def __init__(self, conn_string: str, inst_data=None) -> None:
        self._engines = _Engines(keep=1)
        super().__init__(conn_string, inst_data)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engines.get(self._conn_string).connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()
        self._engines.dispose()


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's default storage layout under ``base_dir``, with the two pooled storages above
    (the schedule storage, rarely written, is Dagster's own)."""

    def __init__(self, base_dir: str, inst_data=None) -> None:
        self.base_dir = base_dir
        self._run_storage = PooledSqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        DagsterStorage.__init__(self)  # (not DagsterSqliteStorage's, which makes the stock storages)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> PooledSqliteStorage:
        mkdir_p(config_value["base_dir"])
        return cls(config_value["base_dir"], inst_data)
