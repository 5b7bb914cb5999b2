"""The indicator catalogue: ids are part of the warehouse contract (``marts.indicators``).

Each indicator is one YAML file, ``data/raw/indicators/<id>.yaml`` (README.md, "Indicators", lists
its fields). A ratio or a count of ``core.observations`` measures needs nothing else; one that
needs more keeps a SQL file beside its YAML (``<id>.sql``, reading ``core.observation_periods``).
The project ships the national indicators and the seeds' local ones; a data team adds its own
under its raw folder (``catalogue_for``). Everything downstream is generic over the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from scorecard.model.periods import PeriodType
from scorecard.paths import PROJECT_ROOT

Polarity = Literal["lower_is_better", "higher_is_better"]
MeasureKind = Literal["flow", "stock"]

SHIPPED_INDICATORS_DIR = PROJECT_ROOT / "data" / "raw" / "indicators"
POLARITIES = ("lower_is_better", "higher_is_better")
MEASURE_KINDS = ("flow", "stock")
HEADLINE_PERIODS = ("financial_year", "academic_year", "month")
SPC_PERIODS = ("month", "financial_year", "academic_year")
# Units whose value is numerator / denominator x multiplier, and how its interval is made.
RATIO_UNITS = {"%": ("proportion", 100.0), "per 10,000": ("rate", 10_000.0)}


def comparable_between_areas(unit: str) -> bool:
    """Percentages and rates can be set beside England or the neighbours; raw counts cannot (England's
    count of children looked after is the whole country's)."""
    return unit in RATIO_UNITS


FIELDS = ("id", "name", "family", "unit", "polarity", "definition", "source", "numerator", "denominator",
          "kind", "headline_period", "spc_period", "spc_measure", "fingertips_id", "fingertips_category",
          "partnerships")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class IndicatorFileError(ValueError):
    """An indicator file that cannot be used; the message names the file, the field and the rule."""


@dataclass(frozen=True)
class MeasureRef:
    """A ``core.observations`` measure, optionally one breakdown of it (None: every breakdown)."""

    measure: str
    breakdown: str | None = None


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name: str
    family: str
    unit: str
    polarity: Polarity
    definition: str
    source: str
    numerator: MeasureRef | None = None
    denominator: MeasureRef | None = None
    kind: MeasureKind = "flow"
    headline_period_type: PeriodType = "financial_year"
    # The series its SPC chart runs on (DOMAIN.md "Statistical process control: which series"):
    # the period of its points (a stock counted once a year is charted yearly), and a measure
    # whose monthly counts are charted instead of its own value when that value is not
    # independent from month to month (a rolling average).
    spc_period_type: PeriodType = "month"
    spc_measure: str | None = None
    # OHID Fingertips indicator whose published values (and intervals) are loaded as this one.
    fingertips_id: int | None = None
    # The Fingertips category asked for (e.g. a deprivation decile); None: persons totals.
    fingertips_category: str | None = None
    # The SQL file beside the YAML that computes it, when a ratio or a count is not enough.
    sql_path: Path | None = None
    # The partnerships whose scorecards show it (a partnership's own indicator); None: every one.
    partnerships: tuple[str, ...] | None = None

    @property
    def measures(self) -> tuple[str, ...]:
        """The core.observations measures it is computed from, so a figure resting on a
        quarantined file can be marked stale."""
        return tuple(dict.fromkeys(m.measure for m in (self.numerator, self.denominator) if m is not None))

    @property
    def stock(self) -> bool:
        """A count at the period's end (children looked after), not summed over the period: its
        figure for a quarter is not a quarter of its year's."""
        return self.kind == "stock"

    def shown_for(self, partnership: str) -> bool:
        """Whether ``partnership``'s scorecard shows it (its file's partnerships, or every one)."""
        return self.partnerships is None or partnership in self.partnerships

    @property
    def interval_method(self) -> tuple[str, float]:
        """How its confidence interval is made, and the multiplier from numerator/denominator to value:
        Wilson for a percentage, Byar on the count for counts and rates (scorecard.model.statistics)."""
        return {**RATIO_UNITS, "per month": ("rate", 1.0)}.get(self.unit, ("count", 1.0))

    @property
    def comparable_between_areas(self) -> bool:
        return comparable_between_areas(self.unit)

    @property
    def example_period(self) -> str:
        return {"financial_year": "2016/17", "academic_year": "2015/16", "month": "2017-09"}[
            self.headline_period_type]


def _fail(path: Path, field: str, rule: str) -> IndicatorFileError:
    return IndicatorFileError(f"{path}: field '{field}': {rule}")


def _found(value: object) -> str:
    """What was found, without echoing a structure (or a long text) back."""
    if isinstance(value, (str, int, float, bool)) and len(str(value)) <= 40:
        return f"found {value!r}"
    return f"found {type(value).__name__}"


def _text(data: dict, field: str, path: Path, required: bool = True) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise _fail(path, field, "is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, field, f"must be text, {_found(value)}")
    return " ".join(value.split())


def _choice(data: dict, field: str, path: Path, allowed: tuple[str, ...], default: str | None = None) -> str:
    value = data.get(field, default)
    if value not in allowed:
        raise _fail(path, field, f"must be one of {', '.join(allowed)}, "
                    + ("but is missing" if value is None else _found(value)))
    return value


def _measure(data: dict, field: str, path: Path) -> MeasureRef | None:
    spec = data.get(field)
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise _fail(path, field, f"must be a mapping like {{measure: hub_referrals, breakdown: All}}, {_found(spec)}")
    unknown = sorted(set(map(str, spec)) - {"measure", "breakdown"})
    if unknown:
        raise _fail(path, f"{field}.{unknown[0]}", "is not a known field (expected measure, breakdown)")
    measure = spec.get("measure")
    if not isinstance(measure, str) or not _ID.match(measure):
        raise _fail(path, f"{field}.measure", "must be a measure name in lower case, digits and _ "
                    f"(as in core.observations), {_found(measure)}")
    breakdown = spec.get("breakdown")
    if breakdown is not None and (not isinstance(breakdown, (str, int)) or not str(breakdown).strip()):
        raise _fail(path, f"{field}.breakdown", f"must be text, {_found(breakdown)}")
    return MeasureRef(measure, None if breakdown is None else str(breakdown).strip())


def _spc_measure(data: dict, path: Path) -> str | None:
    measure = data.get("spc_measure")
    if measure is not None and (not isinstance(measure, str) or not _ID.match(measure)):
        raise _fail(path, "spc_measure", "must be a measure name in lower case, digits and _ "
                    f"(as in core.observations), {_found(measure)}")
    return measure


def parse_indicator(data: object, path: Path) -> Indicator:
    """One indicator from a parsed YAML document, checked field by field."""
    if not isinstance(data, dict):
        raise _fail(path, "(file)", f"must be a mapping of fields ({', '.join(FIELDS)}), {_found(data)}")
    unknown = sorted(set(map(str, data)) - set(FIELDS))
    if unknown:
        raise _fail(path, unknown[0], f"is not a known field (expected {', '.join(FIELDS)})")
    indicator_id = _text(data, "id", path)
    if not _ID.match(indicator_id):
        raise _fail(path, "id", f"must be lower case letters, digits and _, {_found(indicator_id)}")
    if path.stem != indicator_id:
        raise _fail(path, "id", f"must match the file's name ({path.stem}.yaml), {_found(indicator_id)}")
    unit = _text(data, "unit", path)
    numerator, denominator = _measure(data, "numerator", path), _measure(data, "denominator", path)
    fingertips_id = data.get("fingertips_id")
    if fingertips_id is not None and (isinstance(fingertips_id, bool) or not isinstance(fingertips_id, int)
                                      or fingertips_id <= 0):
        raise _fail(path, "fingertips_id", f"must be a Fingertips indicator number like 93563, {_found(fingertips_id)}")
    sql_path = path.with_suffix(".sql")
    sql_path = sql_path if sql_path.is_file() else None
    if numerator is None and fingertips_id is None:
        raise _fail(path, "numerator", "is missing (an indicator is made from a measure, or is a fingertips_id)")
    if denominator is not None and numerator is None:
        raise _fail(path, "numerator", "is missing (a denominator needs a numerator)")
    if numerator is not None and sql_path is None:
        if unit in RATIO_UNITS and denominator is None:
            raise _fail(path, "denominator", f"is missing (a value in {unit!r} is a numerator over a denominator)")
        if denominator is not None and unit not in RATIO_UNITS:
            raise _fail(path, "unit", f"must be one of {', '.join(RATIO_UNITS)} for a numerator over a denominator "
                        f"(a count's unit is a noun, with no denominator), {_found(unit)}")
    if data.get("fingertips_category") is not None and fingertips_id is None:
        raise _fail(path, "fingertips_category", "needs a fingertips_id")
    partnerships = data.get("partnerships")
    if partnerships is not None and (not isinstance(partnerships, list) or not partnerships
                                     or not all(isinstance(p, str) and _ID.match(p) for p in partnerships)):
        raise _fail(path, "partnerships", "must list partnership ids as the strategy files name them, e.g. "
                    f"[herefordshire], {_found(partnerships)}")
    return Indicator(
        indicator_id=indicator_id,
        name=_text(data, "name", path),
        family=_text(data, "family", path),
        unit=unit,
        polarity=_choice(data, "polarity", path, POLARITIES),
        definition=_text(data, "definition", path),
        source=_text(data, "source", path),
        numerator=numerator,
        denominator=denominator,
        kind=_choice(data, "kind", path, MEASURE_KINDS),
        headline_period_type=_choice(data, "headline_period", path, HEADLINE_PERIODS),
        spc_period_type=_choice(data, "spc_period", path, SPC_PERIODS, default="month"),
        spc_measure=_spc_measure(data, path),
        fingertips_id=fingertips_id,
        fingertips_category=_text(data, "fingertips_category", path, required=False),
        sql_path=sql_path,
        partnerships=None if partnerships is None else tuple(partnerships),
    )


def load_indicator_file(path: Path) -> Indicator:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise _fail(path, "(file)", f"cannot be read as UTF-8 text ({type(error).__name__})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise _fail(path, "(file)", f"is not valid YAML{where}") from None
    return parse_indicator(data, path)


def load_indicator_folder(folder: Path) -> tuple[Indicator, ...]:
    """Every ``*.yaml`` in ``folder`` (by file name); a SQL file with no YAML beside it is refused."""
    if not folder.is_dir():
        return ()
    for sql in sorted(folder.glob("*.sql")):
        if not sql.with_suffix(".yaml").is_file():
            raise _fail(sql, "(file)", f"computes no indicator: it needs {sql.stem}.yaml beside it")
    return tuple(load_indicator_file(path) for path in sorted(folder.glob("*.yaml")))


def catalogue_for(raw_dir: Path) -> tuple[Indicator, ...]:
    """The indicators a build over ``raw_dir`` reports: the shipped ones, then those in
    ``<raw_dir>/indicators/`` (a file there with a shipped id replaces the shipped one)."""
    shipped = load_indicator_folder(SHIPPED_INDICATORS_DIR)
    local_dir = raw_dir / "indicators"
    if not local_dir.is_dir() or local_dir.resolve() == SHIPPED_INDICATORS_DIR.resolve():
        return shipped
    local = {i.indicator_id: i for i in load_indicator_folder(local_dir)}
    return tuple(local.pop(i.indicator_id, i) for i in shipped) + tuple(local.values())


INDICATORS: tuple[Indicator, ...] = load_indicator_folder(SHIPPED_INDICATORS_DIR)
INDICATORS_BY_ID = {indicator.indicator_id: indicator for indicator in INDICATORS}
