"""Numbers and periods as committee papers write them, shared by the charts and the reports."""

from __future__ import annotations

import re
from datetime import date

from scorecard.model.periods import academic_year, financial_year, month
from scorecard.model.statistics import round_half_up


def format_value(value: float | None, unit: str) -> str:
    """A value as committee papers write it: 53.1%, 1,765 children, 21.3 per 10,000.

    Rounded half up (15.25 -> 15.3), as official statistics are; Python's own formatting
    rounds the binary float half to even. ``+ 0.0`` turns a rounded -0.0 into 0.0.
    """
    if value is None:
        return "–"
    if unit == "%":
        return f"{round_half_up(value, 1) + 0.0:.1f}%"
    if unit in ("children", "assessments", "referrals"):
        return f"{round_half_up(value, 0) + 0.0:,.0f}"
    return f"{round_half_up(value, 1) + 0.0:,.1f}"


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{round_half_up(value, 1) + 0.0:.1f}%"


def period_label_for(day: date, period_type: str) -> str:
    """The headline period ending on ``day``, or the date itself when no period ends then."""
    if period_type == "financial_year":
        period = financial_year(day.year if day.month >= 4 else day.year - 1)
    elif period_type == "academic_year":
        period = academic_year(day.year if day.month >= 9 else day.year - 1)
    elif period_type == "month":
        period = month(day.year, day.month)
    else:
        period = None
    if period is not None and period.end == day:
        return period.label
    return f"{day.day} {day:%b %Y}"


def period_text(label: str | None) -> str:
    """Months as people say them ("Sep 2017"); years as written ("2016/17")."""
    if label is None:
        return "–"
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if match:
        return date(int(match[1]), int(match[2]), 1).strftime("%b %Y")
    return label
