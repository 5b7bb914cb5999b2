"""Finding extract files under the raw folder, hashing them, and recognising partner-return layouts.

Files are recognised by content (the header row of a CSV, each sheet of a workbook), never
by name or folder, so an agency can name and file its extracts as it likes. Everything is
read as text by the one reader (``scorecard.ingest.reader``: encodings, delimiters, title
rows, workbook cells); typing is the validation step's job, where a bad cell becomes a clear
message. The header is the first of the first ``HEADER_SEARCH_ROWS`` rows that makes a known
layout match; blank rows and columns anywhere, and ragged rows, are spacing.

Every data row keeps the row number a spreadsheet shows for it (``source_row``), counting
title, blank and header rows, so a message can send a person straight to the cell.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from expectations.layouts import LAYOUTS, Layout, normalise_header
from scorecard.ingest.reader import (
    DATA_SUFFIXES,
    HEADER_SEARCH_ROWS,
    WORKBOOK_SUFFIXES,
    XML_SUFFIXES,
    clean_cells,
    open_workbook,
    sheet_grid,
    text_grid,
    unreadable_reason,
)
from scorecard.ingest.vocabulary import is_vocabulary_file

# Known header names of every layout, to pick the likeliest header row when none matches fully.
_KNOWN_HEADERS = frozenset(name for layout in LAYOUTS for column in layout.columns for name in column.header_names)


@dataclass(frozen=True)
class Table:
    """One table of text cells: a text file, or one sheet of a workbook."""

    path: Path
    sheet: str | None
    # Columns named by normalised headers, all String (trimmed, blank -> null), plus
    # ``source_row``: the row number a spreadsheet shows for each data row, counting the
    # title, blank and header rows above it. Fully blank rows are left out.
    frame: pl.DataFrame

    @property
    def headers(self) -> list[str]:
        return [c for c in self.frame.columns if c != "source_row"]

    @property
    def where(self) -> str:
        return f"{self.path}" + (f", sheet '{self.sheet}'" if self.sheet else "")


@dataclass(frozen=True)
class Recognition:
    path: Path
    sheet: str | None
    layout: Layout | None
    reason: str  # why it was (not) recognised, in plain words


def discover_files(raw_dir: Path) -> list[Path]:
    """Data files anywhere under the raw folder (strategy YAML, the vocabulary's CSV files and
    hidden files are not data)."""
    return sorted(
        p for p in raw_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        and not any(part.startswith((".", "~$")) for part in p.relative_to(raw_dir).parts)
        and not is_vocabulary_file(p.relative_to(raw_dir).as_posix())
    )


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# A build hashes the raw folder to decide whether anything changed (``pipelines.fingerprint``),
# then lists every file with its sha256 (``raw.extract_files``), in one process: within
# ``one_hash_per_file`` a file whose identity, size and times have not moved since it was hashed
# is not read again. Outside it every call reads the file (a test may rewrite a file in place,
# same size, within the clock's granularity).
_hashed: dict[tuple, str] | None = None
_hashed_lock = threading.Lock()


@contextlib.contextmanager
def one_hash_per_file() -> Iterator[None]:
    """Within this block (a build), each version of a file is hashed once, whoever asks."""
    global _hashed
    previous, _hashed = _hashed, {} if _hashed is None else _hashed
    try:
        yield
    finally:
        _hashed = previous


def _file_version(path: Path) -> tuple:
    facts = path.stat()
    return (str(path.resolve()), facts.st_dev, facts.st_ino, facts.st_size, facts.st_mtime_ns, facts.st_ctime_ns)


def sha256_of(path: Path) -> str:
    """The file's sha256 (read once per build within ``one_hash_per_file``)."""
    memo = _hashed
    if memo is None:
        return _hash_file(path)
    version = _file_version(path)
    with _hashed_lock:
        known = memo.get(version)
    if known is not None:
        return known
    sha256 = _hash_file(path)
    if _file_version(path) == version:  # (not written to while it was read)
        with _hashed_lock:
            memo[version] = sha256
    return sha256


HASH_THREADS = 2


def sha256_of_files(paths: Sequence[Path]) -> list[str]:
    """``sha256_of`` each file, on HASH_THREADS threads (hashlib and file reads let go of the
    GIL): national-scale extracts are hundreds of MB, ~1 s of hashing per 300 MB on one core."""
    if len(paths) < 2:
        return [sha256_of(path) for path in paths]
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        return list(pool.map(sha256_of, paths))


# --- finding the header and tidying a grid of cells (shared by text files and workbooks) ---


def _header_index(rows: list[list[str | None]]) -> tuple[int | None, bool]:
    """(index, matched) of the header among the first rows of a table.

    The header is the first row that makes a layout match. Failing that, it is the likeliest
    row: the one holding the most known column names (so a header missing a column is taken
    over a title above it, and ``recognise`` can say what is missing), or the first non-blank
    row when no row holds any. The index is None when every row is blank.
    """
    best, best_known = None, -1
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [h for h in (normalise_header(cell) for cell in row if cell is not None) if h]
        if not headers:
            continue
        if any(layout.match_headers(headers) is not None for layout in LAYOUTS):
            return index, True
        known = len(_KNOWN_HEADERS.intersection(headers))
        if known > best_known:
            best, best_known = index, known
    return best, False


def _unique_names(cells: list[tuple[int, str | None]]) -> list[str]:
    """Normalised names of (position, header cell), unnamed and repeated ones made unique."""
    names: list[str] = []
    seen = {"source_row"}
    for position, cell in cells:
        name = normalise_header(cell) or f"column_{position + 1}"
        candidate, copy = name, 1
        while candidate in seen:  # the first of two equal headers keeps the plain name
            copy += 1
            candidate = f"{name}_{copy}"
        seen.add(candidate)
        names.append(candidate)
    return names


def _table_frame(grid: pl.DataFrame) -> pl.DataFrame | None:
    """A grid of text cells, row i being spreadsheet row i + 1 -> the table under its header.

    None when the grid holds nothing but blank cells.
    """
    if grid.width == 0 or grid.height == 0:
        return None
    grid = clean_cells(grid)
    header, _ = _header_index([list(row) for row in grid.head(HEADER_SEARCH_ROWS).iter_rows()])
    if header is None:
        return None
    body = grid.slice(header + 1).with_row_index("source_row", offset=header + 2)
    # Columns with neither a header nor a value are spacing (or formatting Excel remembers).
    kept = [(position, column, cell) for position, (column, cell) in enumerate(zip(grid.columns, grid.row(header)))
            if cell is not None or body[column].null_count() < body.height]
    keep = [column for _, column, _ in kept]
    names = _unique_names([(position, cell) for position, _, cell in kept])
    return (
        body.select(*keep, "source_row")
        .rename(dict(zip(keep, names)))
        # Fully blank rows are spacing; dropping them leaves later rows' numbers as they were.
        .filter(~pl.all_horizontal(pl.col(name).is_null() for name in names))
        .with_columns(pl.col("source_row").cast(pl.Int64))
    )


# --- reading ---


def _is_layout_header(row: list[str]) -> bool:
    return _header_index([row])[1]


def _read_text(path: Path) -> list[Table]:
    grid = text_grid(path, _is_layout_header)
    frame = None if grid is None else _table_frame(grid)
    return [] if frame is None else [Table(path, None, frame)]


def _read_workbook(path: Path) -> list[Table]:
    reader = open_workbook(path)
    tables = []
    for sheet in reader.sheet_names:
        frame = _table_frame(sheet_grid(reader, sheet))
        if frame is not None:  # an empty sheet holds nothing to load
            tables.append(Table(path, sheet, frame))
    return tables


def read_tables(path: Path) -> list[Table]:
    """Every table in a file, as text: one per text file, one per non-empty sheet of a workbook."""
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return _read_workbook(path)
    return _read_text(path)


# --- recognising ---


def recognise(headers: list[str]) -> tuple[Layout | None, str]:
    """The one layout whose columns are all present (by name or alias), or why there is none."""
    matches = [layout for layout in LAYOUTS if layout.match_headers(headers) is not None]
    if len(matches) == 1:
        return matches[0], f"header matches layout '{matches[0].name}'"
    if len(matches) > 1:
        return None, "header matches more than one layout: " + ", ".join(m.name for m in matches)
    # The layout sharing most columns with the header (then the one missing fewest): a short
    # layout (area, period and one count) is not closer to a header it shares only area and period with.
    closest = min(LAYOUTS, key=lambda layout: (len(layout.missing_columns(headers)) - len(layout.columns),
                                               len(layout.missing_columns(headers))))
    return None, (f"header matches no known layout; the closest is '{closest.name}', which also "
                  f"needs column(s) {', '.join(closest.missing_columns(headers))}")


def recognise_file(path: Path) -> list[Recognition]:
    """What each table in a file is; a file that cannot be read is reported, not skipped."""
    if path.suffix.lower() in XML_SUFFIXES:  # never a partner return
        return [Recognition(path, None, None, "an XML file is read only as a CIN census return, and this one is not "
                                              "(its root element is not Message, or it names another collection)")]
    try:
        tables = read_tables(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file becomes a report line
        return [Recognition(path, None, None, unreadable_reason(path, error))]
    results = []
    for table in tables:
        if not table.headers:
            continue
        layout, reason = recognise(table.headers)
        results.append(Recognition(path, table.sheet, layout, reason))
    if results:
        return results
    why = "the file is empty" if path.stat().st_size == 0 else f"its first {HEADER_SEARCH_ROWS} rows are blank"
    return [Recognition(path, None, None, f"holds no table: {why}")]
