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

Benchmarks. Beside the returns, ``raw/dfe/`` gets the DfE's published files in the DfE's
own layout (EES CSVs c1 referrals, d3 repeat plans, children looked after, c3 factors at
assessment; and the 2025 statistical-neighbour model) for England, the nine regions, each
partnership area and its ten statistical neighbours, so a build can compare an area with
its benchmarks. The geography mirrors the DfE's (``AUTHORITIES``, ``STATISTICAL_NEIGHBOURS``);
the counts are made here, and for a partnership area they are its own returns' year totals,
equal wherever a seed fixes a figure and now and then revised a little elsewhere.

Every random draw comes from a ``random.Random`` seeded with a stable string naming the
partnership (or the DfE file), area and series, and is consumed in a fixed order, so runs
are identical.
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
from scorecard.ingest.strategies import Area, load_strategies
from scorecard.model.catalogue import catalogue_for
from scorecard.model.periods import academic_year, month

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
        ("hub_referrals", "2016-10", "2017-03", 1147),  # all referrals to the hubs, Oct 16 - Mar 17
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

# Referrals the hubs receive that are not tagged neglect, per one that is.
HUB_OTHER_PER_NEGLECT = 2.7

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
    hub_referrals: list[int]  # every referral to the hubs, neglect-tagged or not
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
    # Every referral to the hubs: those tagged neglect and the rest, whose pins take what the
    # tagged ones leave of a calibrated total.
    other_pins = [Pin(pin.indices, pin.total - sum(hub[i] for i in pin.indices))
                  for pin in _pins(code, "hub_referrals", timeline)]
    other = draw_series(streams("hub_other"), [HUB_OTHER_PER_NEGLECT * n for n in hub], other_pins, cv=0.05)
    return {"referrals": referrals, "rereferrals": rereferrals, "referrals_neglect": neglect,
            "hub_neglect": hub, "hub_handled": handled,
            "hub_referrals": [tagged + rest for tagged, rest in zip(hub, other)]}


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


def _hub_all_rows(s: AreaSample, timeline: Timeline) -> list[tuple]:
    return [(s.area.code, label, s.hub_referrals[i]) for i, label in enumerate(timeline.labels)]


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
    Output("hub_all_referrals", "front_door", "Hub referrals", _hub_all_rows),
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


# --------------------------------------------------------------------------------------
# Benchmarks: DfE open data (EES layout) and the statistical-neighbour model
# --------------------------------------------------------------------------------------
#
# So a sample build can compare each partnership area with England, its region and its ten
# statistical neighbours, the sample also writes the DfE's published files as the DfE lays
# them out (columns, order, BOM, suppression symbols, rounding), filled by this generator.
# The geography is fact: the authorities, codes, regions and neighbour lists below mirror the
# DfE's 2025 statistical-neighbour model and its EES files; the counts are synthetic, scaled
# by population. A partnership area's figures come from its own partner-return sample, so the
# two sources agree wherever a seed fixes a figure and differ a little elsewhere, as a
# published figure and a local extract do (revisions, late returns).

@dataclass(frozen=True)
class Region:
    name: str
    sn_index: int  # region_ind in the statistical-neighbour file (regions in name order)
    children: int  # aged 0-17, ONS mid-2024, rounded
    # Relative to England (1 = England's rate per child): referrals, plans started, looked after.
    referrals: float
    plans: float
    looked_after: float


REGIONS: dict[str, Region] = {
    "E12000001": Region("North East", 4, 543_000, 1.13, 1.45, 1.65),
    "E12000002": Region("North West", 5, 1_628_000, 1.05, 1.20, 1.40),
    "E12000003": Region("Yorkshire and The Humber", 9, 1_181_000, 1.05, 1.15, 1.10),
    "E12000004": Region("East Midlands", 1, 1_032_000, 0.90, 0.95, 0.85),
    "E12000005": Region("West Midlands", 8, 1_351_000, 1.00, 1.10, 1.20),
    "E12000006": Region("East of England", 2, 1_394_000, 0.85, 0.75, 0.75),
    "E12000007": Region("London", 3, 1_916_000, 0.95, 0.80, 0.70),
    "E12000008": Region("South East", 6, 2_024_000, 0.95, 0.85, 0.80),
    "E12000009": Region("South West", 7, 1_114_000, 0.95, 0.90, 0.85),
}


@dataclass(frozen=True)
class Authority:
    old_code: str  # the DfE's three-digit code
    code: str  # ONS code now
    name: str  # as the DfE writes it
    region: str  # ONS region code
    children: int  # aged 0-17, ONS mid-2024, rounded to 100
    first_year: int = 0  # first reporting year, for authorities made by reorganisation
    former_code: str | None = None  # the ONS code the DfE used up to ``former_until``
    former_until: int = 0

    def code_in(self, year: int) -> str:
        return self.former_code if self.former_code and year <= self.former_until else self.code


# The partnership areas and their statistical neighbours (DfE 2025 model), as the EES files
# name them. Dorset (2019) and Westmorland and Furness (2023) are new authorities; North
# Yorkshire and Somerset became unitary in 2023 and changed ONS code.
AUTHORITIES: tuple[Authority, ...] = (
    Authority("840", "E06000047", "County Durham", "E12000001", 100_400),
    Authority("841", "E06000005", "Darlington", "E12000001", 22_800),
    Authority("390", "E08000037", "Gateshead", "E12000001", 40_400),
    Authority("805", "E06000001", "Hartlepool", "E12000001", 21_100),
    Authority("806", "E06000002", "Middlesbrough", "E12000001", 35_600),
    Authority("929", "E06000057", "Northumberland", "E12000001", 59_100),
    Authority("807", "E06000003", "Redcar and Cleveland", "E12000001", 27_500),
    Authority("393", "E08000023", "South Tyneside", "E12000001", 30_500),
    Authority("808", "E06000004", "Stockton-on-Tees", "E12000001", 45_100),
    Authority("394", "E08000024", "Sunderland", "E12000001", 56_800),
    Authority("890", "E06000009", "Blackpool", "E12000002", 28_900),
    Authority("351", "E08000002", "Bury", "E12000002", 44_800),
    Authority("876", "E06000006", "Halton", "E12000002", 27_700),
    Authority("340", "E08000011", "Knowsley", "E12000002", 36_000),
    Authority("888", "E10000017", "Lancashire", "E12000002", 261_400),
    Authority("943", "E06000064", "Westmorland and Furness", "E12000002", 39_200, first_year=2024),
    Authority("359", "E08000010", "Wigan", "E12000002", 71_700),
    Authority("344", "E08000015", "Wirral", "E12000002", 66_200),
    Authority("811", "E06000011", "East Riding of Yorkshire", "E12000003", 63_000),
    Authority("815", "E06000065", "North Yorkshire", "E12000003", 115_700,
              former_code="E10000023", former_until=2023),
    Authority("372", "E08000018", "Rotherham", "E12000003", 59_500),
    Authority("384", "E08000036", "Wakefield", "E12000003", 77_500),
    Authority("830", "E10000007", "Derbyshire", "E12000004", 156_200),
    Authority("925", "E10000019", "Lincolnshire", "E12000004", 148_000),
    Authority("891", "E10000024", "Nottinghamshire", "E12000004", 171_600),
    Authority("332", "E08000027", "Dudley", "E12000005", 71_100),
    Authority("884", "E06000019", "Herefordshire, County of", "E12000005", 34_400),
    Authority("893", "E06000051", "Shropshire", "E12000005", 60_200),
    Authority("860", "E10000028", "Staffordshire", "E12000005", 174_800),
    Authority("894", "E06000020", "Telford and Wrekin", "E12000005", 44_200),
    Authority("885", "E10000034", "Worcestershire", "E12000005", 120_100),
    Authority("926", "E10000020", "Norfolk", "E12000006", 171_800),
    Authority("935", "E10000029", "Suffolk", "E12000006", 152_300),
    Authority("886", "E10000016", "Kent", "E12000008", 355_400),
    Authority("887", "E06000035", "Medway", "E12000008", 68_800),
    Authority("908", "E06000052", "Cornwall", "E12000009", 105_800),
    Authority("878", "E10000008", "Devon", "E12000009", 148_200),
    Authority("838", "E06000059", "Dorset", "E12000009", 67_100, first_year=2020),
    Authority("933", "E06000066", "Somerset", "E12000009", 113_000,
              former_code="E10000027", former_until=2023),
)
AUTHORITY_BY_CODE = {a.code: a for a in AUTHORITIES}
AUTHORITY_BY_OLD_CODE = {a.old_code: a for a in AUTHORITIES}

# Each partnership area's ten statistical neighbours, closest first, with the closeness as
# the DfE's 2025 model writes it (trailing space included).
_VERY_CLOSE, _CLOSE = "Very close", "Close "
STATISTICAL_NEIGHBOURS: dict[str, tuple[tuple[str, str], ...]] = {
    "929": tuple(zip(("926", "830", "888", "908", "878", "840", "838", "886", "885", "935"),
                     (_VERY_CLOSE,) * 10)),  # Northumberland
    "805": tuple(zip(("807", "394", "393", "890", "806", "390", "840", "876", "372", "340"),
                     (_VERY_CLOSE,) * 4 + (_CLOSE,) * 6)),  # Hartlepool
    "808": tuple(zip(("841", "332", "888", "390", "384", "351", "840", "372", "894", "344"),
                     (_VERY_CLOSE,) * 10)),  # Stockton-on-Tees
    "926": tuple(zip(("935", "908", "878", "830", "929", "886", "933", "925", "891", "887"),
                     (_VERY_CLOSE,) * 10)),  # Norfolk
    "884": tuple(zip(("943", "860", "925", "893", "933", "888", "935", "811", "815", "830"),
                     (_VERY_CLOSE,) * 10)),  # Herefordshire
    "888": tuple(zip(("925", "351", "332", "884", "841", "808", "384", "891", "929", "359"),
                     (_VERY_CLOSE,) * 10)),  # Lancashire
}

# England's levels by reporting year (year to 31 March), rough and rounded: per 10,000
# children for flows and stocks, percentages for parts.
ENGLAND_CHILDREN: Anchors = ((2014, 11_510_000), (2019, 12_000_000), (2024, 12_180_000))  # mid-year
ENGLAND_REFERRALS_PER_10K: Anchors = ((2015, 550), (2016, 535), (2017, 545), (2018, 555), (2019, 545),
                                      (2020, 535), (2021, 500), (2022, 540), (2023, 545), (2024, 515),
                                      (2025, 520))
ENGLAND_REREFERRAL_PCT: Anchors = ((2015, 24.0), (2016, 22.3), (2017, 21.9), (2019, 22.6), (2021, 22.7),
                                   (2022, 21.5), (2023, 22.4), (2025, 22.6))
ENGLAND_NFA_PCT: Anchors = ((2015, 10.0), (2018, 8.0), (2021, 6.0), (2025, 6.5))
ENGLAND_NOT_IN_NEED_PCT: Anchors = ((2015, 26.0), (2019, 28.0), (2025, 30.8))
ENGLAND_PLANS_PER_10K: Anchors = ((2015, 54), (2017, 52), (2019, 56), (2021, 54), (2022, 56), (2024, 51),
                                  (2025, 51))
ENGLAND_SUBSEQUENT_PCT: Anchors = ((2015, 16.6), (2016, 17.9), (2017, 18.7), (2018, 20.2), (2019, 20.8),
                                   (2020, 21.9), (2021, 22.1), (2022, 23.3), (2023, 23.8), (2024, 24.7),
                                   (2025, 24.5))
ENGLAND_LOOKED_AFTER_PER_10K: Anchors = ((2015, 60), (2016, 60), (2017, 62), (2018, 64), (2019, 65),
                                         (2020, 67), (2021, 67), (2022, 70), (2023, 71), (2024, 70),
                                         (2025, 67))
CHILDREN_PER_REFERRAL = 0.88  # referrals counted as children (a child can be referred twice)
CHILDREN_PER_REREFERRAL = 0.82
LOOKED_AFTER_TURNOVER = 0.40  # children starting (and ceasing) to be looked after a year, per child looked after
ASSESSMENTS_PER_REFERRAL = 0.82  # episodes with factors at the end of assessment, per referral

# Factors identified at the end of assessment (c3): share of episodes, England, in the
# published column order. The abuse breakdowns (child on child, adult on child) were first
# collected in 2021, and "unknown" holds the whole until then; child criminal exploitation
# was first collected in 2022.
C3_FIRST_YEAR = 2018
C3_FACTOR_SHARES: dict[str, float] = {
    "Alcohol_Misuse_child": 0.021, "Alcohol_Misuse_parent": 0.143, "Alcohol_Misuse_person": 0.023,
    "Drug_Misuse_child": 0.048, "Drug_Misuse_parent": 0.141, "Drug_Misuse_person": 0.031,
    "Domestic_Abuse_child": 0.113, "Domestic_Abuse_parent": 0.317, "Domestic_Abuse_person": 0.050,
    "Mental_Health_child": 0.176, "Mental_Health_parent": 0.335, "Mental_Health_person": 0.046,
    "Learning_Disability_child": 0.123, "Learning_Disability_parent": 0.030,
    "Learning_Disability_person": 0.015, "Physical_Disability_child": 0.047,
    "Physical_Disability_parent": 0.054, "Physical_Disability_person": 0.010, "Young_Carer": 0.037,
    "Privately_fostered": 0.004, "Unaccompanied_asylum_seeker": 0.012, "Going_missing": 0.033,
    "Child_sexual_exploitation": 0.024, "Trafficking": 0.004, "Gangs": 0.017,
    "Socially_unacceptable_behaviour": 0.070, "Self_harm": 0.050, "Neglect": 0.176,
    "Emotional_Abuse": 0.190, "Physical_Abuse_unknown": 0.149, "Physical_Abuse_child_on_child": 0.030,
    "Physical_Abuse_adult_on_child": 0.119, "Sexual_Abuse_unknown": 0.061,
    "Sexual_Abuse_child_on_child": 0.024, "Sexual_Abuse_adult_on_child": 0.037,
    "Female_Genital_Mutilation": 0.0015, "Faith_linked_abuse": 0.004,
    "Child_criminal_exploitation": 0.032, "Other": 0.163,
}
C3_BREAKDOWNS = {"Physical_Abuse_unknown": ("Physical_Abuse_child_on_child", "Physical_Abuse_adult_on_child"),
                 "Sexual_Abuse_unknown": ("Sexual_Abuse_child_on_child", "Sexual_Abuse_adult_on_child")}
C3_BREAKDOWN_FIRST_YEAR = 2021
C3_UNKNOWN_LEFT = {2021: 0.20, 2022: 0.08, 2023: 0.04, 2024: 0.03}  # share still "unknown"; 0 after
C3_FIRST_COLLECTED = {"Child_criminal_exploitation": 2022}
DFE_MISSING_RETURN_RATE = 0.012  # an authority-year the DfE publishes as "x" (not available)

Figures = dict[str, int]  # measure -> unrounded count, one area and reporting year


@dataclass(frozen=True)
class Character:
    """An area's lasting leanings, relative to England's rates (1 = England)."""

    referrals: float
    rereferrals: float
    plans: float
    repeats: float
    looked_after: float
    no_further_action: float
    not_in_need: float
    factors: dict[str, float]


@dataclass
class BenchmarkArea:
    level: str  # National, Regional or Local authority
    region: str  # ONS region code ("" for England)
    authority: Authority | None
    years: dict[int, Figures]  # reporting year -> figures
    missing: dict[str, set[int]] = field(default_factory=dict)  # dataset -> years published as "x"


def _jitter(rng: random.Random, sd: float) -> float:
    return math.exp(rng.gauss(0.0, sd))


def _character(rng: random.Random, region: Region, spread: float) -> Character:
    return Character(
        referrals=region.referrals * _jitter(rng, spread), rereferrals=_jitter(rng, spread * 0.6),
        plans=region.plans * _jitter(rng, spread), repeats=_jitter(rng, spread * 0.6),
        looked_after=region.looked_after * _jitter(rng, spread),
        # Whether a referral ends in no further action depends much on local practice: most
        # authorities record few, some many (a skewed spread, its mean still England's rate).
        no_further_action=math.exp(rng.gauss(-2.5 * spread, 5 * spread)), not_in_need=_jitter(rng, spread),
        factors={f: _jitter(rng, spread) for f in C3_FACTOR_SHARES})


def _normalised(regions: dict[str, Region]) -> dict[str, Region]:
    """Regional leanings scaled so England, their population-weighted mean, is at 1."""
    total = sum(r.children for r in regions.values())
    mean = [sum(getattr(r, k) * r.children for r in regions.values()) / total
            for k in ("referrals", "plans", "looked_after")]
    return {code: Region(r.name, r.sn_index, r.children, r.referrals / mean[0], r.plans / mean[1],
                         r.looked_after / mean[2]) for code, r in regions.items()}


RELATIVE_REGIONS = _normalised(REGIONS)


def _main_counts(rng: random.Random, walk: dict[str, float], year: int, children: float,
                 character: Character, step: float) -> Figures:
    """Referrals, plans and children looked after for an area of ``children``: England's
    rates, the area's leanings and a random walk per series (``step`` a year)."""
    for series in ("referrals", "plans", "looked_after"):
        walk[series] = walk.get(series, 0.0) + rng.gauss(0.0, step)
    per_10k = children / 10_000
    referrals = round(per_10k * interpolate(ENGLAND_REFERRALS_PER_10K, year) * character.referrals
                      * math.exp(walk["referrals"]))
    rereferral_rate = interpolate(ENGLAND_REREFERRAL_PCT, year) / 100 * character.rereferrals
    plans = round(per_10k * interpolate(ENGLAND_PLANS_PER_10K, year) * character.plans
                  * math.exp(walk["plans"]))
    repeat_rate = interpolate(ENGLAND_SUBSEQUENT_PCT, year) / 100 * character.repeats
    looked_after = round(per_10k * interpolate(ENGLAND_LOOKED_AFTER_PER_10K, year) * character.looked_after
                         * math.exp(walk["looked_after"]))
    return {"children": round(children), "referrals": referrals,
            "rereferrals": min(referrals, round(referrals * rereferral_rate * _jitter(rng, step))),
            "cpp_start": plans, "cpp_subsequent": min(plans, round(plans * repeat_rate * _jitter(rng, step))),
            "cla": looked_after}


def _c3_share(factor: str, year: int) -> float | None:
    """Share of episodes with ``factor`` in ``year``; None when the DfE did not collect it."""
    if year < C3_FIRST_COLLECTED.get(factor, C3_FIRST_YEAR):
        return None
    for unknown, parts in C3_BREAKDOWNS.items():
        left = 1.0 if year < C3_BREAKDOWN_FIRST_YEAR else C3_UNKNOWN_LEFT.get(year, 0.0)
        whole = sum(C3_FACTOR_SHARES[p] for p in parts)
        if factor == unknown:
            return whole * left
        if factor in parts:
            return None if year < C3_BREAKDOWN_FIRST_YEAR else C3_FACTOR_SHARES[factor] * (1 - left)
    return C3_FACTOR_SHARES[factor]


def _other_counts(rng: random.Random, year: int, main: Figures, character: Character) -> Figures:
    """The figures published beside the main ones: outcomes of referrals, children rather than
    referrals, children starting and ceasing to be looked after, factors at assessment."""
    referrals, rereferrals, looked_after = main["referrals"], main["rereferrals"], main["cla"]
    figures = {
        "no_further_action": min(referrals, round(referrals * interpolate(ENGLAND_NFA_PCT, year) / 100
                                                  * character.no_further_action * _jitter(rng, 0.15))),
        "not_in_need": min(referrals, round(referrals * interpolate(ENGLAND_NOT_IN_NEED_PCT, year) / 100
                                            * character.not_in_need * _jitter(rng, 0.06))),
        "referral_children": round(referrals * CHILDREN_PER_REFERRAL * _jitter(rng, 0.01)),
        "rereferral_children": min(rereferrals, round(rereferrals * CHILDREN_PER_REREFERRAL * _jitter(rng, 0.02))),
        "cla_started": round(looked_after * LOOKED_AFTER_TURNOVER * _jitter(rng, 0.1)),
        "cla_ceased": round(looked_after * LOOKED_AFTER_TURNOVER * _jitter(rng, 0.1)),
    }
    if year >= C3_FIRST_YEAR:
        episodes = round(referrals * ASSESSMENTS_PER_REFERRAL * _jitter(rng, 0.04))
        figures["episodes"] = episodes
        for factor in C3_FACTOR_SHARES:
            draw = _jitter(rng, 0.08)  # drawn whether or not collected, so the stream stays aligned
            if (share := _c3_share(factor, year)) is not None:
                figures[factor] = min(episodes, round(episodes * share * character.factors[factor] * draw))
    return figures


def _reporting_years(timeline: Timeline) -> range:
    """Years to 31 March the sample covers: April ``first_year`` to March ``last_year + 1``."""
    return range(timeline.first_year + 1, timeline.last_year + 2)


def _population(children_2024: float, year: int, growth: float) -> float:
    """Children at mid-year ``year - 1`` (the estimate the DfE uses for the year to 31 March)."""
    return children_2024 * (1 + growth) ** (year - 1 - 2024)


def _simulate_regions(timeline: Timeline) -> list[BenchmarkArea]:
    """The nine regions, and England as their sum (before rounding, as the DfE adds them up)."""
    regions = []
    england_2024 = interpolate(ENGLAND_CHILDREN, 2024)
    for code, region in RELATIVE_REGIONS.items():
        rng = random.Random(f"neglect-sample/dfe/{code}")
        character = _character(rng, region, 0.04)
        walk: dict[str, float] = {}
        years = {}
        for year in _reporting_years(timeline):
            children = (region.children * interpolate(ENGLAND_CHILDREN, year - 1) / england_2024
                        * (1 + rng.gauss(0.0, 0.001)))  # estimates are never round numbers
            main = _main_counts(rng, walk, year, children, character, 0.02)
            years[year] = main | _other_counts(rng, year, main, character)
        regions.append(BenchmarkArea("Regional", code, None, years))
    england = {year: {k: sum(r.years[year].get(k, 0) for r in regions)
                      for k in regions[0].years[year]} for year in _reporting_years(timeline)}
    return [BenchmarkArea("National", "", None, england), *regions]


def _pinned_years(code: str, series: str) -> set[int]:
    """Reporting years whose total a seed fixes for a monthly series (a pin from April to March)."""
    return {int(last[:4]) for name, first, last, _ in MONTHLY_PINS.get(code, ())
            if name == series and first.endswith("-04") and last.endswith("-03")
            and int(last[:4]) == int(first[:4]) + 1}


# The published figures a revision can touch, and the parts that may not exceed their whole.
REVISABLE = ("referrals", "rereferrals", "cpp_start", "cpp_subsequent", "cla")
PART_OF = {"rereferrals": "referrals", "cpp_subsequent": "cpp_start"}


def _as_published(rng: random.Random, figures: Figures, fixed: set[str]) -> Figures:
    """The DfE's figure for a partnership area: the partner return's, but now and then revised
    a little (a late or corrected return); never where a seed fixes the figure."""
    published = dict(figures)
    for measure in REVISABLE:
        revised, change = rng.random() < 0.3, rng.gauss(0.0, 0.02)  # both drawn: streams stay aligned
        if revised and measure not in fixed:
            step = max(1, round(abs(change) * published[measure]))
            published[measure] = max(0, published[measure] + (step if change > 0 else -step))
    for part, whole in PART_OF.items():
        if published[part] > published[whole]:
            if part in fixed:
                published[whole] = published[part]
            else:
                published[part] = published[whole]
    return published


def _simulate_partnership_area(authority: Authority, sample: AreaSample, timeline: Timeline) -> BenchmarkArea:
    """A partnership area: the year totals of its partner-return sample, as the DfE publishes them."""
    code = authority.code
    rng = random.Random(f"neglect-sample/dfe/{code}")
    character = _character(rng, RELATIVE_REGIONS[authority.region], 0.2)
    # Reporting years whose published figure a seed fixes, by measure (plans started: only
    # when both the neglect and the other plans are pinned for the whole year).
    pinned = {"referrals": _pinned_years(code, "referrals"), "rereferrals": _pinned_years(code, "rereferrals"),
              "cpp_start": _pinned_years(code, "cpp_starts_neglect") & _pinned_years(code, "cpp_starts_other"),
              "cla": set(LAC_PINS.get(code, {}))}
    years = {}
    for year in _reporting_years(timeline):
        months = slice(12 * (year - 1 - timeline.first_year), 12 * (year - timeline.first_year))
        looked_after, children = sample.lac[year]
        main = {"children": children, "referrals": sum(sample.referrals[months]),
                "rereferrals": sum(sample.rereferrals[months]),
                "cpp_start": sum(sum(sample.cpp_starts[c][months]) for c in CPP_CATEGORIES),
                "cpp_subsequent": sum(sample.cpp_repeat_neglect[months]) + sum(sample.cpp_repeat_other[months]),
                "cla": looked_after}
        main = _as_published(rng, main, {measure for measure, fixed in pinned.items() if year in fixed})
        years[year] = main | _other_counts(rng, year, main, character)
    return BenchmarkArea("Local authority", authority.region, authority, years)


def _simulate_authority(authority: Authority, timeline: Timeline) -> BenchmarkArea:
    """A neighbour outside the partnerships: England's rates, its region's and its own leanings."""
    rng = random.Random(f"neglect-sample/dfe/{authority.code}")
    character = _character(rng, RELATIVE_REGIONS[authority.region], 0.2)
    growth = rng.uniform(-0.002, 0.008)
    walk: dict[str, float] = {}
    years, missing = {}, {}
    for year in _reporting_years(timeline):
        main = _main_counts(rng, walk, year, _population(authority.children, year, growth), character, 0.05)
        years[year] = main | _other_counts(rng, year, main, character)
        for dataset in PUBLICATIONS_BY_NAME:
            if rng.random() < DFE_MISSING_RETURN_RATE:
                missing.setdefault(dataset, set()).add(year)
    years = {y: f for y, f in years.items() if y >= authority.first_year}
    return BenchmarkArea("Local authority", authority.region, authority, years, missing)


# ------------------------------------------------------------------ cells, as the DfE writes them

def published_count(n: int | None, level: str) -> str:
    """A count as the DfE publishes it: England and regions to the nearest 10 (half up);
    an authority's 1 to 5 suppressed as "c"; "x" when not available."""
    if n is None:
        return "x"
    if level != "Local authority":
        return str((n + 5) // 10 * 10)
    return "c" if 1 <= n <= 5 else str(n)


def published_ratio(numerator: int | None, denominator: int | None, level: str, per: int = 100,
                    places: int = 1) -> str:
    """``numerator / denominator * per``, rounded half up to ``places`` decimals from the
    unrounded counts, written as the DfE writes it ("30", not "30.0"). Suppressed with its
    count; "z" (not applicable) when there is nothing to divide by."""
    if numerator is None or denominator is None:
        return "x"
    if level == "Local authority" and (1 <= numerator <= 5 or 1 <= denominator <= 5):
        return "c"
    if denominator == 0:
        return "z"
    scale = 10 ** places
    units = (2 * numerator * per * scale + denominator) // (2 * denominator)  # exact half-up
    whole, fraction = divmod(units, scale)
    return str(whole) if fraction == 0 else f"{whole}.{fraction:0{places}d}"


_QUOTED_BLANK = object()  # a blank cell the DfE writes as "" (the d3 file does, for some columns)


def _csv_line(cells: Sequence[object]) -> str:
    out = []
    for cell in cells:
        if cell is _QUOTED_BLANK:
            out.append('""')
        elif any(ch in str(cell) for ch in ',"\n'):
            out.append('"' + str(cell).replace('"', '""') + '"')
        else:
            out.append(str(cell))
    return ",".join(out)


@dataclass(frozen=True)
class Publication:
    """One EES file: its name, filter and figure columns, and the DfE's quirks for it."""

    name: str  # the dataset, as scorecard.ingest.ees names it
    stem: str  # the file name before the year range
    category: tuple[str, ...]  # the filter column and its values, one row per value
    columns: tuple[str, ...]  # figure columns
    cells: Callable[[Figures, str, str], list[str]]  # (figures, filter value, level) -> figure cells
    la_name_first: bool = False  # la_name before new_la_code
    bom: bool = False
    quoted_blanks: frozenset[str] = frozenset()  # blank geography cells written as ""
    current_codes: bool = False  # every year under today's ONS code (a republished series)
    first_year: int = 0


def _c1_cells(f: Figures, _: str, level: str) -> list[str]:
    referrals, children = f.get("referrals"), f.get("referral_children")
    return [published_count(referrals, level), published_count(f.get("rereferrals"), level),
            published_ratio(f.get("rereferrals"), referrals, level),
            published_count(f.get("no_further_action"), level),
            published_ratio(f.get("no_further_action"), referrals, level),
            published_count(f.get("not_in_need"), level), published_ratio(f.get("not_in_need"), referrals, level),
            published_count(children, level), published_count(f.get("rereferral_children"), level),
            published_ratio(f.get("rereferral_children"), children, level)]


def _d3_cells(f: Figures, _: str, level: str) -> list[str]:
    return [published_count(f.get("cpp_start"), level), published_count(f.get("cpp_subsequent"), level),
            published_ratio(f.get("cpp_subsequent"), f.get("cpp_start"), level)]


CLA_POPULATION_TYPES = {"Children ceasing to be looked after each year": "cla_ceased",
                        "Children looked after on 31 March each year": "cla",
                        "Children starting to be looked after each year": "cla_started"}


def _cla_cells(f: Figures, population_type: str, level: str) -> list[str]:
    count = f.get(CLA_POPULATION_TYPES[population_type])
    # The population is an estimate, not a count of children in care: never rounded or suppressed.
    return [str(f["children"]), published_count(count, level),
            published_ratio(count, f["children"], level, per=10_000, places=0)]


def _c3_cells(f: Figures, _: str, level: str) -> list[str]:
    return [published_count(f.get("episodes"), level), *(published_count(f.get(c), level) for c in C3_FACTOR_SHARES)]


PUBLICATIONS: tuple[Publication, ...] = (
    Publication("c1_referrals", "c1_children_in_need_referrals_and_rereferrals",
                ("category", "Referrals and Re-referrals"),
                ("referral_count", "rereferral_count", "rereferral_percent", "no_further_action_count",
                 "no_further_action_percent", "not_in_need_count", "not_in_need_percent", "referral_child_count",
                 "rereferral_child_count", "rereferral_child_percent"), _c1_cells),
    Publication("d3_repeat_plans", "d3_cpps_subsequent_plan",
                ("category", "Child Protection Plans which are a second or subsequent plan"),
                ("CPP_start", "CPP_subsequent", "CPP_subsequent_percent"), _d3_cells,
                quoted_blanks=frozenset({"region_code", "region_name", "new_la_code", "la_name"})),
    Publication("cla_numbers", "cla_number_and_rate_per_10k_children",
                ("population_type", *CLA_POPULATION_TYPES),
                ("population_estimate", "children_count", "rate_per_10000"), _cla_cells,
                la_name_first=True, bom=True, current_codes=True),
    Publication("c3_assessment_factors", "c3_factors_identified_at_end_of_assessment",
                ("category", "Factors identified at the end of assessment"),
                ("Episodes_with_assessment_factor", *C3_FACTOR_SHARES), _c3_cells, first_year=C3_FIRST_YEAR),
)
PUBLICATIONS_BY_NAME = {p.name: p for p in PUBLICATIONS}


def _geography(publication: Publication, area: BenchmarkArea, year: int) -> list[object]:
    authority = area.authority
    region = REGIONS.get(area.region)
    cells: dict[str, object] = {
        "time_period": str(year), "time_identifier": "Reporting year", "geographic_level": area.level,
        "country_code": "E92000001", "country_name": "England",
        "region_code": area.region, "region_name": region.name if region else "",
        "old_la_code": "", "new_la_code": "", "la_name": "",
    }
    if authority is not None:
        code = authority.code if publication.current_codes else authority.code_in(year)
        cells |= {"old_la_code": authority.old_code, "new_la_code": code, "la_name": authority.name}
    columns = _geography_columns(publication)
    return [_QUOTED_BLANK if cells[c] == "" and c in publication.quoted_blanks else cells[c] for c in columns]


def _geography_columns(publication: Publication) -> list[str]:
    columns = ["time_period", "time_identifier", "geographic_level", "country_code", "country_name",
               "region_code", "region_name", "old_la_code", "new_la_code", "la_name"]
    if publication.la_name_first:
        columns[8:10] = ["la_name", "new_la_code"]
    return columns


def _publication_text(publication: Publication, areas: Sequence[BenchmarkArea], years: Sequence[int]) -> str:
    """The file as the DfE lays it out: newest year first, then England, the regions and the
    authorities (by region, then name)."""
    header = [*_geography_columns(publication), publication.category[0], *publication.columns]
    lines = [_csv_line(header)]
    for year in sorted(years, reverse=True):
        for area in areas:
            if year not in area.years:
                continue  # the authority did not exist yet
            figures = area.years[year]
            if year in area.missing.get(publication.name, ()):  # the DfE has no return: "x"
                figures = {"children": figures["children"]}
            for value in publication.category[1:]:
                lines.append(_csv_line([*_geography(publication, area, year), value,
                                        *publication.cells(figures, value, area.level)]))
    return ("\ufeff" if publication.bom else "") + "\n".join(lines) + "\n"


def _neighbours_text(authorities: Sequence[Authority]) -> str:
    """The DfE's 2025 statistical-neighbour file (wide), for the partnership areas."""
    header = ["old_la_code", "la_name", "region_ind", "region_name"]
    header += [c for k in range(1, 11) for c in (f"SN_{k}", f"SN_{k}P")]
    lines = [_csv_line(header)]
    for authority in sorted(authorities, key=lambda a: a.name):
        region = REGIONS[authority.region]
        pairs = [c for pair in STATISTICAL_NEIGHBOURS[authority.old_code] for c in pair]
        lines.append(_csv_line([authority.old_code, authority.name, region.sn_index, region.name, *pairs]))
    return "\ufeff" + "\n".join(lines) + "\n"


def write_benchmarks(dfe_dir: Path, partnership_areas: Sequence[str], timeline: Timeline,
                     sample_of: Callable[[str], AreaSample | None]) -> list[Path]:
    """The DfE's files for England, the regions, the partnership areas (ONS codes) and their
    statistical neighbours; ``sample_of`` gives an authority's partner-return sample when it
    has one. Areas the sample knows nothing about (no DfE codes) are left out."""
    partners = [AUTHORITY_BY_CODE[c] for c in partnership_areas if c in AUTHORITY_BY_CODE]
    wanted = {a.old_code for a in partners}
    for authority in partners:
        wanted |= {old for old, _ in STATISTICAL_NEIGHBOURS.get(authority.old_code, ())}
    authorities = sorted((AUTHORITY_BY_OLD_CODE[old] for old in wanted), key=lambda a: (a.region, a.name))
    areas = _simulate_regions(timeline)
    for authority in authorities:
        sample = sample_of(authority.code)
        areas.append(_simulate_partnership_area(authority, sample, timeline) if sample is not None
                     else _simulate_authority(authority, timeline))

    years = list(_reporting_years(timeline))
    written = []
    for publication in PUBLICATIONS:
        covered = [y for y in years if y >= publication.first_year]
        if not covered:
            continue
        path = dfe_dir / f"{publication.stem}_{covered[0]}_to_{covered[-1]}.csv"
        _write_text(path, _publication_text(publication, areas, covered))
        written.append(path)
    path = dfe_dir / "sn_model_2025_wide.csv"
    _write_text(path, _neighbours_text([a for a in partners if a.old_code in STATISTICAL_NEIGHBOURS]))
    written.append(path)
    return written


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:  # "\n" on every platform
        handle.write(text)


def write_sample(raw_dir: Path, strategies_dir: Path | None = None, first_year: int = 2014,
                 last_year: int = 2024, partnerships: Iterable[str] | None = None) -> list[Path]:
    """Write sample returns for April ``first_year`` to March ``last_year + 1`` (academic
    years ``first_year``/.. to ``last_year``/..) for every partnership in the strategy files,
    or only those named in ``partnerships``, then the DfE's benchmark files for them in
    ``raw_dir/dfe`` (see ``write_benchmarks``). Returns the files written, in a fixed order."""
    if last_year < first_year:
        raise ValueError(f"last_year {last_year} is before first_year {first_year}")
    raw_dir = Path(raw_dir)
    catalogue = {i.indicator_id: i for i in catalogue_for(raw_dir)}  # (a strategy may name the raw folder's own)
    strategies = load_strategies(Path(strategies_dir) if strategies_dir else raw_dir / "strategies", catalogue)
    wanted = None if partnerships is None else set(partnerships)
    if wanted is not None and (unknown := wanted - {s.partnership for s in strategies}):
        raise ValueError(f"unknown partnership(s): {', '.join(sorted(unknown))}")
    timeline = Timeline(first_year, last_year)

    # Areas are simulated once, when first needed. A partnership area can be another's
    # statistical neighbour: its DfE figures come from its own partner returns (those of the
    # first strategy naming it), whichever partnerships are written.
    simulated: dict[tuple[str, str], AreaSample] = {}

    def simulate(partnership: str, area: Area) -> AreaSample:
        if (partnership, area.code) not in simulated:
            simulated[partnership, area.code] = simulate_area(partnership, area, timeline)
        return simulated[partnership, area.code]

    owners: dict[str, tuple[str, Area]] = {}
    for strategy in sorted(strategies, key=lambda s: s.partnership):
        for area in strategy.areas:
            owners.setdefault(area.code, (strategy.partnership, area))

    def sample_of(code: str) -> AreaSample | None:
        return simulate(*owners[code]) if code in owners else None

    written = []
    chosen = [s for s in sorted(strategies, key=lambda s: s.partnership)
              if wanted is None or s.partnership in wanted]
    for strategy in chosen:
        samples = [simulate(strategy.partnership, area) for area in strategy.areas]
        for output in OUTPUTS:
            layout = LAYOUTS_BY_NAME[output.layout]
            frame = _frame(layout, [row for s in samples for row in output.rows(s, timeline)])
            xlsx = _is_xlsx(output, strategy.partnership)
            suffix = ".xlsx" if xlsx else ".csv"
            path = raw_dir / output.folder / f"{strategy.partnership}_{output.layout}{suffix}"
            _write(frame, path, output.sheet if xlsx else None)
            written.append(path)
    from scorecard.sample_local import write_local_samples  # (it builds on this module)

    written += write_local_samples(raw_dir, chosen, simulate, timeline)
    areas = [area.code for strategy in chosen for area in strategy.areas]
    written += write_benchmarks(raw_dir / "dfe", areas, timeline, sample_of)
    return written
