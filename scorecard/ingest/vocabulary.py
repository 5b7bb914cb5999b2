"""The data team's vocabulary, as data: CSV files of two columns, ``value,means``, that a data
team edits in Excel (``data/raw/vocabulary/``).

Each file is one vocabulary, named by its file name (``organisations.csv``; a second file
``organisations.<anything>.csv`` adds lines to it):

- ``headers``: a header as a file writes it -> the header the standard gives the column
  (``Child ID`` -> ``Child Unique ID``); one header may stand for columns of several tables;
- ``organisations``: an organisation or team as written -> its agency group
  (``Top Town Academy`` -> ``School``); one nobody mapped loads as written, in ``Unmapped``;
- ``referral_sources``: a CIN census referral-source code (``Annex A "q) 6: Police"``) -> agency group;
- ``categories_of_abuse``: a category as written -> the category (``NEG`` -> ``Neglect``);
- ``yes_no``: -> ``Yes`` or ``No``;
- ``hub_outcomes``: a front-door decision as written -> ``hub``, ``stepped_up`` or ``nfa``.

The project ships the national codes and common spellings in its own
``data/raw/vocabulary/``; the raw folder's ``vocabulary/`` adds (or overrides) lines. Values
are matched ignoring case, spacing, punctuation and Annex A option letters (``a) Yes``).
A line that cannot be used (an unknown meaning, a value given two meanings) is skipped and
listed in ``Vocabulary.problems``, naming the file and line. A change to any file gives the
vocabulary a new ``digest``: record-level files are then read again (``scorecard.load.record_level``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from expectations.layouts import CPP_CATEGORIES, EARLY_HELP_AGENCIES, normalise_header
from expectations.record_level import HUB_OUTCOMES
from scorecard.ingest.reader import UnreadableFile, text_rows
from scorecard.paths import PROJECT_ROOT

SHIPPED_VOCABULARY_DIR = PROJECT_ROOT / "data" / "raw" / "vocabulary"
VOCABULARY_FOLDER = "vocabulary"  # under the raw folder: the data team's own lines

# vocabulary -> what its ``means`` may be (None: any standard header, checked by the reader)
MEANINGS: dict[str, tuple[str, ...] | None] = {
    "headers": None,
    "organisations": EARLY_HELP_AGENCIES,
    "referral_sources": EARLY_HELP_AGENCIES,
    "categories_of_abuse": CPP_CATEGORIES,
    "yes_no": ("Yes", "No"),
    "hub_outcomes": HUB_OUTCOMES,
}

OPTION_LETTER = re.compile(r"^[a-z]{1,2}\)\s*")  # Annex A option letters: "a) Yes", "q) 6: Police"


def words(text: str) -> str:
    """How a coded value is matched: 'q) 6: Police' -> '6 police'; "Children's Centre" -> 'children s centre'."""
    text = OPTION_LETTER.sub("", text.replace("\xa0", " ").strip().lower())
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def _key(vocabulary: str, value: str) -> str:
    return normalise_header(value) if vocabulary == "headers" else words(value)


@dataclass(frozen=True)
class VocabularyLine:
    vocabulary: str
    value: str  # as matched (``words`` form; ``normalise_header`` form for headers)
    means: str
    file: str
    line: int


@dataclass(eq=False)
class Vocabulary:
    """Every vocabulary's lines, later folders overriding earlier ones."""

    lines: list[VocabularyLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # lines skipped, each naming its file and line

    def __post_init__(self) -> None:
        self._maps: dict[str, dict[str, str]] = {name: {} for name in MEANINGS}
        self._headers: dict[str, list[str]] = {}
        for line in self.lines:
            if line.vocabulary == "headers":
                self._headers.setdefault(normalise_header(line.means), []).append(line.value)
            else:
                self._maps[line.vocabulary][line.value] = line.means

    def lookup(self, vocabulary: str, text: str) -> str | None:
        """What ``text`` means in ``vocabulary`` (None when no line places it)."""
        return self._maps[vocabulary].get(_key(vocabulary, text))

    def header_aliases(self, standard_header: str) -> tuple[str, ...]:
        """Other headers (normalised) that stand for the column the standard heads ``standard_header``."""
        return tuple(self._headers.get(normalise_header(standard_header), ()))

    def values(self, vocabulary: str) -> dict[str, str]:
        return dict(self._maps[vocabulary])

    @property
    def digest(self) -> str:
        """Changes when, and only when, what some value means changes."""
        content = sorted({(line.vocabulary, line.value, line.means) for line in self.lines})
        return hashlib.sha256(repr(content).encode()).hexdigest()


def vocabulary_name(path: Path) -> str:
    """``organisations.csv`` and ``organisations.top_town.csv`` -> ``organisations``."""
    return path.name.split(".")[0].lower()


def vocabulary_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.csv") if p.is_file() and not p.name.startswith((".", "~$")))


def _read_file(path: Path, shown_as: str, problems: list[str]) -> list[VocabularyLine]:
    name = vocabulary_name(path)
    if name not in MEANINGS:
        problems.append(f"{shown_as}: not a vocabulary this project reads (the file names it reads: "
                        + ", ".join(f"{n}.csv" for n in MEANINGS) + "); its lines are not used")
        return []
    allowed = MEANINGS[name]
    by_fold = {meaning.casefold(): meaning for meaning in allowed} if allowed else {}
    try:  # (read as every other text file is: Excel's UTF-8, Windows-1252 or UTF-16; commas or semicolons)
        rows = iter(text_rows(path))
    except UnreadableFile as error:
        problems.append(f"{shown_as}: could not be read: {error}; its lines are not used")
        return []
    header = [normalise_header(cell) for cell in next(rows, [])]
    if header[:2] != ["value", "means"]:
        problems.append(f"{shown_as}, line 1: the first line must be the header 'value,means'; "
                        "the file's lines are not used")
        return []
    lines = []
    for number, row in enumerate(rows, start=2):
        cells = [cell.replace("\xa0", " ").strip() for cell in row[:2]] + ["", ""]
        value, means = cells[0], cells[1]
        if not value and not means:
            continue  # a blank line
        if not value or not means:
            problems.append(f"{shown_as}, line {number}: both 'value' and 'means' must be filled in; line skipped")
            continue
        if allowed is not None:
            if means.casefold() not in by_fold:
                problems.append(f"{shown_as}, line {number}: 'means' must be one of {', '.join(allowed)}; "
                                "line skipped")
                continue
            means = by_fold[means.casefold()]
        key = _key(name, value)
        if not key:
            problems.append(f"{shown_as}, line {number}: 'value' holds no letter or digit; line skipped")
            continue
        lines.append(VocabularyLine(name, key, means, shown_as, number))
    return lines


def _one_level(files: Iterable[tuple[Path, str]], problems: list[str]) -> list[VocabularyLine]:
    """The lines of one folder: a value given two meanings keeps the first (and says so)."""
    kept: dict[tuple[str, str, str], VocabularyLine] = {}
    first: dict[tuple[str, str], VocabularyLine] = {}
    for path, shown_as in files:
        for line in _read_file(path, shown_as, problems):
            if line.vocabulary == "headers":  # one header may stand for columns of several tables
                kept.setdefault((line.vocabulary, line.value, line.means), line)
                continue
            earlier = first.setdefault((line.vocabulary, line.value), line)
            if earlier.means != line.means:
                problems.append(f"{line.file}, line {line.line}: this value already means '{earlier.means}' "
                                f"({earlier.file}, line {earlier.line}); line skipped")
                continue
            kept.setdefault((line.vocabulary, line.value, line.means), line)
    return list(kept.values())


def load_vocabulary(raw_dir: Path | None = None, shipped_dir: Path = SHIPPED_VOCABULARY_DIR) -> Vocabulary:
    """The shipped vocabulary, with the raw folder's ``vocabulary/`` lines added (they win)."""
    problems: list[str] = []
    folders = [(shipped_dir, "vocabulary (shipped)")]
    if raw_dir is not None:
        local = raw_dir / VOCABULARY_FOLDER
        if local.resolve() != shipped_dir.resolve():
            folders.append((local, VOCABULARY_FOLDER))
    lines: list[VocabularyLine] = []
    for folder, shown in folders:
        level = _one_level(((path, f"{shown}/{path.name}") for path in vocabulary_files(folder)), problems)
        overridden = {(line.vocabulary, line.value) for line in level if line.vocabulary != "headers"}
        lines = [line for line in lines if (line.vocabulary, line.value) not in overridden] + level
    return Vocabulary(lines, problems)


def is_vocabulary_file(relative_path: str) -> bool:
    """A file under the raw folder's ``vocabulary/`` folder is vocabulary, never an extract."""
    return relative_path.split("/", 1)[0] == VOCABULARY_FOLDER
