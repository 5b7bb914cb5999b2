"""scorecard.model.statistics against hand-worked values and independent formulas.

The working is written out in comments; z = 1.959964 at 95% and 3.090232 at 99.8%
(norm.ppf(0.975), norm.ppf(0.999)), z^2 = 3.841459 and 9.549536.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import gamma, norm, poisson

from scorecard.model.statistics import (
    SUPPRESSED_NOTE,
    byar_interval,
    compare_to_benchmark,
    compare_to_benchmark_array,
    rate_interval,
    round_half_up,
    suppress_counts,
    suppress_rates,
    wilson_interval,
    xmr,
    z_value,
)

Z95, Z998 = 1.959963984540054, 3.090232306167813


def idx(flags) -> list[int]:
    return np.flatnonzero(flags).tolist()


# ============================================================================================
# Confidence intervals
# ============================================================================================

def test_z_comes_from_the_normal_distribution_at_both_levels():
    assert z_value(0.95) == pytest.approx(Z95, abs=1e-12)
    assert z_value(0.998) == pytest.approx(Z998, abs=1e-12)
    assert z_value(95) == z_value(0.95) and z_value(99.8) == z_value(0.998)  # PHE accepts both
    assert z_value(0.90) == pytest.approx(norm.ppf(0.95))
    with pytest.raises(ValueError):
        z_value(0)


def _wilson_textbook(x, n, z):
    """Wilson (1927) in its textbook form (p + z^2/2n +/- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n),
    an algebraically different route from the PHEindicatormethods form the module uses."""
    p = x / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


@pytest.mark.parametrize(("x", "n", "confidence", "low", "high"), [
    # Re-referrals, Northumberland 2014/15: 1,765 of 5,882 (30.0%).
    #   2x + z^2 = 3530 + 3.841459 = 3533.841459
    #   4x(1 - x/n) = 7060 x 0.699932 = 4941.520; + z^2 = 4945.362; sqrt = 70.3233; x z = 137.831
    #   2(n + z^2) = 11771.683
    #   low = 3396.010 / 11771.683 = 0.288490; high = 3671.672 / 11771.683 = 0.311907
    (1765, 5882, 0.95, 0.288490, 0.311907),
    # CPPs under neglect, 31 March 2017: 121 of 228 (53%).
    #   2x + z^2 = 245.841459; 4x(1 - x/n) = 484 x 107/228 = 227.1404; + z^2 = 230.9818
    #   sqrt = 15.19809; x z = 29.78771; 2(n + z^2) = 463.682918
    #   low = 216.05375 / 463.68292 = 0.465952; high = 275.62917 / 463.68292 = 0.594435
    (121, 228, 0.95, 0.465952, 0.594435),
    # 0 of 10: low = 0; high = (z^2 + z.z) / 2(n + z^2) = z^2 / (n + z^2) = 3.841459 / 13.841459
    (0, 10, 0.95, 0.0, 0.277533),
    # 10 of 10: high = 1; low = (2n + z^2 - z^2) / 2(n + z^2) = n / (n + z^2) = 10 / 13.841459
    (10, 10, 0.95, 0.722467, 1.0),
    # 99.8%: 0 of 10, high = 9.549536 / 19.549536 = 0.488479; 10 of 10, low = 10 / 19.549536
    (0, 10, 0.998, 0.0, 0.488479),
    (10, 10, 0.998, 0.511521, 1.0),
    # 1,765 of 5,882 at 99.8%: 2x + z^2 = 3539.549536; sqrt(9.549536 + 4941.520) = 70.36383;
    #   x z = 217.4405; 2(n + z^2) = 11783.09907; low = 3322.109 / 11783.099 = 0.281938
    (1765, 5882, 0.998, 0.281938, 0.318846),
])
def test_wilson_hand_worked(x, n, confidence, low, high):
    got_low, got_high = wilson_interval(x, n, confidence)
    assert isinstance(got_low, float) and isinstance(got_high, float)
    assert got_low == pytest.approx(low, abs=1e-6)
    assert got_high == pytest.approx(high, abs=1e-6)
    if 0 < x < n:
        z = z_value(confidence)
        assert (got_low, got_high) == pytest.approx(_wilson_textbook(x, n, z), rel=1e-12)


def test_wilson_ends_are_exact_and_the_limits_stay_in_zero_to_one():
    low, high = wilson_interval([0, 10, 0, 7], [10, 10, 1, 7], 0.998)
    assert low[0] == 0.0 and high[1] == 1.0 and low[2] == 0.0 and high[3] == 1.0
    assert np.all((low >= 0) & (high <= 1) & (low <= high))


def test_wilson_is_vectorised_and_missing_or_empty_denominators_give_nan():
    low, high = wilson_interval(np.array([1765, 121, 0, 3, np.nan]), [5882, 228, 0, 0, 10])
    assert low[:2] == pytest.approx([0.288490, 0.465952], abs=1e-6)
    assert high[:2] == pytest.approx([0.311907, 0.594435], abs=1e-6)
    assert np.isnan(low[2:]).all() and np.isnan(high[2:]).all()
    assert all(math.isnan(v) for v in wilson_interval(None, 10))
    # polars columns go in as numpy arrays
    frame = pl.DataFrame({"x": [229, 340], "n": [1569, 3296]})
    low, _ = wilson_interval(frame["x"].to_numpy(), frame["n"].to_numpy())
    assert low == pytest.approx([_wilson_textbook(229, 1569, Z95)[0], _wilson_textbook(340, 3296, Z95)[0]])


@pytest.mark.parametrize(("x", "n"), [(-1, 10), (11, 10), (1, -2)])
def test_wilson_refuses_impossible_counts(x, n):
    with pytest.raises(ValueError):
        wilson_interval(x, n)


def _byar_closed_form(o, z):
    return (o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3,
            (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3)


@pytest.mark.parametrize(("confidence", "low", "high"), [
    # Children looked after, Northumberland 2016/17: 386.
    #   95%: z/(3 sqrt 386) = 1.959964 / 58.94065 = 0.0332530; 1/(9 x 386) = 0.0002879
    #        low = 386 x (1 - 0.0002879 - 0.0332530)^3 = 386 x 0.966459^3 = 386 x 0.902714 = 348.448
    #        z/(3 sqrt 387) = 0.0332103; 1/(9 x 387) = 0.0002871
    #        high = 387 x (1 - 0.0002871 + 0.0332103)^3 = 387 x 1.032923^3 = 387 x 1.102056 = 426.496
    (0.95, 348.4477, 426.4959),
    #   99.8%: z/(3 sqrt 386) = 0.0524296 -> 386 x 0.947283^3 = 386 x 0.850038 = 328.115
    #          z/(3 sqrt 387) = 0.0523619 -> 387 x 1.052075^3 = 387 x 1.164501 = 450.662
    (0.998, 328.1149, 450.6617),
])
def test_byar_hand_worked_for_386(confidence, low, high):
    got = byar_interval(386, confidence)
    assert got == pytest.approx((low, high), abs=1e-4)
    assert got == pytest.approx(_byar_closed_form(386, z_value(confidence)), rel=1e-12)
    # Byar approximates the exact Poisson limits closely at this size (within 0.01).
    alpha = 1 - confidence
    assert got == pytest.approx((gamma.ppf(alpha / 2, 386), gamma.ppf(1 - alpha / 2, 387)), abs=0.01)


@pytest.mark.parametrize(("count", "low", "high"), [
    # Exact limits: chi2.ppf(0.025, 2O)/2 and chi2.ppf(0.975, 2O + 2)/2.
    # 0: low = 0; chi-squared on 2 df is exponential, so high = -ln(0.025) = 3.688879
    (0, 0.0, 3.688879),
    # 1: low = -ln(0.975) = 0.025318; high solves e^-m (1 + m) = 0.025: m = 5.571643
    (1, 0.025318, 5.571643),
    (5, 1.623486, 11.668332),
    (9, 4.115373, 17.084803),
])
def test_exact_poisson_limits_under_ten(count, low, high):
    got = byar_interval(count)
    assert got == pytest.approx((low, high), abs=1e-6)
    # Independent check through the Poisson distribution itself: the upper limit is the mean
    # at which seeing `count` or fewer has probability 2.5%, the lower the mean at which seeing
    # `count` or more has probability 2.5%.
    assert poisson.cdf(count, got[1]) == pytest.approx(0.025, abs=1e-9)
    if count:
        assert poisson.sf(count - 1, got[0]) == pytest.approx(0.025, abs=1e-9)


def test_exact_at_998_and_the_switch_to_byar_at_ten():
    low, high = byar_interval([0, 1], 0.998)
    assert low == pytest.approx([0.0, -math.log(0.999)], abs=1e-12)   # 0.0010005
    assert high[0] == pytest.approx(-math.log(0.001), abs=1e-9)        # 6.907755
    # 9 is exact, 10 is Byar: 10 gives Byar's 4.787450 / 18.391459, not the exact 4.795389 / 18.390356.
    nine, ten = byar_interval(9), byar_interval(10)
    assert nine == pytest.approx((gamma.ppf(0.025, 9), gamma.ppf(0.975, 10)), abs=1e-9)
    assert ten == pytest.approx(_byar_closed_form(10, Z95), rel=1e-12)
    assert ten == pytest.approx((4.787450, 18.391459), abs=1e-6)
    assert ten[0] != pytest.approx(gamma.ppf(0.025, 10), abs=1e-3)


def test_byar_is_vectorised_and_handles_missing_and_refuses_negatives():
    low, high = byar_interval(np.array([0, 9, 10, 386, np.nan]))
    assert low[:4] == pytest.approx([0.0, 4.115373, 4.787450, 348.4477], abs=1e-4)
    assert high[:4] == pytest.approx([3.688879, 17.084803, 18.391459, 426.4959], abs=1e-4)
    assert math.isnan(low[4]) and math.isnan(high[4])
    with pytest.raises(ValueError):
        byar_interval(-1)


def test_rate_interval_per_10000():
    # 386 children looked after in an (illustrative) population of 62,000 aged 0-17:
    # rate 62.26 per 10,000; limits 348.4477 / 62,000 x 10,000 = 56.2012 and 426.4959 / 6.2 = 68.7897.
    low, high = rate_interval(386, 62_000)
    assert (low, high) == pytest.approx((56.2012, 68.7897), abs=1e-4)
    assert low < 386 / 62_000 * 10_000 < high
    # Small counts use the exact limits: 3 in 1,000 per 100,000 -> 0.618672 x 100 and 8.767273 x 100.
    assert rate_interval(3, 1_000, multiplier=100_000) == pytest.approx(
        (gamma.ppf(0.025, 3) * 100, gamma.ppf(0.975, 4) * 100))
    low, high = rate_interval([386, 5], [0, np.nan])
    assert np.isnan(low).all() and np.isnan(high).all()


# ============================================================================================
# Benchmark comparison (Fingertips method 1)
# ============================================================================================

@pytest.mark.parametrize(("low", "high", "benchmark", "polarity", "expected"), [
    # Re-referrals 95% CI 28.85% to 31.19%:
    (0.288490, 0.311907, 0.30, "lower_is_better", "similar"),   # benchmark inside
    (0.288490, 0.311907, 0.288490, "lower_is_better", "similar"),  # on the lower limit: inclusive
    (0.288490, 0.311907, 0.311907, "lower_is_better", "similar"),  # on the upper limit: inclusive
    (0.288490, 0.311907, 0.226, "lower_is_better", "worse"),    # wholly above, lower is better
    (0.288490, 0.311907, 0.226, "higher_is_better", "better"),
    (0.288490, 0.311907, 0.35, "lower_is_better", "better"),    # wholly below
    (0.288490, 0.311907, 0.35, "higher_is_better", "worse"),
    (0.288490, 0.311907, 0.35, None, "lower"),                  # no judgement
    (0.288490, 0.311907, 0.226, None, "higher"),
    (None, 0.311907, 0.30, "lower_is_better", "not compared"),
    (0.288490, float("nan"), 0.30, "lower_is_better", "not compared"),
    (0.288490, 0.311907, None, "higher_is_better", "not compared"),
])
def test_compare_to_benchmark(low, high, benchmark, polarity, expected):
    assert compare_to_benchmark(low, high, benchmark, polarity) == expected


def test_compare_to_benchmark_array_row_by_row_polarity():
    got = compare_to_benchmark_array([1, 5, 1, 5, np.nan, 1], [2, 6, 2, 6, 3, 3], [3, 3, 3, 3, 3, 3],
                                     ["lower_is_better", "lower_is_better", "higher_is_better",
                                      "higher_is_better", "lower_is_better", "higher_is_better"])
    assert got.tolist() == ["better", "worse", "worse", "better", "not compared", "similar"]
    assert compare_to_benchmark_array([1, 5], [2, 6], 3, "higher_is_better").tolist() == ["worse", "better"]
    with pytest.raises(ValueError):
        compare_to_benchmark(1, 2, 3, "up")


# ============================================================================================
# XmR charts (Making Data Count / NHSRplotthedots)
# ============================================================================================

def test_limits_hand_worked_with_trial_limits():
    # 3, 5, 4, 6, 5: mean 23/5 = 4.6; moving ranges 2, 1, 2, 1 -> mean 1.5;
    # limits 4.6 -/+ 2.66 x 1.5 = 4.6 -/+ 3.99 -> 0.61 and 8.59; near lines 4.6 -/+ 2.66 -> 1.94, 7.26.
    r = xmr([3, 5, 4, 6, 5], "increase")
    assert r.mean.tolist() == pytest.approx([4.6] * 5)
    assert r.mean_moving_range == pytest.approx(1.5)
    assert r.lower == pytest.approx([0.61] * 5) and r.upper == pytest.approx([8.59] * 5)
    assert r.near_lower == pytest.approx([1.94] * 5) and r.near_upper == pytest.approx([7.26] * 5)
    assert np.isnan(r.moving_range[0]) and r.moving_range[1:].tolist() == [2, 1, 2, 1]
    assert r.limits_are_trial.all()          # 5 points < 12
    assert not r.special_cause.any() and r.variation == "common cause" and r.assurance is None


def test_twelve_points_are_not_trial_eleven_are():
    values = [11, 13, 11, 13, 11, 13, 9, 7, 9, 7, 9, 7]
    assert not xmr(values, "increase").limits_are_trial.any()
    assert xmr(values[:11], "increase").limits_are_trial.all()


def test_run_of_seven_is_flagged_run_of_six_is_not():
    # 11,13,11,13,11,13,11 | 9,7,9,7,9,7: mean 131/13 = 10.0769; every moving range is 2;
    # limits 10.0769 -/+ 5.32 = 4.757, 15.397; near 6.530, 13.624: nothing near or outside.
    # Alternating values: no trend. 7 points above the mean: a run, all 7 flagged; then 6 below: no run.
    r = xmr([11, 13, 11, 13, 11, 13, 11, 9, 7, 9, 7, 9, 7], "increase")
    assert r.mean[0] == pytest.approx(131 / 13) and r.mean_moving_range == 2
    assert idx(r.run) == [0, 1, 2, 3, 4, 5, 6]
    assert not (r.outside_limits.any() or r.trend.any() or r.two_of_three.any())
    assert r.direction.tolist() == ["improvement"] * 7 + [None] * 6   # above the mean, up is good
    assert r.variation == "common cause"      # the latest point, 7, is common cause
    assert xmr([11, 13, 11, 13, 11, 13, 11, 9, 7, 9, 7, 9, 7], "decrease").direction.tolist()[:7] == ["concern"] * 7
    # Six above, six below (mean exactly 10, mR-bar 24/11): nothing.
    r6 = xmr([11, 13, 11, 13, 11, 13, 9, 7, 9, 7, 9, 7], "increase")
    assert r6.mean[0] == 10 and not r6.special_cause.any()


def test_a_point_on_the_mean_breaks_a_run():
    # Sum 130 over 13 points: mean exactly 10, and the fourth point (10) is on it: 3 above,
    # one on the mean, 3 above, 6 below -> no run. mR-bar 26/12, limits 4.237, 15.763.
    r = xmr([11, 13, 11, 10, 13, 11, 13, 9, 7, 9, 7, 9, 7], "increase")
    assert r.mean[0] == 10.0
    assert not r.special_cause.any()
    # The same with 12 instead of 10 (mean 132/13 = 10.154): seven above, flagged.
    assert idx(xmr([11, 13, 11, 12, 13, 11, 13, 9, 7, 9, 7, 9, 7], "increase").run) == list(range(7))


TREND_7 = [10, 20, 10, 20, 10, 20, 12, 13, 14, 15, 16, 17, 18, 10, 20, 10, 20]


def test_trend_of_seven_flags_all_seven_in_the_trend_direction():
    # Sum 255 over 17 points: mean 15. Moving ranges 10 x 5, 8, 1 x 6, 8, 10 x 3 = 102 -> 6.375;
    # limits 15 -/+ 16.9575 (-1.96, 31.96); near 3.695, 26.305: nothing near or outside.
    # 12..18 rise six times in a row: a trend of 7 (positions 6-12). Sides: 12,13,14 below the
    # mean, 15 on it, 16,17,18 above: no run.
    r = xmr(TREND_7, "increase")
    assert r.mean[0] == 15 and r.mean_moving_range == pytest.approx(6.375)
    assert idx(r.trend) == list(range(6, 13))
    assert idx(r.special_cause) == list(range(6, 13))
    # Direction follows the trend, even for 12, 13, 14 (below the mean) and 15 (on it).
    assert r.direction.tolist()[6:13] == ["improvement"] * 7
    assert xmr(TREND_7, "decrease").direction.tolist()[6:13] == ["concern"] * 7


def test_trend_of_six_and_a_trend_broken_by_an_equal_pair_are_not_flagged():
    # 12..17: only six points rising (5 steps).
    six = xmr([10, 20, 10, 20, 10, 20, 12, 13, 14, 15, 16, 17, 10, 20, 10, 20], "increase")
    assert not six.special_cause.any()
    # 12, 13, 14, 14, 15, 16, 17: seven points never falling, but 14 -> 14 is no rise: steps
    # +, +, 0, +, +, + are runs of 2 and 3 rises, so no trend (as NHSRplotthedots: sign(diff) = 0).
    flat = xmr([10, 20, 10, 20, 10, 20, 12, 13, 14, 14, 15, 16, 17, 10, 20, 10, 20], "increase")
    assert not flat.special_cause.any()


def test_a_peak_shared_by_two_trends_takes_the_trend_that_starts_there():
    # 8..14 rising (positions 4-10), then 14..8 falling (10-16); mean 260/21 = 12.381, mR-bar 4.8,
    # limits -0.387, 25.149; near 3.869, 20.893; sides give runs of at most 5. The peak (14, at 10)
    # belongs to both trends and takes the falling one (NHSRplotthedots: "use right side").
    r = xmr([10, 20, 10, 20, 8, 9, 10, 11, 12, 13, 14, 13, 12, 11, 10, 9, 8, 20, 10, 20, 10], "increase")
    assert r.mean[0] == pytest.approx(260 / 21) and r.mean_moving_range == pytest.approx(4.8)
    assert idx(r.trend) == list(range(4, 17))
    assert r.direction.tolist()[4:17] == ["improvement"] * 6 + ["concern"] * 7


def test_trend_points_either_side_of_an_equal_pair_keep_their_trends_direction():
    # 8..14 rising (positions 4-10), 14 again, then 14..20 rising (11-17): two rising trends that
    # meet at a step of 0. Every point of both is 'improvement' (NHSRplotthedots would take the
    # 0 step out of position 10 and call that point decreasing).
    r = xmr([10, 20, 10, 20, 8, 9, 10, 11, 12, 13, 14, 14, 15, 16, 17, 18, 19, 20, 10, 20, 10], "increase")
    assert idx(r.trend) == list(range(4, 18))
    assert r.direction.tolist()[4:18] == ["improvement"] * 14


# Baseline 100, 150 x 6: mean 125, every moving range 50; limits 125 -/+ 2.66 x 50 = 125 -/+ 133
# = -8 and 258 (exact in floating point); near lines 125 -/+ 88.667 = 36.333 and 213.667.
BASELINE = [100, 150] * 6


def test_two_of_three_beyond_two_thirds_on_the_same_side():
    # 220 (beyond 213.667), 130 (above the mean, not near), 230 (beyond): 2 of 3, all 3 above
    # the mean. The two beyond are flagged, not 130.
    r = xmr(BASELINE + [220, 130, 230], "increase", baseline=12)
    assert (r.mean[0], r.lower[0], r.upper[0]) == (125, -8, 258)
    assert r.near_upper[0] == pytest.approx(213.6667, abs=1e-4)
    assert idx(r.two_of_three) == [12, 14] and idx(r.special_cause) == [12, 14]
    assert r.direction.tolist()[12:] == ["improvement", None, "improvement"]
    assert r.variation == "special cause improvement"
    # Below: 30 and 20 beyond 36.333, 100 below the mean -> both flagged, a concern when up is good.
    low = xmr(BASELINE + [30, 20, 100], "increase", baseline=12)
    assert idx(low.two_of_three) == [12, 13] and low.direction.tolist()[12:] == ["concern", "concern", None]


def test_two_of_three_with_the_third_point_on_the_other_side_of_the_mean_is_not_flagged():
    # 220, 120, 230: 120 is below the mean, so no window of 3 lies wholly on one side
    # (NHSRplotthedots requires abs(sum(sign)) == 3).
    r = xmr(BASELINE + [220, 120, 230], "increase", baseline=12)
    assert not r.special_cause.any() and r.variation == "common cause"


def test_a_point_outside_the_limits_does_not_count_towards_two_of_three():
    # 260 is outside (flagged by rule a); 220 is the only point in the outer third -> not flagged.
    r = xmr(BASELINE + [260, 220, 130], "increase", baseline=12)
    assert idx(r.outside_limits) == [12] and not r.two_of_three.any()


def test_two_of_three_without_a_baseline():
    # 10, 14 x 10 then 21, 13, 21: mean 295/23 = 12.826; moving ranges 4 x 19, 7, 8, 8 = 99 -> 4.5;
    # near upper 12.826 + 1.7733 x 4.5 = 20.806 (21 beyond), upper 24.796 (21 inside);
    # 13 is above the mean: both 21s flagged.
    r = xmr([10, 14] * 10 + [21, 13, 21], "increase")
    assert r.mean[0] == pytest.approx(295 / 23) and r.mean_moving_range == 4.5
    assert idx(r.two_of_three) == [20, 22] and idx(r.special_cause) == [20, 22]


def test_a_point_exactly_on_the_limit_is_not_outside():
    # 1, 1, 4, 1, 35: mean 42/5 = 8.4; moving ranges 0, 3, 3, 34 -> 10; upper 8.4 + 26.6 = 35.
    r = xmr([1, 1, 4, 1, 35], "increase")
    assert r.upper[-1] == 35.0 and r.mean_moving_range == 10
    assert not r.outside_limits.any() and not r.special_cause.any()
    # 36 instead: mean 8.6, mR-bar 41/4 = 10.25, upper 8.6 + 27.265 = 35.865 < 36 -> outside.
    above = xmr([1, 1, 4, 1, 36], "increase")
    assert above.upper[-1] == pytest.approx(35.865)
    assert idx(above.outside_limits) == [4]
    assert above.direction[4] == "improvement" and above.variation == "special cause improvement"
    worse = xmr([1, 1, 4, 1, 36], "decrease")
    assert worse.direction[4] == "concern" and worse.variation == "special cause concern"


def test_a_point_below_the_lower_limit():
    # 35, 35, 32, 35, 0: mean 27.4, mR-bar 41/4 = 10.25, lower 27.4 - 27.265 = 0.135 > 0.
    r = xmr([35, 35, 32, 35, 0], "increase")
    assert r.lower[0] == pytest.approx(0.135)
    assert idx(r.outside_limits) == [4] and r.variation == "special cause concern"
    assert xmr([35, 35, 32, 35, 0], "decrease").variation == "special cause improvement"


def test_variation_comes_from_the_latest_point_only():
    # The run of 7 above is special cause, but the latest point is not.
    assert xmr([11, 13, 11, 13, 11, 13, 11, 9, 7, 9, 7, 9, 7], "increase").variation == "common cause"


def test_neutral_improvement_direction():
    r = xmr([1, 1, 4, 1, 36], "neutral", target=20)
    assert r.direction[4] == "neither" and r.variation == "special cause neither" and r.assurance is None


@pytest.mark.parametrize(("improvement", "target", "assurance"), [
    # 3, 5, 4, 6, 5: limits 0.61 and 8.59.
    ("increase", 10, "consistently fail"),   # target above the upper limit, higher is better
    ("increase", 0, "consistently pass"),    # target below the lower limit
    ("increase", 5, "hit and miss"),
    ("decrease", 10, "consistently pass"),
    ("decrease", 0, "consistently fail"),
    ("decrease", 5, "hit and miss"),
    ("increase", None, None),
    ("increase", float("nan"), None),
])
def test_assurance(improvement, target, assurance):
    assert xmr([3, 5, 4, 6, 5], improvement, target).assurance == assurance


def test_assurance_with_the_target_exactly_on_a_limit_is_hit_and_miss():
    # upper limit exactly 35 (see above)
    assert xmr([1, 1, 4, 1, 35], "increase", 35).assurance == "hit and miss"
    assert xmr([1, 1, 4, 1, 35], "increase", 35.5).assurance == "consistently fail"
    assert xmr([1, 1, 4, 1, 35], "decrease", 35.5).assurance == "consistently pass"


def test_missing_values_are_skipped_but_keep_their_positions():
    # Same statistics as 3, 5, 4, 6, 5; the moving range at position 2 is |5 - 3|.
    r = xmr([3, None, 5, 4, float("nan"), 6, 5], "increase", target=10)
    assert len(r.values) == 7 and np.isnan(r.values[[1, 4]]).all()
    assert r.mean_moving_range == pytest.approx(1.5) and r.n_points == 5
    assert r.upper == pytest.approx([8.59] * 7)
    assert r.moving_range[2] == 2 and np.isnan(r.moving_range[[0, 1, 4]]).all()
    assert r.direction[1] is None and not r.special_cause[[1, 4]].any()
    assert r.assurance == "consistently fail"
    # A run is counted across a gap: seven points above, one missing in the middle.
    run = xmr([11, 13, 11, np.nan, 13, 11, 13, 11, 9, 7, 9, 7, 9, 7], "increase")
    assert idx(run.run) == [0, 1, 2, 4, 5, 6, 7]


def test_latest_point_missing_uses_the_latest_observed_point():
    assert xmr([1, 1, 4, 1, 36, np.nan], "increase").variation == "special cause improvement"


@pytest.mark.parametrize("values", [[], [5.0], [np.nan, 5.0, np.nan]])
def test_fewer_than_two_points_have_no_limits(values):
    r = xmr(values, "increase", target=3)
    assert len(r.values) == len(values)
    assert np.isnan(r.upper).all() and np.isnan(r.lower).all() and not r.special_cause.any()
    assert r.variation is None and r.assurance is None and r.limits_are_trial.all()


def test_two_points():
    # 5, 7: mean 6, mR 2, limits 6 -/+ 5.32 = 0.68, 11.32 (trial).
    r = xmr([5, 7], "increase")
    assert r.lower == pytest.approx([0.68, 0.68]) and r.upper == pytest.approx([11.32, 11.32])
    assert r.limits_are_trial.all() and r.variation == "common cause"


def test_all_equal_values():
    r = xmr([4] * 12, "increase", target=4)
    assert r.mean_moving_range == 0 and (r.lower == 4).all() and (r.upper == 4).all()
    assert not r.special_cause.any() and r.variation == "common cause" and not r.limits_are_trial.any()
    assert r.assurance == "hit and miss"
    assert xmr([4] * 12, "increase", target=5).assurance == "consistently fail"
    assert xmr([4] * 12, "increase", target=3).assurance == "consistently pass"


def test_baseline_fixes_the_limits():
    # Limits from 10, 14, 10, 14 (mean 12, mR-bar 4: 1.36 to 22.64), applied to 30.
    r = xmr([10, 14, 10, 14, 30], "increase", baseline=4)
    assert r.n_points == 4 and r.mean[0] == 12 and r.upper[0] == pytest.approx(22.64)
    assert idx(r.outside_limits) == [4] and r.limits_are_trial.all()


def test_screening_outlying_moving_ranges():
    # 0, 1 x 5, 0, 30: moving ranges 1 x 10 and 30 -> mR-bar 40/11 = 3.636; 30 >= 3.267 x 3.636
    # = 11.88 is screened out -> mR-bar 1; mean 35/12 = 2.9167; upper 2.9167 + 2.66 = 5.5767.
    values = [0, 1] * 5 + [0, 30]
    plain = xmr(values, "increase")
    screened = xmr(values, "increase", screen_outliers=True)
    assert plain.mean_moving_range == pytest.approx(40 / 11)
    assert screened.mean_moving_range == 1 and screened.upper[0] == pytest.approx(35 / 12 + 2.66)


def test_to_polars_has_one_row_per_point():
    frame = xmr([3, None, 5, 4, 6, 5], "increase").to_polars()
    assert frame.height == 6
    assert frame.columns == ["value", "moving_range", "mean", "lower", "upper", "near_lower", "near_upper",
                             "limits_are_trial", "outside_limits", "run", "trend", "two_of_three",
                             "special_cause", "direction"]
    assert frame["direction"].dtype == pl.String


def test_bad_improvement_direction():
    with pytest.raises(ValueError):
        xmr([1, 2, 3], "up")


# --- the vectorised rules against a slow, literal reading of them -------------------------

def _reference_flags(y, mean, lower, upper, near_lower, near_upper):
    """Each rule read literally, window by window, on a series without gaps."""
    n = len(y)
    side = [0 if v == mean else (1 if v > mean else -1) for v in y]
    outside = [v > upper or v < lower for v in y]
    close = [not outside[i] and (y[i] > near_upper or y[i] < near_lower) for i in range(n)]
    run = [False] * n
    for s in range(n - 6):
        if side[s] != 0 and all(side[s + k] == side[s] for k in range(7)):
            for k in range(7):
                run[s + k] = True
    trend = [False] * n
    for s in range(n - 6):
        if all(y[s + k + 1] > y[s + k] for k in range(6)) or all(y[s + k + 1] < y[s + k] for k in range(6)):
            for k in range(7):
                trend[s + k] = True
    two = [False] * n
    for s in range(n - 2):
        w = range(s, s + 3)
        if abs(sum(side[i] for i in w)) == 3 and sum(close[i] for i in w) >= 2:
            for i in w:
                two[i] = two[i] or close[i]
    return outside, run, trend, two


def test_vectorised_rules_match_a_literal_reading_on_random_series():
    rng = np.random.default_rng(20240601)
    for _ in range(400):
        n = int(rng.integers(2, 40))
        # Small integers with drifts: plenty of ties, runs, trends and points on the mean.
        y = (rng.integers(0, 6, n) + np.cumsum(rng.integers(-1, 2, n)) * rng.integers(0, 3)).astype(float)
        r = xmr(y, "increase")
        expected = _reference_flags(y.tolist(), r.mean[0], r.lower[0], r.upper[0], r.near_lower[0],
                                    r.near_upper[0])
        got = (r.outside_limits, r.run, r.trend, r.two_of_three)
        for name, want, have in zip(("outside", "run", "trend", "two"), expected, got):
            assert have.tolist() == want, (name, y.tolist())
        assert r.special_cause.tolist() == [any(f) for f in zip(*expected)]


def test_thousands_of_points_are_quick():
    import time

    y = np.random.default_rng(1).normal(50, 5, 20_000)
    start = time.perf_counter()
    r = xmr(y, "decrease", target=30)
    assert time.perf_counter() - start < 1.0
    # sigma 5 -> limits near 50 -/+ 15; a target of 30 is below the lower limit, unreachable
    # when lower is better.
    assert r.values.size == 20_000 and r.assurance == "consistently fail"


# ============================================================================================
# Disclosure control
# ============================================================================================

def test_primary_suppression_of_one_to_five():
    table = pl.DataFrame({"area": ["A"], "n0": [0], "n1": [1], "n5": [5], "n6": [6], "gone": [None]},
                         schema_overrides={"gone": pl.Int64})
    out = suppress_counts(table, ["n0", "n1", "n5", "n6", "gone"])
    assert out.row(0) == ("A", "0", "c", "c", "6", None)
    assert out["area"].dtype == pl.String and out["n6"].dtype == pl.String


def test_secondary_suppression_hides_the_next_smallest_non_zero_part():
    table = pl.DataFrame({
        "area": ["A", "B", "C", "D", "E", "F", "G"],
        "neglect": [0, 2, 3, 3, 3, 4, 3],
        "emotional": [3, 4, 8, 0, None, 0, 12],
        "physical": [12, 10, 8, 0, 10, 0, 20],
        "sexual": [7, 10, 20, 0, 10, 0, 0],
        "total": [22, 26, 39, 9, 23, 4, 35],
    })
    out = suppress_counts(table, ["neglect", "emotional", "physical", "sexual"], "total")
    # A: 0, 3, 12, 7 / 22: 3 hidden; 22 - 0 - 12 - 7 would give it back, so the smallest
    #    non-zero shown part, 7, goes too (not the 0: c + 0 would still be 3).
    assert out.row(0) == ("A", "0", "c", "12", "c", "22")
    # B: 2 and 4 both hidden already: the total reveals only their sum (6). Nothing more.
    assert out.row(1) == ("B", "c", "c", "10", "10", "26")
    # C: 3 hidden; 8 and 8 tie for smallest: the first (emotional) goes.
    assert out.row(2) == ("C", "c", "c", "8", "20", "39")
    # D: 3, 0, 0, 0 / 9 (a part not listed): no non-zero part to hide, so the total goes.
    assert out.row(3) == ("D", "c", "0", "0", "0", "c")
    # E: a part is null (not shown): the hidden 3 cannot be recovered, nothing more.
    assert out.row(4) == ("E", "c", None, "10", "10", "23")
    # F: total 4 is itself 1-5: hidden by the primary rule.
    assert out.row(5) == ("F", "c", "0", "0", "0", "c")
    # G: 3 hidden; the smallest non-zero shown part is 12 (the 0 is skipped).
    assert out.row(6) == ("G", "c", "c", "20", "0", "35")


def test_without_a_total_there_is_no_secondary_suppression():
    out = suppress_counts(pl.DataFrame({"a": [3], "b": [7]}), ["a", "b"])
    assert out.row(0) == ("c", "7")


def test_suppress_counts_accepts_float_counts_and_refuses_fractions():
    assert suppress_counts(pl.DataFrame({"a": [3.0, 12.0]}), ["a"])["a"].to_list() == ["c", "12"]
    with pytest.raises(ValueError):
        suppress_counts(pl.DataFrame({"a": [2.5]}), ["a"])


def test_rates_from_suppressed_counts_are_blanked():
    table = pl.DataFrame({
        "numerator": [12, 3, 0, 40, 0],
        "denominator": [200, 40, 4, 200, 0],
        "value": [6.0, 7.5, 0.0, 20.0, None],
        "ci95_low": [3.5, 2.6, 0.0, 15.0, None],
        "value_note": [None, None, None, None, "x: not available"],
    })
    out = suppress_rates(table, ["value", "ci95_low"], "numerator", "denominator")
    # row 1: numerator 3; row 2: denominator 4 -> blanked with reason c. Row 4 keeps its own note.
    assert out["value"].to_list() == [6.0, None, None, 20.0, None]
    assert out["ci95_low"].to_list() == [3.5, None, None, 15.0, None]
    assert out["value_note"].to_list() == [None, SUPPRESSED_NOTE, SUPPRESSED_NOTE, None, "x: not available"]
    assert SUPPRESSED_NOTE.startswith("c:")
    assert out["numerator"].to_list() == table["numerator"].to_list()  # counts: suppress_counts' job


def test_secondary_suppression_reaches_the_rates_when_done_in_order():
    # Plans by category with the share of all plans: neglect 3 is hidden by the primary rule and
    # physical 7 by the secondary rule, so both percentages must go too.
    table = pl.DataFrame({"category": ["neglect", "emotional", "physical"],
                          "plans": [3, 12, 7], "all_plans": [22, 22, 22]})
    table = table.with_columns(pct=pl.col("plans") / pl.col("all_plans") * 100)
    wide = pl.DataFrame({"neglect": [3], "emotional": [12], "physical": [7], "total": [22]})
    shown = suppress_counts(wide, ["neglect", "emotional", "physical"], "total")
    assert shown.row(0) == ("c", "12", "c", "22")
    long = table.with_columns(plans=pl.Series(list(shown.select("neglect", "emotional", "physical").row(0))))
    out = suppress_rates(long, ["pct"], "plans", "all_plans", note_column=None)
    assert out["pct"].to_list() == [None, pytest.approx(12 / 22 * 100), None]
    assert "value_note" not in out.columns


def test_text_value_columns_get_the_symbol():
    table = pl.DataFrame({"n": ["c", "14"], "d": ["20", "20"], "pct": ["15.0", "70.0"]})
    out = suppress_rates(table, ["pct"], "n", "d", note_column=None)
    assert_frame_equal(out, pl.DataFrame({"n": ["c", "14"], "d": ["20", "20"], "pct": ["c", "70.0"]}))


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (2.5, 0, 3.0),        # round(2.5) == 2 (half to even)
    (3.5, 0, 4.0),
    (0.5, 0, 1.0),        # round(0.5) == 0
    (-2.5, 0, -3.0),      # symmetric: half away from zero
    (-0.125, 2, -0.13),
    (0.125, 2, 0.13),     # round(0.125, 2) == 0.12
    (2.675, 2, 2.68),     # the float is 2.67499999...: round() gives 2.67
    (1.005, 2, 1.01),     # round() gives 1.0
    (53.0702, 0, 53.0),   # 121 / 228 = 53.07%
    (30.0068, 1, 30.0),   # 1,765 / 5,882
    (1235, -1, 1240.0),   # nearest 10, as national counts are published
    (1234, -1, 1230.0),
    (7, 2, 7.0),
])
def test_round_half_up(value, digits, expected):
    got = round_half_up(value, digits)
    assert isinstance(got, float) and got == expected


def test_round_half_up_arrays_and_missing():
    got = round_half_up(np.array([0.125, 2.675, np.nan]), 2)
    assert got[:2].tolist() == [0.13, 2.68] and np.isnan(got[2])
    assert round_half_up([2.5, None])[0] == 3.0 and math.isnan(round_half_up([2.5, None])[1])
    assert math.isnan(round_half_up(None)) and round_half_up(float("inf")) == float("inf")
    assert round_half_up(np.float64(2.5)) == 3.0
