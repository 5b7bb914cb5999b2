"""The committee's figures as at a date: for each partnership area and indicator, the latest
complete quarter, the financial year to date and the rolling 12 months, each beside the same
period a year before and the last full financial year, with RAG against the strategy's path at
the period's end (DOMAIN.md "The reporting cycle").

A count's path is set per year: for a shorter period it is the year's share (a quarter's is a
quarter of it); a percentage, a rate or a stock (counted at the period's end) is compared as set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from scorecard.model.catalogue import INDICATORS_BY_ID
from scorecard.model.periods import (
    Period,
    financial_year,
    financial_year_start,
    month_end,
    quarter,
    rolling_months,
    year_to_date,
)
from scorecard.publish.disclosure import Disclosure
from scorecard.publish.formatting import format_value
from scorecard.publish.marts import (
    IndicatorInfo,
    Milestone,
    PeriodValue,
    Revision,
    Trajectory,
    latest_quarter_end,
    read_period_values,
    read_trajectories,
)

HEADLINE_KINDS = ("quarter", "year_to_date", "rolling_12_months")
KIND_NAMES = {"quarter": "Latest quarter", "year_to_date": "Year to date", "rolling_12_months": "Rolling 12 months"}


def quarter_end_on_or_before(day: date) -> date:
    """The last day of the latest quarter (June, September, December, March) ending on or before ``day``."""
    year, last = day.year, day.month - (day.month % 3)
    if last == 0:
        year, last = year - 1, 12
    end = month_end(year, last)
    if end > day:
        year, last = (year - 1, 12) if last == 3 else (year, last - 3)
        end = month_end(year, last)
    return end


def default_as_at(conn: duckdb.DuckDBPyConnection) -> date | None:
    """The last complete quarter in the data (what a scheduled build reports by default)."""
    return latest_quarter_end(conn)


def headline_periods(as_at: date) -> dict[str, tuple[Period, Period]]:
    """{kind: (the period, the same period a year before)} for a report as at ``as_at``."""
    end = quarter_end_on_or_before(as_at)
    made = {"quarter": lambda y: quarter(y, end.month), "year_to_date": lambda y: year_to_date(y, end.month),
            "rolling_12_months": lambda y: rolling_months(y, end.month, 12)}
    return {kind: (make(end.year), make(end.year - 1)) for kind, make in made.items()}


def last_full_year(as_at: date) -> Period:
    end = quarter_end_on_or_before(as_at)
    start = financial_year_start(end)
    return financial_year(start if end.month == 3 else start - 1)


@dataclass(frozen=True)
class Shown:
    """A period's figure (None when the data have none)."""
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class CommitteeFigure:
    partnership: str
    area_code: str
    area_name: str
    indicator_id: str
    kind: str  # quarter, year_to_date or rolling_12_months
    period_type: str
    period: Shown
    year_before: Shown
    last_full_year: Shown
    trajectory_value: float | None  # the strategy's path at the period's end, on the period's scale
    rag: str  # green, amber, red, no target or no data


def path_scale(indicator_id: str, period: Period) -> float:
    """What the path's yearly value is multiplied by to compare with ``period``'s figure."""
    indicator = INDICATORS_BY_ID.get(indicator_id)
    if indicator is None or indicator.interval_method[0] != "count" or indicator.stock:
        return 1.0
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    return months / 12


def rag_against(value: float | None, path: float | None, polarity: str, amber_tolerance_pct: float) -> str:
    """As marts.scorecard judges the latest figure: green on or better than the path, amber within
    the tolerance, else red."""
    if value is None:
        return "no data"
    if path is None:
        return "no target"
    if (value <= path) if polarity == "lower_is_better" else (value >= path):
        return "green"
    return "amber" if abs(value - path) <= abs(path) * amber_tolerance_pct / 100 else "red"


def committee_figures(conn: duckdb.DuckDBPyConnection, as_at: date) -> list[CommitteeFigure]:
    """Every partnership area's committee figures as at ``as_at``, for the indicators with any."""
    periods = headline_periods(as_at)
    full_year = last_full_year(as_at)
    wanted = [(p.period_type, p.label) for pair in periods.values() for p in pair]
    values = {(v.indicator_id, v.area_code, v.period_type, v.period_label): v
              for v in read_period_values(conn, [*wanted, (full_year.period_type, full_year.label)])}
    trajectories: dict[tuple[str, str], Trajectory] = read_trajectories(conn)
    areas = sorted({(v.partnership, v.area_code, v.area_name) for v in values.values()})

    def shown(indicator_id: str, area_code: str, period: Period) -> Shown:
        found: PeriodValue | None = values.get((indicator_id, area_code, period.period_type, period.label))
        if found is None:
            return Shown(period.label, None, None, None)
        return Shown(period.label, found.value, found.numerator, found.denominator)

    out = []
    for partnership, area_code, area_name in areas:
        for indicator_id, indicator in INDICATORS_BY_ID.items():
            if not any((indicator_id, area_code, p.period_type, p.label) in values
                       for p, _ in periods.values()):
                continue  # (no committee periods: an academic-year or a rolling-average indicator)
            trajectory = trajectories.get((indicator_id, area_code))
            for kind, (period, before) in periods.items():
                figure = shown(indicator_id, area_code, period)
                path = trajectory.value_at(period.end) if trajectory is not None else None
                path = None if path is None else path * path_scale(indicator_id, period)
                rag = rag_against(figure.value, path, indicator.polarity,
                                  trajectory.amber_tolerance_pct if trajectory is not None else 0.0)
                out.append(CommitteeFigure(partnership, area_code, area_name, indicator_id, kind, period.period_type,
                                           figure, shown(indicator_id, area_code, before),
                                           shown(indicator_id, area_code, full_year), path, rag))
    return out


# --- what the report shows (the HTML and the Word paper alike) ------------------------------------


def _revision_sentence(revision: Revision, indicator: IndicatorInfo, area_name: str, disclosure: Disclosure) -> str:
    before = disclosure.show(revision.reported_value, indicator.unit)
    now = disclosure.show(revision.current_value, indicator.unit, revision.numerator, revision.denominator)
    when = f"{revision.as_at.day} {revision.as_at:%B %Y}"
    if revision.current_value is None:
        return (f"{indicator.name}, {area_name}: {revision.period_label} was reported as {before} (report as at "
                f"{when}); there is no figure for it now.")
    return (f"{indicator.name}, {area_name}: {revision.period_label} was reported as {before} (report as at "
            f"{when}); it is now {now} after late recording or a corrected return.")


def _milestone_sentence(milestone: Milestone, indicator: IndicatorInfo, area_name: str,
                        disclosure: Disclosure) -> str:
    bound = "at most" if indicator.lower_is_better else "at least"
    aim = format_value(milestone.milestone_value, indicator.unit)
    if milestone.value is None:
        return f"{indicator.name}, {area_name}: {bound} {aim} in {milestone.period_label}; there is no figure for it."
    return (f"{indicator.name}, {area_name}: {bound} {aim} in {milestone.period_label}; it was "
            f"{disclosure.show(milestone.value, indicator.unit)}: {milestone.status}.")


def committee_view(figures: list[CommitteeFigure], indicators: dict[str, IndicatorInfo], as_at: date,
                   revisions: list[Revision], disclosure: Disclosure, milestones: tuple[Milestone, ...] = (),
                   data_end: date | None = None, charts_cut: bool = False) -> dict:
    """The committee section's words and figures for one partnership, disclosure control applied.
    ``data_end``: the end of the latest period in the warehouse (the scorecard table shows it, and
    the charts unless ``charts_cut``: drawn from the data up to ``as_at``)."""
    areas: dict[str, dict] = {}
    for figure in figures:
        indicator = indicators.get(figure.indicator_id)
        if indicator is None:
            continue
        unit = indicator.unit

        def show(shown: Shown, unit: str = unit) -> str:
            if shown.value is None:
                return "–"
            return f"{disclosure.show(shown.value, unit, shown.numerator, shown.denominator)} ({shown.label})"

        area = areas.setdefault(figure.area_code, {"code": figure.area_code, "name": figure.area_name, "rows": []})
        area["rows"].append({
            "indicator_id": figure.indicator_id, "name": indicator.name, "kind": KIND_NAMES[figure.kind],
            "period": figure.period.label,
            "value": disclosure.show(figure.period.value, unit, figure.period.numerator, figure.period.denominator),
            "year_before": show(figure.year_before), "last_full_year": show(figure.last_full_year),
            "path": "–" if figure.trajectory_value is None else format_value(figure.trajectory_value, unit),
            "rag": figure.rag})
    names = {code: area["name"] for code, area in areas.items()}
    quarter_end = quarter_end_on_or_before(as_at)
    later = data_end is not None and data_end > quarter_end
    return {"as_at": f"{as_at.day} {as_at:%B %Y}", "quarter_end": quarter_end,
            "areas": list(areas.values()),
            "later_data": later_data_sentence(as_at, data_end, charts_cut) if later else None,
            "milestones": [_milestone_sentence(m, indicators[m.indicator_id], names.get(m.area_code, m.area_code),
                                               disclosure)
                           for m in milestones if m.indicator_id in indicators],
            "revisions": [_revision_sentence(r, indicators[r.indicator_id], names.get(r.area_code, r.area_code),
                                             disclosure)
                          for r in revisions if r.indicator_id in indicators]}


def later_data_sentence(as_at: date, data_end: date, charts_cut: bool) -> str:
    """What a report as at an earlier date says of the later periods in the warehouse."""
    as_at_text, end_text = f"{as_at.day} {as_at:%B %Y}", f"{data_end.day} {data_end:%B %Y}"
    if charts_cut:
        return (f"The charts below (and their SPC limits) run to {as_at_text}, drawn from the data up to that "
                f"date; the scorecard table shows every period in the warehouse, to {end_text}; the figures "
                f"above are as at {as_at_text}.")
    return (f"The scorecard and charts below show every period in the warehouse, to {end_text}; the figures "
            f"above are as at {as_at_text}.")


def history_rows(figures: list[CommitteeFigure], as_at: date, report_file: str, reported_at) -> list[dict]:
    """The figures a report showed, as rows of the record (scorecard.model.reported)."""
    rows = []
    for figure in figures:
        shown = [(figure.period, figure.period_type, figure.rag), (figure.year_before, figure.period_type, None)]
        shown.append((figure.last_full_year, "financial_year", None))
        for item, period_type, rag in shown:
            rows.append({"partnership": figure.partnership, "as_at": as_at, "indicator_id": figure.indicator_id,
                         "area_code": figure.area_code, "period_type": period_type, "period_label": item.label,
                         "value": item.value, "rag": rag, "report_file": report_file, "reported_at": reported_at})
    return rows
