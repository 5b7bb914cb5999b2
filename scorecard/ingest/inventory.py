"""The inventory of the raw folder: every data file (and sheet) in it, and what it was recognised as.

A file is recognised by its content, in this order: the DfE's statistical-neighbour models, DfE
open data (EES), OHID Fingertips exports, record-level extracts (whose other sheets hold nothing used), then the
partner-return layouts. A file that matches nothing is listed with the reason, not loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from scorecard.ingest.ees import recognise_ees
from scorecard.ingest.file_references import area_from_folders, file_reference, sheet_reference
from scorecard.ingest.files import discover_files, recognise_file, sha256_of_files
from scorecard.ingest.fingertips import recognise_fingertips
from scorecard.ingest.neighbours import recognise_neighbours
from scorecard.ingest.reader import unreadable_reason
from scorecard.ingest.record_level import recognise_record_level
from scorecard.ingest.vocabulary import Vocabulary, load_vocabulary

INVENTORY_SCHEMA = {"path": pl.String, "sheet": pl.String, "source": pl.String, "layout": pl.String,
                    "recognition": pl.String, "size_bytes": pl.Int64, "sha256": pl.String,
                    "seen_at": pl.Datetime("us", "UTC")}


def raw_relative(path: Path, raw_dir: Path) -> str:
    """A file's identity: its path under the raw folder, so the warehouse survives the folder moving."""
    return path.relative_to(raw_dir).as_posix()


def recognitions(path: Path, vocabulary: Vocabulary | None = None) -> list[dict]:
    """What one file (each of its sheets) is: source, layout (None if nothing matched) and why."""
    if recognise_neighbours(path):
        return [{"sheet": None, "source": "dfe_reference", "layout": "statistical_neighbours",
                 "recognition": "DfE statistical neighbours"}]
    if (dataset := recognise_ees(path)) is not None:
        return [{"sheet": None, "source": "dfe_published", "layout": dataset,
                 "recognition": f"DfE open data (EES), dataset '{dataset}'"}]
    if recognise_fingertips(path):
        return [{"sheet": None, "source": "fingertips", "layout": "fingertips",
                 "recognition": "OHID Fingertips export"}]
    record_level = recognise_record_level(path, vocabulary)
    found = [{"sheet": sheet, "source": "record_level", "layout": kind,
              "recognition": f"record-level extract '{kind}'"} for kind, sheet in record_level]
    if record_level and all(sheet is None for _, sheet in record_level):
        # A file without sheets (a CSV) holds one table, and it is record-level: nothing else to
        # find, and reading it whole again (millions of rows) would only repeat the reader's work.
        return found
    record_sheets = {sheet for _, sheet in record_level}
    for recognition in recognise_file(path):
        if record_level and recognition.sheet in record_sheets:
            continue
        if record_level and recognition.layout is None:
            continue  # other sheets of an Annex A workbook (lists 1, 4, 5...) hold nothing we use
        found.append({"sheet": recognition.sheet, "source": "partner_return",
                      "layout": recognition.layout.name if recognition.layout else None,
                      "recognition": recognition.reason})
    return found


def recognitions_or_why_not(path: Path, vocabulary: Vocabulary | None = None) -> list[dict]:
    """``recognitions``, or, for a file that cannot be read at all (empty, encrypted, truncated,
    binary, a field too long), one line saying so: one bad file never stops the inventory."""
    try:
        return recognitions(path, vocabulary)
    except Exception as error:  # noqa: BLE001 - any unreadable file becomes a line of the inventory
        return [{"sheet": None, "source": "partner_return", "layout": None,
                 "recognition": unreadable_reason(path, error)}]


def inventory(raw_dir: Path, key: str | None = None) -> pl.DataFrame:
    """``raw.extract_files``: every data file under ``raw_dir``, its size, sha256 and recognition.

    A record-level file and its sheets are named by reference, never as written
    (``scorecard.ingest.file_references``, keyed with the pseudonymisation ``key``), and so is any
    file in an authority's folder that nothing recognised."""
    seen_at = datetime.now(UTC).replace(microsecond=0)
    found = discover_files(raw_dir)
    vocabulary = load_vocabulary(raw_dir)
    rows = [{"path": raw_relative(path, raw_dir), "size_bytes": path.stat().st_size, "sha256": sha256,
             "seen_at": seen_at, **recognition}
            for path, sha256 in zip(found, sha256_of_files(found))
            for recognition in recognitions_or_why_not(path, vocabulary)]
    possibly_personal = _possibly_personal(rows)
    for row in rows:
        if row["path"] in possibly_personal:
            row["path"], row["sheet"] = file_reference(row["path"], key), sheet_reference(row["sheet"], key)
    return pl.DataFrame(rows, schema=INVENTORY_SCHEMA)


def _possibly_personal(rows: list[dict]) -> set[str]:
    """Files to name by reference: record-level extracts, and any file in an authority's folder
    (where record-level extracts go) that nothing recognised, e.g. a damaged or encrypted extract,
    whose name could hold a child's as much as a readable one's."""
    loaded_as_other = {row["path"] for row in rows if row["layout"] is not None and row["source"] != "record_level"}
    return ({row["path"] for row in rows if row["source"] == "record_level"}
            | {row["path"] for row in rows if area_from_folders(row["path"]) and row["path"] not in loaded_as_other})


def unrecognised(files: pl.DataFrame) -> list[str]:
    """A line for each file (or sheet) of the inventory that matched nothing, with the reason."""
    return [f"{r['path']}" + (f", sheet '{r['sheet']}'" if r["sheet"] else "") + f": not loaded, {r['recognition']}"
            for r in files.filter(pl.col("layout").is_null()).iter_rows(named=True)]
