"""How periods are written in extracts, and what they mean.

Financial years run April to March ("2016/17"), academic years September to August
("2015/16"), months are "2017-09", and a snapshot is a date ("2017-03-31" or "31/03/2017").
The committee's periods are rolled up from months (sql/core/observation_periods.sql writes
the same labels): quarters of the financial year ("2025/26 Q2", July to September), the
financial year to date ("2025/26 Apr-Sep") and rolling months ("12 months to Sep 2025").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

PeriodType = Literal["financial_year", "academic_year", "month", "date",
                     "quarter", "year_to_date", "rolling_12_months", "rolling_6_months"]
ROLLING_PERIOD_TYPES = {12: "rolling_12_months", 6: "rolling_6_months"}

_YEAR_PAIR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})/(\d{2})\s+Q([1-4])$")
_YEAR_TO_DATE = re.compile(r"^(\d{4})/(\d{2})\s+Apr(?:-([A-Za-z]{3}))?$")
_ROLLING = re.compile(r"^(\d{1,2})\s+months\s+to\s+([A-Za-z]{3})\s+(\d{4})$")
_MONTH_ABBREVIATIONS = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}

PERIOD_FORMATS: dict[str, str] = {
    "financial_year": 'a financial year written "2016/17"',
    "academic_year": 'an academic year written "2015/16"',
    "month": 'a month written "2017-09"',
    "date": 'a date written "2017-03-31" or "31/03/2017"',
    "quarter": 'a quarter of the financial year written "2025/26 Q2"',
    "year_to_date": 'a financial year to date written "2025/26 Apr-Sep"',
    "rolling_12_months": 'rolling 12 months written "12 months to Sep 2025"',
    "rolling_6_months": 'rolling 6 months written "6 months to Dec 2018"',
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


def financial_year_start(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _months_before(year: int, month_number: int, count: int) -> date:
    """The first day of the month ``count`` months before year-month."""
    index = year * 12 + month_number - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def quarter(year: int, last_month: int) -> Period:
    """The financial-year quarter ending in year-``last_month`` (June, September, December or March)."""
    if last_month not in (3, 6, 9, 12):
        raise ValueError(f"a quarter ends in March, June, September or December, not month {last_month}")
    end = month_end(year, last_month)
    start_year = financial_year_start(end)
    number = (last_month + 8) % 12 // 3 + 1
    return Period("quarter", f"{financial_year(start_year).label} Q{number}",
                  _months_before(year, last_month, 2), end)


def year_to_date(year: int, last_month: int) -> Period:
    """April to year-``last_month`` of the financial year that month falls in."""
    end = month_end(year, last_month)
    start_year = financial_year_start(end)
    months = "Apr" if last_month == 4 else f"Apr-{end:%b}"
    return Period("year_to_date", f"{financial_year(start_year).label} {months}", date(start_year, 4, 1), end)


def rolling_months(year: int, last_month: int, count: int) -> Period:
    """The ``count`` months (12 or 6) to the end of year-``last_month``."""
    if count not in ROLLING_PERIOD_TYPES:
        raise ValueError(f"rolling periods are of {' or '.join(map(str, ROLLING_PERIOD_TYPES))} months, not {count}")
    end = month_end(year, last_month)
    return Period(ROLLING_PERIOD_TYPES[count], f"{count} months to {end:%b %Y}",
                  _months_before(year, last_month, count - 1), end)


def _committee_period(text: str, allowed: tuple[PeriodType, ...]) -> Period | None:
    if "quarter" in allowed and (m := _QUARTER.match(text)):
        start = int(m[1])
        if int(m[2]) != (start + 1) % 100:
            return None
        last_month = (3 * int(m[3]) + 3 - 1) % 12 + 1  # Q1 June, Q2 September, Q3 December, Q4 March
        return quarter(start + (1 if last_month == 3 else 0), last_month)
    if "year_to_date" in allowed and (m := _YEAR_TO_DATE.match(text)):
        start = int(m[1])
        last_month = _MONTH_ABBREVIATIONS.get((m[3] or "Apr").lower())
        if int(m[2]) != (start + 1) % 100 or last_month is None:
            return None
        return year_to_date(start + (1 if last_month < 4 else 0), last_month)
    if m := _ROLLING.match(text):
        count, last_month = int(m[1]), _MONTH_ABBREVIATIONS.get(m[2].lower())
        if ROLLING_PERIOD_TYPES.get(count) in allowed and last_month is not None:
            return rolling_months(int(m[3]), last_month, count)
    return None


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
    return _committee_period(text, allowed)


def describe_allowed(allowed: tuple[PeriodType, ...]) -> str:
    return " or ".join(PERIOD_FORMATS[kind] for kind in allowed)
