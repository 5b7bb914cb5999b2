"""Sample partner returns: realistic, deterministic extracts in the seven layouts.

Every area named in the strategy files gets, per layout, the file its agency would send
(CSV or XLSX, one sheet, header row = the layout's column names) at the layout's natural
frequency: monthly flows, 31 March snapshots, academic years. No child-level data.

How the numbers are made. Each series starts from an *expected* level: a trend drawn
through rough annual anchors per area (rounded from the DfE's published figures, so sizes
look right), times a little seasonality and a slow random wobble. Noise is then added
(Poisson-like, plus some over-dispersion for flows) and values rounded. Parts (re-referrals,
neglect subsets, repeat plans) are drawn as a rate of their realised whole and never exceed
it; category and agency breakdowns split a realised total, so they always add up.

How the seed figures come out exactly (calibration). A ``Pin`` says "these months must
sum to this total" (e.g. Northumberland's 5,882 referrals in 2014/15). Before noise, the
expected series is scaled so each pinned span has the right level, the scaling running
smoothly between pinned spans and fading out over a year beyond them, so a stated figure is
no cliff; after noise, the pinned total is split over its months in proportion to the noisy
values (``allocate``: largest remainder, capped by the whole for parts). Snapshot figures
(children looked after) are pinned the same way on a yearly series, and the persistent-
absence rate by drawing the count from the stated percentage. Pins live in the tables
below (``MONTHLY_PINS`` and friends); a span the requested years do not cover is skipped.

Every random draw comes from a ``random.Random`` seeded with a stable string naming the
partnership, area and series, and is consumed in a fixed order, so runs are identical.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from expectations.layouts import CPP_CATEGORIES, EARLY_HELP_AGENCIES, LAYOUTS_BY_NAME, Layout
from pipelines.periods import academic_year, month
from pipelines.strategies import Area, load_strategies

Anchors = tuple[tuple[float, float], ...]
OTHER_CATEGORIES = CPP_CATEGORIES[1:]  # everything but Neglect

# --------------------------------------------------------------------------------------
# Calibration: the figures stated in the seeds (see DOMAIN.md "Figures stated in the seeds")
# --------------------------------------------------------------------------------------

# (series, first month, last month, total): the monthly values over the span sum to total.
MONTHLY_PINS: dict[str, tuple[tuple[str, str, str, int], ...]] = {
    "E06000057": (  # Northumberland, strategy 2018-2021 section 9
        ("referrals", "2014-04", "2015-03", 5882),
        ("rereferrals", "2014-04", "2015-03", 1765),  # 30.0%
        ("referrals", "2016-04", "2017-03", 3296),
        ("referrals_neglect", "2016-04", "2017-03", 340),
        ("referrals", "2017-04", "2017-09", 1569),
        ("rereferrals", "2017-04", "2017-09", 229),  # 15%
        ("cpp_starts_neglect", "2015-04", "2016-03", 237),
        ("cpp_repeat_neglect", "2015-04", "2016-03", 14),  # 5.9%
        ("cpp_starts_neglect", "2016-04", "2017-03", 167),
        ("cpp_repeat_neglect", "2016-04", "2017-03", 6),  # 3.6%
        ("cpp_starts_neglect", "2017-04", "2017-09", 216),
        ("cpp_repeat_neglect", "2017-04", "2017-09", 16),  # 7.4%
        ("cpp_open_neglect", "2017-03", "2017-03", 121),  # 121 of 228 at 31 March 2017
        ("cpp_open_other", "2017-03", "2017-03", 107),
        ("eha_started", "2014-05", "2015-04", 888),  # rolling 12-month average 74
        ("eha_started", "2016-10", "2017-09", 1212),  # rolling 12-month average 101
    ),
    "E10000020": (  # Norfolk: neglect the initial category of 63% of plans started in 2019/20
        ("cpp_starts_neglect", "2019-04", "2020-03", 536),
        ("cpp_starts_other", "2019-04", "2020-03", 314),
    ),
    "E06000019": (  # Herefordshire: 38% of plans under neglect in 2019/20, 35% in 2020/21
        ("cpp_open_neglect", "2020-03", "2020-03", 61),
        ("cpp_open_other", "2020-03", "2020-03", 99),
        ("cpp_open_neglect", "2021-03", "2021-03", 56),
        ("cpp_open_other", "2021-03", "2021-03", 104),
    ),
}
# Open plans at a month end with a category fixed: Northumberland's 91 emotional abuse.
OPEN_CATEGORY_PINS: dict[str, dict[str, dict[str, int]]] = {
    "E06000057": {"2017-03": {"Emotional abuse": 91}},
}
# Children looked after at 31 March of the year: Northumberland fell 5% to 386 in 2016/17.
LAC_PINS: dict[str, dict[int, int]] = {"E06000057": {2016: 406, 2017: 386}}
# Persistent absence % by academic-year start: Northumberland 10.2% in 2015/16.
ABSENCE_PCT_PINS: dict[str, dict[int, float]] = {"E06000057": {2015: 10.2}}


# --------------------------------------------------------------------------------------
# Area profiles: rough levels per area, anchors keyed by financial-year start (LAC: the
# year of the 31 March snapshot). Rounded from EES c1, d3 and CLA figures.
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    children: Anchors  # ONS mid-year estimate of children aged 0-17, by year
    referrals: Anchors  # referrals per year
    rereferral_rate: Anchors
    referral_neglect_rate: Anchors
    cpp_starts: Anchors  # plans started per year
    cpp_neglect_share: Anchors  # share of plans started under neglect
    cpp_repeat_rate: Anchors  # second or subsequent plans among plans started
    lac_per_10k: Anchors
    eha_per_month: Anchors
    cpp_repeat_neglect_rate: Anchors | None = None  # defaults to cpp_repeat_rate
    # Shares of the non-neglect plans by category (emotional, physical, sexual, multiple).
    other_category_shares: tuple[float, ...] = (0.65, 0.15, 0.09, 0.11)
    absence_vs_england: float = 1.0
    eha_neglect_rate: Anchors = ((2014, 0.20), (2018, 0.26), (2024, 0.30))
    hub_handled_rate: Anchors = ((2014, 0.32), (2018, 0.42), (2024, 0.52))


_FLAT_NEGLECT = ((2014, 0.48), (2019, 0.52), (2024, 0.47))

PROFILES: dict[str, Profile] = {
    "E06000057": Profile(  # Northumberland
        children=((2014, 62300), (2016, 62000), (2020, 58300), (2024, 59000)),
        referrals=((2014, 5882), (2015, 5000), (2016, 3296), (2017, 3300), (2018, 3550),
                   (2019, 3200), (2020, 2600), (2021, 2750), (2022, 3000), (2024, 3010)),
        rereferral_rate=((2014, 0.30), (2015, 0.29), (2016, 0.22), (2017, 0.16), (2018, 0.21),
                         (2020, 0.20), (2021, 0.16), (2023, 0.20)),
        referral_neglect_rate=((2014, 0.09), (2016, 0.103), (2017, 0.11), (2019, 0.095), (2024, 0.09)),
        cpp_starts=((2014, 330), (2015, 396), (2016, 367), (2017, 511), (2018, 577), (2019, 618),
                    (2020, 475), (2021, 545), (2023, 506), (2024, 464)),
        cpp_neglect_share=((2014, 0.55), (2015, 0.60), (2016, 0.46), (2017, 0.62), (2019, 0.55),
                           (2024, 0.50)),
        cpp_repeat_rate=((2014, 0.10), (2016, 0.07), (2017, 0.16), (2019, 0.25), (2021, 0.24),
                         (2023, 0.29), (2024, 0.35)),
        cpp_repeat_neglect_rate=((2014, 0.07), (2015, 0.06), (2016, 0.036), (2017, 0.074),
                                 (2019, 0.20), (2024, 0.30)),
        other_category_shares=(0.82, 0.08, 0.04, 0.06),
        lac_per_10k=((2015, 66), (2016, 65.5), (2017, 62.3), (2019, 65), (2021, 70), (2025, 77)),
        absence_vs_england=0.97,
        eha_per_month=((2014, 72), (2015, 82), (2016, 98), (2017, 103), (2018, 110), (2024, 125)),
        eha_neglect_rate=((2014, 0.18), (2017, 0.24), (2020, 0.30), (2024, 0.30)),
        hub_handled_rate=((2014, 0.30), (2015, 0.32), (2018, 0.45), (2024, 0.55)),
    ),
    "E06000001": Profile(  # Hartlepool
        children=((2014, 20200), (2019, 19800), (2024, 21090)),
        referrals=((2014, 1200), (2016, 1270), (2018, 1263), (2019, 1554), (2021, 1970),
                   (2023, 2190), (2024, 2020)),
        rereferral_rate=((2014, 0.135), (2016, 0.10), (2018, 0.165), (2020, 0.23), (2022, 0.28),
                         (2024, 0.265)),
        referral_neglect_rate=((2014, 0.16), (2024, 0.18)),
        cpp_starts=((2014, 151), (2016, 160), (2018, 165), (2019, 233), (2020, 268), (2022, 248),
                    (2024, 241)),
        cpp_neglect_share=((2014, 0.50), (2020, 0.56), (2024, 0.50)),
        cpp_repeat_rate=((2014, 0.19), (2016, 0.15), (2017, 0.26), (2019, 0.19), (2021, 0.16),
                         (2023, 0.21), (2024, 0.30)),
        lac_per_10k=((2015, 95), (2018, 120), (2021, 170), (2024, 164), (2025, 157)),
        absence_vs_england=1.08,
        eha_per_month=((2014, 28), (2018, 35), (2024, 40)),
    ),
    "E06000004": Profile(  # Stockton-on-Tees
        children=((2014, 42500), (2019, 43300), (2024, 45079)),
        referrals=((2014, 2786), (2016, 2782), (2018, 2508), (2019, 3113), (2021, 3624),
                   (2023, 4031), (2024, 3959)),
        rereferral_rate=((2014, 0.25), (2015, 0.19), (2017, 0.20), (2018, 0.24), (2021, 0.28),
                         (2023, 0.30), (2024, 0.29)),
        referral_neglect_rate=((2014, 0.15), (2024, 0.16)),
        cpp_starts=((2014, 356), (2015, 309), (2016, 352), (2017, 301), (2019, 472), (2021, 400),
                    (2022, 304), (2024, 360)),
        cpp_neglect_share=_FLAT_NEGLECT,
        cpp_repeat_rate=((2014, 0.17), (2016, 0.20), (2018, 0.30), (2020, 0.27), (2022, 0.18),
                         (2024, 0.20)),
        lac_per_10k=((2015, 85), (2018, 100), (2021, 120), (2024, 131), (2025, 125)),
        absence_vs_england=1.05,
        eha_per_month=((2014, 55), (2018, 70), (2024, 80)),
    ),
    "E10000020": Profile(  # Norfolk
        children=((2014, 169000), (2016, 170000), (2020, 167400), (2024, 171830)),
        referrals=((2014, 7943), (2015, 8533), (2017, 8480), (2018, 7493), (2019, 7487),
                   (2020, 5849), (2022, 6253), (2024, 5986)),
        rereferral_rate=((2014, 0.174), (2015, 0.243), (2016, 0.246), (2017, 0.20), (2018, 0.22),
                         (2020, 0.18), (2021, 0.155), (2023, 0.19), (2024, 0.18)),
        referral_neglect_rate=((2014, 0.13), (2019, 0.15), (2024, 0.14)),
        cpp_starts=((2014, 855), (2015, 735), (2016, 927), (2018, 912), (2019, 850), (2020, 564),
                    (2021, 747), (2022, 829), (2023, 589), (2024, 536)),
        cpp_neglect_share=((2014, 0.50), (2017, 0.57), (2019, 0.63), (2021, 0.55), (2024, 0.50)),
        cpp_repeat_rate=((2014, 0.18), (2016, 0.225), (2018, 0.25), (2020, 0.26), (2022, 0.245),
                         (2024, 0.19)),
        lac_per_10k=((2015, 62), (2018, 68), (2020, 70), (2022, 65), (2025, 62)),
        eha_per_month=((2014, 200), (2018, 240), (2024, 260)),
    ),
    "E06000019": Profile(  # Herefordshire
        children=((2014, 35900), (2016, 35900), (2020, 33900), (2024, 34439)),
        referrals=((2014, 2400), (2016, 1600), (2018, 1300), (2020, 1300), (2022, 1700),
                   (2024, 1806)),
        rereferral_rate=((2014, 0.25), (2016, 0.18), (2018, 0.25), (2020, 0.12), (2022, 0.10),
                         (2024, 0.15)),
        referral_neglect_rate=((2014, 0.16), (2024, 0.17)),
        cpp_starts=((2014, 250), (2016, 240), (2018, 230), (2019, 212), (2020, 200), (2021, 330),
                    (2023, 300), (2024, 210)),
        cpp_neglect_share=((2014, 0.45), (2019, 0.40), (2020, 0.36), (2024, 0.36)),
        cpp_repeat_rate=((2014, 0.21), (2016, 0.26), (2018, 0.30), (2020, 0.25), (2022, 0.23),
                         (2024, 0.33)),
        lac_per_10k=((2015, 85), (2018, 95), (2021, 115), (2024, 105), (2025, 100)),
        absence_vs_england=0.95,
        eha_per_month=((2014, 40), (2020, 50), (2024, 55)),
    ),
    "E10000017": Profile(  # Lancashire
        children=((2014, 250000), (2020, 249400), (2024, 261400)),
        referrals=((2014, 12394), (2015, 12156), (2016, 11338), (2018, 12322), (2019, 10649),
                   (2020, 8609), (2021, 6422), (2022, 7080), (2023, 6419), (2024, 7948)),
        rereferral_rate=((2014, 0.27), (2015, 0.16), (2016, 0.21), (2019, 0.215), (2021, 0.19),
                         (2022, 0.146), (2024, 0.163)),
        referral_neglect_rate=((2014, 0.13), (2024, 0.14)),
        cpp_starts=((2014, 1166), (2015, 1732), (2016, 1989), (2017, 1513), (2018, 1814),
                    (2019, 1248), (2020, 875), (2021, 621), (2022, 1028), (2023, 768), (2024, 1203)),
        cpp_neglect_share=_FLAT_NEGLECT,
        cpp_repeat_rate=((2014, 0.14), (2015, 0.18), (2017, 0.22), (2019, 0.25), (2021, 0.27),
                         (2022, 0.236), (2024, 0.193)),
        lac_per_10k=((2015, 60), (2018, 75), (2020, 80), (2022, 72), (2025, 65)),
        absence_vs_england=1.02,
        eha_per_month=((2014, 300), (2018, 380), (2024, 420)),
    ),
}

# An area in a strategy file but without a profile gets a typical English LA of its size.
_DEFAULT_PROFILE = Profile(
    children=((2014, 50000),), referrals=((2014, 2750),), rereferral_rate=((2014, 0.22),),
    referral_neglect_rate=((2014, 0.15),), cpp_starts=((2014, 250),), cpp_neglect_share=_FLAT_NEGLECT,
    cpp_repeat_rate=((2014, 0.22),), lac_per_10k=((2015, 65),), eha_per_month=((2014, 60),),
)

# Persistent absence in England (10% threshold), by academic-year start: the post-2020 jump
# is real and every area shares it.
ENGLAND_ABSENCE_PCT: Anchors = ((2014, 11.0), (2015, 10.5), (2016, 10.8), (2017, 11.2),
                                (2018, 10.9), (2019, 13.1), (2020, 12.1), (2021, 22.5),
                                (2022, 22.3), (2023, 20.0), (2024, 18.7))
PUPILS_PER_CHILD = 0.60  # pupils on roll with possible sessions per child aged 0-17

# Seasonality by calendar month (normalised to average 1): fewer referrals and assessments
# in the August holiday and over Christmas, more in the autumn term.
REFERRAL_SEASON = {1: 1.02, 2: 1.03, 3: 1.06, 4: 0.96, 5: 1.04, 6: 1.05, 7: 1.03, 8: 0.84,
                   9: 1.03, 10: 1.07, 11: 1.07, 12: 0.86}
EHA_SEASON = {1: 1.04, 2: 1.04, 3: 1.08, 4: 0.94, 5: 1.06, 6: 1.07, 7: 1.00, 8: 0.70,
              9: 1.05, 10: 1.10, 11: 1.08, 12: 0.84}
# The first lockdown: fewer referrals and assessments while schools were closed.
LOCKDOWN = {"2020-04": 0.72, "2020-05": 0.80, "2020-06": 0.92, "2021-01": 0.90, "2021-02": 0.93}

# Early help: every area's hub and schools complete EHAs; the other agencies vary by area.
CORE_AGENCIES = ("Early help service", "School", "Health visiting")
AGENCY_WEIGHT = {"Early help service": 0.30, "School": 0.25, "Health visiting": 0.12,
                 "School nursing": 0.06, "GP and health": 0.04, "Police": 0.03, "Housing": 0.03,
                 "Voluntary sector": 0.07, "Children's centre": 0.08, "Other": 0.03}
AGENCY_NEGLECT = {"Health visiting": 1.3, "Children's centre": 1.2, "School": 1.1,
                  "Police": 0.8, "Housing": 1.1}  # relative to the area's neglect rate; else 1
SCHOOL_AGENCIES = ("School", "School nursing")  # barely any assessments in August

# Average months a plan stays open: links plans open at month end to plans started.
# Neglect plans run a little longer, so neglect is a larger share of open plans than of starts.
MONTHS_ON_PLAN = {"neglect": 9, "other": 8}


# --------------------------------------------------------------------------------------
# Generic machinery: timeline, trends, noise, exact allocation
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Timeline:
    """Months from April ``first_year`` to March ``last_year + 1``."""

    first_year: int
    last_year: int
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        labels = tuple(month(self.first_year + (i + 3) // 12, (i + 3) % 12 + 1).label
                       for i in range(12 * (self.last_year - self.first_year + 1)))
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.labels)

    def calendar_month(self, i: int) -> int:
        return (i + 3) % 12 + 1

    def fy_time(self, i: int) -> float:
        """Month ``i`` on the scale where financial year y is centred on y."""
        return self.first_year + (i - 5.5) / 12

    def span(self, first: str, last: str) -> tuple[int, ...] | None:
        """Indices of the months first..last, or None when they are not all in the sample."""
        if first not in self.labels or last not in self.labels:
            return None
        return tuple(range(self.labels.index(first), self.labels.index(last) + 1))

    @property
    def years(self) -> range:
        return range(self.first_year, self.last_year + 1)


@dataclass(frozen=True)
class Pin:
    """Calibration: the values at ``indices`` must sum to exactly ``total``."""

    indices: tuple[int, ...]
    total: int


def interpolate(anchors: Anchors, x: float) -> float:
    """Piecewise-linear through the anchors, flat beyond the first and last."""
    points = sorted(anchors)
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def allocate(total: int, weights: Sequence[float], caps: Sequence[int] | None = None) -> list[int]:
    """Split ``total`` into integers in proportion to ``weights`` (largest remainder), none
    above its cap. Ties go to the earlier position, so the result is deterministic."""
    n = len(weights)
    caps = list(caps) if caps is not None else [total] * n
    if total > sum(caps):
        raise ValueError(f"cannot split {total} under caps summing to {sum(caps)}")
    weights = [max(w, 0.0) for w in weights]
    result = [0] * n
    free = [i for i in range(n) if caps[i] > 0]
    remaining = total
    shares: dict[int, float] = {}
    # Water-filling: a position whose share reaches its cap takes the cap; share the rest again.
    while free:
        weight_sum = sum(weights[i] for i in free)
        shares = {i: remaining * (weights[i] / weight_sum if weight_sum > 0 else 1 / len(free))
                  for i in free}
        full = [i for i in free if shares[i] >= caps[i]]
        if not full:
            break
        for i in full:
            result[i] = caps[i]
            remaining -= caps[i]
        free = [i for i in free if i not in full]
        shares = {}
    for i, share in shares.items():
        result[i] = math.floor(share)
    leftover = remaining - sum(result[i] for i in shares)
    for i in sorted(shares, key=lambda i: (result[i] - shares[i], i))[:leftover]:
        result[i] += 1
    return result


def bend_through_pins(expected: Sequence[float], pins: Sequence[Pin], reach: float) -> list[float]:
    """Scale ``expected`` so each pinned span is at its calibrated level on average.

    The log scale factor runs linearly from the centre of one pinned span to the centre of
    the next, is flat out to the outer edges of the first and last spans, and fades back to
    1 over ``reach`` steps beyond them: a calibrated figure sits on a smooth curve, not a
    step. (The exact totals are restored afterwards by ``allocate``.)
    """
    if not pins:
        return list(expected)
    knots = []  # (first index, last index, centre, log factor)
    for pin in sorted(pins, key=lambda p: p.indices[0]):
        base = sum(expected[i] for i in pin.indices)
        factor = pin.total / base if base > 0 and pin.total > 0 else 1.0
        first, last = pin.indices[0], pin.indices[-1]
        knots.append((first, last, (first + last) / 2, math.log(factor)))

    def log_factor(i: int) -> float:
        head, tail = knots[0], knots[-1]
        if i <= head[2]:
            return head[3] * max(0.0, 1 - max(0, head[0] - i) / reach)
        if i >= tail[2]:
            return tail[3] * max(0.0, 1 - max(0, i - tail[1]) / reach)
        for (_, _, c0, f0), (_, _, c1, f1) in zip(knots, knots[1:]):
            if c0 <= i <= c1:
                return f0 + (f1 - f0) * (i - c0) / (c1 - c0)
        raise AssertionError("unreachable: i lies between the first and last centres")

    return [value * math.exp(log_factor(i)) for i, value in enumerate(expected)]


def noisy(rng: random.Random, mean: float, cv: float, poisson: bool = True) -> float:
    """One draw around ``mean``: Poisson-like for flows, plus ``cv`` relative over-dispersion."""
    sd = math.sqrt((mean if poisson else 0.0) + (cv * mean) ** 2)
    return max(0.0, rng.gauss(mean, sd))


def draw_series(rng: random.Random, expected: Sequence[float], pins: Sequence[Pin] = (),
                caps: Sequence[int] | None = None, cv: float = 0.05, poisson: bool = True,
                reach: float = 12) -> list[int]:
    """Integer series around ``expected``: noisy, never above ``caps``, exact on every pin."""
    level = bend_through_pins(expected, pins, reach)
    # Draw for every step, pinned or not, so adding a pin does not shift later draws.
    draws = [noisy(rng, mean, cv, poisson) for mean in level]
    values = [round(d) for d in draws]
    if caps is not None:
        values = [min(v, c) for v, c in zip(values, caps)]
    for pin in pins:
        pin_caps = [caps[i] for i in pin.indices] if caps is not None else None
        for i, v in zip(pin.indices, allocate(pin.total, [draws[i] for i in pin.indices], pin_caps)):
            values[i] = v
    return values


def wobble(rng: random.Random, years: range, sd: float) -> Anchors:
    """A slow random drift (one knot a year) so areas do not follow their anchors exactly."""
    return tuple((y, math.exp(rng.gauss(0.0, sd))) for y in years)


def split_total(rng: random.Random, total: int, weights: Sequence[float], cv: float,
                fixed: dict[int, int] | None = None) -> list[int]:
    """Split a realised total over categories with noisy weights; ``fixed`` positions are
    given (calibration) and the rest share what is left."""
    jittered = [w * math.exp(rng.gauss(0.0, cv)) for w in weights]
    fixed = fixed or {}
    free = [i for i in range(len(weights)) if i not in fixed]
    parts = allocate(total - sum(fixed.values()), [jittered[i] for i in free])
    result = dict(fixed) | dict(zip(free, parts))
    return [result[i] for i in range(len(weights))]


# --------------------------------------------------------------------------------------
# Simulating one area
# --------------------------------------------------------------------------------------

@dataclass
class AreaSample:
    """Every generated series for one area: monthly lists follow the timeline."""

    area: Area
    referrals: list[int]
    rereferrals: list[int]
    referrals_neglect: list[int]
    hub_neglect: list[int]
    hub_handled: list[int]
    cpp_starts: dict[str, list[int]]  # by category
    cpp_open: dict[str, list[int]]  # by category
    cpp_repeat_neglect: list[int]
    cpp_repeat_other: list[int]
    eha_started: dict[str, list[int]]  # by agency
    eha_neglect: dict[str, list[int]]
    lac: dict[int, tuple[int, int]]  # 31 March year -> (children looked after, population)
    absence: dict[int, tuple[int, int]]  # academic-year start -> (pupils, persistently absent)


class _Streams:
    """One independent random stream per series, seeded from a stable string."""

    def __init__(self, partnership: str, area_code: str) -> None:
        self._prefix = f"neglect-sample/{partnership}/{area_code}"

    def __call__(self, series: str) -> random.Random:
        return random.Random(f"{self._prefix}/{series}")


def _pins(area_code: str, series: str, timeline: Timeline) -> list[Pin]:
    pins = []
    for name, first, last, total in MONTHLY_PINS.get(area_code, ()):
        indices = timeline.span(first, last)
        # A sample that does not cover the whole span cannot hold the figure: skip it.
        if name == series and indices is not None:
            pins.append(Pin(indices, total))
    return pins


def _seasonal(timeline: Timeline, season: dict[int, float]) -> list[float]:
    mean = sum(season.values()) / 12
    return [season[timeline.calendar_month(i)] / mean * LOCKDOWN.get(label, 1.0)
            for i, label in enumerate(timeline.labels)]


def _flow_level(timeline: Timeline, anchors: Anchors, drift: Anchors, season: dict[int, float],
                per_year: bool = True) -> list[float]:
    """Expected count each month: the trend through the anchors (a yearly or a monthly
    figure), times the area's slow drift, times seasonality."""
    months_per_anchor = 12 if per_year else 1
    return [interpolate(anchors, timeline.fy_time(i)) * interpolate(drift, timeline.fy_time(i)) * s
            / months_per_anchor for i, s in enumerate(_seasonal(timeline, season))]


def _rate(timeline: Timeline, anchors: Anchors) -> list[float]:
    return [interpolate(anchors, timeline.fy_time(i)) for i in range(len(timeline))]


def _part(rng: random.Random, whole: Sequence[int], rate: Sequence[float], pins: Sequence[Pin],
          cv: float = 0.08) -> list[int]:
    """A subset of ``whole`` (re-referrals, neglect, repeats): a noisy rate of the realised whole."""
    return draw_series(rng, [w * r for w, r in zip(whole, rate)], pins, caps=whole, cv=cv)


def _simulate_referrals(code: str, profile: Profile, timeline: Timeline, streams: _Streams) -> dict:
    drift = wobble(streams("referrals/drift"), timeline.years, 0.04)
    level = _flow_level(timeline, profile.referrals, drift, REFERRAL_SEASON)
    referrals = draw_series(streams("referrals"), level, _pins(code, "referrals", timeline), cv=0.05)
    rereferrals = _part(streams("rereferrals"), referrals, _rate(timeline, profile.rereferral_rate),
                        _pins(code, "rereferrals", timeline), cv=0.06)
    neglect = _part(streams("referrals_neglect"), referrals,
                    _rate(timeline, profile.referral_neglect_rate),
                    _pins(code, "referrals_neglect", timeline), cv=0.08)
    # The front-door log counts contacts tagged neglect: more than reach social care, and a
    # growing share is dealt with by the early help hubs (the strategies' aim).
    hub = draw_series(streams("hub_neglect"), [1.8 * n for n in neglect], cv=0.06)
    handled = _part(streams("hub_handled"), hub, _rate(timeline, profile.hub_handled_rate), ())
    return {"referrals": referrals, "rereferrals": rereferrals, "referrals_neglect": neglect,
            "hub_neglect": hub, "hub_handled": handled}


def _open_plans(rng: random.Random, starts: Sequence[int], window: int,
                pins: Sequence[Pin]) -> list[int]:
    """Plans open at month end ~ plans started in the last ``window`` months: a stock that
    moves with the flow. Before the first month the first month's starts stand in."""
    padded = [starts[0]] * window + list(starts)
    expected = [sum(padded[i + 1:i + window + 1]) for i in range(len(starts))]
    return draw_series(rng, expected, pins, cv=0.03, poisson=False, reach=6)


def _simulate_cpp(code: str, profile: Profile, timeline: Timeline, streams: _Streams) -> dict:
    drift = wobble(streams("cpp/drift"), timeline.years, 0.06)
    total = _flow_level(timeline, profile.cpp_starts, drift, REFERRAL_SEASON)
    share = _rate(timeline, profile.cpp_neglect_share)
    starts_neglect = draw_series(streams("cpp_starts_neglect"), [t * s for t, s in zip(total, share)],
                                 _pins(code, "cpp_starts_neglect", timeline), cv=0.10)
    starts_other = draw_series(streams("cpp_starts_other"), [t * (1 - s) for t, s in zip(total, share)],
                               _pins(code, "cpp_starts_other", timeline), cv=0.10)
    open_neglect = _open_plans(streams("cpp_open_neglect"), starts_neglect, MONTHS_ON_PLAN["neglect"],
                               _pins(code, "cpp_open_neglect", timeline))
    open_other = _open_plans(streams("cpp_open_other"), starts_other, MONTHS_ON_PLAN["other"],
                             _pins(code, "cpp_open_other", timeline))

    # The other categories split each month's realised total, so categories always add up.
    # Open plans (a stock) keep steadier shares than the month's starts.
    shares = profile.other_category_shares
    split_rng = streams("cpp_categories")
    category_pins = OPEN_CATEGORY_PINS.get(code, {})
    starts = {c: [0] * len(timeline) for c in OTHER_CATEGORIES}
    opened = {c: [0] * len(timeline) for c in OTHER_CATEGORIES}
    for i, label in enumerate(timeline.labels):
        fixed = {OTHER_CATEGORIES.index(c): n for c, n in category_pins.get(label, {}).items()}
        started_split = split_total(split_rng, starts_other[i], shares, 0.25)
        open_split = split_total(split_rng, open_other[i], shares, 0.05, fixed)
        for category, n_started, n_open in zip(OTHER_CATEGORIES, started_split, open_split):
            starts[category][i], opened[category][i] = n_started, n_open

    repeat_neglect = _part(streams("cpp_repeat_neglect"), starts_neglect,
                           _rate(timeline, profile.cpp_repeat_neglect_rate or profile.cpp_repeat_rate),
                           _pins(code, "cpp_repeat_neglect", timeline), cv=0.10)
    repeat_other = _part(streams("cpp_repeat_other"), starts_other,
                         _rate(timeline, profile.cpp_repeat_rate), (), cv=0.10)
    return {"cpp_starts": {"Neglect": starts_neglect} | starts,
            "cpp_open": {"Neglect": open_neglect} | opened,
            "cpp_repeat_neglect": repeat_neglect, "cpp_repeat_other": repeat_other}


def _agencies(rng: random.Random) -> tuple[str, ...]:
    """The agencies completing EHAs in this area: the core three and two to five more."""
    others = [a for a in EARLY_HELP_AGENCIES if a not in CORE_AGENCIES]
    chosen = set(CORE_AGENCIES) | set(rng.sample(others, rng.randint(2, 5)))
    return tuple(a for a in EARLY_HELP_AGENCIES if a in chosen)  # layout order


def _simulate_early_help(code: str, profile: Profile, timeline: Timeline, streams: _Streams) -> dict:
    drift = wobble(streams("eha/drift"), timeline.years, 0.05)
    level = _flow_level(timeline, profile.eha_per_month, drift, EHA_SEASON, per_year=False)
    totals = draw_series(streams("eha_started"), level, _pins(code, "eha_started", timeline), cv=0.05)

    agencies = _agencies(streams("eha/agencies"))
    split_rng = streams("eha/split")
    started = {a: [0] * len(timeline) for a in agencies}
    for i, total in enumerate(totals):
        august = timeline.calendar_month(i) == 8
        weights = [AGENCY_WEIGHT[a] * (0.25 if august and a in SCHOOL_AGENCIES else 1.0)
                   for a in agencies]
        for agency, n in zip(agencies, split_total(split_rng, total, weights, 0.12)):
            started[agency][i] = n

    base_rate = _rate(timeline, profile.eha_neglect_rate)
    neglect = {}
    for agency in agencies:
        rate = [min(0.9, r * AGENCY_NEGLECT.get(agency, 1.0)) for r in base_rate]
        neglect[agency] = _part(streams(f"eha_neglect/{agency}"), started[agency], rate, ())
    return {"eha_started": started, "eha_neglect": neglect}


def _children(profile: Profile, rng: random.Random, year: int) -> int:
    """ONS mid-year estimate: smooth, with the odd revision-sized wiggle."""
    return round(interpolate(profile.children, year) * (1 + rng.gauss(0.0, 0.002)))


def _simulate_lac(code: str, profile: Profile, timeline: Timeline, streams: _Streams) -> dict:
    years = [y + 1 for y in timeline.years]  # 31 March at the end of each financial year
    population_rng = streams("population")
    # The rate uses the mid-year estimate before the snapshot (mid-2016 for 31 March 2017).
    population = [_children(profile, population_rng, y - 1) for y in years]
    drift = wobble(streams("lac/drift"), range(years[0], years[-1] + 1), 0.03)
    expected = [interpolate(profile.lac_per_10k, y) * interpolate(drift, y) * p / 10_000
                for y, p in zip(years, population)]
    pins = [Pin((years.index(y),), n) for y, n in LAC_PINS.get(code, {}).items() if y in years]
    lac = draw_series(streams("lac"), expected, pins, caps=population, cv=0.03, poisson=False, reach=2)
    return {"lac": {y: (n, p) for y, n, p in zip(years, lac, population)}}


def _simulate_absence(code: str, profile: Profile, timeline: Timeline, streams: _Streams) -> dict:
    rng = streams("absence")
    pinned = ABSENCE_PCT_PINS.get(code, {})
    absence = {}
    for year in timeline.years:
        children = interpolate(profile.children, year)
        pupils = round(children * PUPILS_PER_CHILD * (1 + rng.gauss(0, 0.004)))
        england = interpolate(ENGLAND_ABSENCE_PCT, year)
        pct = england * profile.absence_vs_england * (1 + rng.gauss(0, 0.03))
        # A stated rate is met by drawing the count from it: on tens of thousands of pupils
        # the rounding cannot move it by 0.05 points.
        pct = pinned.get(year, pct)
        absence[year] = (pupils, round(pupils * pct / 100))
    return {"absence": absence}


def simulate_area(partnership: str, area: Area, timeline: Timeline) -> AreaSample:
    profile = PROFILES.get(area.code, _DEFAULT_PROFILE)
    streams = _Streams(partnership, area.code)
    parts: dict = {}
    for simulate in (_simulate_referrals, _simulate_cpp, _simulate_early_help, _simulate_lac,
                     _simulate_absence):
        parts |= simulate(area.code, profile, timeline, streams)
    return AreaSample(area=area, **parts)


# --------------------------------------------------------------------------------------
# Rows per layout
# --------------------------------------------------------------------------------------

def _cpp_by_category_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    rows = []
    for i, label in enumerate(timeline.labels):
        for status, counts in (("Open at period end", s.cpp_open), ("Started in period", s.cpp_starts)):
            rows += [(s.area.code, label, status, c, counts[c][i]) for c in CPP_CATEGORIES]
    return rows


def _cpp_repeat_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    rows = []
    for i, label in enumerate(timeline.labels):
        started_all = sum(s.cpp_starts[c][i] for c in CPP_CATEGORIES)
        repeat_all = s.cpp_repeat_neglect[i] + s.cpp_repeat_other[i]
        rows.append((s.area.code, label, "All categories", started_all, repeat_all))
        rows.append((s.area.code, label, "Neglect", s.cpp_starts["Neglect"][i], s.cpp_repeat_neglect[i]))
    return rows


def _referral_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, label, s.referrals[i], s.rereferrals[i], s.referrals_neglect[i])
            for i, label in enumerate(timeline.labels)]


def _absence_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, academic_year(y).label, pupils, absent)
            for y, (pupils, absent) in s.absence.items()]


def _lac_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, f"{y}-03-31", lac, population) for y, (lac, population) in s.lac.items()]


def _eha_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, label, agency, s.eha_started[agency][i], s.eha_neglect[agency][i])
            for i, label in enumerate(timeline.labels) for agency in s.eha_started]


def _hub_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, label, s.hub_neglect[i], s.hub_handled[i])
            for i, label in enumerate(timeline.labels)]


@dataclass(frozen=True)
class Output:
    """One return per partnership: ``<raw>/<folder>/<partnership>_<layout>.csv|xlsx``."""

    layout: str
    folder: str  # the agency that sends the return
    sheet: str  # the worksheet's name when it is sent as a workbook
    rows: Callable[[AreaSample, Timeline], list[tuple]]


OUTPUTS = (
    Output("cpp_by_category", "childrens_social_care", "CPP by category", _cpp_by_category_rows),
    Output("cpp_repeat_plans", "childrens_social_care", "Repeat plans", _cpp_repeat_rows),
    Output("referrals", "childrens_social_care", "Referrals", _referral_rows),
    Output("looked_after_children", "childrens_social_care", "Children looked after", _lac_rows),
    Output("early_help_assessments", "early_help", "Early help assessments", _eha_rows),
    Output("persistent_absence", "schools", "Persistent absence", _absence_rows),
    Output("hub_referrals", "front_door", "Neglect referrals", _hub_rows),
)

# Early help and schools send workbooks; one children's social care team (Norfolk) sends
# its CPP returns as workbooks too, so both readers are exercised on CPP data.
XLSX_LAYOUTS = frozenset({"early_help_assessments", "persistent_absence"})
XLSX_CPP_PARTNERSHIPS = frozenset({"norfolk"})
CPP_LAYOUTS = frozenset({"cpp_by_category", "cpp_repeat_plans"})
_WORKBOOK_CREATED = datetime(2025, 1, 1)  # fixed so workbooks are byte-identical run to run


def _is_xlsx(output: Output, partnership: str) -> bool:
    return output.layout in XLSX_LAYOUTS or (
        output.layout in CPP_LAYOUTS and partnership in XLSX_CPP_PARTNERSHIPS)


def _frame(layout: Layout, rows: list[tuple]) -> pl.DataFrame:
    schema = {c.name: pl.Int64 if c.kind == "count" else pl.String for c in layout.columns}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _write(frame: pl.DataFrame, path: Path, sheet: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if sheet is None:
        frame.write_csv(path)
        return
    with xlsxwriter.Workbook(path) as workbook:
        workbook.set_properties({"created": _WORKBOOK_CREATED})
        frame.write_excel(workbook, worksheet=sheet, autofit=True)


def write_sample(raw_dir: Path, strategies_dir: Path | None = None, first_year: int = 2014,
                 last_year: int = 2024, partnerships: Iterable[str] | None = None) -> list[Path]:
    """Write sample returns for April ``first_year`` to March ``last_year + 1`` (academic
    years ``first_year``/.. to ``last_year``/..) for every partnership in the strategy files,
    or only those named in ``partnerships``. Returns the files written, in a fixed order."""
    if last_year < first_year:
        raise ValueError(f"last_year {last_year} is before first_year {first_year}")
    raw_dir = Path(raw_dir)
    strategies = load_strategies(Path(strategies_dir) if strategies_dir else raw_dir / "strategies")
    wanted = None if partnerships is None else set(partnerships)
    if wanted is not None and (unknown := wanted - {s.partnership for s in strategies}):
        raise ValueError(f"unknown partnership(s): {', '.join(sorted(unknown))}")
    timeline = Timeline(first_year, last_year)

    written = []
    for strategy in sorted(strategies, key=lambda s: s.partnership):
        if wanted is not None and strategy.partnership not in wanted:
            continue
        samples = [simulate_area(strategy.partnership, area, timeline) for area in strategy.areas]
        for output in OUTPUTS:
            layout = LAYOUTS_BY_NAME[output.layout]
            frame = _frame(layout, [row for s in samples for row in output.rows(s, timeline)])
            xlsx = _is_xlsx(output, strategy.partnership)
            suffix = ".xlsx" if xlsx else ".csv"
            path = raw_dir / output.folder / f"{strategy.partnership}_{output.layout}{suffix}"
            _write(frame, path, output.sheet if xlsx else None)
            written.append(path)
    return written
