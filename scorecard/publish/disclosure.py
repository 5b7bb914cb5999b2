"""Disclosure control: the one rule every published output (charts, reports, index) applies.

Counts of 1 to 5 are shown as ``c``, and a value made from such a count (a percentage or rate
whose numerator or denominator is 1 to 5) is withheld too, so no figure can be worked back to
a handful of children. Charts leave such values out; reports write ``c`` and withhold any chart
image that would show one.
"""

from __future__ import annotations

from dataclasses import dataclass

from scorecard.publish.formatting import format_value

SUPPRESSED = "c"
SMALL_COUNT_MIN, SMALL_COUNT_MAX = 1, 5
# Units whose value is a %, a rate or an average; any other unit is a noun (children,
# assessments, or whatever an indicator file counts), so its value is itself a count.
NOT_COUNT_UNITS = frozenset({"%", "per 10,000", "per month"})


def is_small_count(count: float | None) -> bool:
    return count is not None and SMALL_COUNT_MIN <= count <= SMALL_COUNT_MAX


def made_from_small_count(unit: str, value: float | None, numerator: float | None = None,
                          denominator: float | None = None) -> bool:
    """Would showing ``value`` reveal a count of 1 to 5 (the value itself, for a count unit,
    or the numerator or denominator it was made from)? A missing value reveals nothing."""
    if value is None:
        return False
    return ((unit not in NOT_COUNT_UNITS and is_small_count(value))
            or is_small_count(numerator) or is_small_count(denominator))


@dataclass(frozen=True)
class Disclosure:
    """The rule, switched on (the default for anything published) or off (internal copies)."""
    applied: bool = True

    def hides(self, unit: str, value: float | None, numerator: float | None = None,
              denominator: float | None = None) -> bool:
        return self.applied and made_from_small_count(unit, value, numerator, denominator)

    def show(self, value: float | None, unit: str, numerator: float | None = None,
             denominator: float | None = None) -> str:
        """The value as written in a report: ``c`` when the rule hides it."""
        if self.hides(unit, value, numerator, denominator):
            return SUPPRESSED
        return format_value(value, unit)
