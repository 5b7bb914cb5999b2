"""What passes between reading a file and loading it: the file (and sheet) to load, what reading
it gave, and what a loader did with every file of its source."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from expectations.partner_returns import Problem


@dataclass(frozen=True)
class FileRef:
    path: str
    sheet: str | None
    sha256: str
    size_bytes: int

    @property
    def where(self) -> str:
        return self.path + (f", sheet '{self.sheet}'" if self.sheet else "")


@dataclass(frozen=True)
class FileRead:
    """One file's rows, typed (meaningful only without problems), and how many rows were read.

    The rows may leave out ``source_file`` and ``source_sheet``: ``sync_files`` writes them from
    the file's ref (a reader whose messages name them keeps its own)."""

    rows: pl.DataFrame
    rows_read: int
    problems: list[Problem]


@dataclass
class SyncOutcome:
    loaded: list[FileRef] = field(default_factory=list)
    unchanged: list[FileRef] = field(default_factory=list)
    quarantined: dict[FileRef, list[Problem]] = field(default_factory=dict)
    retired: list[tuple[str, str | None, int]] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for problems in self.quarantined.values() for p in problems]
