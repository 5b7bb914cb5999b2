"""Finding extract files under the raw folder, reading them as text, and recognising their layout.

Files are recognised by content (the header row of a CSV, each sheet of a workbook), never
by name or folder, so an agency can name and file its extracts as it likes. Everything is
read as text: typing is the validation step's job, where a bad cell becomes a clear message.

Extracts arrive messy, so reading copes with what spreadsheets and their users produce:

- text files in UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's "Unicode text")
  or Windows-1252 (older Excel "CSV"), separated by commas, tabs, semicolons or bars;
- title and blank rows above the header: the header is the first of the first
  ``HEADER_SEARCH_ROWS`` rows that makes a known layout match;
- blank rows and columns anywhere, and ragged rows;
- workbook cells of every type: whole numbers without ``.0``, dates as ``2017-03-31``,
  formulas as their saved value, and error cells as the text Excel shows (``#N/A``) so that
  validation names them rather than calling them blank.

Every data row keeps the row number a spreadsheet shows for it (``source_row``), counting
title, blank and header rows, so a message can send a person straight to the cell.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import re
import threading
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import fastexcel
import polars as pl

from expectations.layouts import LAYOUTS, Layout, normalise_header
from scorecard.ingest.vocabulary import is_vocabulary_file

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
# .txt and .tsv: Excel saves "Unicode text" (UTF-16, tab-separated) as .txt.
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
DATA_SUFFIXES = WORKBOOK_SUFFIXES | TEXT_SUFFIXES
HEADER_SEARCH_ROWS = 20  # the header must be within the first rows of a file or sheet
DELIMITERS = (",", "\t", ";", "|")  # in order of preference when nothing else decides

# Known header names of every layout, to pick the likeliest header row when none matches fully.
_KNOWN_HEADERS = frozenset(name for layout in LAYOUTS for column in layout.columns for name in column.header_names)
# calamine's name for an error cell -> the text Excel shows in it.
_EXCEL_ERRORS = {"NA": "#N/A", "Div0": "#DIV/0!", "Value": "#VALUE!", "Ref": "#REF!", "Name": "#NAME?",
                 "Null": "#NULL!", "Num": "#NUM!", "GettingData": "#GETTING_DATA"}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook
_ZIP_SIGNATURE = b"PK\x03\x04"


class UnreadableFile(ValueError):
    """A file that cannot be read at all; the message says why in plain words."""


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


def _clean_cells(grid: pl.DataFrame) -> pl.DataFrame:
    """Every cell as trimmed text: non-breaking spaces become spaces, blank cells null."""
    return grid.with_columns(
        pl.col(c).cast(pl.String).str.replace_all("\u00a0", " ", literal=True).str.strip_chars().replace("", None)
        for c in grid.columns
    )


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
    grid = _clean_cells(grid)
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


# --- text files (CSV, TSV, Excel's "Unicode text") ---


def _decode(data: bytes) -> tuple[str, bool]:
    """(text, is the data already plain UTF-8): a BOM decides, else strict UTF-8, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    elif b"\x00" in data[:4096]:
        encodings = [e for e in [_utf16_without_bom(data[:4096])] if e]
    else:
        # cp1252 decodes almost any byte, so it is only tried once UTF-8 has refused.
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text, encoding == "utf-8"
    if data.startswith(_ZIP_SIGNATURE):
        raise UnreadableFile("it is a zip archive (an Excel workbook, perhaps) with a text file's name; "
                             "save it as .xlsx, or as CSV from Excel")
    if data.startswith(_OLE_SIGNATURE):
        raise UnreadableFile("it is an Excel .xls workbook with a text file's name; save it as .xlsx or as CSV")
    raise UnreadableFile("it is not text (it holds binary data, or an encoding other than UTF-8, "
                         "UTF-16 or Windows-1252)")


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 without a BOM shows as a NUL byte beside every ASCII character; other NULs mean binary."""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    return "\x00" in sample or len(_CONTROL.findall(sample)) > len(sample) / 100


def _delimiter(sample: str) -> tuple[str, int]:
    """(delimiter, widest row of the sample): the one that makes a layout's header, else the
    one that splits the first rows into the most cells (commas win a tie)."""
    best: tuple[int, str] = (0, DELIMITERS[0])
    for delimiter in DELIMITERS:
        rows: list[list[str]] = []
        with contextlib.suppress(csv.Error):  # a sample cut inside a quoted cell: the rows before it are enough
            rows.extend(islice(csv.reader(io.StringIO(sample), delimiter=delimiter), HEADER_SEARCH_ROWS))
        width = max((len(row) for row in rows), default=0)
        if _header_index(rows)[1]:
            return delimiter, width
        if width > best[0]:
            best = (width, delimiter)
    return best[1], best[0]


def _read_text(path: Path) -> list[Table]:
    data = path.read_bytes()
    text, plain_utf8 = _decode(data)
    if "\n" not in text and "\r" in text:  # old Mac line endings
        text, plain_utf8 = text.replace("\r", "\n"), False
    if not text or text.isspace():
        return []
    delimiter, width = _delimiter(text[:1 << 18])  # the first lines decide
    # A made-up header line of the full width: polars would otherwise take the width of the
    # first line (perhaps a one-cell title) and cut every later row to it. Blank lines stay
    # rows, so row i of the grid is row i + 1 as a spreadsheet opens the file.
    names = delimiter.join(f"c{i}" for i in range(max(width, 1))).encode()
    body = data if plain_utf8 else text.encode("utf-8")
    grid = pl.read_csv(io.BytesIO(names + b"\n" + body), separator=delimiter, has_header=True,
                       infer_schema=False, truncate_ragged_lines=True)
    frame = _table_frame(grid)
    return [] if frame is None else [Table(path, None, frame)]


# --- workbooks ---


def _open_workbook(path: Path) -> fastexcel.ExcelReader:
    with path.open("rb") as handle:
        signature = handle.read(8)
    if signature.startswith(_OLE_SIGNATURE):
        raise UnreadableFile("it is an old-style .xls workbook or a password-protected one; "
                             "save it from Excel as .xlsx without a password")
    if not zipfile.is_zipfile(path):
        raise UnreadableFile("it is not an Excel workbook (an .xlsx file is a zip archive and this one is not: "
                             "it may be damaged, or another kind of file given an Excel name)")
    try:
        return fastexcel.read_excel(str(path))
    except fastexcel.FastExcelError as error:
        raise UnreadableFile("it is a zip archive but not an Excel workbook Excel could open "
                             "(it may be damaged)") from error


def _sheet_grid(reader: fastexcel.ExcelReader, sheet: str) -> pl.DataFrame:
    """A whole sheet as text, row i being spreadsheet row i + 1, error cells as Excel shows them."""
    # header_row=None and skip_rows=0: load from row 1 keeping blank rows, so rows keep their numbers.
    loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, dtypes="string")
    batch, errors = loaded.to_arrow_with_errors()
    grid = pl.from_arrow(batch)
    assert isinstance(grid, pl.DataFrame)
    if errors is not None and grid.height:
        # calamine gives error cells (#N/A from a failed lookup, #DIV/0!) as null; put back the
        # text Excel shows so validation names the error instead of calling the cell blank.
        by_column: dict[int, tuple[list[int], list[str]]] = {}
        for error in errors.errors:
            if match := re.search(r"Error\((\w+)\)", error.detail):
                row, column = error.offset_position
                rows, texts = by_column.setdefault(column, ([], []))
                rows.append(row)
                texts.append(_EXCEL_ERRORS.get(match[1], "#ERROR"))
        for column, (rows, texts) in by_column.items():
            name = grid.columns[column]
            grid = grid.with_columns(grid[name].scatter(rows, texts))
    return grid.with_columns(
        # A whole number stored as a float reads "121", not "121.0"; a date cell reads "2017-03-31".
        pl.col(c).str.replace(r"^(-?\d+)\.0+$", "${1}")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$", "${1}")
        for c in grid.columns
    )


def _read_workbook(path: Path) -> list[Table]:
    reader = _open_workbook(path)
    tables = []
    for sheet in reader.sheet_names:
        frame = _table_frame(_sheet_grid(reader, sheet))
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


def unreadable_reason(path: Path, error: Exception) -> str:
    """Why a file could not be read, in plain words. Never the error's own text: a parser quotes
    the cells it choked on, and a record-level file's cells are about children."""
    kind = "an Excel workbook" if path.suffix.lower() in WORKBOOK_SUFFIXES else "text"
    if path.stat().st_size == 0:
        return f"could not be read as {kind}: the file is empty"
    if kind != "text" and not isinstance(error, UnreadableFile):
        try:  # the workbook's signature says why more plainly (password, .xls, not a zip archive)
            _open_workbook(path)
        except UnreadableFile as plainer:
            error = plainer
        except Exception:  # noqa: BLE001 - the generic sentence below says it
            pass
    if isinstance(error, UnreadableFile):
        return f"could not be read as {kind}: {error}"
    # Anything else (a damaged sheet, a CSV polars cannot split, a field too long): name it, plainly.
    return (f"could not be read as {kind}: it is damaged or not laid out as a table (a stray quote, a NUL "
            f"byte or a field too long, say) ({type(error).__name__})")


def recognise_file(path: Path) -> list[Recognition]:
    """What each table in a file is; a file that cannot be read is reported, not skipped."""
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
