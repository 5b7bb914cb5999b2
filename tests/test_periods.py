from datetime import date

import pytest

from scorecard.model.periods import parse_period

FY_OR_MONTH = ("month", "financial_year")


@pytest.mark.parametrize(("text", "allowed", "expected"), [
    ("2016/17", FY_OR_MONTH, ("financial_year", "2016/17", date(2016, 4, 1), date(2017, 3, 31))),
    ("2016-17", FY_OR_MONTH, ("financial_year", "2016/17", date(2016, 4, 1), date(2017, 3, 31))),
    ("2016/2017", FY_OR_MONTH, ("financial_year", "2016/17", date(2016, 4, 1), date(2017, 3, 31))),
    ("1999/00", FY_OR_MONTH, ("financial_year", "1999/00", date(1999, 4, 1), date(2000, 3, 31))),
    ("2015/16", ("academic_year",), ("academic_year", "2015/16", date(2015, 9, 1), date(2016, 8, 31))),
    ("2017-09", FY_OR_MONTH, ("month", "2017-09", date(2017, 9, 1), date(2017, 9, 30))),
    ("2016-02", FY_OR_MONTH, ("month", "2016-02", date(2016, 2, 1), date(2016, 2, 29))),
    # "2017-18" is a financial year, never an 18th month.
    ("2017-18", FY_OR_MONTH, ("financial_year", "2017/18", date(2017, 4, 1), date(2018, 3, 31))),
    ("2017-03-31", ("date",), ("date", "2017-03-31", date(2017, 3, 31), date(2017, 3, 31))),
    ("31/03/2017", ("date",), ("date", "2017-03-31", date(2017, 3, 31), date(2017, 3, 31))),
    ("2017-03-31 00:00:00", ("date",), ("date", "2017-03-31", date(2017, 3, 31), date(2017, 3, 31))),
])
def test_periods_written_the_allowed_ways_are_understood(text, allowed, expected):
    period = parse_period(text, allowed)
    assert (period.period_type, period.label, period.start, period.end) == expected


@pytest.mark.parametrize(("text", "allowed"), [
    ("2016/18", FY_OR_MONTH), ("2017-13", FY_OR_MONTH), ("2017-00", FY_OR_MONTH),
    ("2017-09", ("financial_year",)), ("2016/17", ("month",)), ("31/02/2017", ("date",)),
    ("03/31/2017", ("date",)), ("Sept 2017", FY_OR_MONTH), ("", FY_OR_MONTH),
])
def test_periods_written_otherwise_are_refused(text, allowed):
    assert parse_period(text, allowed) is None
