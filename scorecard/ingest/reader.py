"""The one reader: a table's cells as text from a CSV or other text file, an Excel sheet, or the
events of an XML file, for every kind of source (partner returns, DfE open data, Fingertips,
statistical neighbours, record-level extracts, CIN census returns).

What recognises a table (a layout, a record-level source) lives with that source; what every
source needs from a file lives here, once:

- text files in UTF-8 (with or without a BOM), UTF-16 with a BOM (Excel's "Unicode text"), UTF-16
  without one, or Windows-1252 (older Excel "CSV"), separated by commas, tabs, semicolons or bars
  (``sniff_text``: decided from the file's first bytes, so a national extract is not read whole
  to find out);
- title and blank rows above the header: ``text_head`` and ``sheet_grid(n_rows=...)`` give the
  first ``HEADER_SEARCH_ROWS`` rows for a source to find its header among; rows keep the number a
  spreadsheet shows for them, blank rows included;
- workbook cells of every type: whole numbers without ``.0``, dates as ``2017-03-31``, formulas
  as their saved value, error cells as the text Excel shows (``#N/A``), so that validation names
  them rather than calling them blank;
- XML parsed safely (``xml_events``): no DTD, no entity expansion, no external reference;
- a file that cannot be read at all raises ``UnreadableFile`` saying why in plain words
  (``unreadable_reason`` for any other error): never a parser's own text, which may quote a cell.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml
import fastexcel
import polars as pl

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
# .txt and .tsv: Excel saves "Unicode text" (UTF-16, tab-separated) as .txt.
TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
XML_SUFFIXES = {".xml"}  # read only as CIN census returns (scorecard.ingest.cin_census)
DATA_SUFFIXES = WORKBOOK_SUFFIXES | TEXT_SUFFIXES | XML_SUFFIXES
HEADER_SEARCH_ROWS = 30  # title rows above the header: every source looks this far down for it
DELIMITERS = (",", "\t", ";", "|")  # in order of preference when nothing else decides
SNIFF_BYTES = 1 << 18  # the first bytes of a text file decide its encoding and delimiter
HEADER_SAMPLE_BYTES = 1 << 14  # a published file's header row is within its first bytes

# calamine's name for an error cell -> the text Excel shows in it.
_EXCEL_ERRORS = {"NA": "#N/A", "Div0": "#DIV/0!", "Value": "#VALUE!", "Ref": "#REF!", "Name": "#NAME?",
                 "Null": "#NULL!", "Num": "#NUM!", "GettingData": "#GETTING_DATA"}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and any password-protected workbook
_ZIP_SIGNATURE = b"PK\x03\x04"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")

HeaderTest = Callable[[list[str]], bool]


class UnreadableFile(ValueError):
    """A file that cannot be read at all; the message says why in plain words."""


# --- text files (CSV, TSV, Excel's "Unicode text") ---


@dataclass(frozen=True)
class TextFormat:
    encoding: str  # a Python codec name
    delimiter: str
    width: int  # the most cells in one of the first rows

    @property
    def utf8(self) -> bool:
        """Whether the bytes can be given to polars as they are (plain UTF-8, a BOM at most)."""
        return self.encoding in ("utf-8", "utf-8-sig")


def _encodings(sample: bytes) -> list[str]:
    if sample.startswith(codecs.BOM_UTF8):
        return ["utf-8-sig"]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ["utf-16"]
    if b"\x00" in sample[:4096]:
        return [e for e in [_utf16_without_bom(sample[:4096])] if e]
    return ["utf-8", "cp1252"]  # cp1252 decodes almost any byte: only once UTF-8 has refused


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 without a BOM shows as a NUL byte beside every ASCII character; other NULs mean binary."""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    return "\x00" in sample or len(_CONTROL.findall(sample)) > len(sample) / 100


def _not_text(data: bytes) -> UnreadableFile:
    if data.startswith(_ZIP_SIGNATURE):
        return UnreadableFile("it is a zip archive (an Excel workbook, perhaps) with a text file's name; "
                              "save it as .xlsx, or as CSV from Excel")
    if data.startswith(_OLE_SIGNATURE):
        return UnreadableFile("it is an Excel .xls workbook with a text file's name; save it as .xlsx or as CSV")
    return UnreadableFile("it is not text (it holds binary data, or an encoding other than UTF-8, "
                          "UTF-16 or Windows-1252)")


def decode(data: bytes, whole: bool = True) -> tuple[str, str]:
    """(text, encoding) of a text file's bytes (``whole``) or of its first bytes (not ``whole``:
    a character cut at the end is left out); ``UnreadableFile`` if they are not text."""
    for encoding in _encodings(data):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(data, final=whole)
        except UnicodeDecodeError:
            continue
        if _looks_binary(text):
            break
        return text, encoding
    raise _not_text(data)


def choose_delimiter(sample: str, is_header: HeaderTest | None = None) -> tuple[str, int]:
    """(delimiter, widest row of the sample): the first that splits a row into a header the
    source knows (``is_header``), else the one that splits the first rows into the most cells
    (commas win a tie)."""
    best: tuple[int, str] = (0, DELIMITERS[0])
    for delimiter in DELIMITERS:
        rows: list[list[str]] = []
        with contextlib.suppress(csv.Error):  # a sample cut inside a quoted cell: the rows before it are enough
            rows.extend(islice(csv.reader(io.StringIO(sample), delimiter=delimiter), HEADER_SEARCH_ROWS))
        width = max((len(row) for row in rows), default=0)
        if is_header is not None and any(is_header(row) for row in rows):
            return delimiter, width
        if width > best[0]:
            best = (width, delimiter)
    return best[1], best[0]


def _sample_text(path: Path, size: int = SNIFF_BYTES) -> tuple[str, str]:
    with path.open("rb") as handle:
        sample = handle.read(size)
    text, encoding = decode(sample, whole=len(sample) < size)
    if "\n" not in text and "\r" in text:  # old Mac line endings
        text = text.replace("\r", "\n")
    return text, encoding


def sniff_text(path: Path, is_header: HeaderTest | None = None) -> TextFormat:
    """A text file's encoding and delimiter, from its first bytes (``UnreadableFile`` if not text)."""
    text, encoding = _sample_text(path)
    delimiter, width = choose_delimiter(text, is_header)
    return TextFormat(encoding, delimiter, width)


def text_head(path: Path, is_header: HeaderTest | None = None,
              sample_bytes: int = SNIFF_BYTES) -> tuple[list[list[str]], list[int], TextFormat]:
    """The first ``HEADER_SEARCH_ROWS`` rows of a text file (cells as written; a blank line is a
    row, as a spreadsheet shows it) within its first ``sample_bytes``, how many lines of the file
    come before each (a quoted cell may span lines), and the file's format."""
    text, encoding = _sample_text(path, sample_bytes)
    delimiter, width = choose_delimiter(text, is_header)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows, lines_before, lines_read = [], [], 0
    # (csv.Error, a field over 128 KB say, is the file's: ``unreadable_reason`` names it)
    for row in islice(reader, HEADER_SEARCH_ROWS):
        rows.append(row)
        lines_before.append(lines_read)
        lines_read = reader.line_num
    return rows, lines_before, TextFormat(encoding, delimiter, width)


def utf8_bytes(path: Path, text_format: TextFormat) -> bytes:
    """A text file's bytes as UTF-8 (for polars, which reads only UTF-8): as they are when they are."""
    data = path.read_bytes()
    if text_format.utf8:
        return data
    text, _ = decode(data)
    return text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")


def text_grid(path: Path, is_header: HeaderTest | None = None) -> pl.DataFrame | None:
    """A whole text file as a grid of text cells, row i being row i + 1 as a spreadsheet opens the
    file (blank lines kept); None for a file holding nothing but white space."""
    data = path.read_bytes()
    text, encoding = decode(data)
    plain = encoding in ("utf-8", "utf-8-sig")
    if "\n" not in text and "\r" in text:  # old Mac line endings
        text, plain = text.replace("\r", "\n"), False
    if not text or text.isspace():
        return None
    delimiter, width = choose_delimiter(text[:SNIFF_BYTES], is_header)
    # A made-up header line of the full width: polars would otherwise take the width of the
    # first line (perhaps a one-cell title) and cut every later row to it.
    names = delimiter.join(f"c{i}" for i in range(max(width, 1))).encode()
    body = data if plain else text.encode("utf-8")
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8):]
    return pl.read_csv(io.BytesIO(names + b"\n" + body), separator=delimiter, has_header=True,
                       infer_schema=False, truncate_ragged_lines=True)


def header_row(path: Path) -> list[str]:
    """A published file's header (its first row), cells as written; [] for an empty file. Only
    the file's first bytes are read: every data file is asked whether it is DfE open data."""
    with contextlib.suppress(csv.Error):  # (a row this reader cannot split is no header)
        rows, _, _ = text_head(path, sample_bytes=HEADER_SAMPLE_BYTES)
        return rows[0] if rows else []
    return []


def text_rows(path: Path) -> list[list[str]]:
    """Every row of a (small) text file, cells as written."""
    text_format = sniff_text(path)
    text, _ = decode(path.read_bytes())
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=text_format.delimiter))


def read_published_csv(path: Path) -> pl.DataFrame:
    """A published file whose first row is its header (DfE open data, a Fingertips export), every
    cell as text; a stray byte that is not UTF-8 is replaced rather than refusing the file."""
    text_format = sniff_text(path)
    return pl.read_csv(io.BytesIO(utf8_bytes(path, text_format)), separator=text_format.delimiter,
                       infer_schema=False, encoding="utf8-lossy")


def clean_cells(grid: pl.DataFrame) -> pl.DataFrame:
    """Every cell as trimmed text: non-breaking spaces become spaces, blank cells null."""
    return grid.with_columns(
        pl.col(c).cast(pl.String).str.replace_all("\u00a0", " ", literal=True).str.strip_chars().replace("", None)
        for c in grid.columns
    )


# --- workbooks ---


def open_workbook(path: Path) -> fastexcel.ExcelReader:
    """An .xlsx workbook opened for reading; ``UnreadableFile`` saying why it cannot be."""
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


def sheet_grid(reader: fastexcel.ExcelReader, sheet: str, n_rows: int | None = None) -> pl.DataFrame:
    """A sheet (its first ``n_rows`` rows, or all) as text, row i being spreadsheet row i + 1,
    error cells as Excel shows them."""
    # header_row=None and skip_rows=0: load from row 1 keeping blank rows, so rows keep their numbers.
    loaded = reader.load_sheet(sheet, header_row=None, skip_rows=0, n_rows=n_rows, dtypes="string")
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


def grid_head(grid: pl.DataFrame) -> list[list[str]]:
    """A grid's first ``HEADER_SEARCH_ROWS`` rows, blank cells as ""."""
    return [[cell or "" for cell in row] for row in grid.head(HEADER_SEARCH_ROWS).iter_rows()]


# --- XML ---


def xml_events(path: Path) -> Iterator[tuple[str, Element]]:
    """(event, element) of an XML file, parsed safely: no DTD, no entity, no external reference
    (defusedxml raises at the first)."""
    with path.open("rb") as handle:
        yield from safe_xml.iterparse(handle, events=("start", "end"), forbid_dtd=True, forbid_entities=True,
                                      forbid_external=True)


# --- why not ---


def unreadable_reason(path: Path, error: Exception) -> str:
    """Why a file could not be read, in plain words. Never the error's own text: a parser quotes
    the cells it choked on, and a record-level file's cells are about children."""
    kind = "an Excel workbook" if path.suffix.lower() in WORKBOOK_SUFFIXES else "text"
    if path.stat().st_size == 0:
        return f"could not be read as {kind}: the file is empty"
    if kind != "text" and not isinstance(error, UnreadableFile):
        try:  # the workbook's signature says why more plainly (password, .xls, not a zip archive)
            open_workbook(path)
        except UnreadableFile as plainer:
            error = plainer
        except Exception:  # noqa: BLE001 - the generic sentence below says it
            pass
    if isinstance(error, UnreadableFile):
        return f"could not be read as {kind}: {error}"
    # Anything else (a damaged sheet, a CSV polars cannot split, a field too long): name it, plainly.
    return (f"could not be read as {kind}: it is damaged or not laid out as a table (a stray quote, a NUL "
            f"byte or a field too long, say) ({type(error).__name__})")
