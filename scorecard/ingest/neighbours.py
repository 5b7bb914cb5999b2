"""Statistical neighbours: the DfE's lists of the ten local authorities most like each one.

Benchmarking an authority against its statistical neighbours needs the list as the DfE
publishes it. Two layouts are read, both wide (one row per authority, ten neighbours across):

- the 2025 model, ``sn_model_2025_wide.csv``: ``old_la_code, la_name, region_ind,
  region_name, SN_1, SN_1P, ..., SN_10, SN_10P`` (closest first; ``SN_kP`` says how close,
  sometimes with a trailing space: ``"Close "``);
- the April 2021 groupings: ``LA num, LA Name, LA number, GOInd, GOReg, SN1, SNP, SN2, SNP,
  ...``: the closeness columns all share the header ``SNP`` (each belongs to the neighbour
  column before it), every line ends with a comma (an unnamed empty column), and blank rows
  and a section heading ("Old SNs:") separate authorities that no longer exist.

Both may start with a UTF-8 BOM. Authorities are named by their old three-digit DfE code
(929 Northumberland), as in the EES files' ``old_la_code``. The result is long: one row per
authority and neighbour, with the rows that cannot be read returned as ``Problem``s naming
the cell (file, row as a spreadsheet numbers it, column) and the rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from expectations.partner_returns import Problem
from scorecard.ingest.reader import TEXT_SUFFIXES, UnreadableFile, header_row, text_rows

MODEL_2025 = "sn_model_2025"
GROUPINGS_2021 = "sn_groupings_2021"
NEIGHBOURS = 10
NEIGHBOUR_SCHEMA = {"old_la_code": pl.String, "la_name": pl.String, "neighbour_rank": pl.Int64,
                    "neighbour_old_la_code": pl.String, "closeness": pl.String, "model": pl.String,
                    "source_row": pl.Int64}  # the row a spreadsheet shows, header = row 1
NEIGHBOUR_COLUMNS = tuple(NEIGHBOUR_SCHEMA)
_OLD_CODE = re.compile(r"^\d{3}$")


@dataclass(frozen=True)
class NeighboursFile:
    model: str | None  # None when the file is not a statistical-neighbours file
    frame: pl.DataFrame  # NEIGHBOUR_COLUMNS, one row per authority and neighbour
    problems: list[Problem]


@dataclass(frozen=True)
class _Layout:
    """Where one layout keeps the authority and its neighbours (0-based column positions)."""

    model: str
    code: int
    name: int
    neighbours: tuple[tuple[int, int], ...]  # (neighbour code, closeness) for ranks 1..10


def _normalise(header: list[str]) -> list[str]:
    return [cell.lstrip("\ufeff").strip().lower() for cell in header]


def _layout(header: list[str]) -> _Layout | None:
    """The layout a header row belongs to, or None."""
    names = _normalise(header)
    if {"old_la_code", "la_name"} <= set(names) and all(
            f"sn_{k}" in names and f"sn_{k}p" in names for k in range(1, NEIGHBOURS + 1)):
        pairs = tuple((names.index(f"sn_{k}"), names.index(f"sn_{k}p")) for k in range(1, NEIGHBOURS + 1))
        return _Layout(MODEL_2025, names.index("old_la_code"), names.index("la_name"), pairs)
    if "la num" in names and "la name" in names and all(f"sn{k}" in names for k in range(1, NEIGHBOURS + 1)):
        # Every closeness column is headed "SNP": it is the one right after its neighbour.
        pairs = tuple((names.index(f"sn{k}"), names.index(f"sn{k}") + 1) for k in range(1, NEIGHBOURS + 1))
        if all(closeness < len(names) and names[closeness] == "snp" for _, closeness in pairs):
            return _Layout(GROUPINGS_2021, names.index("la num"), names.index("la name"), pairs)
    return None


def recognise_neighbours(path: Path) -> bool:
    """Whether a CSV is a DfE statistical-neighbours file (either layout), by its header row."""
    path = Path(path)
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    try:
        return _layout(header_row(path)) is not None
    except (OSError, UnreadableFile):
        return False


def read_neighbours(path: Path, display_path: str | None = None) -> NeighboursFile:
    """A statistical-neighbours file as a long table, and the cells that cannot be read."""
    path = Path(path)
    where = display_path or str(path)
    rows = text_rows(path)
    header = rows[0] if rows else []
    layout = _layout(header)
    if layout is None:
        problem = Problem(where, None, None, None, None,
                          "it is not a statistical-neighbours file (no SN_1..SN_10 or SN1..SN10 header)")
        return NeighboursFile(None, pl.DataFrame(schema=NEIGHBOUR_SCHEMA), [problem])

    headers = [h.lstrip("\ufeff").strip() for h in header]
    problems: list[Problem] = []
    records: list[tuple] = []
    seen: dict[str, int] = {}
    for row_number, raw in enumerate(rows[1:], start=2):  # the header is row 1
        cells = [c.strip() for c in raw] + [""] * (len(headers) - len(raw))

        # (called in this iteration only: the defaults bind this row's number and cells)
        def refuse(position: int, rule: str, *, row_number: int = row_number, cells: list[str] = cells) -> None:
            problems.append(Problem(where, None, row_number, headers[position], cells[position] or None, rule))

        code = cells[layout.code]
        neighbour_cells = [cells[n] for n, _ in layout.neighbours]
        if not code and not any(neighbour_cells):
            continue  # a blank row, or a heading such as "Old SNs:" between sections
        if not _OLD_CODE.match(code):
            refuse(layout.code, "an authority is named by its three-digit DfE code (929 Northumberland)")
            continue
        if code in seen:
            refuse(layout.code, f"the authority is already listed in row {seen[code]}")
            continue
        seen[code] = row_number

        listed: set[str] = set()
        for rank, (neighbour, closeness) in enumerate(layout.neighbours, start=1):
            other = cells[neighbour]
            if not _OLD_CODE.match(other):
                refuse(neighbour, f"neighbour {rank} must be a three-digit DfE code")
            elif other == code or other in listed:
                refuse(neighbour, f"neighbour {rank} must be another authority, listed once")
            else:
                listed.add(other)
                records.append((code, cells[layout.name] or None, rank, other, cells[closeness] or None,
                                layout.model, row_number))
    frame = pl.DataFrame(records, schema=NEIGHBOUR_SCHEMA, orient="row")
    return NeighboursFile(layout.model, frame, problems)
