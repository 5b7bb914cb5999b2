"""Statistical methods that performance committees and analysts expect, in one pure library.

Four groups, each following a published public-sector convention (see DOMAIN.md, "Methods
that committees and analysts expect"):

1. **Confidence intervals**, as OHID Fingertips and the PHEindicatormethods R package compute
   them: :func:`wilson_interval` for proportions, :func:`byar_interval` for counts (Byar's
   approximation, or exact Poisson limits from the chi-squared distribution when the count is
   under 10) and :func:`rate_interval` for rates made from counts (per 10,000 by default).
2. **Benchmark comparison**, Fingertips "method 1": :func:`compare_to_benchmark` and its
   vectorised twin :func:`compare_to_benchmark_array`.
3. **Statistical process control**, NHS England "Making Data Count" as implemented by the
   NHSRplotthedots R package: :func:`xmr` returns an :class:`XmrResult` (process limits, the
   four special-cause rules, each point's direction, the variation and assurance icons).
4. **Disclosure control** for published tables: :func:`suppress_counts` (counts of 1 to 5
   shown as ``c``, with secondary suppression within a row), :func:`suppress_rates` (values
   computed from a suppressed count are blanked too) and :func:`round_half_up`.

Everything is numpy/scipy and vectorised where it matters; polars columns can be passed as
numpy arrays (``frame["x"].to_numpy()``). Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import numpy as np
import numpy.typing as npt
import polars as pl

# scipy.special, not scipy.stats: the same functions scipy.stats' norm.ppf and chi2.ppf call, for
# a third of the import time (0.35 s instead of 0.85 s, at the start of every build).
from scipy.special import gammaincinv, ndtri

ArrayLike = npt.ArrayLike
Polarity = Literal["lower_is_better", "higher_is_better"]
Improvement = Literal["increase", "decrease", "neutral"]

__all__ = [
    "z_value", "wilson_interval", "byar_interval", "rate_interval",
    "compare_to_benchmark", "compare_to_benchmark_array",
    "XmrResult", "xmr",
    "suppress_counts", "suppress_rates", "round_half_up",
    "EXACT_BELOW", "XMR_LIMIT", "TRIAL_BELOW", "SUPPRESSED_NOTE",
]

# --------------------------------------------------------------------------------------------
# Confidence intervals (OHID Fingertips / PHEindicatormethods)
# --------------------------------------------------------------------------------------------

#: Counts below this get exact Poisson limits; from this count up, Byar's approximation
#: (PHEindicatormethods ``phe_rate``: ``if_else(x < 10, exact, byars)``).
EXACT_BELOW = 10


def _confidence(confidence: float) -> float:
    """The confidence level as a fraction: 0.95 and 95 both mean 95% (as PHEindicatormethods)."""
    c = float(confidence)
    if 1 < c < 100:
        c /= 100
    if not 0 < c < 1:
        raise ValueError(f"confidence must be between 0 and 1 (or a percentage), not {confidence!r}")
    return c


def _chi2_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """``scipy.stats.chi2.ppf(q, df)``, computed as it computes it."""
    return 2 * gammaincinv(df / 2, q)


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal quantile: ``norm.ppf(c + (1 - c) / 2)``.

    1.959964 for 95%, 3.090232 for 99.8% (PHEindicatormethods ``zscore``).
    """
    c = _confidence(confidence)
    return float(ndtri(c + (1 - c) / 2))


def _floats(*values: ArrayLike) -> tuple[list[np.ndarray], bool]:
    """Broadcast the inputs to float arrays (None -> NaN); also say whether all were scalars."""
    scalar = all(np.ndim(v) == 0 for v in values)
    arrays = [np.asarray(v if v is not None else np.nan, dtype=float) for v in values]
    return list(np.broadcast_arrays(*arrays)), scalar


def _give(array: np.ndarray, scalar: bool):
    """A Python float for scalar input, else the array."""
    return float(array) if scalar else array


def wilson_interval(numerator: ArrayLike, denominator: ArrayLike, confidence: float = 0.95):
    """Wilson score interval for a proportion, as fractions (0 to 1): ``(low, high)``.

    The method OHID Fingertips uses for every proportion and percentage (PHEindicatormethods
    ``wilson_lower``/``wilson_upper``; Wilson, 1927)::

        low, high = (2x + z^2 -/+ z * sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))

    with ``x`` the numerator, ``n`` the denominator and ``z`` from :func:`z_value`. The limits
    are exactly 0 when ``x == 0`` and exactly 1 when ``x == n`` (the formula gives them up to
    floating-point noise). A denominator of 0 (whatever the numerator), or a NaN/None input,
    gives NaN limits. Negative counts, or a numerator above a non-zero denominator, raise
    ``ValueError``. Multiply by 100 for
    percentages.

    Scalars in, floats out; arrays (or lists, or polars columns as numpy) in, arrays out.
    """
    (x, n), scalar = _floats(numerator, denominator)
    with np.errstate(invalid="ignore"):
        if np.any(x < 0) or np.any(n < 0):
            raise ValueError("numerators and denominators must not be negative")
        if np.any((x > n) & (n > 0)):
            raise ValueError("a numerator must not exceed its denominator")
    z = z_value(confidence)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2 * x + z2
        spread = z * np.sqrt(z2 + 4 * x * (1 - x / n))
        scale = 2 * (n + z2)
        low = (centre - spread) / scale
        high = (centre + spread) / scale
    low = np.where(x == 0, 0.0, low)
    high = np.where(x == n, 1.0, high)
    undefined = (n == 0) | np.isnan(x) | np.isnan(n)
    low = np.where(undefined, np.nan, np.clip(low, 0.0, 1.0))
    high = np.where(undefined, np.nan, np.clip(high, 0.0, 1.0))
    return _give(low, scalar), _give(high, scalar)


def byar_interval(count: ArrayLike, confidence: float = 0.95):
    """Confidence interval for a count of events (Poisson): ``(low, high)``, as counts.

    As OHID Fingertips and PHEindicatormethods ``phe_rate`` compute it:

    * count under 10: **exact** Poisson limits from the chi-squared distribution
      (Armitage & Berry)::

          low  = chi2.ppf(alpha/2, 2*O) / 2          (0 when O == 0)
          high = chi2.ppf(1 - alpha/2, 2*O + 2) / 2

    * count of 10 or more: **Byar's** approximation (Breslow & Day, 1987)::

          low  = O * (1 - 1/(9*O) - z/(3*sqrt(O)))**3
          high = (O + 1) * (1 - 1/(9*(O + 1)) + z/(3*sqrt(O + 1)))**3

    with ``alpha = 1 - confidence`` and ``z`` from :func:`z_value`. NaN/None gives NaN; a
    negative count raises ``ValueError``. For a rate, divide both limits by the denominator
    and multiply by the rate's multiplier, or use :func:`rate_interval`.
    """
    (o,), scalar = _floats(count)
    with np.errstate(invalid="ignore"):
        if np.any(o < 0):
            raise ValueError("counts must not be negative")
    c = _confidence(confidence)
    alpha = 1 - c
    z = z_value(c)
    low = np.full(o.shape, np.nan)
    high = np.full(o.shape, np.nan)
    with np.errstate(invalid="ignore"):
        exact = o < EXACT_BELOW
        byar = o >= EXACT_BELOW
    oe = o[exact]
    low[exact] = np.where(oe > 0, _chi2_ppf(alpha / 2, 2 * np.where(oe > 0, oe, 1)) / 2, 0.0)
    high[exact] = _chi2_ppf(1 - alpha / 2, 2 * oe + 2) / 2
    ob = o[byar]
    low[byar] = ob * (1 - 1 / (9 * ob) - z / (3 * np.sqrt(ob))) ** 3
    high[byar] = (ob + 1) * (1 - 1 / (9 * (ob + 1)) + z / (3 * np.sqrt(ob + 1))) ** 3
    return _give(low, scalar), _give(high, scalar)


def rate_interval(count: ArrayLike, denominator: ArrayLike, multiplier: float = 10_000,
                  confidence: float = 0.95):
    """Confidence interval for a rate ``count / denominator * multiplier``: ``(low, high)``.

    The count's :func:`byar_interval` (exact under 10) divided by the denominator and
    multiplied by ``multiplier``: per 10,000 by default, the unit of ``lac_rate_per_10k``
    (Fingertips often uses 100,000; pass it). The denominator is treated as fixed (a
    population). A denominator of 0 (or NaN/None) gives NaN; a negative one raises.
    """
    (o, n), scalar = _floats(count, denominator)
    with np.errstate(invalid="ignore"):
        if np.any(n < 0):
            raise ValueError("denominators must not be negative")
    low, high = byar_interval(o, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n > 0, multiplier / n, np.nan)
    return _give(low * factor, scalar), _give(high * factor, scalar)


# --------------------------------------------------------------------------------------------
# Benchmark comparison (Fingertips method 1)
# --------------------------------------------------------------------------------------------

_POLARITIES = ("lower_is_better", "higher_is_better", None)


def compare_to_benchmark_array(value_low: ArrayLike, value_high: ArrayLike, benchmark: ArrayLike,
                               polarity: str | None | Sequence[str | None]) -> np.ndarray:
    """Vectorised :func:`compare_to_benchmark`: an object array of the same labels.

    ``polarity`` may be one value for every row or one per row.
    """
    (low, high, bench), _ = _floats(value_low, value_high, benchmark)
    pol = np.asarray(polarity, dtype=object)
    pol = np.broadcast_to(pol, low.shape)
    unknown = set(pol.ravel().tolist()) - set(_POLARITIES)
    if unknown:
        raise ValueError(f"polarity must be 'lower_is_better', 'higher_is_better' or None, not {unknown}")
    missing = np.isnan(low) | np.isnan(high) | np.isnan(bench)
    with np.errstate(invalid="ignore"):
        higher = low > bench  # the whole interval is above the benchmark
        lower = high < bench  # the whole interval is below it
    out = np.full(low.shape, "similar", dtype=object)
    judged = pol != None  # noqa: E711 (element-wise on an object array)
    good_high = pol == "higher_is_better"
    out[higher & judged] = np.where(good_high[higher & judged], "better", "worse")
    out[lower & judged] = np.where(good_high[lower & judged], "worse", "better")
    out[higher & ~judged] = "higher"
    out[lower & ~judged] = "lower"
    out[missing] = "not compared"
    return out


def compare_to_benchmark(value_low: float | None, value_high: float | None, benchmark: float | None,
                         polarity: str | None) -> str:
    """Compare an area's value with a benchmark (England, region), Fingertips "method 1".

    * ``'similar'`` when the benchmark lies inside the area's confidence interval,
      ``value_low <= benchmark <= value_high`` (inclusive; pass the 95% limits);
    * otherwise the whole interval is above or below the benchmark, and with
      ``'higher_is_better'`` above is ``'better'`` and below ``'worse'``; with
      ``'lower_is_better'`` the reverse;
    * ``'not compared'`` when any of the three numbers is missing (None/NaN).

    ``polarity=None`` is Fingertips' "no judgement": ``'higher'``, ``'lower'`` or ``'similar'``.
    Any other polarity raises ``ValueError``.
    """
    return str(compare_to_benchmark_array(value_low, value_high, benchmark, polarity)[()])


# --------------------------------------------------------------------------------------------
# Statistical process control: XmR chart (Making Data Count / NHSRplotthedots)
# --------------------------------------------------------------------------------------------

#: Process limits are mean +/- 2.66 x mean moving range (3 sigma, sigma = mR-bar / 1.128).
XMR_LIMIT = 2.66
#: Two-thirds of the way to a limit (NHSRplotthedots ``limitclose``).
XMR_NEAR = 2 * (XMR_LIMIT / 3)
#: Moving ranges at or above 3.267 x the mean moving range are outliers when screening.
XMR_SCREEN = 3.267
#: Limits from fewer points than this are trial limits, and must be shown as such.
TRIAL_BELOW = 12
#: Length of a run (shift) on one side of the mean, and of a trend, that signals special cause.
RUN_LENGTH = 7
TREND_LENGTH = 7


@dataclass(frozen=True)
class XmrResult:
    """An XmR (individuals) chart: per-point arrays, all of the input's length, and a summary.

    Per point (numpy arrays; NaN inputs keep their position, with every flag False and
    ``direction`` None there; the limits are drawn through them):

    * ``values``: the input, as floats;
    * ``moving_range``: ``|x - previous observed x|`` (NaN for the first observed point);
    * ``mean``, ``lower``, ``upper``: centre line and process limits (NaN without limits);
    * ``near_lower``, ``near_upper``: two-thirds of the way from the mean to each limit;
    * ``limits_are_trial``: True when the limits rest on fewer than 12 points;
    * ``outside_limits``, ``run``, ``trend``, ``two_of_three``: which rules flag the point;
    * ``special_cause``: any of the four;
    * ``direction``: ``'improvement'``, ``'concern'`` (``'neither'`` when the improvement
      direction is ``'neutral'``) for special-cause points, None otherwise.

    Summary: ``improvement``, ``target``, ``n_points`` (observed points the limits rest on),
    ``mean_moving_range``, ``variation`` (icon; None without limits) and ``assurance`` (icon;
    None without a target or limits, or when the improvement direction is neutral).
    """

    values: np.ndarray
    moving_range: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    near_lower: np.ndarray
    near_upper: np.ndarray
    limits_are_trial: np.ndarray
    outside_limits: np.ndarray
    run: np.ndarray
    trend: np.ndarray
    two_of_three: np.ndarray
    special_cause: np.ndarray
    direction: np.ndarray
    improvement: str
    target: float | None
    n_points: int
    mean_moving_range: float
    variation: str | None
    assurance: str | None

    def to_polars(self) -> pl.DataFrame:
        """One row per point, one column per per-point field (for marts and charts)."""
        return pl.DataFrame({
            "value": self.values, "moving_range": self.moving_range, "mean": self.mean,
            "lower": self.lower, "upper": self.upper,
            "near_lower": self.near_lower, "near_upper": self.near_upper,
            "limits_are_trial": self.limits_are_trial, "outside_limits": self.outside_limits,
            "run": self.run, "trend": self.trend, "two_of_three": self.two_of_three,
            "special_cause": self.special_cause,
            "direction": pl.Series(self.direction.tolist(), dtype=pl.String),
        }, nan_to_null=False)


def _run_lengths(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run-length encoding: (value of each run, length of each run)."""
    if codes.size == 0:
        return codes, np.zeros(0, dtype=int)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    lengths = np.diff(np.r_[starts, codes.size])
    return codes[starts], lengths


def _long_runs(codes: np.ndarray, length: int) -> np.ndarray:
    """True for every element of a run of at least ``length`` equal, non-zero codes."""
    values, lengths = _run_lengths(codes)
    return np.repeat((values != 0) & (lengths >= length), lengths)


def xmr(values: Sequence[float] | ArrayLike, improvement: Improvement,
        target: float | None = None, *, baseline: int | None = None,
        screen_outliers: bool = False) -> XmrResult:
    """XmR chart of a series in time order, with NHS "Making Data Count" special-cause rules.

    **Limits.** Over the observed (non-NaN) points: ``mean``, the moving ranges between
    consecutive observed points ``mR = |x_i - x_(i-1)|`` and their mean ``mR-bar``; process
    limits ``mean +/- 2.66 * mR-bar``; "near" lines ``mean +/- (2/3)(2.66) * mR-bar``. With
    ``baseline=n`` the limits come from the first ``n`` observed points only and are applied
    to the whole series (NHSRplotthedots ``fix_after_n_points``). With
    ``screen_outliers=True``, moving ranges of 3.267 x ``mR-bar`` or more are left out and
    ``mR-bar`` is recomputed (NHSRplotthedots does so by default; Making Data Count's plain
    formula, and this function's default, does not). Fewer than 2 observed points: no limits
    (NaN), no flags, no icons. Fewer than 12: ``limits_are_trial``. All points equal: ``mR-bar``
    is 0, the limits sit on the mean and nothing is flagged.

    **Rules** (each flags points; NaN points are skipped, so the points either side of a gap
    count as consecutive):

    a. *outside the limits*: ``x > upper`` or ``x < lower``; a point exactly on a limit is
       inside.
    b. *run*: 7 or more consecutive points all above, or all below, the mean; a point exactly
       on the mean breaks the run. Every point of the run is flagged.
    c. *trend*: 7 or more consecutive points each higher than the one before (or each lower),
       i.e. 6 or more successive differences of the same sign. Two equal consecutive values
       break a trend (NHSRplotthedots: ``sign(diff) == 0``). Every point of it is flagged.
    d. *two of three*: in any 3 consecutive points, all on the same side of the mean, at least
       2 lie beyond the near line on that side but not outside the limits (NHSRplotthedots:
       ``close_to_limits`` excludes points outside the limits, and the window's third point
       must be on the same side of the mean). The points beyond the near line are flagged.

    **Direction** of a special-cause point, with the NHSRplotthedots order of precedence:
    outside the limits -> its side of the mean; else trend -> the trend's direction (a point
    shared by a rising and a falling trend, at a peak or trough, takes the trend that starts
    at it; a step of 0 never gives a direction, so a trend point next to an equal value keeps
    its own trend's direction, where NHSRplotthedots would label it decreasing); else
    two-of-three or run -> its side of the mean. Up is ``'improvement'`` for
    ``improvement='increase'`` and ``'concern'`` for ``'decrease'``; for ``'neutral'`` every
    special-cause point is ``'neither'``.

    **Variation icon** (Making Data Count; NHSRplotthedots ``summary()``): from the latest
    observed point only: ``'special cause improvement'``, ``'special cause concern'`` (or
    ``'special cause neither'`` when neutral) if it is a special-cause point, else
    ``'common cause'``.

    **Assurance icon** against ``target`` (NHSRplotthedots ``ptd_calculate_assurance_type``):
    ``'consistently pass'`` when the target is beyond the limit on the failing side (below
    the lower limit when higher is better, above the upper when lower is better), so every
    point of the process passes; ``'consistently fail'`` when it is beyond the limit on the
    passing side (unreachable without a change to the process); ``'hit and miss'`` when it lies
    between the limits, a target exactly on a limit included. None without a target.
    """
    if improvement not in ("increase", "decrease", "neutral"):
        raise ValueError(f"improvement must be 'increase', 'decrease' or 'neutral', not {improvement!r}")
    y = np.asarray([np.nan if v is None else v for v in values] if isinstance(values, (list, tuple))
                   else values, dtype=float).ravel()
    if np.any(np.isinf(y)):
        raise ValueError("values must be finite numbers or NaN")
    if baseline is not None and baseline < 1:
        raise ValueError("baseline must be a positive number of points")
    size = y.size
    observed = np.flatnonzero(~np.isnan(y))
    yo = y[observed]
    base = yo if baseline is None else yo[:baseline]
    n_points = int(base.size)

    moving_range = np.full(size, np.nan)
    moving_range[observed[1:]] = np.abs(np.diff(yo))
    flags = {name: np.zeros(size, dtype=bool) for name in ("outside", "run", "trend", "two")}
    direction = np.full(size, None, dtype=object)
    nan_line = np.full(size, np.nan)
    trial = np.full(size, n_points < TRIAL_BELOW)
    target_value = None if target is None or math.isnan(float(target)) else float(target)

    if n_points < 2:
        return XmrResult(y, moving_range, nan_line, nan_line.copy(), nan_line.copy(), nan_line.copy(),
                         nan_line.copy(), trial, flags["outside"], flags["run"], flags["trend"],
                         flags["two"], np.zeros(size, dtype=bool), direction, improvement,
                         target_value, n_points, math.nan, None, None)

    centre = float(np.mean(base))
    base_ranges = np.abs(np.diff(base))
    mr_bar = float(np.mean(base_ranges))
    if screen_outliers and mr_bar > 0:
        mr_bar = float(np.mean(base_ranges[base_ranges < XMR_SCREEN * mr_bar]))
    upper, lower = centre + XMR_LIMIT * mr_bar, centre - XMR_LIMIT * mr_bar
    near_upper, near_lower = centre + XMR_NEAR * mr_bar, centre - XMR_NEAR * mr_bar

    side = np.sign(yo - centre)  # +1 above the mean, -1 below, 0 on it
    outside = (yo > upper) | (yo < lower)
    run = _long_runs(side, RUN_LENGTH)

    # Trends: runs of same-signed successive differences; a difference of 0 breaks them.
    steps = np.sign(np.diff(yo))
    trend_steps = _long_runs(steps, TREND_LENGTH - 1)
    trend = np.zeros(yo.size, dtype=bool)
    trend_sign = np.zeros(yo.size)
    if steps.size:
        trend[1:] |= trend_steps
        trend[:-1] |= trend_steps
        ends = np.flatnonzero(trend_steps) + 1
        trend_sign[ends] = steps[ends - 1]  # as the last point of a trend: the step into it
        starts = np.flatnonzero(trend_steps)
        trend_sign[starts] = steps[starts]  # as a trend's first/inner point: the step out of it

    # Two of three: windows of 3 consecutive observed points wholly on one side of the mean.
    close = ~outside & ((yo > near_upper) | (yo < near_lower))
    two = np.zeros(yo.size, dtype=bool)
    if yo.size >= 3:
        window_side = side[:-2] + side[1:-1] + side[2:]
        window_close = close[:-2].astype(int) + close[1:-1] + close[2:]
        hit = (np.abs(window_side) == 3) & (window_close >= 2)
        covered = np.zeros(yo.size, dtype=bool)
        for offset in range(3):
            covered[offset:offset + hit.size] |= hit
        two = close & covered

    special = outside | run | trend | two
    sign = np.where(outside, side, np.where(trend, trend_sign, side))
    want = {"increase": 1, "decrease": -1, "neutral": 0}[improvement]
    if want == 0:
        labels = np.where(special, "neither", None)
    else:
        labels = np.where(special, np.where(sign * want > 0, "improvement", "concern"), None)
    direction[observed] = labels
    for name, flag in (("outside", outside), ("run", run), ("trend", trend), ("two", two)):
        flags[name][observed] = flag
    special_all = np.zeros(size, dtype=bool)
    special_all[observed] = special

    last = direction[observed[-1]]
    variation = "common cause" if last is None else f"special cause {last}"
    assurance = None
    if target_value is not None and want != 0:
        if target_value > upper:
            assurance = "consistently fail" if want > 0 else "consistently pass"
        elif target_value < lower:
            assurance = "consistently pass" if want > 0 else "consistently fail"
        else:
            assurance = "hit and miss"

    def line(v: float) -> np.ndarray:
        return np.full(size, v)

    return XmrResult(y, moving_range, line(centre), line(lower), line(upper), line(near_lower),
                     line(near_upper), trial, flags["outside"], flags["run"], flags["trend"],
                     flags["two"], special_all, direction, improvement, target_value, n_points,
                     mr_bar, variation, assurance)


#: Run chart rules (NHS Improvement, "Run charts"): a shift is 6 or more consecutive points on
#: one side of the median (points on the median are skipped); a trend 5 or more points each
#: higher, or each lower, than the one before.
RUN_CHART_SHIFT = 6
RUN_CHART_TREND = 5


@dataclass(frozen=True)
class RunChartResult:
    """A run chart: the points, their median (the centre line) and the points the shift or
    trend rules flag, with the direction of each flagged point as ``xmr`` gives it. No process
    limits, so no assurance; ``variation`` is read from the latest observed point."""

    values: np.ndarray
    median: float
    shift: np.ndarray
    trend: np.ndarray
    special_cause: np.ndarray
    direction: np.ndarray
    variation: str | None


def run_chart(values: Sequence[float] | ArrayLike, improvement: Improvement) -> RunChartResult:
    """Run chart of a series in time order, for series too short or too sparse for an XmR chart
    (a stock counted once a year). NaN points keep their place and are skipped by the rules."""
    if improvement not in ("increase", "decrease", "neutral"):
        raise ValueError(f"improvement must be 'increase', 'decrease' or 'neutral', not {improvement!r}")
    y = np.asarray([np.nan if v is None else v for v in values] if isinstance(values, (list, tuple))
                   else values, dtype=float).ravel()
    size = y.size
    observed = np.flatnonzero(~np.isnan(y))
    shift, trend = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    direction = np.full(size, None, dtype=object)
    if observed.size < 2:
        return RunChartResult(y, float(np.nanmedian(y)) if observed.size else math.nan, shift, trend,
                              shift.copy(), direction, None)
    yo = y[observed]
    median = float(np.median(yo))
    side = np.sign(yo - median)
    off_median = np.flatnonzero(side != 0)
    shifted = np.zeros(yo.size, dtype=bool)
    shifted[off_median] = _long_runs(side[off_median], RUN_CHART_SHIFT)
    steps = np.sign(np.diff(yo))
    trend_steps = _long_runs(steps, RUN_CHART_TREND - 1)
    trending, trend_sign = np.zeros(yo.size, dtype=bool), np.zeros(yo.size)
    trending[1:] |= trend_steps
    trending[:-1] |= trend_steps
    trend_sign[np.flatnonzero(trend_steps) + 1] = steps[trend_steps]
    trend_sign[np.flatnonzero(trend_steps)] = steps[trend_steps]
    special = shifted | trending
    sign = np.where(trending, trend_sign, side)
    want = {"increase": 1, "decrease": -1, "neutral": 0}[improvement]
    labels = (np.where(special, "neither", None) if want == 0
              else np.where(special, np.where(sign * want > 0, "improvement", "concern"), None))
    direction[observed] = labels
    shift[observed], trend[observed] = shifted, trending
    special_all = shift | trend
    last = direction[observed[-1]]
    return RunChartResult(y, median, shift, trend, special_all, direction,
                          "common cause" if last is None else f"special cause {last}")


# --------------------------------------------------------------------------------------------
# Disclosure control (statistical outputs published by the partnership)
# --------------------------------------------------------------------------------------------

#: The warehouse's ``value_note`` for a value blanked because a count behind it is 1 to 5
#: (the same words as the DfE symbol ``c`` in ``scorecard.ingest.ees``).
SUPPRESSED_NOTE = "c: confidential (1 to 5, suppressed)"


def _count_matrix(table: pl.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Counts as a float matrix (rows x columns), null -> NaN; whole, non-negative numbers only."""
    if not columns:
        return np.zeros((table.height, 0))
    matrix = np.column_stack([table[c].cast(pl.Float64).to_numpy() for c in columns])
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(matrix) & ((matrix < 0) | (matrix != np.round(matrix)))
    if bad.any():
        raise ValueError("counts must be whole numbers, 0 or more")
    return matrix


def suppress_counts(table: pl.DataFrame, count_columns: Sequence[str], total_column: str | None = None,
                    *, low: int = 1, high: int = 5, symbol: str = "c") -> pl.DataFrame:
    """Disclosure control of counts for publication: ``table`` with the counts as text.

    Exactly what is done, row by row:

    1. **Primary suppression.** Every count of ``low`` to ``high`` (1 to 5) in
       ``count_columns`` and in ``total_column`` becomes ``symbol`` (``"c"``). 0 is shown as
       ``"0"``; 6 and more are shown; a null stays null.
    2. **Secondary suppression** (only with a ``total_column``). If the total is shown and
       exactly one part is hidden, while every other part is shown, the hidden part could be
       recovered as total minus the others. So the smallest *non-zero* shown part is hidden
       too (the leftmost of equal ones, in ``count_columns`` order); a zero would not protect,
       since the two hidden cells would add up to the first one. If no non-zero part is
       shown, the total is hidden instead. A null part counts as not shown, so a row with a
       null part and one hidden part needs nothing more. One pass is enough: after it, a row
       shows either no hidden part, at least two, or no total.

    Rows are treated independently: a table with a totals *row* (England, a sum of areas)
    needs the same care down its columns, which this function does not do. Count columns
    (numeric columns) and the total come back as ``pl.String``; other columns are unchanged.
    Non-whole or negative counts raise ``ValueError``. Derived values (percentages, rates, confidence
    limits) must then go through :func:`suppress_rates`.
    """
    count_columns = list(count_columns)
    parts = _count_matrix(table, count_columns)
    with np.errstate(invalid="ignore"):
        hidden = (parts >= low) & (parts <= high)
    total_hidden = np.zeros(table.height, dtype=bool)
    if total_column is not None:
        total = _count_matrix(table, [total_column])[:, 0]
        with np.errstate(invalid="ignore"):
            total_hidden = (total >= low) & (total <= high)
        total_shown = ~np.isnan(total) & ~total_hidden
        unknown = hidden | np.isnan(parts)
        needs = total_shown & (hidden.sum(axis=1) == 1) & (unknown.sum(axis=1) == 1)
        candidates = ~unknown & (parts > 0)
        smallest = np.argmin(np.where(candidates, parts, np.inf), axis=1) if parts.shape[1] else None
        has_candidate = candidates.any(axis=1)
        rows = np.flatnonzero(needs & has_candidate)
        if rows.size:
            hidden[rows, smallest[rows]] = True
        total_hidden |= needs & ~has_candidate

    def shown(column: str, mask: np.ndarray) -> pl.Series:
        text = table[column].cast(pl.Float64).cast(pl.Int64).cast(pl.String)
        return text.zip_with(pl.Series(~mask), pl.Series([symbol] * table.height, dtype=pl.String))

    replaced = [shown(c, hidden[:, i]).alias(c) for i, c in enumerate(count_columns)]
    if total_column is not None:
        replaced.append(shown(total_column, total_hidden).alias(total_column))
    return table.with_columns(replaced)


def _suppressed_cells(series: pl.Series, low: int, high: int, symbol: str) -> np.ndarray:
    """True where a count cell is hidden: the symbol, or a number from ``low`` to ``high``."""
    if series.dtype == pl.String:
        is_symbol = (series == symbol).fill_null(False).to_numpy()
        numbers = series.cast(pl.Float64, strict=False).to_numpy()
    else:
        is_symbol = np.zeros(series.len(), dtype=bool)
        numbers = series.cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        return is_symbol | ((numbers >= low) & (numbers <= high))


def suppress_rates(table: pl.DataFrame, value_columns: Sequence[str], numerator: str,
                   denominator: str | None = None, *, low: int = 1, high: int = 5, symbol: str = "c",
                   note_column: str | None = "value_note", note: str = SUPPRESSED_NOTE) -> pl.DataFrame:
    """Blank values computed from a suppressed count (percentages, rates, confidence limits).

    A row's values are blanked when its ``numerator`` or its ``denominator`` is suppressed:
    a number from ``low`` to ``high`` (1 to 5), or the text ``symbol`` (``"c"``) left by
    :func:`suppress_counts`. Call it *after* :func:`suppress_counts` so that secondary
    suppressions are seen too. Pass every column that would reveal the count: the value and
    its confidence limits.

    Blanked numeric columns become null; blanked text columns become ``symbol``. When
    ``note_column`` is given (default ``value_note``, created if missing), a blanked row whose
    note is empty gets ``note`` (default the warehouse's ``c`` reason); an existing note
    (another reason the value is missing) is kept. Numerator and denominator themselves are
    left to :func:`suppress_counts`.
    """
    blank = _suppressed_cells(table[numerator], low, high, symbol)
    if denominator is not None:
        blank |= _suppressed_cells(table[denominator], low, high, symbol)
    mask = pl.Series(blank)
    columns = []
    for column in value_columns:
        series = table[column]
        if series.dtype == pl.String:
            filler = pl.Series([symbol] * table.height, dtype=pl.String)
        else:
            filler = pl.Series([None] * table.height, dtype=series.dtype)
        columns.append(series.zip_with(~mask, filler).alias(column))
    if note_column is not None:
        notes = table[note_column].cast(pl.String) if note_column in table.columns \
            else pl.Series([None] * table.height, dtype=pl.String)
        add = mask & notes.is_null()
        columns.append(notes.zip_with(~add, pl.Series([note] * table.height, dtype=pl.String))
                       .alias(note_column))
    return table.with_columns(columns)


def _round_one(value, digits: int) -> float:
    if value is None:
        return math.nan
    number = float(value)
    if not math.isfinite(number):
        return number
    # repr() is the shortest text that reads back as the same float: 2.675 -> "2.675", so the
    # half is seen as a half although the binary float is 2.67499999...
    rounded = Decimal(repr(number)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return float(rounded)


def round_half_up(value, digits: int = 0):
    """Round half away from zero, as people and spreadsheets do: 2.5 -> 3, -2.5 -> -3.

    Python's ``round`` (and numpy's, and polars') rounds a half to the even neighbour
    (``round(2.5) == 2``) and works on the binary float (``round(2.675, 2) == 2.67``). This
    rounds the decimal number as it prints (``repr``), with :class:`decimal.Decimal` and
    ``ROUND_HALF_UP``: ``round_half_up(0.125, 2) == 0.13``, ``round_half_up(2.675, 2) == 2.68``.
    ``digits`` may be negative: ``round_half_up(1235, -1) == 1240`` (to the nearest 10).

    A scalar gives a float (None -> NaN; NaN and infinities unchanged); a sequence or array
    gives a float array.
    """
    digits = int(digits)
    if np.ndim(value) == 0:
        return _round_one(value.item() if isinstance(value, np.generic) else value, digits)
    items = np.asarray(value, dtype=object).ravel()
    return np.array([_round_one(v, digits) for v in items], dtype=float).reshape(np.shape(value))
