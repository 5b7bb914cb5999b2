"""The CIN census return (XML), read like an Annex A: referrals, child protection plans and the
factors identified at assessment, pseudonymised as Annex A is and stripped of personal data.

A return is ``Message/Header`` (``CollectionDetails/ReferenceDate``, the 31 March closing the
collection year) and ``Message/Children/Child``: ``ChildIdentifiers/LAchildID`` and one or more
``CINdetails`` (an episode of need): ``CINreferralDate``, ``ReferralNFA``, ``Assessments`` (each
with ``AssessmentActualStartDate``, ``AssessmentAuthorisationDate`` and
``FactorsIdentifiedAtAssessment/AssessmentFactors``) and ``ChildProtectionPlans`` (each with
``CPPstartDate``, ``CPPendDate``, ``InitialCategoryOfAbuse``, ``LatestCategoryOfAbuse``,
``NumberOfPreviousCPP``). Schema versions 2017 to 2026 share these elements; what changed
between them (``GenderCurrent`` became ``Sex`` in 2025, pre-proceedings came in 2026) is never read.

What a return gives, each frame the one a record-level kind already has, so the same SQL counts it:

- ``annex_a_list3``: the referrals made in the collection year (``neglect``: an assessment of the
  episode identified neglect, factor 16A);
- ``annex_a_list7``: the plans open at some time in the collection year, stamped with the
  return's reference date (``return_reference_date``): where successive returns give the same
  plan, the later return's values win (``sql/record_level/cpp_monthly.sql``);
- ``cin_assessments``: the assessments authorised in the collection year and their factor codes.

Only those columns are kept: UPNs, names, dates of birth, postcodes and the rest are never read
into a frame, and ``LAchildID`` becomes ``child_key``, the keyed hash every record-level source
uses (``pseudonymise``). A problem names the element and the rule, never its content.

The file is parsed by the one reader (``scorecard.ingest.reader.xml_events``: defusedxml, no DTD,
no entity expansion, no external reference) and streamed (``iterparse``, each ``Child`` cleared
once read), so a large return stays in bounded memory. A file that is not a readable return is
refused whole, with one plain message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import polars as pl

from expectations.partner_returns import Problem
from expectations.problem_groups import FAILURE_SCHEMA, group_failures
from expectations.record_level import SCHEMAS
from scorecard.ingest.reader import xml_events
from scorecard.ingest.record_level import RecordTable, parse_value, pseudonymise, shipped_vocabulary
from scorecard.ingest.vocabulary import Vocabulary

# The record-level kinds a CIN census return gives, in this order.
CIN_KINDS = ("annex_a_list3", "annex_a_list7", "cin_assessments")
NEGLECT_FACTOR = "16A"  # "Abuse or neglect - NEGLECT" among the factors identified at assessment
# Elements read to recognise a return before giving up: the Header comes first, and is short.
RECOGNITION_EVENTS = 400
# Cells breaking a rule kept to report (grouped by element and rule); past this many a file's
# report counts the rest, so a return of millions of bad cells still costs bounded memory.
MAX_FAILURES_KEPT = 100_000

_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?$")  # xs:date, time zone allowed
_FACTOR_CODE = re.compile(r"^\d{1,2}[A-Z]?$")

DATE_RULE = "it must be a date written yyyy-mm-dd, as the CIN census schema has it"
RULES = {
    "date": DATE_RULE,
    "yes_no": "it must be true or false (or 1 or 0)",
    "category": "it must be a category of abuse: NEG, PHY, SAB, EMO or MUL",
    "count": "it must be a whole number of 0 or more",
    "factor": "it must be an assessment factor code, such as 16A (neglect)",
}


class NotACinCensus(ValueError):
    """A file that cannot be read as a CIN census return; the message says why in plain words and
    never quotes the file's content (nor a parser's message, which may)."""


def _local(tag: Any) -> str:
    """An element's name without its namespace ('{urn:x}Child' -> 'Child')."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str | None:
    """The trimmed text of ``element``'s first child called ``name``; None when missing or blank."""
    for child in element:
        if _local(child.tag) == name:
            text = (child.text or "").replace("\u00a0", " ").strip()
            return text or None
    return None


def _iso_date(text: str) -> date | None:
    if not (match := _ISO_DATE.match(text)):
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:  # 2023-02-30
        return None


def _refusal(error: Exception, path: Path) -> str:
    """Why a file is not a readable XML document, in plain words (never the parser's text)."""
    if path.stat().st_size == 0:
        return "the file is empty"
    if isinstance(error, defusedxml.DTDForbidden):
        return ("it declares a DTD (<!DOCTYPE ...>), which a CIN census return never has: DTDs and entities "
                "are not read, so that a file cannot make the reader expand or fetch anything")
    if isinstance(error, defusedxml.EntitiesForbidden):
        return "it declares entities, which a CIN census return never has: entities are not expanded"
    if isinstance(error, defusedxml.ExternalReferenceForbidden):
        return "it refers to an external resource, which is never fetched"
    if isinstance(error, ParseError):
        line = error.position[0] if getattr(error, "position", None) else None
        return ("it is not well-formed XML: it may be truncated or damaged, or not be XML at all"
                + (f" (the first fault is on line {line})" if line else ""))
    if isinstance(error, NotACinCensus):
        return str(error)
    return f"it could not be read as XML ({type(error).__name__})"


def is_cin_census(path: Path) -> bool:
    """Whether an XML file is to be read as a CIN census return: its root element is ``Message``
    and its Header names no other collection. A file that cannot be parsed as far as that (empty,
    damaged, a DTD) is taken for one, so that reading it refuses it with the reason and keeps its
    last good version, rather than the build forgetting it."""
    try:
        with contextlib.closing(xml_events(path)) as events:  # (closed on an early return: the file too)
            return _sniff(events)
    except Exception:  # noqa: BLE001 - unreadable: the reader refuses it, with the reason
        return True


def _sniff(events: Iterator[tuple[str, Element]]) -> bool:
    """``is_cin_census`` of the parsing events of a file (any parsing error is the caller's)."""
    depth = 0
    for seen, (event, element) in enumerate(events, start=1):
        if event == "start":
            depth += 1
            if depth == 1 and _local(element.tag) != "Message":
                return False
            if _local(element.tag) == "Children" or seen > RECOGNITION_EVENTS:
                return True
        else:
            depth -= 1
            if _local(element.tag) == "Collection" and (element.text or "").strip().upper() not in ("", "CIN"):
                return False
    return True


def recognise_cin_census(path: Path) -> list[tuple[str, None]]:
    """(kind, sheet) for each kind a CIN census return gives; [] for any other XML file."""
    return [(kind, None) for kind in CIN_KINDS] if is_cin_census(path) else []


@dataclass
class _Rows:
    """What a return gives, as read, before the collection year is applied and identifiers hashed."""

    referrals: list[tuple[str, date, bool | None, bool | None, int]] = field(default_factory=list)
    plans: list[tuple[str, date, date | None, str | None, str | None, int | None, int]] = field(default_factory=list)
    assessments: list[tuple[str, date, date | None, str | None, int]] = field(default_factory=list)
    # one a cell breaking a rule: (child number, element, rule, the element was filled in)
    failures: list[tuple[int, str, str, bool]] = field(default_factory=list)
    failures_not_kept: int = 0
    reference_date: date | None = None
    collection_year: int | None = None
    other_collection: bool = False

    def fail(self, number: int, element: str, rule: str, filled: bool) -> None:
        """A cell breaking a rule, noted without its content (and only counted past MAX_FAILURES_KEPT)."""
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append((number, element, rule, filled))
        else:
            self.failures_not_kept += 1


@dataclass
class _ChildReader:
    """Reads one ``Child`` element into ``rows``; a cell breaking a rule is noted, never quoted."""

    rows: _Rows
    vocabulary: Vocabulary

    def value(self, element: Element, name: str, parser: str, number: int, required: bool = False) -> Any:
        text = _text(element, name)
        if text is None:
            if required:
                self.rows.fail(number, name, "this element must be filled in: what it belongs to cannot be "
                                             "counted without it", False)
            return None
        parsed = _iso_date(text) if parser == "date" else parse_value(parser, text, self.vocabulary)
        if parsed is None:
            self.rows.fail(number, name, RULES[parser], True)
        return parsed

    def factors(self, assessment: Element, number: int) -> list[str]:
        codes = []
        for holder in _children(assessment, "FactorsIdentifiedAtAssessment"):
            for factor in _children(holder, "AssessmentFactors"):
                code = (factor.text or "").strip().upper()
                if _FACTOR_CODE.match(code):
                    codes.append(code)
                elif code:
                    self.rows.fail(number, "AssessmentFactors", RULES["factor"], True)
        return codes

    def read(self, child: Element, number: int) -> None:
        identifiers = _children(child, "ChildIdentifiers")
        child_id = _text(identifiers[0], "LAchildID") if identifiers else None
        if child_id is None:
            self.rows.fail(number, "LAchildID", "this element must be filled in: the child's episodes cannot be "
                                                "counted without it", False)
            return
        for episode in _children(child, "CINdetails"):
            referral_date = self.value(episode, "CINreferralDate", "date", number, required=True)
            nfa = self.value(episode, "ReferralNFA", "yes_no", number)
            episode_factors: list[str] = []
            assessed = False
            for assessment in _children(episode, "Assessments"):
                start = self.value(assessment, "AssessmentActualStartDate", "date", number, required=True)
                authorised = self.value(assessment, "AssessmentAuthorisationDate", "date", number)
                codes = self.factors(assessment, number)
                assessed = assessed or bool(codes)
                episode_factors += codes
                if start is not None:
                    self.rows.assessments.append((child_id, start, authorised, ",".join(sorted(set(codes))) or None,
                                                  number))
            # Neglect is known once an assessment has named its factors; unknown (None) before.
            neglect = (NEGLECT_FACTOR in episode_factors) if assessed else None
            if referral_date is not None:
                self.rows.referrals.append((child_id, referral_date, nfa, neglect, number))
            for holder in _children(episode, "ChildProtectionPlans"):
                # A plan's elements sit in ChildProtectionPlans itself (every schema since 2017);
                # a ChildProtectionPlan element inside it is read the same way.
                nested = _children(holder, "ChildProtectionPlan")
                for plan in nested if nested and _text(holder, "CPPstartDate") is None else [holder]:
                    start = self.value(plan, "CPPstartDate", "date", number, required=True)
                    end = self.value(plan, "CPPendDate", "date", number)
                    initial = self.value(plan, "InitialCategoryOfAbuse", "category", number, required=True)
                    latest = self.value(plan, "LatestCategoryOfAbuse", "category", number)
                    previous = self.value(plan, "NumberOfPreviousCPP", "count", number)
                    if start is not None:
                        self.rows.plans.append((child_id, start, end, initial, latest, previous, number))


def _header(rows: _Rows, path: list[str], element: Element) -> None:
    """A CollectionDetails element of the Header, noted."""
    text = (element.text or "").strip()
    name = path[-1]
    if name == "ReferenceDate":
        rows.reference_date = _iso_date(text)
    elif name == "Year" and re.fullmatch(r"\d{4}", text):
        rows.collection_year = int(text)
    elif name == "Collection" and text.upper() not in ("", "CIN"):
        rows.other_collection = True


def _read_rows(path: Path, vocabulary: Vocabulary) -> _Rows:
    """Every Child of a return, streamed: each is read when it ends, then dropped from the tree."""
    rows = _Rows()
    with contextlib.closing(xml_events(path)) as events:  # (the file is closed even if parsing fails)
        _read_events(events, rows, _ChildReader(rows, vocabulary))
    return rows


def _read_events(events: Iterator[tuple[str, Element]], rows: _Rows, reader: _ChildReader) -> None:
    """The parsing events of a return, into ``rows``: the Header's collection details, and each
    Child read by ``reader`` when it ends."""
    stack: list[str] = []
    parents: list[Element] = []
    children_read = 0
    for event, element in events:
        if event == "start":
            if not stack and _local(element.tag) != "Message":
                raise NotACinCensus("it is XML, but not a CIN census return (its root element is not Message)")
            stack.append(_local(element.tag))
            parents.append(element)
            continue
        stack.pop()
        parents.pop()
        where = stack + [_local(element.tag)]
        if len(where) == 4 and where[:3] == ["Message", "Header", "CollectionDetails"]:
            _header(rows, where, element)
        elif len(where) == 3 and where[1] == "Children":
            if where[2] == "Child":
                children_read += 1
                reader.read(element, children_read)
            parents[-1].remove(element)  # (read: the tree keeps nothing of it)
        elif len(where) == 2:
            element.clear()


def _reference_date(rows: _Rows) -> date | None:
    """The 31 March closing the collection year: the Header's ReferenceDate, else 31 March of its Year."""
    if rows.reference_date is not None:
        return rows.reference_date
    return date(rows.collection_year, 3, 31) if rows.collection_year else None


def _collection_year_start(reference_date: date) -> date:
    """The day after the reference date a year before: 1 April for the usual 31 March."""
    day_a_year_before = (reference_date.replace(day=28) if (reference_date.month, reference_date.day) == (2, 29)
                         else reference_date).replace(year=reference_date.year - 1)
    return day_a_year_before + timedelta(days=1)


def _frame(kind: str, records: list[tuple], columns: list[str], key: str | bytes | None,
           extra: dict[str, Any]) -> pl.DataFrame:
    """``records`` (child identifier first) as the kind's frame: the identifier replaced by its
    keyed hash, ``extra`` columns added, every column of the kind in order and typed."""
    schema = SCHEMAS[kind]
    raw = pl.DataFrame(records, schema={"child_id": pl.String, **{c: schema[c] for c in columns}}, orient="row")
    keyed = raw.with_columns(pseudonymise(raw["child_id"], key).alias("child_key")).drop("child_id")
    return keyed.with_columns(**{name: pl.lit(value, dtype=schema[name]) for name, value in extra.items()}).select(
        [(pl.col(name) if name in keyed.columns or name in extra else pl.lit(None)).cast(dtype).alias(name)
         for name, dtype in schema.items()])


def _empty_tables(path: Path, problems: list[Problem]) -> list[RecordTable]:
    return [RecordTable(kind, path, None, pl.DataFrame(schema=SCHEMAS[kind]), problems) for kind in CIN_KINDS]


def read_cin_census(path: Path, area_code: str | None, key: str | bytes | None,
                    vocabulary: Vocabulary | None = None) -> list[RecordTable]:
    """A CIN census return's tables (``CIN_KINDS``), typed, pseudonymised and without personal data.

    Every table carries every problem of the file: a return is refused or accepted whole. A cell
    is named by the number of its ``Child`` element in the file (``row``; the first child is 1)
    and the element's name (``column``). ``PseudonymKeyMissing`` if there is no ``key``.
    """
    vocabulary = vocabulary or shipped_vocabulary()
    try:
        rows = _read_rows(path, vocabulary)
    except Exception as error:  # noqa: BLE001 - a file that cannot be read is refused, with why
        return _empty_tables(path, [Problem(str(path), None, None, None, None, _refusal(error, path))])
    if rows.other_collection:
        return _empty_tables(path, [Problem(str(path), None, None, None, None,
                                            "its Header names another collection than CIN")])
    reference_date = _reference_date(rows)
    if reference_date is None:
        return _empty_tables(path, [Problem(
            str(path), None, None, None, None, "its Header gives no collection year (CollectionDetails/ReferenceDate "
            "or Year, written as the schema has them), so its episodes cannot be placed")])
    year_start = _collection_year_start(reference_date)

    def in_year(day: date | None) -> bool:
        return day is not None and year_start <= day <= reference_date

    referrals = [r for r in rows.referrals if in_year(r[1])]
    plans = [p for p in rows.plans if p[1] <= reference_date and (p[2] is None or p[2] >= year_start)]
    assessments = [a for a in rows.assessments if in_year(a[2])]
    stamp = {"area_code": area_code, "return_reference_date": reference_date}
    frames = {
        "annex_a_list3": _frame("annex_a_list3", referrals,
                                ["referral_date", "referral_nfa", "neglect", "source_row"], key,
                                {"area_code": area_code}),
        "annex_a_list7": _frame("annex_a_list7", plans, ["plan_start", "plan_end", "initial_category",
                                                         "latest_category", "previous_plans", "source_row"], key,
                                stamp),
        "cin_assessments": _frame("cin_assessments", assessments,
                                  ["assessment_start", "assessment_authorised", "factors", "source_row"], key, stamp),
    }
    failures = pl.DataFrame(rows.failures, schema={"row": pl.Int64, "column": pl.String, "rule": pl.String,
                                                   "withheld": pl.Boolean}, orient="row")
    problems = group_failures(failures.select(
        file=pl.lit(str(path)), sheet=pl.lit(None, dtype=pl.String), row="row", column="column",
        value=pl.lit(None, dtype=pl.String), rule="rule", withheld="withheld").cast(FAILURE_SCHEMA))
    if rows.failures_not_kept:
        problems.append(Problem(str(path), None, None, None, None,
                                f"{rows.failures_not_kept:,} more cells break a rule and are not listed "
                                f"(the first {MAX_FAILURES_KEPT:,} are)"))
    return [RecordTable(kind, path, None, frames[kind], problems) for kind in CIN_KINDS]
