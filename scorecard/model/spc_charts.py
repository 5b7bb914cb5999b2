"""SPC charts (Making Data Count) of each partnership area's series: which series each indicator
is charted on, and the chart's points, limits, special causes, variation and assurance.

Each indicator is charted on the series DOMAIN.md ("Statistical process control: which
series") asks for: its monthly values in an XmR chart; a rolling average's monthly counts
instead of the average (overlapping windows are not independent points); a stock counted once
a year as yearly points in a run chart. Assurance compares the target with the charted series
in its own unit and period: a count target set for a year is divided by 12 for a monthly chart,
and the chart says so.

``spc_points`` computes them, over every point or over the points up to a date: the build
writes the first as ``marts.spc`` (scorecard.transform.spc), a report as at an earlier date
draws the second (scorecard.publish.marts), so both use the same series and the same methods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import polars as pl

from scorecard.model.catalogue import INDICATORS, Indicator
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.model.statistics import round_half_up, run_chart, xmr

SPC_POINTS = 24  # the window Making Data Count charts usually show: two years of months (or 24 years)
RULE_NAMES = {"outside_limits": "outside limits", "run": "run of 7", "trend": "trend of 7",
              "two_of_three": "2 of 3 near a limit"}
RUN_CHART_RULE_NAMES = {"shift": "shift of 6", "trend": "trend of 5"}
MONTHS_IN = {"month": 1, "quarter": 3, "financial_year": 12, "academic_year": 12}
PERIOD_WORDS = {"month": "monthly", "quarter": "quarterly", "financial_year": "annual", "academic_year": "annual"}
PER_PERIOD = {"month": "a month", "quarter": "a quarter", "financial_year": "a year", "academic_year": "a year"}

# The points each indicator is charted on: its own values for the period type ``spc_plans``
# names, or the monthly counts of the measure it names (summed over breakdowns; from the
# first source in precedence order that has them). ``spc_plans`` is the frame of plans.
SERIES_SQL = f"""
    with own_values as (
        select values.partnership, values.area_code, values.indicator_id, values.period_label,
            values.period_end, values.value
        from marts.indicator_values as values
        inner join spc_plans as plans
            on plans.indicator_id = values.indicator_id and plans.period_type = values.period_type
        where values.partnership is not null and plans.measure is null
    ),

    measure_counts as (
        select areas.partnership, periods.area_code, plans.indicator_id, periods.period_label,
            periods.period_end, sources.precedence,
            case when bool_and(periods.count is not null) then sum(periods.count) end::double as value
        from core.observation_periods as periods
        inner join spc_plans as plans
            on plans.measure = periods.measure and plans.period_type = periods.period_type
        inner join core.areas as areas on areas.area_code = periods.area_code
        inner join core.sources as sources on sources.source = periods.source
        where areas.partnership is not null
        group by all
    ),

    measure_values as (
        select partnership, area_code, indicator_id, period_label, period_end, value
        from measure_counts
        qualify row_number() over (partition by indicator_id, area_code, period_end
                                   order by value is null, precedence) = 1
    ),

    points as (
        select * from own_values
        union all
        select * from measure_values
    )

    select points.*, indicators.polarity, targets.target_value
    from points
    inner join marts.indicators as indicators using (indicator_id)
    left join marts.targets as targets using (indicator_id, area_code)
    -- A report as at an earlier date charts the points up to that date (null: every point).
    where cast($as_at as date) is null or points.period_end <= cast($as_at as date)
    qualify row_number() over (partition by points.indicator_id, points.area_code
                               order by points.period_end desc) <= {SPC_POINTS}
    order by points.indicator_id, points.area_code, points.period_end
"""


@dataclass(frozen=True)
class SpcPlan:
    """How one indicator is charted."""

    indicator: Indicator
    period_type: str
    measure: str | None
    chart: str  # xmr or run
    series: str  # what the points are, in words, for the chart and the analyst
    target_scale: float  # the target on the charted series' scale = target x target_scale

    def target_basis(self, target: float | None) -> str | None:
        """How the target shown is compared with the series, when it is not as the strategy set it."""
        if target is None or self.target_scale == 1:
            return None
        headline = self.indicator.headline_period_type
        return (f"The {PERIOD_WORDS[headline]} target of {round_half_up(target, 0) + 0.0:,.0f} "
                f"{self.indicator.unit} is compared as {round_half_up(target * self.target_scale, 1) + 0.0:,.1f} "
                f"{PER_PERIOD[self.period_type]} (divided by {MONTHS_IN[headline] // MONTHS_IN[self.period_type]}).")


def spc_plan(indicator: Indicator) -> SpcPlan:
    period_type, measure = indicator.spc_period_type, indicator.spc_measure
    chart = "xmr" if period_type in ("month", "quarter") else "run"
    if measure is not None:
        series = (f"{PERIOD_WORDS[period_type].capitalize()} counts of {measure.replace('_', ' ')}, not the "
                  f"{indicator.name.lower()}: a rolling average's points overlap, so they are not independent.")
    elif chart == "run":
        series = (f"{PERIOD_WORDS[period_type].capitalize()} values (counted once a year): a run chart around "
                  "the median, as too few points for process limits.")
    else:
        series = f"{PERIOD_WORDS[period_type].capitalize()} values."
    # A count summed over a shorter period than its target's is compared with the target's share
    # of that period; a percentage, a rate or a stock needs no such change.
    scale = 1.0
    if (indicator.interval_method[0] == "count" and not indicator.stock
            and period_type != indicator.headline_period_type):
        scale = MONTHS_IN[period_type] / MONTHS_IN[indicator.headline_period_type]
    return SpcPlan(indicator, period_type, measure, chart, series, scale)


SPC_PLANS = {indicator.indicator_id: spc_plan(indicator) for indicator in INDICATORS}


def chart_points(plan: SpcPlan, group: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """The chart's columns for one area's points, and its summary (variation and assurance)."""
    improvement = "decrease" if group["polarity"][0] == "lower_is_better" else "increase"
    values = group["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    stated = group["target_value"][0]
    stated = None if stated is None else float(stated)
    target = None if stated is None else stated * plan.target_scale
    if plan.chart == "xmr":
        result = xmr(values, improvement, target=target)
        chart = result.to_polars()
        rules = [", ".join(label for flag, label in RULE_NAMES.items() if row[flag]) or None
                 for row in chart.iter_rows(named=True)]
        columns = dict(mean=chart["mean"], lower_limit=chart["lower"], upper_limit=chart["upper"],
                       trial_limits=chart["limits_are_trial"], special_cause=chart["special_cause"],
                       special_cause_direction=chart["direction"])
        summary = {"variation": result.variation, "assurance": result.assurance}
    else:
        result = run_chart(values, improvement)
        rules = [", ".join(label for flag, label in RUN_CHART_RULE_NAMES.items() if getattr(result, flag)[i]) or None
                 for i in range(len(values))]
        none = pl.Series([None] * len(values), dtype=pl.Float64)
        columns = dict(mean=pl.Series([result.median] * len(values), dtype=pl.Float64), lower_limit=none,
                       upper_limit=none, trial_limits=pl.Series([False] * len(values)),
                       special_cause=pl.Series(result.special_cause),
                       special_cause_direction=pl.Series(result.direction.tolist(), dtype=pl.String))
        summary = {"variation": result.variation, "assurance": None}  # no limits, no assurance
    frame = group.select("partnership", "area_code", "indicator_id", "period_label", "period_end",
                         "value").with_columns(
        **columns, special_cause_rules=pl.Series(rules, dtype=pl.String),
        chart=pl.lit(plan.chart), series=pl.lit(plan.series),
        target_value=pl.lit(target, dtype=pl.Float64),
        target_basis=pl.lit(plan.target_basis(stated), dtype=pl.String),
        value_unit=pl.lit("count" if plan.measure else plan.indicator.unit),
    ).with_columns(pl.col("mean", "lower_limit", "upper_limit").fill_nan(None))
    return frame, summary



def spc_points(conn: duckdb.DuckDBPyConnection, as_at: date | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the ``marts.spc`` rows, the ``core.spc_summary`` rows) of every partnership area's series,
    computed on its points up to ``as_at`` (None: every point). Reads only, so a read-only
    connection to the published warehouse will do (the plans are a temporary table)."""
    conn.execute("create or replace temp table spc_plans (indicator_id varchar, period_type varchar, "
                 "measure varchar)")
    conn.executemany("insert into spc_plans values (?, ?, ?)",
                     [(p.indicator.indicator_id, p.period_type, p.measure) for p in SPC_PLANS.values()])
    series = conn.execute(SERIES_SQL, {"as_at": as_at}).pl()
    points, summaries = [], []
    for (indicator_id, area_code), group in series.group_by(["indicator_id", "area_code"], maintain_order=True):
        frame, summary = chart_points(SPC_PLANS[indicator_id], group)
        points.append(frame)
        summaries.append({"indicator_id": indicator_id, "area_code": area_code, **summary})
    frame = (pl.concat(points, how="vertical_relaxed") if points
             else pl.DataFrame(schema={c: pl.String for c in MARTS_BY_NAME["marts.spc"].columns}))
    summary = pl.DataFrame(summaries, schema={"indicator_id": pl.String, "area_code": pl.String,
                                              "variation": pl.String, "assurance": pl.String})
    return frame, summary
