"""How the warehouse names a record-level file and sheet: never as written.

A data team names files and sheets as it likes, and a child's name sometimes ends up in one
("Olivia Smith referral.xlsx", a sheet "List 3 Olivia"). The warehouse (``raw.extract_files``,
``raw.load_ledger``, ``marts.unmapped_values``) and every message name a record-level file by its
authority's folder and a keyed hash of its path (``E06000057/record-level file 3f9a2c1b7d40.xlsx``),
and an Annex A sheet by its list ("List 3"); any other sheet by a hash. The pseudonymisation key
makes the hash impossible to recompute from a guessed name. ``real_paths`` finds the file again.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from scorecard.ingest.record_level import annex_a_list_number, keyed_hash

_AREA_FOLDER = re.compile(r"^(E0[6-9]\d{6}|E10\d{6})(?![0-9])")
RECORD_LEVEL_FILE = "record-level file"


def area_from_folders(relative_path: str) -> str | None:
    """The ONS code naming one of the folders a file sits in, nearest first."""
    for folder in reversed(Path(relative_path).parts[:-1]):
        if match := _AREA_FOLDER.match(folder):
            return match.group(1)
    return None


def _digest(text: str, key: str | None) -> str:
    if key:
        return f"{keyed_hash(text, key) & (2**64 - 1):016x}"[:12]
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def file_reference(relative_path: str, key: str | None) -> str:
    """``E06000057/Olivia Smith.xlsx`` -> ``E06000057/record-level file 3f9a2c1b7d40.xlsx``."""
    area = area_from_folders(relative_path)
    name = f"{RECORD_LEVEL_FILE} {_digest(relative_path, key)}{Path(relative_path).suffix.lower()}"
    return f"{area}/{name}" if area else name


def sheet_reference(sheet: str | None, key: str | None) -> str | None:
    """'List 3 - Olivia' -> 'List 3'; any other sheet -> 'sheet <hash>'; None (a CSV) stays None."""
    if sheet is None:
        return None
    number = annex_a_list_number(sheet)
    return f"List {number}" if number is not None else f"sheet {_digest(sheet, key)[:8]}"


def real_paths(relative_paths: list[str], key: str | None) -> dict[str, str]:
    """{reference: path under the raw folder} for the given files."""
    return {file_reference(path, key): path for path in relative_paths}
