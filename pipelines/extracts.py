"""Finding extract files under the raw folder, reading them as text, and recognising their layout.

Files are recognised by content (the header row of a CSV, each sheet of a workbook), never
by name or folder, so an agency can name and file its extracts as it likes. Everything is
read as text: typing is the validation step's job, where a bad cell becomes a clear message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from expectations.layouts import LAYOUTS, Layout, normalise_header

DATA_SUFFIXES = {".csv", ".xlsx", ".xlsm"}
HEADER_ROW = 1  # the header is the first row, as a spreadsheet numbers it


@dataclass(frozen=True)
class Table:
    """One table of text cells: a CSV file, or one sheet of a workbook."""

    path: Path
    sheet: str | None
    # Columns renamed to normalised headers, all String, plus ``source_row``: the row number
    # a spreadsheet shows for each data row (the header is row HEADER_ROW).
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
    """Data files anywhere under the raw folder (strategy YAML and hidden files are not data)."""
    return sorted(
        p for p in raw_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        and not any(part.startswith((".", "~$")) for part in p.relative_to(raw_dir).parts)
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tidy(frame: pl.DataFrame) -> pl.DataFrame:
    """Normalise headers, trim cells (non-breaking spaces too), blank cells to null, number rows."""
    renamed = frame.rename({c: normalise_header(c) or f"column_{i + 1}" for i, c in enumerate(frame.columns)})
    return renamed.with_columns(
        pl.col(c).cast(pl.String).str.replace_all("\u00a0", " ").str.strip_chars().replace("", None)
        for c in renamed.columns
    ).with_row_index("source_row", offset=HEADER_ROW + 1).with_columns(pl.col("source_row").cast(pl.Int64))


def read_tables(path: Path) -> list[Table]:
    """Every table in a file, as text."""
    if path.suffix.lower() == ".csv":
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)
        return [Table(path, None, _tidy(frame))]
    reader = fastexcel.read_excel(str(path))
    tables = []
    for sheet in reader.sheet_names:
        loaded = reader.load_sheet(sheet, dtypes="string")
        tables.append(Table(path, sheet, _tidy(loaded.to_polars())))
    return tables


def recognise(headers: list[str]) -> tuple[Layout | None, str]:
    """The one layout whose columns are all present (by name or alias), or why there is none."""
    matches = [layout for layout in LAYOUTS if layout.match_headers(headers) is not None]
    if len(matches) == 1:
        return matches[0], f"header matches layout '{matches[0].name}'"
    if len(matches) > 1:
        return None, "header matches more than one layout: " + ", ".join(m.name for m in matches)
    closest = min(LAYOUTS, key=lambda layout: len(layout.missing_columns(headers)))
    return None, (f"header matches no known layout; the closest is '{closest.name}', which also "
                  f"needs column(s) {', '.join(closest.missing_columns(headers))}")


def recognise_file(path: Path) -> list[Recognition]:
    """What each table in a file is; a file that cannot be read is reported, not skipped."""
    try:
        tables = read_tables(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file becomes a report line
        return [Recognition(path, None, None, f"could not be read as {path.suffix.lstrip('.').upper()}: "
                            f"{type(error).__name__}")]
    results = []
    for table in tables:
        if not table.headers:
            continue  # an empty sheet in a workbook holds nothing to load
        layout, reason = recognise(table.headers)
        results.append(Recognition(path, table.sheet, layout, reason))
    return results or [Recognition(path, None, None, "holds no table")]
