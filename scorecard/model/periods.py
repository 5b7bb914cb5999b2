"""How periods are written in extracts, and what they mean.

Financial years run April to March ("2016/17"), academic years September to August
("2015/16"), months are "2017-09", and a snapshot is a date ("2017-03-31" or "31/03/2017").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

PeriodType = Literal["financial_year", "academic_year", "month", "date"]

_YEAR_PAIR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

PERIOD_FORMATS: dict[str, str] = {
    "financial_year": 'a financial year written "2016/17"',
    "academic_year": 'an academic year written "2015/16"',
    "month": 'a month written "2017-09"',
    "date": 'a date written "2017-03-31" or "31/03/2017"',
}


@dataclass(frozen=True)
class Period:
    period_type: PeriodType
    label: str
    start: date
    end: date


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def financial_year(start_year: int) -> Period:
    return Period("financial_year", f"{start_year}/{(start_year + 1) % 100:02d}",
                  date(start_year, 4, 1), date(start_year + 1, 3, 31))


def academic_year(start_year: int) -> Period:
    return Period("academic_year", f"{start_year}/{(start_year + 1) % 100:02d}",
                  date(start_year, 9, 1), date(start_year + 1, 8, 31))


def month(year: int, month_number: int) -> Period:
    return Period("month", f"{year}-{month_number:02d}", date(year, month_number, 1),
                  month_end(year, month_number))


def parse_date(text: str) -> date | None:
    """A date written ISO-style or in UK order; None when it is neither."""
    text = text.strip()
    try:
        if m := _ISO_DATE.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _UK_DATE.match(text):
            return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def parse_period(text: str, allowed: tuple[PeriodType, ...]) -> Period | None:
    """The period ``text`` names, if it is written in one of the ``allowed`` ways."""
    text = str(text).strip()
    if ("financial_year" in allowed or "academic_year" in allowed) and (m := _YEAR_PAIR.match(text)):
        start, end = int(m[1]), int(m[2])
        # "2016-17" is a year; "2017-09" is not (09 does not follow 2017), so it may be a month.
        if end == start + 1 or (end < 100 and end == (start + 1) % 100):
            return financial_year(start) if "financial_year" in allowed else academic_year(start)
    if "month" in allowed and (m := _MONTH.match(text)):
        if 1 <= int(m[2]) <= 12:
            return month(int(m[1]), int(m[2]))
        return None
    if "date" in allowed and (d := parse_date(text)) is not None:
        return Period("date", d.isoformat(), d, d)
    return None


def describe_allowed(allowed: tuple[PeriodType, ...]) -> str:
    return " or ".join(PERIOD_FORMATS[kind] for kind in allowed)
