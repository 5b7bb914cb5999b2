"""Strategy files: one YAML per partnership in ``<raw>/strategies/``, tracked in git.

A file names the partnership, its local authorities and, per indicator, the baseline, the
target (an absolute value or a % change on the baseline) with its due date, and a note.
A malformed file is refused with a message naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from scorecard.model.catalogue import INDICATORS_BY_ID, Indicator
from scorecard.model.periods import Period, PeriodType, parse_period

_AREA_CODE = re.compile(r"^E0[6-9]\d{6}$|^E10\d{6}$")
DEFAULT_AMBER_TOLERANCE_PCT = 5.0
# Periods a milestone may name besides the indicator's own (judged on that period's figure).
MILESTONE_PERIOD_TYPES: tuple[PeriodType, ...] = (
    "financial_year", "academic_year", "month", "quarter", "year_to_date", "rolling_12_months", "rolling_6_months")


class StrategyFileError(ValueError):
    """A strategy file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    region: str


@dataclass(frozen=True)
class Target:
    indicator_id: str
    area_codes: tuple[str, ...]
    baseline_period: str
    baseline_period_end: date
    baseline_value: float | None
    target_value: float | None
    target_change_pct: float | None
    target_date: date
    amber_tolerance_pct: float
    # (due date, value) points the trajectory passes through between baseline and target.
    milestones: tuple[tuple[date, float], ...]
    illustrative: bool
    note: str | None
    source: str | None
    # Milestones that name a period ("1375 in 6 months ending Dec 18"): judged on that period's
    # figure; the trajectory takes them only when the period is of the indicator's own type.
    period_milestones: tuple[tuple[Period, float], ...] = ()


@dataclass(frozen=True)
class Strategy:
    partnership: str
    name: str
    strategy: str
    path: Path
    areas: tuple[Area, ...]
    targets: tuple[Target, ...] = field(default=())


def _fail(path: Path, where: str, problem: str) -> StrategyFileError:
    return StrategyFileError(f"{path}: field '{where}': {problem}")


def _shown(value: object) -> str:
    """A value for a message: a scalar as written (cut short), never a parsed structure printed whole."""
    if isinstance(value, dict):
        return f"a mapping of {len(value)} field(s)"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _refuse_aliases(text: str, path: Path) -> None:
    """YAML aliases (``*name``) are refused before anything is built: a strategy file has no use for
    them, and an alias of an alias of... (a "billion laughs") would expand without bound."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise StrategyFileError(f"{path}: line {event.start_mark.line + 1}: YAML aliases (*name) are not "
                                        "accepted in a strategy file; write the value out")
    except yaml.YAMLError:
        return  # not valid YAML: safe_load says where


def _mapping(value: object, path: Path, where: str) -> dict:
    if not isinstance(value, dict):
        raise _fail(path, where, f"must be a mapping of names to values, found {type(value).__name__}")
    return value


def _text(data: dict, key: str, path: Path, where: str, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _fail(path, f"{where}{key}", "is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{where}{key}", f"must be text, found {_shown(value)}")
    return value.strip()


def _number(data: dict, key: str, path: Path, where: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, f"{where}{key}", f"must be a number, found {_shown(value)}")
    return float(value)


def _date(data: dict, key: str, path: Path, where: str) -> date:
    value = data.get(key)
    if value is None:
        raise _fail(path, f"{where}{key}", "is missing")
    if isinstance(value, date):
        return value
    raise _fail(path, f"{where}{key}", f"must be a date written 2019-03-31, found {_shown(value)}")


def _parse_target(indicator: Indicator, spec: object, areas: tuple[Area, ...], path: Path) -> Target:
    indicator_id = indicator.indicator_id
    where = f"indicators.{indicator_id}."
    spec = _mapping(spec, path, where.rstrip("."))
    unknown = set(spec) - {"areas", "baseline", "target", "milestones", "note", "illustrative", "source"}
    if unknown:
        raise _fail(path, where + sorted(unknown)[0], "is not a known field (expected areas, "
                    "baseline, target, milestones, note, illustrative, source)")

    area_codes = tuple(a.code for a in areas)
    if "areas" in spec:
        chosen = spec["areas"]
        if not isinstance(chosen, list) or not all(c in area_codes for c in chosen):
            raise _fail(path, where + "areas", f"must list codes from this file's areas {list(area_codes)}, "
                        f"found {_shown(chosen)}")
        area_codes = tuple(chosen)

    baseline = _mapping(spec.get("baseline"), path, where + "baseline")
    if isinstance(baseline.get("period"), (int, date)):  # YAML reads 2016 or 2017-03-31 as non-text
        baseline["period"] = str(baseline["period"])
    period = _text(baseline, "period", path, where + "baseline.")
    baseline_period = parse_period(period, (indicator.headline_period_type,))
    if baseline_period is None:
        raise _fail(path, where + "baseline.period",
                    f"must be a {indicator.headline_period_type.replace('_', ' ')} like "
                    f"{indicator.example_period!r}, found {period!r}")
    baseline_value = _number(baseline, "value", path, where + "baseline.")

    target = _mapping(spec.get("target"), path, where + "target")
    value = _number(target, "value", path, where + "target.")
    change = _number(target, "change_pct", path, where + "target.")
    if (value is None) == (change is None):
        raise _fail(path, where + "target", "give exactly one of 'value' (the figure to reach) or "
                    "'change_pct' (the % change on the baseline, e.g. -10)")
    tolerance = _number(target, "amber_tolerance_pct", path, where + "target.")
    if tolerance is not None and tolerance < 0:
        raise _fail(path, where + "target.amber_tolerance_pct", f"must be 0 or more, found {tolerance}")
    due = _date(target, "due", path, where + "target.")

    milestones, period_milestones = _parse_milestones(spec.get("milestones", []), indicator.headline_period_type,
                                                      baseline_period.end, due, path, where)

    illustrative = spec.get("illustrative", False)
    if not isinstance(illustrative, bool):
        raise _fail(path, where + "illustrative", f"must be true or false, found {_shown(illustrative)}")
    return Target(
        indicator_id=indicator_id,
        area_codes=area_codes,
        baseline_period=baseline_period.label,
        baseline_period_end=baseline_period.end,
        baseline_value=baseline_value,
        target_value=value,
        target_change_pct=change,
        target_date=due,
        amber_tolerance_pct=DEFAULT_AMBER_TOLERANCE_PCT if tolerance is None else tolerance,
        milestones=tuple(sorted(milestones)),
        illustrative=illustrative,
        note=_text(spec, "note", path, where, required=False),
        source=_text(spec, "source", path, where, required=False),
        period_milestones=tuple(sorted(period_milestones, key=lambda m: m[0].end)),
    )


def _parse_milestones(specs: object, headline_period_type: str, after: date, before: date, path: Path,
                      where: str) -> tuple[list[tuple[date, float]], list[tuple[Period, float]]]:
    """The dated milestones (on the trajectory) and those naming a period (judged on it)."""
    milestones, period_milestones = [], []
    if not isinstance(specs, list):
        raise _fail(path, where + "milestones", "must be a list of {due: <date>, value: <number>} or "
                    "{period: <period>, value: <number>}")
    for i, item in enumerate(specs):
        here = f"{where}milestones[{i}]."
        item = _mapping(item, path, here.rstrip("."))
        value_at = _number(item, "value", path, here)
        if value_at is None:
            raise _fail(path, here + "value", "is missing")
        period = _milestone_period(item, path, here)
        when = period.end if period is not None and "due" not in item else _date(item, "due", path, here)
        if period is not None and when != period.end:
            raise _fail(path, here + "due", f"must be the period's last day ({period.end}) or left out, found {when}")
        if not after < when < before:
            raise _fail(path, here + ("due" if period is None else "period"),
                        f"must fall between the baseline ({after}) and the target ({before})")
        if period is None or period.period_type == headline_period_type:
            milestones.append((when, value_at))
        if period is not None:
            period_milestones.append((period, value_at))
    return milestones, period_milestones


def _milestone_period(item: dict, path: Path, where: str) -> Period | None:
    """The period a milestone names, if it names one."""
    if "period" not in item:
        return None
    text = str(item["period"]).strip()
    period = parse_period(text, MILESTONE_PERIOD_TYPES)
    if period is None:
        raise _fail(path, where + "period", 'must be a period such as "6 months to Dec 2018", "2025/26 Q2", '
                    f'"2025/26 Apr-Sep", "12 months to Sep 2025" or "2018/19", found {text!r}')
    return period


def load_strategy(path: Path, indicators: Mapping[str, Indicator] = INDICATORS_BY_ID) -> Strategy:
    """One strategy file, its targets checked against ``indicators`` (the build's catalogue)."""
    try:
        text = path.read_text(encoding="utf-8")
        _refuse_aliases(text, path)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise StrategyFileError(f"{path}: is not valid YAML{line}: {getattr(error, 'problem', error)}") from None
    data = _mapping(data, path, "(top level)")

    areas_spec = data.get("areas")
    if not isinstance(areas_spec, list) or not areas_spec:
        raise _fail(path, "areas", "must list at least one local authority with code, name and region")
    areas = []
    for i, item in enumerate(areas_spec):
        item = _mapping(item, path, f"areas[{i}]")
        code = _text(item, "code", path, f"areas[{i}].")
        if not _AREA_CODE.match(code):
            raise _fail(path, f"areas[{i}].code",
                        f"must be an ONS local authority code like E06000057, found {_shown(code)}")
        areas.append(Area(code, _text(item, "name", path, f"areas[{i}]."), _text(item, "region", path, f"areas[{i}].")))

    targets_spec = _mapping(data.get("indicators", {}), path, "indicators")
    partnership = _text(data, "partnership", path, "")
    targets = []
    for indicator_id, spec in targets_spec.items():
        if indicator_id not in indicators:
            raise _fail(path, f"indicators.{indicator_id}", f"is not an indicator id (data/raw/indicators/"
                        f"<id>.yaml); known ids: {', '.join(indicators)}")
        kept_for = indicators[indicator_id].partnerships
        if kept_for is not None and partnership not in kept_for:
            raise _fail(path, f"indicators.{indicator_id}", f"is kept for {', '.join(kept_for)} only (its "
                        f"file's partnerships), not {partnership}")
        targets.append(_parse_target(indicators[indicator_id], spec, tuple(areas), path))

    return Strategy(
        partnership=partnership,
        name=_text(data, "name", path, ""),
        strategy=_text(data, "strategy", path, ""),
        path=path,
        areas=tuple(areas),
        targets=tuple(targets),
    )


def load_strategies(strategies_dir: Path, indicators: Mapping[str, Indicator] = INDICATORS_BY_ID) -> list[Strategy]:
    """Every strategy file, checked; one area may belong to only one partnership."""
    files = sorted(strategies_dir.glob("*.yaml")) + sorted(strategies_dir.glob("*.yml"))
    if not files:
        raise StrategyFileError(f"{strategies_dir}: no strategy files (*.yaml) found")
    strategies = [load_strategy(p, indicators) for p in files]
    owner: dict[str, Path] = {}
    for strategy in strategies:
        for area in strategy.areas:
            if area.code in owner:
                raise _fail(strategy.path, "areas", f"{area.code} is already listed in {owner[area.code]}")
            owner[area.code] = strategy.path
    return strategies
