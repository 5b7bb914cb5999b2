"""Synthetic CIN census returns (XML), deterministic, for tests and demonstrations.

``synthetic_children`` makes children with episodes of need, assessments and child protection
plans over several years; ``cin_census_xml`` writes the return for one collection year as an
authority would send it: every episode open at some time in the year (so successive returns
overlap, as real ones do), an assessment's authorisation and factors only once authorised by the
reference date, a plan's end only once ended. ``schema_version`` is the collection year whose
schema is followed: before 2025 the child's sex is ``GenderCurrent``, from 2025 ``Sex``. Every
identifier, UPN and date of birth is made up.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

CATEGORIES = ("NEG", "EMO", "PHY", "SAB", "MUL")
CATEGORY_WEIGHTS = (50, 30, 10, 4, 6)
FACTORS = ("1B", "2B", "3A", "3B", "4A", "4B", "6B", "10A", "14A", "16A", "17A", "18C", "21")
REFERRAL_SOURCES = ("1A", "2A", "3A", "3B", "5D", "6", "8", "9")
FIRST_SEX_ELEMENT_YEAR = 2025  # the schema's GenderCurrent became Sex that year


@dataclass(frozen=True)
class SyntheticPlan:
    start: date
    end: date | None
    initial_category: str
    latest_category: str
    previous_plans: int


@dataclass(frozen=True)
class SyntheticAssessment:
    start: date
    authorised: date | None
    factors: tuple[str, ...]


@dataclass(frozen=True)
class SyntheticEpisode:
    referral_date: date
    referral_source: str
    referral_nfa: bool
    closure: date | None
    assessments: tuple[SyntheticAssessment, ...]
    plans: tuple[SyntheticPlan, ...]


@dataclass(frozen=True)
class SyntheticChild:
    child_id: str
    upn: str
    birth_date: date
    sex: str  # 1 male, 2 female
    episodes: tuple[SyntheticEpisode, ...]


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def synthetic_children(count: int = 60, seed: int = 2024, first_referral: date = date(2021, 4, 1),
                       last_referral: date = date(2024, 3, 31)) -> list[SyntheticChild]:
    """``count`` children, the same for the same arguments, with one to three episodes each
    (some within 12 months of the last: re-referrals) between the two dates."""
    rng = random.Random(seed)
    children = []
    for number in range(1, count + 1):
        episodes = []
        referral = _day(rng, first_referral, last_referral)
        for _ in range(rng.choice((1, 1, 2, 3))):
            if referral > last_referral:
                break
            nfa = rng.random() < 0.2
            assessments, plans = [], []
            if not nfa:
                start = referral + timedelta(days=rng.randint(0, 10))
                authorised = start + timedelta(days=rng.randint(10, 45))
                factors = tuple(sorted(set(rng.sample(FACTORS, rng.randint(1, 3)))))
                assessments.append(SyntheticAssessment(start, authorised, factors))
                if rng.random() < 0.4:
                    plan_start = authorised + timedelta(days=rng.randint(5, 30))
                    initial = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
                    latest = initial if rng.random() < 0.8 else rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
                    plan_end = plan_start + timedelta(days=rng.randint(60, 500)) if rng.random() < 0.7 else None
                    plans.append(SyntheticPlan(plan_start, plan_end, initial, latest, rng.choice((0, 0, 0, 1, 2))))
            ends = [p.end for p in plans] + [a.authorised for a in assessments if a.authorised]
            closure = None if any(p.end is None for p in plans) else (
                max(ends, default=referral) + timedelta(days=rng.randint(1, 60)))
            episodes.append(SyntheticEpisode(referral, rng.choice(REFERRAL_SOURCES), nfa, closure,
                                             tuple(assessments), tuple(plans)))
            if closure is None:
                break
            referral = closure + timedelta(days=rng.randint(20, 500))  # often within 12 months: a re-referral
        children.append(SyntheticChild(f"CIN{seed % 1000:03d}{number:06d}",
                                       f"A{rng.randint(10**11, 10**12 - 1)}", _day(rng, date(2006, 1, 1),
                                                                                   date(2020, 12, 31)),
                                       rng.choice(("1", "2")), tuple(episodes)))
    return children


def _add(parent: ET.Element, name: str, text: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if text is not None:
        element.text = text.isoformat() if isinstance(text, date) else str(text)
    return element


def cin_census_xml(children: list[SyntheticChild], reference_date: date, schema_version: int | None = None,
                   la_number: str = "929") -> bytes:
    """The CIN census return for the year to ``reference_date`` (31 March), following the schema
    of ``schema_version`` (by default the reference date's year)."""
    version = schema_version or reference_date.year
    year_start = date(reference_date.year - 1, reference_date.month, reference_date.day) + timedelta(days=1)
    yes, no = ("true", "false") if version >= 2020 else ("1", "0")
    message = ET.Element("Message")
    header = _add(message, "Header")
    details = _add(header, "CollectionDetails")
    _add(details, "Collection", "CIN")
    _add(details, "Year", reference_date.year)
    _add(details, "ReferenceDate", reference_date)
    source = _add(header, "Source")
    _add(source, "SourceLevel", "L")
    _add(source, "LEA", la_number)
    _add(source, "SoftwareCode", "Local Authority")
    _add(source, "Release", f"synthetic {version}")
    _add(source, "SerialNo", "001")
    _add(source, "DateTime", f"{reference_date.year}-05-01T09:00:00")
    every_child = _add(message, "Children")

    def known(day: date | None) -> date | None:
        return day if day is not None and day <= reference_date else None

    for child in children:
        episodes = [e for e in child.episodes
                    if e.referral_date <= reference_date and (known(e.closure) is None or e.closure >= year_start)]
        if not episodes:
            continue
        element = _add(every_child, "Child")
        identifiers = _add(element, "ChildIdentifiers")
        _add(identifiers, "LAchildID", child.child_id)
        _add(identifiers, "UPN", child.upn)
        _add(identifiers, "PersonBirthDate", child.birth_date)
        _add(identifiers, "Sex" if version >= FIRST_SEX_ELEMENT_YEAR else "GenderCurrent",
             ("M" if child.sex == "1" else "F") if version >= FIRST_SEX_ELEMENT_YEAR else child.sex)
        characteristics = _add(element, "ChildCharacteristics")
        _add(characteristics, "Ethnicity", "WBRI")
        _add(_add(characteristics, "Disabilities"), "Disability", "NONE")
        for episode in episodes:
            details = _add(element, "CINdetails")
            _add(details, "CINreferralDate", episode.referral_date)
            _add(details, "ReferralSource", episode.referral_source)
            _add(details, "PrimaryNeedCode", "N1" if episode.plans else "N4")
            if (closure := known(episode.closure)) is not None:
                _add(details, "CINclosureDate", closure)
                _add(details, "ReasonForClosure", "RC8" if episode.referral_nfa else "RC7")
            for assessment in episode.assessments:
                if assessment.start > reference_date:
                    continue
                block = _add(details, "Assessments")
                _add(block, "AssessmentActualStartDate", assessment.start)
                if (authorised := known(assessment.authorised)) is not None:
                    _add(block, "AssessmentAuthorisationDate", authorised)
                    factors = _add(block, "FactorsIdentifiedAtAssessment")
                    for code in assessment.factors:
                        _add(factors, "AssessmentFactors", code)
            _add(details, "ReferralNFA", yes if episode.referral_nfa else no)
            for plan in episode.plans:
                if plan.start > reference_date or (known(plan.end) is not None and plan.end < year_start):
                    continue
                block = _add(details, "ChildProtectionPlans")
                _add(block, "CPPstartDate", plan.start)
                if (end := known(plan.end)) is not None:
                    _add(block, "CPPendDate", end)
                _add(block, "InitialCategoryOfAbuse", plan.initial_category)
                # (the latest category as at the reference date: it changes, if at all, after the first return)
                changed = end is not None or reference_date >= plan.start + timedelta(days=365)
                _add(block, "LatestCategoryOfAbuse", plan.latest_category if changed else plan.initial_category)
                _add(block, "NumberOfPreviousCPP", plan.previous_plans)
    ET.indent(message)
    return ET.tostring(message, encoding="utf-8", xml_declaration=True)


def write_cin_census(path: Path, reference_date: date, schema_version: int | None = None,
                     children: list[SyntheticChild] | None = None) -> Path:
    """``cin_census_xml`` written to ``path`` (folders made), for the default synthetic children if none are given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cin_census_xml(children if children is not None else synthetic_children(), reference_date,
                                    schema_version))
    return path
