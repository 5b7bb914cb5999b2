"""Record-level extracts, read as data teams have them, returned without personal data.

Sources (see ``docs/record_level.md`` for every accepted header and code):

- **Annex A** lists 2 (early help), 3 (referrals), 7 (child protection plans) and 8 (children
  looked after): sheets named "List N" (any suffix, case and spacing ignored), or any sheet
  or CSV whose header row holds the list's columns;
- **SSDA903** episodes (``CHILD,DECOM,...,DEC,...``); the SSDA903 header table is recognised
  and nothing of it is kept;
- a **front-door / hub referral log** (``referral_date, la_code, neglect, outcome``).

What comes back for each table is a ``RecordTable``: a typed frame holding only the columns
the monthly measures need (``sql/record_level/*.sql``), the child identifier replaced by a
keyed hash (``pseudonymise``), and the problems found, each naming file, sheet, row (as a
spreadsheet numbers it), column and rule. For a cell about a child (identifier, dates) a
problem never repeats the cell's content. Names, dates of birth, postcodes, UPNs, workers
and free text are never read into a returned frame: only the columns listed here are kept.

Everything is vectorised: coded values and dates are parsed once per distinct value and
mapped back; identifiers, nearly one per row, are hashed a column at a time (``scorecard.ingest.siphash``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from expectations.layouts import CPP_CATEGORIES, normalise_header
from expectations.partner_returns import Problem
from expectations.problem_groups import failure_runs, group_runs
from expectations.record_level import SCHEMAS, UNMAPPED
from scorecard.ingest.reader import (
    HEADER_SEARCH_ROWS,
    TEXT_SUFFIXES,
    TextFormat,
    grid_head,
    open_workbook,
    sheet_grid,
    text_head,
    utf8_bytes,
)
from scorecard.ingest.siphash import MASK64, siphash24, siphash24_scalar
from scorecard.ingest.vocabulary import OPTION_LETTER, Vocabulary, load_vocabulary, words
from scorecard.model.periods import parse_date

Kind = Literal["annex_a_list2", "annex_a_list3", "annex_a_list7", "annex_a_list8",
               "ssda903_episodes", "ssda903_header", "hub_log", "cin_assessments"]
Parser = Literal["id", "date", "yes_no", "neglect_factors", "category", "organisation", "count",
                 "outcome", "area_code"]
# "row": the row cannot be counted without this cell, so a blank or unreadable cell drops it;
# "cell": expected in every row, so a blank or unreadable cell is reported and left empty;
# "optional": a blank is fine, an unreadable cell is reported and left empty.
Need = Literal["row", "cell", "optional"]

# Each file is a handful of polars queries over thousands of rows: polars' in-memory engine
# starts them faster than the default one (20-30% of the reading time of small files).
ENGINE = "in-memory"


class PseudonymKeyMissing(RuntimeError):
    """Record-level rows hold child identifiers, and there is no key to pseudonymise them with."""


@dataclass(frozen=True)
class RecordProblem(Problem):
    """A ``Problem`` that may withhold a cell's content.

    ``withheld`` is true when the cell was not blank but is about a child (an identifier or a
    date), so ``value`` stays None and the message says the content is not shown.
    """

    withheld: bool = False

    def message(self) -> str:
        if self.row is None:  # about a whole table or column, not one cell
            return f"{self.location()}: {self.rule}."
        if self.withheld:
            return (f"{self.location()}: the cell is refused because {self.rule} "
                    "(its content is not shown: it is about a child).")
        return super().message()


@dataclass(frozen=True)
class RecordTable:
    kind: Kind
    path: Path
    sheet: str | None
    frame: pl.DataFrame
    problems: list[Problem]


@dataclass(frozen=True)
class Field:
    name: str  # the column it becomes (``neglect_flag``/``neglect_factors`` both feed ``neglect``)
    header: str  # as the standard writes it, for messages and the documentation
    parser: Parser
    aliases: tuple[str, ...] = ()  # other headers, already normalised (see normalise_header)
    required: bool = False  # the column must be present for the table to be read
    need: Need = "optional"

    @functools.cached_property
    def accepted(self) -> tuple[str, ...]:
        return (normalise_header(self.header), *self.aliases)

    @property
    def personal(self) -> bool:
        """Cells about a child: a problem names the cell but never repeats its content."""
        return self.parser in ("id", "date")


@dataclass(frozen=True)
class Source:
    kind: Kind
    title: str
    fields: tuple[Field, ...]
    annex_a_list: int | None = None
    keeps_nothing: bool = False  # recognised so that it is known, but nothing of it is kept

    @property
    def required(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.required)


def _child_id(header: str = "Child Unique ID", required: bool = True, need: Need = "row") -> Field:
    return Field("child_key", header, "id", required=required, need=need)


def _neglect_fields() -> tuple[Field, Field]:
    return (Field("neglect_flag", "Neglect identified", "yes_no"),
            Field("neglect_factors", "Factors identified at assessment", "neglect_factors"))


# Other headers each column is known by are the vocabulary's (``headers.csv``): ``sources_for``.
SOURCES: tuple[Source, ...] = (
    Source("annex_a_list2", "Annex A list 2: early help assessments", annex_a_list=2, fields=(
        _child_id(),
        Field("assessment_start", "Assessment start date", "date", required=True, need="row"),
        Field("assessment_completed", "Assessment completion date", "date"),
        # (the agency group; the organisation as written is kept beside it, as ``organisation``)
        Field("agency", "Organisation completing assessment", "organisation", required=True, need="cell"),
        *_neglect_fields(),
    )),
    Source("annex_a_list3", "Annex A list 3: referrals", annex_a_list=3, fields=(
        _child_id(),
        Field("referral_date", "Date of Referral", "date", required=True, need="row"),
        Field("referral_nfa", "Referral NFA?", "yes_no"),
        *_neglect_fields(),
    )),
    Source("annex_a_list7", "Annex A list 7: child protection plans", annex_a_list=7, fields=(
        _child_id(),
        Field("plan_start", "Child Protection Plan Start Date", "date", required=True, need="row"),
        Field("initial_category", "Initial Category of Abuse", "category", required=True, need="cell"),
        Field("latest_category", "Latest Category of Abuse", "category", required=True),
        Field("plan_end", "Child Protection Plan End Date", "date", required=True),
        Field("previous_plans", "Number of Previous Child Protection Plans", "count"),
    )),
    Source("annex_a_list8", "Annex A list 8: children looked after", annex_a_list=8, fields=(
        _child_id(),
        Field("date_started", "Date Started to be Looked After", "date", required=True, need="row"),
        Field("date_ceased", "Date Ceased to be Looked After", "date"),
    )),
    Source("ssda903_episodes", "SSDA903 episodes", fields=(
        _child_id("CHILD"),
        Field("decom", "DECOM", "date", required=True, need="row"),
        Field("dec", "DEC", "date", required=True),
    )),
    # Its fields only recognise the table: none is ever read.
    Source("ssda903_header", "SSDA903 header (personal details only: nothing is kept)", keeps_nothing=True, fields=(
        Field("child", "CHILD", "id", required=True),
        Field("sex", "SEX", "id", required=True),
        Field("dob", "DOB", "date", required=True),
    )),
    Source("hub_log", "Front-door / hub referral log", fields=(
        Field("referral_date", "referral_date", "date", required=True, need="row"),
        Field("area_code", "la_code", "area_code", need="row"),
        Field("neglect_flag", "neglect", "yes_no", required=True, need="row"),
        Field("outcome", "outcome", "outcome", required=True, need="cell"),
        _child_id("child_id", required=False, need="optional"),
    )),
)
SOURCES_BY_KIND: dict[str, Source] = {s.kind: s for s in SOURCES}

# The typed frame of each kind: ``expectations.record_level.SCHEMAS``, checked with its pandera schema.

# ---------------------------------------------------------------------------------------------
# Coded values


_NA_TOKENS = ("", "#n/a", "n/a", "na", "#value!", "#ref!", "#div/0!", "#name?", "#null!", "#num!",
              "#getting_data", "null", "nan", "-")
# Every spelling of each token in upper and lower case: checking a cell is then one lookup,
# where lower-casing every cell first would cost more than the rest of the cleaning.
# Built once, as one list value: polars builds its lookup from a Series several times faster
# than from a Python list, which it would convert again for every query (~0.3 ms a file).
_NA_SPELLINGS = pl.Series(sorted({"".join(letters) for token in _NA_TOKENS
                                  for letters in itertools.product(*({c.lower(), c.upper()} for c in token))}),
                          dtype=pl.String).implode()
_CODE_AND_LABEL = re.compile(r"^(\d{1,2}[a-z]?)(?:\s*[:.)\-]\s*|\s+)(.+)$")
_CODE_ONLY = re.compile(r"^\d{1,2}[a-z]?$")
_TIME_SUFFIX = re.compile(r"^(\S+)[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_WHOLE_NUMBER = re.compile(r"^\d+(?:\.0+)?$")
_AREA_CODE = re.compile(r"^[EWSN]\d{8}$")
_EXCEL_EPOCH = date(1899, 12, 30)
# Day numbers accepted as dates (a date cell without date formatting): 1970 to 2099, so a bare
# year such as "2020" is never read as a day in 1905.
_FIRST_SERIAL, _LAST_SERIAL = (date(1970, 1, 1) - _EXCEL_EPOCH).days, (date(2099, 12, 31) - _EXCEL_EPOCH).days


def _code_and_label(text: str) -> tuple[str | None, str]:
    """'q) 6: Police' -> ('6', 'police'); '3B' -> ('3b', ''); 'Police' -> (None, 'police')."""
    text = words(text)
    if _CODE_ONLY.match(text):
        return text, ""
    if m := _CODE_AND_LABEL.match(text):
        return m[1], m[2]
    return None, text


def _parse_date_cell(text: str) -> date | None:
    """An Excel date or date-time as read, a dd/mm/yyyy or yyyy-mm-dd text, or an Excel day number."""
    if m := _TIME_SUFFIX.match(text):
        text = m[1]
    if (parsed := parse_date(text)) is not None:
        return parsed
    if _SERIAL.match(text) and _FIRST_SERIAL <= (days := int(float(text))) <= _LAST_SERIAL:
        return _EXCEL_EPOCH + timedelta(days=days)
    return None


def _parse_yes_no(text: str, vocabulary: Vocabulary) -> bool | None:
    meaning = vocabulary.lookup("yes_no", text)
    return None if meaning is None else meaning == "Yes"


def _parse_neglect_factors(text: str, vocabulary: Vocabulary) -> bool:
    """True when one of the listed factors is neglect itself ('Neglect', 'b) Neglect', '2B: Neglect')."""
    return any(_code_and_label(item)[1] == "neglect" for item in re.split(r"[,;|\n]", text))


def _parse_category(text: str, vocabulary: Vocabulary) -> str | None:
    return vocabulary.lookup("categories_of_abuse", text)


def _parse_organisation(text: str, vocabulary: Vocabulary) -> str:
    """The agency group of an organisation as written: by name ('Top Town Academy'), by CIN
    referral-source code ('q) 6: Police'), by the name after the code, else UNMAPPED (free text
    is data: the organisation is kept as written and listed for the data team to map)."""
    if (agency := vocabulary.lookup("organisations", text)) is not None:
        return agency
    code, label = _code_and_label(text)
    if code is not None and (agency := vocabulary.lookup("referral_sources", code)) is not None:
        return agency
    return (vocabulary.lookup("organisations", label) if label else None) or UNMAPPED


def _parse_count(text: str, vocabulary: Vocabulary) -> int | None:
    text = OPTION_LETTER.sub("", text.strip().lower())
    if _WHOLE_NUMBER.match(text):
        return int(float(text))
    return 0 if text in ("none", "nil") else None


def _parse_outcome(text: str, vocabulary: Vocabulary) -> str | None:
    return vocabulary.lookup("hub_outcomes", text)


def _parse_area_code(text: str, vocabulary: Vocabulary) -> str | None:
    code = text.strip().upper()
    return code if _AREA_CODE.match(code) else None


_PARSERS: dict[str, tuple[Callable[[str, Vocabulary], Any], pl.DataType, str]] = {
    "date": (lambda text, _: _parse_date_cell(text), pl.Date(),
             "it must be a date: an Excel date, or a date written dd/mm/yyyy or yyyy-mm-dd"),
    "yes_no": (_parse_yes_no, pl.Boolean(),
               "it must be yes or no (for example 'a) Yes', 'Y', 'No', 'false'; see vocabulary/yes_no.csv)"),
    "neglect_factors": (_parse_neglect_factors, pl.Boolean(), ""),
    "category": (_parse_category, pl.String(),
                 "it must be a category of abuse the vocabulary places: " + ", ".join(CPP_CATEGORIES)
                 + " (codes such as 'a) Neglect' or 'NEG' are accepted; add a line to "
                   "vocabulary/categories_of_abuse.csv for another spelling)"),
    "organisation": (_parse_organisation, pl.String(), ""),  # never unreadable: unmapped is listed, not refused
    "count": (_parse_count, pl.Int64(), "it must be a whole number of 0 or more"),
    "outcome": (_parse_outcome, pl.String(),
                "it must be one of: dealt with by the hub, stepped up to social work, no further action "
                "(add a line to vocabulary/hub_outcomes.csv for another spelling)"),
    "area_code": (_parse_area_code, pl.String(), "it must be the ONS code of a local authority, such as E06000057"),
}


@functools.cache
def shipped_vocabulary() -> Vocabulary:
    """The project's own vocabulary, for reading without a raw folder's additions."""
    return load_vocabulary()


@functools.lru_cache(maxsize=8)
def _cached_parsers(vocabulary: Vocabulary) -> dict[str, Callable[[str], Any]]:
    """How a coded cell reads under ``vocabulary``: pure functions of the text, so each distinct
    text met in any file is parsed once per process. Only codes (categories, organisations,
    yes/no, outcomes, counts, area codes: cells that are not about a child) are kept; dates and
    identifiers never are."""
    return {name: functools.lru_cache(maxsize=50_000)(functools.partial(parse, vocabulary=vocabulary))
            for name, (parse, _, _) in _PARSERS.items() if name != "date"}


@functools.lru_cache(maxsize=8)
def sources_for(vocabulary: Vocabulary) -> tuple[Source, ...]:
    """SOURCES, each column accepting the other headers the vocabulary gives for it."""
    return tuple(dataclasses.replace(source, fields=tuple(
        dataclasses.replace(item, aliases=tuple(a for a in vocabulary.header_aliases(item.header)
                                                if a != normalise_header(item.header)))
        for item in source.fields)) for source in SOURCES)


def parse_value(parser: Parser, text: str, vocabulary: Vocabulary | None = None) -> Any:
    """One cell's text as ``parser`` reads it (None when it cannot): the rules, one value at a time."""
    if parser == "id":
        return text
    return _PARSERS[parser][0](text, vocabulary or shipped_vocabulary())


# ---------------------------------------------------------------------------------------------
# Pseudonymisation


_KEY_MISSING = ("record-level data holds child identifiers, but no pseudonymisation key was given: set "
                "SCORECARD_PSEUDONYM_KEY to a long random secret kept outside the project (and keep it: a new "
                "key gives every child a new child_key)")


PSEUDONYM_SCHEME = "SipHash-2-4"  # how child_key is made: stamped on every raw table of child_keys


def _siphash_key(key: str | bytes) -> bytes:
    """The 16-byte SipHash key made from the pseudonymisation key: its (UTF-8) BLAKE2b hash,
    16 bytes long, so a key of any length gives a full-strength SipHash key."""
    secret = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    return hashlib.blake2b(secret, digest_size=16, person=b"child_key").digest()


def keyed_hashes(values: pl.Series, key: str | bytes) -> np.ndarray:
    """Each value's (UTF-8) SipHash-2-4 under the pseudonymisation key, as signed 64-bit integers:
    ``scorecard.ingest.siphash.siphash24_scalar(_siphash_key(key), value)`` read as a signed integer.

    SipHash is a keyed pseudorandom function (a MAC, as HMAC is) made for short inputs: without
    the key a child_key can be neither reversed nor recomputed from a guessed identifier.
    64 bits: an 8-byte integer is what DuckDB groups, sorts and joins fastest. Two of n children
    share a key with a chance of about n^2 / 2^65: one in 370,000 for ten million children.
    Hashed a block of identifiers at a time in numpy (``scorecard.ingest.siphash``): ~0.15 µs an
    identifier without holding the GIL, where hashlib's keyed BLAKE2b took ~0.5 µs holding it,
    and hashing was most of the cost of reading national-scale extracts.
    """
    hashed = siphash24(_siphash_key(key), values.cast(pl.String).to_arrow(compat_level=pl.CompatLevel.oldest()))
    return hashed.view(np.int64)


def keyed_hash(text: str, key: str | bytes) -> int:
    """One text's ``keyed_hashes`` value (a signed 64-bit integer), computed for that text alone:
    for a handful of values (file references), where a numpy pass over one value costs far more
    than the hash."""
    return int.from_bytes(siphash24_scalar(_siphash_key(key), text.encode("utf-8")).to_bytes(8, "little"),
                          "little", signed=True)


def pseudonym_check(key: str | bytes) -> str:
    """A short value that changes when the key does and tells nothing about it (the keyed hash
    of a fixed text): stamped on raw tables so that rows keyed two ways are never mixed."""
    check = keyed_hash("neglect-scorecard key check", key)
    return f"{PSEUDONYM_SCHEME}, key check {int(check) & MASK64:016x}"


def pseudonymise(ids: pl.Series, key: str | bytes | None) -> pl.Series:
    """Each identifier replaced by its ``child_key`` (``keyed_hashes``, Int64); nulls stay null.

    The same key gives the same child the same ``child_key`` in every file and every run.
    """
    values = ids.cast(pl.String)
    nulls = values.null_count()
    if nulls == values.len():
        return values.cast(pl.Int64)
    if not key:
        raise PseudonymKeyMissing(_KEY_MISSING)
    hashed = pl.Series(ids.name, keyed_hashes(values, key), dtype=pl.Int64)
    return hashed.set(values.is_null(), None) if nulls else hashed


# ---------------------------------------------------------------------------------------------
# Reading the grid of cells


_LIST_SHEET = re.compile(r"^list[\s_\-]*0*(\d+)(?!\d)")


def annex_a_list_number(sheet: str) -> int | None:
    """'List 3 - Referrals' -> 3, ' LIST\u00a008 ' -> 8, 'Lists' -> None."""
    m = _LIST_SHEET.match(" ".join(sheet.replace("\xa0", " ").split()).lower())
    return int(m[1]) if m else None


@dataclass(frozen=True)
class _Header:
    source: Source
    row_index: int  # 0-based among the rows read: the header is spreadsheet row row_index + 1
    columns: dict[str, int]  # field name -> column position
    written: dict[str, str]  # field name -> header as written in the file


def _match(source: Source, row: list[str],
           normalised: list[str] | None = None) -> tuple[dict[str, int], dict[str, str]]:
    if normalised is None:
        normalised = [normalise_header(cell) for cell in row]
    columns: dict[str, int] = {}
    written: dict[str, str] = {}
    for item in source.fields:
        position = next((i for i, h in enumerate(normalised) if h and h in item.accepted), None)
        if position is not None:
            columns[item.name] = position
            written[item.name] = " ".join(str(row[position]).replace("\xa0", " ").split())
    return columns, written


def _find_header(head: list[list[str]], candidates: Iterable[Source]) -> _Header | None:
    """The first row holding every required column of a candidate; the best-matching candidate wins."""
    candidates = tuple(candidates)
    for index, row in enumerate(head):
        found = []
        normalised = [normalise_header(cell) for cell in row]
        for source in candidates:
            columns, written = _match(source, row, normalised)
            if all(f.name in columns for f in source.required):
                found.append(_Header(source, index, columns, written))
        if found:
            best = max(len(h.columns) for h in found)
            winners = [h for h in found if len(h.columns) == best]
            return winners[0] if len(winners) == 1 else None
    return None


def _missing_columns(head: list[list[str]], source: Source) -> tuple[int | None, list[Field]]:
    """The row most like the source's header (spreadsheet number) and its missing required columns."""
    best_row, best_missing = None, list(source.required)
    for index, row in enumerate(head):
        columns, _ = _match(source, row)
        missing = [f for f in source.required if f.name not in columns]
        if len(missing) < len(best_missing):
            best_row, best_missing = index + 1, missing
    return best_row, best_missing


def _candidates_for_sheet(sheet: str | None, sources: tuple[Source, ...]) -> tuple[Source, ...]:
    """A "List N" sheet is that list (or nothing, for lists not used); any other table may be anything."""
    number = annex_a_list_number(sheet) if sheet is not None else None
    if number is None:
        return sources
    return tuple(s for s in sources if s.annex_a_list == number)


@dataclass(frozen=True)
class _TableIn:
    """One table of a file: a CSV, or one sheet of a workbook."""

    sheet: str | None
    head: list[list[str]]  # its first rows as text, to find the header in
    # (header row index, {name: column position}) -> (the rows below the header, cells as text
    # in the named columns (positions past the last column left out), and the spreadsheet row
    # number of the first of them)
    load_below: Callable[[int, dict[str, int]], tuple[pl.DataFrame, int]] | None
    # Or, for a table read as it streams in (a CSV): (header row index, {name: column position},
    # rows at most in each) -> the rows below the header, a batch at a time (at least one, perhaps
    # empty), the first being spreadsheet row header row index + 2
    stream_below: Callable[[int, dict[str, int], int], Iterator[pl.DataFrame]] | None = None


def _columns_at(names: list[str], wanted: dict[str, int]) -> list[pl.Expr]:
    return [pl.col(names[position]).alias(name) for name, position in wanted.items() if position < len(names)]


# A CSV smaller than this many bytes a row (of a batch's rows) cannot fill more than one batch:
# it is read whole, on polars' in-memory engine, which starts a query faster than the streaming
# one (and many such files are read on several threads at once).
STREAM_BYTES_PER_ROW = 32


def _csv_batches(path: Path, text_format: TextFormat, lines_above: int, wanted: dict[str, int],
                 batch_rows: int) -> Iterator[pl.DataFrame]:
    """The rows of a text file below its header, the wanted columns only, every cell as text, at
    most ``batch_rows`` rows at a time for a large file: polars reads the next batch while the
    caller types this one, and a national extract is never held whole as text. At least one batch
    (perhaps empty).

    The header is the row found in the file's head: the lines above it are skipped (counted as
    lines, not rows, as polars does not count blank lines at the top of a file as rows). polars
    reads UTF-8 only: a file in another encoding (``text_format``) is given to it re-encoded.
    """
    source: Path | bytes = path if text_format.utf8 else utf8_bytes(path, text_format)
    streamed = path.stat().st_size > batch_rows * STREAM_BYTES_PER_ROW
    done = 0
    # (checking UTF-8 costs less than replacing bad bytes in every cell: lossy only if needed; the
    # batches given already held none, so the lossy read goes on from where the strict one stopped)
    for encoding in ("utf8", "utf8-lossy"):
        scan = pl.scan_csv(source, separator=text_format.delimiter, skip_lines=lines_above, has_header=True,
                           infer_schema=False, encoding=encoding, truncate_ragged_lines=True)
        columns = _columns_at(scan.collect_schema().names(), wanted)
        if not columns:
            yield pl.DataFrame()
            return
        rows = scan.select(columns)
        if done:  # (only then: a slice stops polars reading the file on several threads)
            rows = rows.slice(done)
        try:
            for batch in (rows.collect_batches(chunk_size=batch_rows) if streamed else [rows.collect(engine=ENGINE)]):
                done += batch.height
                yield batch
        except pl.exceptions.ComputeError:
            if encoding == "utf8-lossy":
                raise
            continue
        if streamed and not done:
            yield pl.DataFrame(schema=rows.collect_schema())
        return


def _tables_in(path: Path) -> list[_TableIn]:
    if path.suffix.lower() in TEXT_SUFFIXES:
        head, lines_before, text_format = text_head(path)

        def stream_csv(header_index: int, wanted: dict[str, int], batch_rows: int) -> Iterator[pl.DataFrame]:
            return _csv_batches(path, text_format, lines_before[header_index], wanted, batch_rows)

        return [_TableIn(None, head, None, stream_below=stream_csv)]
    reader = open_workbook(path)
    tables = []
    for sheet in reader.sheet_names:
        def load_sheet(header_index: int, wanted: dict[str, int], sheet: str = sheet) -> tuple[pl.DataFrame, int]:
            grid = sheet_grid(reader, sheet).slice(header_index + 1)
            columns = _columns_at(grid.columns, wanted)
            return (grid.select(columns) if columns else pl.DataFrame()), header_index + 2

        tables.append(_TableIn(sheet, grid_head(sheet_grid(reader, sheet, n_rows=HEADER_SEARCH_ROWS)), load_sheet))
    return tables


def recognise_record_level(path: Path, vocabulary: Vocabulary | None = None) -> list[tuple[Kind, str | None]]:
    """(kind, sheet) for each record-level table in a file, by sheet name ("List N") or header row
    (the headers the vocabulary knows: the shipped one if none is given)."""
    if path.suffix.lower() == ".xml":  # a CIN census return (it builds on this module)
        from scorecard.ingest.cin_census import recognise_cin_census
        return recognise_cin_census(path)  # type: ignore[return-value]
    sources = sources_for(vocabulary or shipped_vocabulary())
    found: list[tuple[Kind, str | None]] = []
    for table in _tables_in(path):
        candidates = _candidates_for_sheet(table.sheet, sources)
        if table.sheet is not None and annex_a_list_number(table.sheet) is not None:
            found.extend((s.kind, table.sheet) for s in candidates)  # named as the list: it is the list
        elif (header := _find_header(table.head, candidates)) is not None:
            found.append((header.source.kind, table.sheet))
    return found


# ---------------------------------------------------------------------------------------------
# Typing, checking and pseudonymising one table


def _clean_text(cells: pl.Expr) -> pl.Expr:
    """Cells trimmed (non-breaking spaces too); blanks and spreadsheet error codes become null."""
    text = cells.cast(pl.String).str.replace_all("\u00a0", " ", literal=True).str.strip_chars()
    return pl.when(text.is_in(_NA_SPELLINGS)).then(None).otherwise(text)


def _normalise_id(cells: pl.Expr) -> pl.Expr:
    """A number stored as such in Excel reads as '123' or '123.0': both become '123'."""
    return pl.when(cells.str.contains(r"^\d+\.0+$")).then(cells.str.replace(r"\.0+$", "")).otherwise(cells)


def _cleaned(cells: pl.Series) -> pl.Series:
    return pl.select(_clean_text(pl.lit(cells))).to_series()


# Dates written dd/mm/yyyy or yyyy-mm-dd, nothing more: read by polars, to the same result as
# ``_parse_date_cell`` (an impossible date such as 31/02/2021 is null either way).
_PLAIN_DATES = ((r"^\d{2}/\d{2}/[1-9]\d{3}$", "%d/%m/%Y"), (r"^[1-9]\d{3}-\d{2}-\d{2}$", "%Y-%m-%d"))


def _plain_dates(text: pl.Expr) -> dict[str, pl.Expr]:
    """The plain dates among cleaned texts, and which other texts ``_parse_date_cell`` must read."""
    return {"plain_date": pl.coalesce(pl.when(text.str.contains(pattern)).then(text.str.to_date(fmt, strict=False))
                                      for pattern, fmt in _PLAIN_DATES),
            "other_date": text.is_not_null() & ~pl.any_horizontal(text.str.contains(p) for p, _ in _PLAIN_DATES)}


def _parse_dates(cleaned: pl.Series, plain: pl.Series, other: pl.Series) -> pl.Series:
    """Cleaned texts -> dates: the plain forms as ``_plain_dates`` read them, any other text by
    ``_parse_date_cell``."""
    if not other.any():
        return plain
    others = pl.Series([_parse_date_cell(text) for text in cleaned.filter(other).to_list()], dtype=pl.Date)
    return plain.scatter(other.arg_true(), others)


# Free text kept as written (cleaned) beside what the vocabulary makes of it: parser -> column.
WRITTEN_AS = {"organisation": "organisation"}
_BLANK = "__blank__"  # suffix of the column telling whether a field's cell is blank
_PARSED = "__parsed__"


def _read_cells(below: pl.DataFrame, fields: list[Field], key: str | bytes | None,
                vocabulary: Vocabulary) -> pl.LazyFrame:
    """Cells as written -> for each field, its typed values and whether each cell is blank
    (``<name>__blank__``), as a query for the caller to add to and collect. An organisation's
    cell, cleaned, is kept as written too (``WRITTEN_AS``).

    Coded cells and dates are cleaned (``_clean_text``) and parsed once per distinct text, and
    mapped back by joins; the work is batched over the fields, so a file costs a handful of
    polars queries (each has a fixed cost that small files feel). Child identifiers, nearly
    one per row, are cleaned and normalised (``_normalise_id``) row by row and, given a key,
    replaced by their keyed hash here (``pseudonymise``); without a key they are left as they
    are, for the caller to refuse.
    """
    if not fields:
        return below.clear().select().lazy()
    # (Each polars query has a fixed cost of ~0.5 ms, which a small file feels: the work is
    # gathered into as few as can be.)
    coded = [item for item in fields if item.parser != "id"]
    joined = below.lazy()
    if coded:
        distinct_lists = below.lazy().select(
            pl.col(item.name).drop_nulls().unique().implode() for item in coded).collect(engine=ENGINE)
        distinct = {item.name: distinct_lists[item.name][0] for item in coded}
        cleaning = pl.LazyFrame({"text": pl.concat([distinct[item.name] for item in coded])}).select(
            cleaned=_clean_text(pl.col("text"))).with_columns(
            blank=pl.col("cleaned").is_null(),
            **(_plain_dates(pl.col("cleaned")) if any(item.parser == "date" for item in coded) else {})
        ).collect(engine=ENGINE)
        offset = 0
        for item in coded:
            texts = distinct[item.name]
            part = cleaning.slice(offset, texts.len())
            offset += texts.len()
            if item.parser == "date":
                dtype: pl.DataType = pl.Date()
                parsed = _parse_dates(part["cleaned"], part["plain_date"], part["other_date"])
            else:
                _, dtype, _ = _PARSERS[item.parser]
                parse = _cached_parsers(vocabulary)[item.parser]
                parsed = pl.Series([None if text is None else parse(text) for text in part["cleaned"].to_list()],
                                   dtype=dtype)
            # mapped back by a join (much faster than replace_strict), in the rows' order
            mapping = pl.DataFrame({"text": texts, item.name + _PARSED: parsed, item.name + _BLANK: part["blank"]},
                                   schema_overrides={item.name + _PARSED: dtype})
            if item.parser in WRITTEN_AS:
                mapping = mapping.with_columns(part["cleaned"].alias(WRITTEN_AS[item.parser]))
            joined = joined.join(mapping.lazy(), left_on=item.name, right_on="text", how="left",
                                 maintain_order="left")
    for item in fields:
        if item.parser != "id":
            continue
        # (lazily: the optimiser computes the cleaned text once, where an eager select computes it
        # for every use in the expression, three times slower)
        identifiers = below.lazy().select(id=_clean_text(pl.col(item.name))).with_columns(
            blank=pl.col("id").is_null(), dotted=pl.col("id").str.contains(".", literal=True).any()
        ).collect(engine=ENGINE)
        if identifiers["dotted"].any():  # (the regex costs more than the rest: only if needed)
            identifiers = identifiers.with_columns(id=_normalise_id(pl.col("id")))
        if key and identifiers["blank"].not_().any():
            parsed = pseudonymise(identifiers["id"], key)
        else:  # no key: the table is refused (PseudonymKeyMissing) if it holds any identifier
            parsed = identifiers["id"].cast(pl.Int64, strict=False)
        joined = joined.with_columns(parsed.alias(item.name + _PARSED), identifiers["blank"].alias(item.name + _BLANK))
    return joined.select(
        *(pl.col(item.name + _PARSED).alias(item.name) for item in fields),
        *(pl.col(WRITTEN_AS[item.parser]) for item in fields if item.parser in WRITTEN_AS),
        *((pl.col(item.name).is_null() | pl.col(item.name + _BLANK)).alias(item.name + _BLANK) for item in fields),
    )


@dataclass
class _Reporter:
    file: str
    sheet: str | None
    problems: list[Problem]  # about the whole table
    # the cells breaking a rule, as runs of rows (``failure_runs``): a table typed in parts keeps
    # what a few runs take, however many of its rows are bad
    runs: list[pl.DataFrame] = dataclasses.field(default_factory=list)

    def table(self, row: int | None, rule: str) -> None:
        self.problems.append(RecordProblem(self.file, self.sheet, row, None, None, rule))

    def cells(self, field: Field, column: str, rows: pl.Series, values: pl.Series | None, rule: str) -> None:
        """The cells of ``rows`` break ``rule``: kept as runs, grouped by ``grouped``. No cell's
        content is ever kept, only whether it was blank (``withheld``): a record-level file is about
        children, and a name or a date of birth typed into a coded column is still personal."""
        filled = (values.is_not_null() if values is not None
                  else pl.Series([False] * rows.len(), dtype=pl.Boolean))
        self.runs.append(failure_runs(pl.DataFrame({"row": rows.cast(pl.Int64), "withheld": filled}).select(
            file=pl.lit(self.file), sheet=pl.lit(self.sheet, dtype=pl.String), row="row", column=pl.lit(column),
            value=pl.lit(None, dtype=pl.String), rule=pl.lit(rule), withheld="withheld")))

    def grouped(self) -> list[Problem]:
        """The table's problems, then one per column and rule (``group_runs``), capped."""
        return self.problems + (group_runs(pl.concat(self.runs)) if self.runs else [])


@dataclass(frozen=True)
class _Found:
    """A record-level table found in a file, its cells as written, not yet typed."""

    path: Path
    header: _Header
    below: pl.DataFrame  # the rows below the header, a column per field found, cells as text
    first_row: int  # the spreadsheet number of the first of them
    area_code: str | None
    report: _Reporter
    # The rows after ``below``, a batch at a time, for a table read as it streams in
    # (``_TableIn.stream_below``) that did not fit in one batch
    more_below: Iterator[pl.DataFrame] | None = None


_PART = "__part__"  # which of the tables typed together a row came from


def _type_tables(found: Sequence[_Found], key: str | bytes | None, vocabulary: Vocabulary) -> list[pl.DataFrame]:
    """Tables of one kind with the same columns -> each one's typed frame, its problems added to
    its own report. The tables are typed together, as one frame: the polars queries typing a
    table cost ~5 ms whatever its size, most of the time a small file takes.

    A row whose cells are all blank is skipped; ``source_row`` numbers the rest as a spreadsheet does.
    """
    source = found[0].header.source
    below = pl.concat([f.below for f in found]) if len(found) > 1 else found[0].below
    fields = [f for f in source.fields if f.name in below.columns]
    if not fields:
        below = below.clear()
    heights = [f.below.height if fields else 0 for f in found]
    source_row = np.concatenate([np.arange(f.first_row, f.first_row + h, dtype=np.int64)
                                 for f, h in zip(found, heights)])
    cells = _read_cells(below, fields, key, vocabulary).with_columns(
        pl.Series("source_row", source_row), pl.Series(_PART, np.repeat(np.arange(len(found)), heights))
    ).collect(engine=ENGINE)
    blank = {item.name: pl.col(item.name + _BLANK) for item in fields}
    invalid = {item.name: ~blank[item.name] & pl.col(item.name).is_null() for item in fields}
    # Rows with every cell blank are not rows of the table: they break no rule.
    filled = ~pl.all_horizontal(blank.values()) if fields else pl.lit(True)
    flags = cells.lazy().select(filled.all().alias("__all_filled__"),
                                *((expr & filled).any().alias(name + _BLANK) for name, expr in blank.items()),
                                *(expr.any().alias(name) for name, expr in invalid.items())
                                ).collect(engine=ENGINE).row(0, named=True)
    if not flags["__all_filled__"]:
        below = below.filter(cells.select(filled).to_series())
        cells = cells.filter(filled)
    if any(f.parser == "id" for f in fields) and not key and cells.height:
        raise PseudonymKeyMissing(_KEY_MISSING)

    def report(item: Field, broken: pl.Series, cells_as_written: pl.Series | None, rule: str) -> None:
        """The cells of ``item`` breaking ``rule`` (shown cleaned, given as written), each to the
        report of the table it is in."""
        rows = cells.select(_PART, "source_row").filter(broken)
        values = _cleaned(cells_as_written.filter(broken)) if cells_as_written is not None else None
        for part, in rows.select(pl.col(_PART).unique(maintain_order=True)).iter_rows():
            in_part = rows[_PART] == part
            found[part].report.cells(item, found[part].header.written[item.name], rows["source_row"].filter(in_part),
                                     values.filter(in_part) if values is not None else None, rule)

    keep = []
    for item in fields:
        if item.parser != "id" and flags[item.name]:
            report(item, cells.select(invalid[item.name]).to_series(), below[item.name], _PARSERS[item.parser][2])
        if item.need != "optional" and flags[item.name + _BLANK]:
            report(item, cells[item.name + _BLANK], None,
                   "this cell must be filled in" if item.need == "cell"
                   else "this cell must be filled in: the row cannot be counted without it")
        if item.need == "row":
            keep += [~blank[item.name], ~invalid[item.name]]
    # (child_key is already the keyed hash: _read_cells)
    typed = ((cells.lazy().filter(*keep) if keep else cells.lazy())
             .select(_PART, "source_row", *(f.name for f in fields),
                     *(WRITTEN_AS[f.parser] for f in fields if f.parser in WRITTEN_AS)))
    if neglect := [c for c in ("neglect_flag", "neglect_factors") if c in blank]:
        typed = typed.with_columns(pl.coalesce(pl.col(c) for c in neglect).alias("neglect"))
    if "area_code" not in blank:
        areas = [f.area_code for f in found]
        typed = typed.with_columns(pl.lit(areas[0], dtype=pl.String).alias("area_code") if len(set(areas)) == 1 else
                                   pl.col(_PART).replace_strict(list(range(len(found))), areas, return_dtype=pl.String)
                                   .alias("area_code"))
    frame = _conform(source.kind, typed, keep=(_PART,)).collect(engine=ENGINE)
    if len(found) == 1:
        return [frame.drop(_PART)]
    by_part = frame.partition_by(_PART, as_dict=True, include_key=False)
    return [by_part.get((part,), empty_frame(source.kind)) for part in range(len(found))]


# A table longer than this is typed in parts of this many rows, on TYPING_THREADS threads: one
# national extract in one file otherwise keeps one core busy while the other waits, and holds
# every intermediate column of millions of rows at once.
PART_ROWS = 500_000
# Two cores: polars and numpy let go of the GIL for most of a part's work, and a third thread
# fills the gaps a thread's Python steps leave.
TYPING_THREADS = 3
# A part is a few hundred thousand rows: one that has not been typed in this long is stuck.
PART_TIMEOUT_SECONDS = 600


class TypingTimeout(RuntimeError):
    """A part of a large table whose typing gave no answer within PART_TIMEOUT_SECONDS."""


def _type_group(found: Sequence[_Found], key: str | bytes | None, vocabulary: Vocabulary,
                typed: Callable[[int, int], None], part_rows: int = PART_ROWS) -> list[pl.DataFrame]:
    """``_type_tables`` of tables of one kind with the same columns, a table longer than
    ``part_rows`` in parts (``_type_in_parts``); ``typed(i, rows)`` told how many rows of
    ``found[i]`` (as read, blank ones included) are typed so far."""
    large = [i for i, table in enumerate(found) if table.more_below is not None or table.below.height > part_rows]
    if not large:
        frames = _type_tables(found, key, vocabulary)
        for i, table in enumerate(found):
            typed(i, table.below.height)
        return frames
    small = [i for i in range(len(found)) if i not in large]
    frames: dict[int, pl.DataFrame] = {}
    if small:
        frames.update(zip(small, _type_group([found[i] for i in small], key, vocabulary,
                                             lambda index, rows: typed(small[index], rows), part_rows)))
    for i in large:
        frames[i] = _type_in_parts(found[i], key, vocabulary, lambda rows, i=i: typed(i, rows), part_rows)
    return [frames[i] for i in range(len(found))]


def _type_in_parts(found: _Found, key: str | bytes | None, vocabulary: Vocabulary,
                   typed: Callable[[int], None], part_rows: int = PART_ROWS) -> pl.DataFrame:
    """One large table typed ``part_rows`` rows at a time (as its batches stream in, for a CSV),
    the parts on TYPING_THREADS threads, to the same frame and problems as ``_type_tables([found])``:
    each part numbers its rows from where it starts in the file, and reports to a reporter of its
    own, merged in order. At most TYPING_THREADS parts of text wait to be typed."""
    if found.more_below is not None:
        pieces = itertools.chain([found.below], found.more_below)
    else:
        pieces = (found.below.slice(start, part_rows) for start in range(0, found.below.height, part_rows))
    pool = ThreadPoolExecutor(max_workers=TYPING_THREADS, thread_name_prefix="type-parts")
    pending: deque[tuple[_Found, Future]] = deque()
    frames: list[pl.DataFrame] = []
    rows = 0

    def finish_oldest() -> None:
        nonlocal rows
        part, future = pending.popleft()
        try:
            [frame] = future.result(timeout=PART_TIMEOUT_SECONDS)
        except FuturesTimeout:
            raise TypingTimeout(f"typing rows {part.first_row}-{part.first_row + part.below.height - 1} of "
                                f"a table gave no answer within {PART_TIMEOUT_SECONDS} s") from None
        frames.append(frame)
        found.report.problems.extend(part.report.problems)
        found.report.runs.extend(part.report.runs)
        rows += part.below.height
        typed(rows)

    try:
        first_row = found.first_row
        for piece in pieces:
            part = dataclasses.replace(found, below=piece, first_row=first_row, more_below=None,
                                       report=_Reporter(found.report.file, found.report.sheet, []))
            first_row += piece.height
            pending.append((part, pool.submit(_type_tables, [part], key, vocabulary)))
            while len(pending) > TYPING_THREADS:
                finish_oldest()
        while pending:
            finish_oldest()
    finally:
        # Not waiting for a part that never answers: its thread is left to end on its own.
        pool.shutdown(wait=False, cancel_futures=True)
    return pl.concat(frames)


def _conform(kind: str, frame: pl.LazyFrame, keep: Sequence[str] = ()) -> pl.LazyFrame:
    """Exactly the kind's columns, in order and typed (and ``keep``); a column the file lacks is all null."""
    columns = set(frame.collect_schema().names())
    return frame.select([(pl.col(name) if name in columns else pl.lit(None)).cast(dtype).alias(name)
                         for name, dtype in SCHEMAS[kind].items()] + [pl.col(name) for name in keep])


def empty_frame(kind: str) -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS[kind])


def _find_table(path: Path, table: _TableIn, area_code: str | None, sources: tuple[Source, ...],
                part_rows: int = PART_ROWS) -> RecordTable | _Found | None:
    """A table of a file: not record-level (None), refused or keeping nothing (a finished
    ``RecordTable``), or a record-level table's cells as written (``_Found``), to be typed."""
    candidates = _candidates_for_sheet(table.sheet, sources)
    named_list = table.sheet is not None and annex_a_list_number(table.sheet) is not None
    report = _Reporter(str(path), table.sheet, [])
    header = _find_header(table.head, candidates)
    if header is None:
        if not (named_list and candidates):
            return None
        source = candidates[0]
        if any(cell.strip() for row in table.head for cell in row):
            row, missing = _missing_columns(table.head, source)
            for item in missing:
                report.table(row, f"the column '{item.header}' is missing (headers accepted: "
                                  f"{', '.join(item.accepted)}; case, spacing and punctuation are ignored)")
        return RecordTable(source.kind, path, table.sheet, empty_frame(source.kind), report.problems)
    source = header.source
    if source.keeps_nothing:  # the SSDA903 header table: personal details only, never loaded
        return RecordTable(source.kind, path, table.sheet, pl.DataFrame(), [])
    if "area_code" in {f.name for f in source.fields} and "area_code" not in header.columns and not area_code:
        report.table(header.row_index + 1, "the column 'la_code' is missing, and no area was given for the file")
        return RecordTable(source.kind, path, table.sheet, empty_frame(source.kind), report.problems)
    if table.stream_below is None:
        below, first_row = table.load_below(header.row_index, header.columns)
        return _Found(path, header, below, first_row, area_code, report)
    batches = table.stream_below(header.row_index, header.columns, part_rows)
    below = next(batches)
    following = next(batches, None)  # (a table of one batch is typed with the others of its kind)
    return _Found(path, header, below, header.row_index + 2, area_code, report,
                  None if following is None else itertools.chain([following], batches))


def read_record_levels(files: Sequence[tuple[Path, str | None]], key: str | bytes | None,
                       vocabulary: Vocabulary | None = None,
                       on_rows: Callable[[int, int], None] | None = None,
                       part_rows: int = PART_ROWS) -> list[list[RecordTable]]:
    """``read_record_level`` for each (path, area_code), in order; tables of one kind with the
    same columns are typed together, so many small files cost little more than one large one,
    and a table longer than ``part_rows`` is typed in parts on TYPING_THREADS threads (``_type_in_parts``).
    Headers and coded values are read with ``vocabulary`` (the shipped one if none is given).

    ``on_rows(i, rows)`` is told as the rows of ``files[i]`` are typed (a large table's part by
    part, so a long read can show that it is moving): never a cell, a name or a path."""
    vocabulary = vocabulary or shipped_vocabulary()
    sources = sources_for(vocabulary)
    tables: list[list[RecordTable | _Found]] = []
    for path, area_code in files:
        if path.suffix.lower() == ".xml":  # a CIN census return, read whole (it builds on this module)
            from scorecard.ingest.cin_census import read_cin_census
            tables.append(list(read_cin_census(path, area_code, key, vocabulary)))
            continue
        tables.append([t for table in _tables_in(path)
                       if (t := _find_table(path, table, area_code, sources, part_rows)) is not None])
    # (file, table) positions of the tables to type, by kind and columns
    together: dict[tuple[str, tuple[str, ...]], list[tuple[int, int]]] = {}
    for i, file_tables in enumerate(tables):
        for j, table in enumerate(file_tables):
            if isinstance(table, _Found):
                together.setdefault((table.header.source.kind, tuple(table.below.columns)), []).append((i, j))
    for positions in together.values():
        group = [tables[i][j] for i, j in positions]

        def typed(index: int, rows: int, positions: list[tuple[int, int]] = positions) -> None:
            if on_rows is not None:
                on_rows(positions[index][0], rows)

        for (i, j), found, frame in zip(positions, group, _type_group(group, key, vocabulary, typed, part_rows)):
            tables[i][j] = RecordTable(found.header.source.kind, found.path, found.report.sheet, frame,
                                       found.report.grouped())
    return tables


def read_record_level(path: Path, key: str | bytes | None, area_code: str | None,
                      vocabulary: Vocabulary | None = None) -> list[RecordTable]:
    """Every record-level table in a file, typed, pseudonymised and stripped of personal data.

    ``key`` is the pseudonymisation key (``PseudonymKeyMissing`` if it is empty and a table holds
    child identifiers); ``area_code`` is the ONS code of the local authority the file belongs to,
    written into every row (a hub log's own ``la_code`` column wins over it).
    Tables that are not record-level (partner returns, other SSDA903 tables) are not returned.
    """
    return read_record_levels([(path, area_code)], key, vocabulary)[0]


