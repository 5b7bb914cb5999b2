"""Numbers and periods as committee papers write them, shared by the charts and the reports; and
the room a chart's value axis needs for the numbers plotly writes on it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
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


# Advance widths in Arial, in ems (its digits are all one width), to reckon a label's width; and
# what a value axis needs beside its labels: the ticks and a gap, and its title's line.
DIGIT_EM, LABEL_EM = 0.556, {",": 0.278, ".": 0.278, "%": 0.889, "-": 0.333}
VALUE_AXIS_EXTRA = 34


def value_label_width(values: Iterable[object], unit: str, font_size: float) -> float:
    """About how wide, in pixels, a plotly value axis's widest tick label is: its top tick (about
    five steps of 1, 2 or 5 times a power of ten over ``values``, as plotly chooses them), written as
    plotly writes it with ``tickformat=","`` (as many decimals as the step has; "%" for a percentage)."""
    drawn = [v for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not drawn:
        return 0.0
    low, high = min(drawn), max(drawn)
    wanted = max(high - low, abs(high) * 0.01, 1e-9) / 5
    power = 10.0 ** math.floor(math.log10(wanted))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= wanted)
    decimals = max(0, -math.floor(math.log10(step)))
    widest = max(abs(math.ceil(high / step) * step), abs(math.floor(low / step) * step))
    text = f"{'-' if low < 0 else ''}{widest:,.{decimals}f}" + ("%" if unit == "%" else "")
    return font_size * sum(LABEL_EM.get(character, DIGIT_EM) for character in text)


def value_axis_margin(values: Iterable[object], unit: str, font_size: float, least: int) -> int:
    """The left margin a chart's value axis needs: ``least``, or more when its tick labels are wide,
    so that the axis title (beside them) is never drawn over them."""
    return max(least, math.ceil(value_label_width(values, unit, font_size)) + VALUE_AXIS_EXTRA)
