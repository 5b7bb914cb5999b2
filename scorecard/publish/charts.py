"""Charts for the performance sub-committees: one per indicator and area, plus an index page.

Each chart shows the indicator's headline series against the strategy's baseline, target and
straight-line trajectory, says which direction is good and carries the strategy's note. Where
the warehouse has them it also shows the 95% confidence interval around the series (a faint
band) and, for a percentage or a rate, England's and the statistical neighbours' median values
as thin reference lines (a count is not comparable between areas).
Where ``marts.spc`` has monthly points for the area, a companion XmR chart (Making Data Count
colours and rules) is drawn as ``<area>/<indicator>_spc``. Each chart is written twice: an
HTML file (loading the folder's one copy of plotly.js: council networks block CDNs) and a PNG
for pasting into committee papers. ``index.html`` lists every chart with the
latest value and RAG from ``marts.scorecard``, as plain HTML that needs no JavaScript.

Everything comes from the marts (``scorecard.publish.marts``, read once) with the one disclosure
rule applied (``scorecard.publish.disclosure``); nothing personal is in them (aggregate figures
only). Figures are plain dicts in plotly's figure format, the pages Jinja2 templates.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import os
import shutil
import textwrap
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb
import plotly.io as pio
from markupsafe import Markup
from plotly.io.json import to_json_plotly

from scorecard.model.catalogue import INDICATORS, comparable_between_areas
from scorecard.publish.breakdown_charts import (
    Breakdown,
    breakdown_figure_parts,
    breakdown_title,
    disclosed,
    read_breakdowns,
)
from scorecard.publish.disclosure import Disclosure
from scorecard.publish.formatting import format_value, period_label_for, value_axis_margin
from scorecard.publish.images import EmbeddableCharts
from scorecard.publish.marts import BenchmarkPoint, IndicatorInfo, Marts, Point, Score, SpcPoint, Target, read_marts
from scorecard.publish.pages import render
from scorecard.publish.png_renderer import (
    MANIFEST,
    PNG_HEIGHT,
    PNG_TIMEOUT,
    PNG_WIDTH,
    ChartsWritten,
    PngOutcome,
    PngRenderer,
    can_write_charts,
    find_browser,
    read_manifest,
    require_browser,
)

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
BLUE, VERMILLION, GREY, TEXT = "#0072B2", "#D55E00", "#555555", "#222222"
FONT_FAMILY = "Arial, Helvetica, sans-serif"
BASE_FONT, TITLE_FONT, SMALL_FONT = 17, 22, 15
# Reference lines and the confidence band: quieter than the series they sit behind.
ENGLAND_COLOUR, NEIGHBOURS_COLOUR = "#444444", "#009E73"
CI_FILL, CI_EDGE = "rgba(0, 114, 178, 0.13)", "rgba(0, 114, 178, 0.30)"
ENGLAND_NAME, NEIGHBOURS_NAME, CI_NAME = ("England", "Statistical neighbours (median)",
                                          "95% confidence interval")
# Making Data Count / NHSRplotthedots palette for SPC charts.
SPC_COMMON, SPC_IMPROVEMENT, SPC_CONCERN, SPC_NEITHER = "#7B7D7D", "#289de0", "#fab428", "#361475"
SPC_MEAN, SPC_LIMITS, SPC_TARGET = "#000000", "#7B7D7D", "#de1b1b"
SPC_MARGIN_RIGHT = 120  # room for the labels of the mean and limits at the right-hand end

# Pixel layout (heights are fixed, so paper fractions can be computed from them).
MARGIN_TOP, MARGIN_SIDE, AXIS_BAND, LEGEND_BAND, LINE_HEIGHT = 88, 80, 62, 34, 21
NOTE_WRAP = 105  # characters per footnote line at SMALL_FONT across ~1000 px
LABEL_EVERY_POINT_UP_TO = 8  # more points than this: label only the latest value
DENSE_POINTS = 36  # more points than this: a plain line, marker on the latest point only
MAX_TICKS = 8  # x-axis labels, so they fit side by side without turning
PERIOD_DAYS = {"month": 30.44, "financial_year": 365.25, "academic_year": 365.25}
MONTH_STEPS, YEAR_STEPS = (1, 2, 3, 6, 12, 24, 36, 60), (1, 2, 3, 5, 10)

# RAG is always written out too: colour alone fails colour-blind readers and greyscale print.
RAG_COLOURS = {"green": "#1a9641", "amber": "#f39c12", "red": "#d7191c",
               "no target": "#999999", "no data": "#cccccc"}
X_TITLES = {"financial_year": "Financial year (April to March)",
            "academic_year": "Academic year (September to August)", "month": "Month"}
INDICATOR_ORDER = {indicator.indicator_id: i for i, indicator in enumerate(INDICATORS)}


@dataclass(frozen=True)
class ChartFile:
    indicator_id: str
    area_code: str
    html: Path
    png: Path | None
    # The companion SPC chart (<area>/<indicator>_spc.*) when marts.spc has points for the pair.
    spc_html: Path | None = None
    spc_png: Path | None = None
    # The chart by breakdown (<area>/<indicator>_by_breakdown.*) when marts.indicator_breakdowns has it.
    parts_html: Path | None = None
    parts_png: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        return tuple(p for p in (self.html, self.png, self.spc_html, self.spc_png, self.parts_html, self.parts_png)
                     if p is not None)


@dataclass(frozen=True)
class Series:
    """What one chart is drawn from: an area's headline series, with disclosure control applied."""
    indicator: IndicatorInfo
    area_code: str
    area_name: str
    partnership: str
    points: tuple[Point, ...]
    target: Target | None
    benchmarks: tuple[BenchmarkPoint, ...] = ()
    spc: tuple[SpcPoint, ...] = ()

    @property
    def drawn_target(self) -> Target | None:
        """The target when it can be drawn (both ends of the trajectory known), else None."""
        return self.target if self.target is not None and self.target.complete else None


def chart_series(marts: Marts, disclosure: Disclosure) -> list[Series]:
    """Headline series of every partnership area's indicators with at least one value to draw
    (benchmark areas such as England are in the marts but get no chart of their own).

    A value the disclosure rule hides is left out (with its interval), and so is an SPC point
    made from a count of 1 to 5: no chart reveals a suppressed count."""
    series = []
    for key, values in marts.series.items():
        indicator = marts.indicators[key[0]]
        if not indicator.shown_for(values.partnership):
            continue  # (another partnership's own indicator)
        unit = indicator.unit
        points = tuple(replace(p, value=None, numerator=None, denominator=None, ci_low=None, ci_high=None)
                       if disclosure.hides(unit, p.value, p.numerator, p.denominator) else p
                       for p in values.points)
        if all(point.value is None for point in points):
            continue
        spc = tuple(replace(p, value=None, special_cause=False)
                    if disclosure.hides(p.value_unit or unit, p.value, *marts.month_counts(key, p.label)) else p
                    for p in marts.spc.get(key, ()))
        series.append(Series(indicator, values.area_code, values.area_name, values.partnership, points,
                             marts.targets.get(key), marts.benchmarks.get(key, ()), spc))
    return series


# --- formatting ----------------------------------------------------------------------------


def axis_title(unit: str) -> str:
    return "Per cent (%)" if unit == "%" else unit[:1].upper() + unit[1:]


def plot_text(text: str) -> str:
    """Plotly reads a subset of HTML in text: escape data so it shows as written."""
    return html.escape(text, quote=False)


def polarity_text(indicator: IndicatorInfo) -> str:
    return "▼ Lower is better" if indicator.lower_is_better else "▲ Higher is better"


# --- one chart -----------------------------------------------------------------------------


def chart_title(series: Series) -> str:
    return f"{series.indicator.name} — {series.area_name}"


def footnotes(series: Series) -> list[str]:
    """Lines under the plot: the strategy's note and whether the target is only illustrative."""
    lines: list[str] = []
    if series.target is not None and series.target.note:
        lines += textwrap.wrap(f"Note: {series.target.note}", NOTE_WRAP)
    if series.drawn_target is not None and series.drawn_target.illustrative:
        lines += textwrap.wrap("Illustrative target: the strategy states no figure, so the "
                               "target shown is only an illustration.", NOTE_WRAP)
    return lines


# Figures are plain dicts in plotly's figure format, which plotly.io and kaleido take as they are:
# building plotly's objects checks every property as it is set (the charts step was the longest
# of a build). tests/test_charts.py passes every figure through ``plotly.graph_objects.Figure``,
# which checks them, so a misspelt property still fails a test.


def scatter(**properties) -> dict:
    return {"type": "scatter", **properties}


def figure(traces: list[dict], layout: dict) -> dict:
    """The figure, on the cut-down template (``chart_template``)."""
    return {"data": traces, "layout": {"template": chart_template(), **layout}}


def actual_trace(series: Series) -> dict:
    unit = series.indicator.unit
    points = series.points
    few, dense = len(points) <= LABEL_EVERY_POINT_UP_TO, len(points) > DENSE_POINTS
    latest = max(i for i, point in enumerate(points) if point.value is not None)
    target = series.drawn_target

    def label(i: int, point: Point) -> str:
        text = format_value(point.value, unit)
        # The baseline label already shows this figure; twice would only clutter.
        at_baseline = target is not None and point.end == target.baseline_date and (
            text == format_value(target.baseline_value, unit))
        return text if (few or i == latest) and point.value is not None and not at_baseline else ""

    labels = [label(i, point) for i, point in enumerate(points)]
    # Dense series (months over years) read better as a line, with the latest point marked.
    sizes = [0 if dense and i != latest else 9 for i in range(len(points))]
    return scatter(
        name="Actual", x=[p.end.isoformat() for p in points], y=[p.value for p in points],
        mode="lines+markers+text", text=labels, textposition="top center",
        textfont={"size": SMALL_FONT, "color": BLUE},
        line={"color": BLUE, "width": 3},
        # Opacity and outline set: plotly fades a marker whose size is a list (a "bubble").
        marker={"color": BLUE, "size": sizes, "opacity": 1, "line": {"width": 0}},
        customdata=[f"{p.label}: {format_value(p.value, unit)}{ci_hover(p, unit)}" for p in points],
        hovertemplate="%{customdata}<extra></extra>",
    )


def target_labels(series: Series) -> tuple[str, str]:
    """'Baseline 2014/15: 30.0%' and 'Target: 20.0% by 2018/19'."""
    target, indicator = series.drawn_target, series.indicator
    unit, period_type = indicator.unit, indicator.headline_period_type
    baseline_period = target.baseline_period or period_label_for(target.baseline_date, period_type)
    due = period_label_for(target.target_date, period_type)
    return (f"Baseline {baseline_period}: {format_value(target.baseline_value, unit)}",
            f"{target_name(target)}: {format_value(target.target_value, unit)} by {due}")


def target_name(target: Target) -> str:
    return "Target (illustrative)" if target.illustrative else "Target"


def target_traces(series: Series) -> list[dict]:
    """Trajectory line from baseline to target, then the baseline and target markers."""
    target = series.drawn_target
    assert target is not None
    baseline_text, target_text = target_labels(series)
    return [
        scatter(
            name="Trajectory to target", mode="lines", hoverinfo="skip",
            x=[target.baseline_date.isoformat(), target.target_date.isoformat()],
            y=[target.baseline_value, target.target_value],
            line={"color": VERMILLION, "width": 2.5, "dash": "dash"},
        ),
        scatter(
            name="Baseline", mode="markers", x=[target.baseline_date.isoformat()],
            y=[target.baseline_value],
            marker={"symbol": "square-open", "size": 16, "color": GREY, "line": {"width": 3}},
            hovertemplate=plot_text(baseline_text) + "<extra></extra>",
        ),
        scatter(
            name=target_name(target), mode="markers", x=[target.target_date.isoformat()],
            y=[target.target_value],
            marker={"symbol": "diamond", "size": 18, "color": VERMILLION,
                    "line": {"width": 1.5, "color": "white"}},
            hovertemplate=plot_text(target_text) + "<extra></extra>",
        ),
    ]


def target_annotations(series: Series) -> list[dict]:
    """Labels of the baseline and target: unlike trace text, annotations are not clipped at the
    plot's edge, and they can lean inwards (baseline rightwards, target leftwards)."""
    target = series.drawn_target
    baseline_text, target_text = target_labels(series)
    # The target label goes on the better side of its marker and the baseline label on the
    # worse side: a series leaves its baseline and then mostly stays on one side of the
    # trajectory, so these sides are usually clear.
    better_is_below = series.indicator.lower_is_better
    return [{"x": x.isoformat(), "y": y, "text": plot_text(text), "showarrow": False, "xanchor": xanchor,
             "xshift": xshift, "yanchor": "top" if below else "bottom", "yshift": -12 if below else 12,
             "font": {"size": SMALL_FONT, "color": colour}, "bgcolor": "rgba(255,255,255,0.85)"}
            for text, x, y, below, xanchor, xshift, colour in (
                (baseline_text, target.baseline_date, target.baseline_value, not better_is_below,
                 "left", -8, GREY),
                (target_text, target.target_date, target.target_value, better_is_below,
                 "right", 10, VERMILLION))]


def runs(items: list, present) -> list[list]:
    """Consecutive items for which ``present(item)`` holds, as separate lists."""
    out: list[list] = [[]]
    for item in items:
        if present(item):
            out[-1].append(item)
        elif out[-1]:
            out.append([])
    return [run for run in out if run]


def ci_band_trace(series: Series) -> dict | None:
    """The 95% confidence interval as a faint band: one closed shape per unbroken run of
    periods with both limits (a lone period shows as a thin vertical whisker)."""
    bands = runs(list(series.points), lambda p: p.ci_low is not None and p.ci_high is not None)
    if not bands:
        return None
    xs: list[str | None] = []
    ys: list[float | None] = []
    for band in bands:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += [p.end.isoformat() for p in band] + [p.end.isoformat() for p in reversed(band)]
        ys += [p.ci_high for p in band] + [p.ci_low for p in reversed(band)]
    return scatter(
        name=CI_NAME, x=xs, y=ys, mode="lines", fill="toself", fillcolor=CI_FILL,
        line={"color": CI_EDGE, "width": 1}, hoverinfo="skip",
        # A legend symbol like the band itself, not a line.
        legendgroup="ci",
    ) if any(y is not None for y in ys) else None


def ci_hover(point: Point, unit: str) -> str:
    if point.ci_low is None or point.ci_high is None:
        return ""
    return f" (95% CI {format_value(point.ci_low, unit)} to {format_value(point.ci_high, unit)})"


def benchmark_traces(series: Series) -> list[dict]:
    """England and the statistical neighbours' median as thin reference lines, for a percentage or
    a rate; a count is not set beside them (the scorecard says "not compared" too)."""
    unit = series.indicator.unit
    if not comparable_between_areas(unit):
        return []
    first, last = min(p.end for p in series.points), max(p.end for p in series.points)
    # Only over the area's own periods: the chart is about the area, England is the reference.
    benchmarks = [b for b in series.benchmarks if first <= b.end <= last]
    traces = []
    for name, colour, dash, attribute in (
            (ENGLAND_NAME, ENGLAND_COLOUR, "dot", "england"),
            (NEIGHBOURS_NAME, NEIGHBOURS_COLOUR, "dashdot", "neighbours")):
        if all(getattr(b, attribute) is None for b in benchmarks):
            continue
        traces.append(scatter(
            name=name, mode="lines+markers", x=[b.end.isoformat() for b in benchmarks],
            y=[getattr(b, attribute) for b in benchmarks],
            line={"color": colour, "width": 1.6, "dash": dash},
            marker={"color": colour, "size": 5, "opacity": 1},
            customdata=[f"{name} {b.label}: {format_value(getattr(b, attribute), unit)}"
                        for b in benchmarks],
            hovertemplate="%{customdata}<extra></extra>",
        ))
    return traces


def legend_rows(names: list[str], width: int) -> int:
    """How many rows plotly's horizontal legend wraps to (estimated from the text length)."""
    rows, used = 1, 0.0
    for name in names:
        item = 46 + len(name) * SMALL_FONT * 0.52
        if used and used + item > width:
            rows, used = rows + 1, 0.0
        used += item
    return rows


def tick_step(series: Series, days: list[date]) -> int:
    """Label every period, or every 2nd, 3rd, 6th, 12th ... so at most MAX_TICKS fit."""
    period_days = PERIOD_DAYS.get(series.indicator.headline_period_type, 365.25)
    periods = (max(days) - min(days)).days / period_days + 1
    steps = MONTH_STEPS if series.indicator.headline_period_type == "month" else YEAR_STEPS
    return next((step for step in steps if periods / step <= MAX_TICKS), steps[-1])


def x_ticks(series: Series) -> tuple[list[str], list[str]]:
    """Ticks labelled by period: every ``step``-th period counting back from the latest (so the
    latest is labelled and the spacing is even), then the target and baseline dates when they
    do not crowd those (their own labels name their periods anyway)."""
    period_type = series.indicator.headline_period_type
    target = series.drawn_target
    ends = [point.end for point in series.points]
    step = tick_step(series, ends + ([target.baseline_date, target.target_date] if target else []))
    priority = ends[::-1][::step] + ([target.target_date, target.baseline_date] if target else [])
    min_gap = timedelta(days=PERIOD_DAYS.get(period_type, 365.25) * step * 0.6)
    chosen: list[date] = []
    for day in priority:
        if all(abs(day - other) >= min_gap for other in chosen):
            chosen.append(day)
    chosen.sort()
    return [d.isoformat() for d in chosen], [period_label_for(d, period_type) for d in chosen]


def x_range(series: Series) -> list[str]:
    """The period ends, stretched to the target date, with room for the end markers' labels."""
    days = [point.end for point in series.points]
    if (target := series.drawn_target) is not None:
        days += [target.baseline_date, target.target_date]
    first, last = min(days), max(days)
    pad = max(timedelta(days=45), (last - first) * 0.07)
    return [(first - pad).isoformat(), (last + pad).isoformat()]


# Parts of a template that only other kinds of chart (maps, 3-D, polar, colour scales) use.
_UNUSED_TEMPLATE_LAYOUT = ("polar", "ternary", "scene", "geo", "coloraxis", "colorscale")


@functools.cache
def chart_template() -> dict:
    """Plotly's ``simple_white`` template, cut to what these charts use: its layout and its
    defaults for scatter traces, the only kind drawn. Every figure copies its template, and the
    whole one (defaults for 24 kinds of trace) made up half the time of building a figure; the
    PNGs are byte for byte the same."""
    full = pio.templates["simple_white"]
    layout = {k: v for k, v in full.layout.to_plotly_json().items() if k not in _UNUSED_TEMPLATE_LAYOUT}
    # Automargin off: these charts set their margins (``_chart_layout``), and plotly's automargin
    # only laid every chart out a second time, to the same pixels (a sixth of drawing a PNG).
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**layout[axis], "automargin": False}
    return {"layout": layout, "data": {"scatter": full.data.to_plotly_json()["scatter"]}}


def build_figure(series: Series) -> dict:
    indicator = series.indicator
    target = series.drawn_target
    has_target = target is not None
    band = ci_band_trace(series)
    # Behind the series: the band, then the reference lines; the series and target on top.
    traces = ([band] if band is not None else []) + benchmark_traces(series) + [
        actual_trace(series)] + (target_traces(series) if has_target else [])
    subtitle = polarity_text(indicator)
    if not has_target:
        subtitle += "   ·   No target set"
    elif target.illustrative:
        subtitle += "   ·   Illustrative target"
    tickvals, ticktext = x_ticks(series)
    return figure(traces, _chart_layout(
        chart_title(series), subtitle, traces, 30, footnotes(series), indicator.unit,
        xaxis=dict(
            type="date", range=x_range(series), tickvals=tickvals, ticktext=ticktext,
            title={"text": X_TITLES.get(indicator.headline_period_type, ""), "standoff": 6,
                   "font": {"size": SMALL_FONT, "color": GREY}},
            showgrid=True, gridcolor="#e5e5e5", ticks="outside", tickangle=0,
        ),
        value_gridcolor="#e5e5e5", annotations=target_annotations(series) if has_target else []))


def _chart_layout(title: str, subtitle: str, traces: list[dict], margin_right: int, notes: list[str],
                  unit: str, xaxis: dict, value_gridcolor: str, annotations: list[dict]) -> dict:
    """The layout both kinds of chart share: the title and subtitle above the plot; below it the
    x-axis, a horizontal legend (as many rows as its names wrap to) and the notes, the bottom
    margin sized to hold them; at the left, room for the value axis's labels and title."""
    legend_names = [t["name"] for t in traces if t.get("showlegend") is not False]
    # (plotly's automargin is off, chart_template: an axis title with no room would cover the labels)
    left = value_axis_margin([v for t in traces for v in t.get("y") or ()], unit, BASE_FONT, least=MARGIN_SIDE)
    legend_band = LEGEND_BAND + 28 * (legend_rows(legend_names, PNG_WIDTH - left - margin_right) - 1)
    margin_bottom = AXIS_BAND + legend_band + LINE_HEIGHT * len(notes) + 12
    plot_height = PNG_HEIGHT - MARGIN_TOP - margin_bottom
    if notes:
        # Pixel offset below the axis and legend, so the note never overlaps them.
        annotations = [*annotations, dict(
            text="<br>".join(plot_text(line) for line in notes), showarrow=False,
            xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top", align="left",
            yshift=-(AXIS_BAND + legend_band), font={"size": SMALL_FONT, "color": TEXT},
        )]
    return dict(
        height=PNG_HEIGHT,
        margin={"t": MARGIN_TOP, "b": margin_bottom, "l": left, "r": margin_right},
        font={"family": FONT_FAMILY, "size": BASE_FONT, "color": TEXT},
        title={"text": plot_text(title), "x": 0, "xref": "paper",
               "font": {"size": TITLE_FONT},
               "subtitle": {"text": plot_text(subtitle), "font": {"size": BASE_FONT, "color": GREY}}},
        showlegend=True,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "yanchor": "top",
                "y": -AXIS_BAND / plot_height, "font": {"size": SMALL_FONT}},
        hovermode="closest",
        paper_bgcolor="white", plot_bgcolor="white",
        xaxis=xaxis,
        yaxis=dict(
            title={"text": plot_text(axis_title(unit))},
            ticksuffix="%" if unit == "%" else "", tickformat=",",
            showgrid=True, gridcolor=value_gridcolor, zeroline=False, rangemode="normal",
        ),
        **({"annotations": annotations} if annotations else {}),  # (as plotly's checks leave it)
    )


# --- the companion SPC chart -------------------------------------------------------------

SPC_CATEGORIES = (  # (legend name, colour) by the point's special-cause direction
    ("common", "Common cause variation", SPC_COMMON),
    ("improvement", "Special cause: improvement", SPC_IMPROVEMENT),
    ("concern", "Special cause: concern", SPC_CONCERN),
    ("neither", "Special cause: neither better nor worse", SPC_NEITHER),
)
SPC_RULES_NOTE = ("XmR chart (Making Data Count): the centre line is the mean; the process limits "
                  "are the mean ± 2.66 × the mean moving range. A coloured point is special cause "
                  "variation: outside the limits, a run of 7 on one side of the mean, a trend of 7 "
                  "rising or falling, or 2 of 3 points near a limit.")


def spc_category(point: SpcPoint) -> str:
    if not point.special_cause:
        return "common"
    direction = (point.direction or "").lower()
    return direction if direction in ("improvement", "concern") else "neither"


RUN_CHART_NOTE = ("Run chart: the centre line is the median; no process limits, as the points are too "
                  "few. A coloured point is special cause variation: a shift of 6 on one side of the "
                  "median, or a trend of 5 rising or falling.")


def spc_is_run_chart(series: Series) -> bool:
    return bool(series.spc) and series.spc[-1].chart == "run"


def spc_title(series: Series) -> str:
    if spc_is_run_chart(series):
        return f"{series.indicator.name} — {series.area_name}: yearly run chart (SPC)"
    return f"{series.indicator.name} — {series.area_name}: monthly variation (SPC)"


def spc_trial(series: Series) -> bool:
    return any(point.trial for point in series.spc)


def spc_ticks(points: tuple[SpcPoint, ...]) -> tuple[list[str], list[str]]:
    """Every k-th month counting back from the latest, so at most MAX_TICKS labels."""
    step = next((s for s in MONTH_STEPS if len(points) / s <= MAX_TICKS), MONTH_STEPS[-1])
    chosen = sorted(points[::-1][::step], key=lambda p: p.end)
    return [p.end.isoformat() for p in chosen], [p.label for p in chosen]


def spc_limit_traces(series: Series) -> list[dict]:
    """Mean and process limits, as step lines over the months (limits may be recalculated)."""
    points = series.spc
    unit = series.indicator.unit if series.indicator.unit == "%" else "per month"  # 1 dp
    x = [p.end.isoformat() for p in points]
    limits_name = "Trial process limits" if spc_trial(series) else "Process limits"
    traces = [scatter(
        name="Mean", mode="lines", x=x, y=[p.mean for p in points], hoverinfo="skip",
        line={"color": SPC_MEAN, "width": 1.6})]
    for i, (attribute, which) in enumerate((("upper", "Upper"), ("lower", "Lower"))):
        traces.append(scatter(
            name=limits_name, legendgroup="limits", showlegend=i == 0, mode="lines", x=x,
            y=[getattr(p, attribute) for p in points],
            line={"color": SPC_LIMITS, "width": 1.6, "dash": "dash"},
            customdata=[f"{which} limit: {format_value(getattr(p, attribute), unit)}"
                        for p in points],
            hovertemplate="%{customdata}<extra></extra>"))
    return traces


def spc_point_traces(series: Series) -> list[dict]:
    unit = series.indicator.unit
    points = series.spc
    traces = [scatter(
        name="Monthly value", showlegend=False, mode="lines", hoverinfo="skip",
        x=[p.end.isoformat() for p in points], y=[p.value for p in points],
        line={"color": SPC_COMMON, "width": 2})]
    for key, name, colour in SPC_CATEGORIES:
        chosen = [p for p in points if p.value is not None and spc_category(p) == key]
        if not chosen:
            continue
        traces.append(scatter(
            name=name, mode="markers", x=[p.end.isoformat() for p in chosen],
            y=[p.value for p in chosen],
            marker={"color": colour, "size": 10, "opacity": 1,
                    "line": {"width": 1, "color": "white"}},
            customdata=[f"{p.label}: {format_value(p.value, unit)}"
                        + (f" — {p.rules}" if p.special_cause and p.rules else "")
                        for p in chosen],
            hovertemplate="%{customdata}<extra></extra>"))
    return traces


def spc_target_trace(series: Series) -> dict | None:
    """The strategy's target value as a flat line over the months, as Making Data Count draws it:
    on the charted series' scale (an annual count target divided by 12 for monthly points)."""
    target = series.drawn_target
    if target is None:
        return None
    due = period_label_for(target.target_date, series.indicator.headline_period_type)
    latest = series.spc[-1]
    on_chart = target.target_value if latest.target_basis is None or latest.target_value is None \
        else latest.target_value
    shown = format_value(on_chart, series.indicator.unit if latest.target_basis is None else "per month")
    name = f"{target_name(target)}: {shown} by {due}" + (" (÷ 12)" if latest.target_basis else "")
    return scatter(
        name=name, mode="lines", x=[series.spc[0].end.isoformat(), series.spc[-1].end.isoformat()],
        y=[on_chart] * 2, hoverinfo="skip",
        line={"color": SPC_TARGET, "width": 2, "dash": "dot"})


def spc_limit_annotations(series: Series) -> list[dict]:
    """Labels of the latest mean and limits, at the right-hand end of their lines."""
    last = series.spc[-1]
    unit = series.indicator.unit
    # Two lines each ("Upper limit" over its value), so they fit the right-hand margin.
    # Limits of a count are not counts: one decimal place, as for rates.
    return [{"x": 1, "xref": "paper", "y": y,
             "text": f"{plot_text(name)}<br>{plot_text(format_value(y, unit if unit == '%' else 'per month'))}",
             "showarrow": False, "xanchor": "left", "xshift": 6, "align": "left",
             "font": {"size": SMALL_FONT, "color": colour}}
            for name, y, colour in (("Upper limit", last.upper, SPC_LIMITS), ("Mean", last.mean, SPC_MEAN),
                                    ("Lower limit", last.lower, SPC_LIMITS))
            if y is not None]


def spc_footnotes(series: Series) -> list[str]:
    latest = series.spc[-1]
    lines = textwrap.wrap(RUN_CHART_NOTE if spc_is_run_chart(series) else SPC_RULES_NOTE, NOTE_WRAP)
    if latest.series:
        lines += textwrap.wrap(f"Points: {latest.series}", NOTE_WRAP)
    if latest.target_basis and series.drawn_target is not None:
        lines += textwrap.wrap(f"Target: {latest.target_basis}", NOTE_WRAP)
    if spc_trial(series):
        lines += textwrap.wrap(f"Trial limits: fewer than 12 months of data ({len(series.spc)}), "
                               "so the limits will change as more months arrive.", NOTE_WRAP)
    return lines


def build_spc_figure(series: Series) -> dict:
    """The XmR chart of the area's monthly series, coloured as Making Data Count colours it."""
    indicator = series.indicator
    target_trace = spc_target_trace(series)
    traces = spc_limit_traces(series) + ([target_trace] if target_trace is not None else []) + \
        spc_point_traces(series)
    subtitle = polarity_text(indicator)
    if spc_trial(series):
        subtitle += "   ·   Trial limits (fewer than 12 points)"
    tickvals, ticktext = spc_ticks(series.spc)
    first, last = series.spc[0].end, series.spc[-1].end
    pad = max(timedelta(days=12), (last - first) * 0.02)
    return figure(traces, _chart_layout(
        spc_title(series), subtitle, traces, SPC_MARGIN_RIGHT,
        spc_footnotes(series), indicator.unit,
        xaxis=dict(
            type="date", range=[(first - pad).isoformat(), (last + pad).isoformat()],
            tickvals=tickvals, ticktext=ticktext,
            title={"text": X_TITLES["financial_year" if spc_is_run_chart(series) else "month"], "standoff": 6,
                   "font": {"size": SMALL_FONT, "color": GREY}},
            showgrid=False, ticks="outside", tickangle=0),
        value_gridcolor="#eeeeee", annotations=spc_limit_annotations(series)))


# --- files ---------------------------------------------------------------------------------


def remove_stale_output(charts_dir: Path, keep: set[Path]) -> None:
    """Remove chart files an earlier run wrote that this run does not keep, leaving anything else."""
    (charts_dir / "index.html").unlink(missing_ok=True)
    for folder in (path for path in charts_dir.iterdir() if path.is_dir()):
        for chart in [*folder.glob("*.html"), *folder.glob("*.png")]:
            if chart not in keep:
                chart.unlink()
        if not any(folder.iterdir()):
            folder.rmdir()


PLOTLY_JS = "plotly.min.js"  # one copy in the charts folder, beside index.html


def write_plotly_js(charts_dir: Path) -> None:
    """The plotly.js every chart page loads, from the installed plotly (no CDN: council networks
    block them). One 4.8 MB copy, where embedding it would put one in every page."""
    from plotly.offline import get_plotlyjs

    path = charts_dir / PLOTLY_JS
    bundle = get_plotlyjs()
    if not path.is_file() or path.read_text(encoding="utf-8") != bundle:
        path.write_text(bundle, encoding="utf-8")


def write_html(figure: dict, title: str, path: Path) -> None:
    """The chart page, in ``<charts>/<area>/``: it loads ``../plotly.min.js`` (``write_plotly_js``)."""
    plot = pio.to_html(figure, include_plotlyjs=f"../{PLOTLY_JS}", full_html=False, config={"responsive": True},
                       validate=False)
    # The plot's markup is plotly's own (the figure's text is JSON inside its script), not data.
    path.write_text(render("chart.html.j2", title=title, plot=Markup(plot)), encoding="utf-8")


def png_staging_dir(charts_dir: Path) -> Path:
    """Where ``start_pngs`` has Chromium draw, beside the charts folder (not in it, so nothing
    half-done is ever published): ``write_charts`` moves each PNG into place."""
    return charts_dir.with_name(f".{charts_dir.name}_drawing")


@dataclass(frozen=True)
class ChartDrawing:
    """One chart as it is drawn: the figure (plotly's figure format), its title and files, and its
    name and digest in the manifest (a figure with last run's digest is not drawn again)."""
    figure: dict
    title: str
    html: Path
    png: Path | None
    name: str  # "<area>/<file stem>"
    digest: str
    in_reports: bool  # a report embeds it (the series and SPC charts; not a chart by breakdown)

    def unchanged_since(self, previous: dict[str, str]) -> bool:
        """Last run drew this very figure, and its files are still there."""
        return (previous.get(self.name) == self.digest and self.html.exists()
                and (self.png is None or self.png.exists()))

    def staged_png(self, charts_dir: Path) -> Path:
        return png_staging_dir(charts_dir) / f"{self.digest}.png"


def chart_files(charts_dir: Path, all_series: list[Series], png: bool,
                breakdowns: dict[tuple[str, str], Breakdown]) -> list[ChartFile]:
    files = []
    for series in all_series:
        folder, name = charts_dir / series.area_code, series.indicator.indicator_id
        spc = [folder / f"{name}_spc.html", folder / f"{name}_spc.png" if png else None] if series.spc else [None, None]
        parts = ([folder / f"{name}_by_breakdown.html", folder / f"{name}_by_breakdown.png" if png else None]
                 if (name, series.area_code) in breakdowns else [None, None])
        files.append(ChartFile(name, series.area_code, folder / f"{name}.html",
                               folder / f"{name}.png" if png else None, *spc, *parts))
    return files


def chart_drawings(all_series: list[Series], files: list[ChartFile], png: bool,
                   breakdowns: dict[tuple[str, str], Breakdown], disclosure: Disclosure) -> list[ChartDrawing]:
    def drawing(figure: dict, title: str, html_path: Path, png_path: Path | None,
                in_reports: bool = True) -> ChartDrawing:
        digest = hashlib.sha256(f"{png}:{to_json_plotly(figure)}".encode()).hexdigest()
        return ChartDrawing(figure, title, html_path, png_path, f"{html_path.parent.name}/{html_path.stem}", digest,
                            in_reports)

    drawings = []
    for series, chart in zip(all_series, files):
        drawings.append(drawing(build_figure(series), chart_title(series), chart.html, chart.png))
        if series.spc:
            drawings.append(drawing(build_spc_figure(series), spc_title(series), chart.spc_html, chart.spc_png))
        if chart.parts_html is not None:
            parts = disclosed(breakdowns[series.indicator.indicator_id, series.area_code], disclosure)
            drawings.append(drawing(
                figure(*breakdown_figure_parts(parts, series.indicator.name, series.indicator.unit)),
                breakdown_title(series.indicator.name, series.area_name), chart.parts_html, chart.parts_png,
                in_reports=False))
    return drawings


@dataclass(frozen=True)
class ChartPlan:
    """The charts one run writes: each area's series, their files, and each figure to draw."""
    series: list[Series]
    files: list[ChartFile]
    drawings: list[ChartDrawing]


def plan_charts(conn: duckdb.DuckDBPyConnection, marts: Marts, charts_dir: Path, png: bool,
                disclosure: Disclosure, with_breakdowns: bool = True) -> ChartPlan:
    """What ``start_pngs`` and ``write_charts`` both draw from ``marts`` (disclosure applied)."""
    all_series = chart_series(marts, disclosure)
    breakdowns = read_breakdowns(conn) if with_breakdowns else {}
    files = chart_files(charts_dir, all_series, png, breakdowns)
    return ChartPlan(all_series, files, chart_drawings(all_series, files, png, breakdowns, disclosure))


def draw_png(renderer: PngRenderer, drawing: ChartDrawing, path: Path, embeddable: EmbeddableCharts) -> None:
    """Hand ``renderer`` the drawing's PNG, to ``path``; for a chart a report embeds, Chromium
    draws its small copy too, kept in ``embeddable`` for the reports."""
    renderer.add(drawing.figure, path, drawing.name, then=embeddable.keep if drawing.in_reports else None)


def start_pngs(conn: duckdb.DuckDBPyConnection, charts_dir: Path, renderer: Callable[[], PngRenderer],
               disclosure_control: bool = True) -> int:
    """Hand ``renderer()`` the PNG of every chart whose figure changed, drawn into the staging
    folder (``png_staging_dir``), and return at once with how many: Chromium then draws them in
    its own processes while the build goes on (the warehouse's checks and its publication), and
    ``write_charts``, given the same renderer, moves them into place. Reads every mart a chart
    is drawn from but ``marts.scorecard`` (which only the index shows). Without a browser, or a
    charts folder it can write in, it starts nothing: ``write_charts`` says why."""
    if find_browser() is None or not can_write_charts(charts_dir):
        return 0
    staging = png_staging_dir(charts_dir)
    shutil.rmtree(staging, ignore_errors=True)  # (what a stopped run left)
    previous = read_manifest(charts_dir)
    plan = plan_charts(conn, read_marts(conn, with_scorecard=False), charts_dir, True, Disclosure(disclosure_control))
    changed = [d for d in plan.drawings if not d.unchanged_since(previous)]
    if changed:
        staging.mkdir(parents=True, exist_ok=True)
    embeddable = EmbeddableCharts(charts_dir)
    for drawing in changed:
        draw_png(renderer(), drawing, drawing.staged_png(charts_dir), embeddable)
    return len(changed)


def write_charts(conn: duckdb.DuckDBPyConnection, charts_dir: Path, png: bool = True,
                 disclosure_control: bool = True, renderer: PngRenderer | None = None,
                 browser_timeout: float = PNG_TIMEOUT, as_at: date | None = None) -> list[ChartFile]:
    """Write one chart per (indicator, area) with headline data, and ``index.html``.

    A chart whose figure is the same as last run's (by digest) is not drawn again: PNG export
    is the slow part of a build. Chart files no longer backed by data are removed, so the
    folder matches the warehouse. ``renderer``: a browser the caller started (and closes),
    e.g. ``pipelines.resources.ChartBrowser``'s, which may be drawing this build's PNGs already
    (``start_pngs``); otherwise one is started here if needed, given ``browser_timeout``
    seconds to start and for each PNG.

    PNG export degrades rather than fails or hangs: a PNG the browser does not draw in time (or
    at all) is left out, and so is its chart from the manifest, so the next run draws exactly
    those; the pages and the index are written either way. Returns the charts as a list of
    ``ChartFile`` (a ``png_renderer.ChartsWritten``) that also says which PNGs are missing
    (``missing_pngs``) in a sentence for the build's log (``png_message``, None if none is).

    ``as_at``: draw the charts from the marts as they stood at that date (``marts.cut_at``: the
    periods ending by then, SPC recomputed on them), for a report as at an earlier date; into a
    folder of their own, never the published charts folder, which shows the whole warehouse.
    """
    if png:
        require_browser()  # before anything is removed, so a failed run leaves the last one
    charts_dir.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(charts_dir)
    with contextlib.ExitStack() as started_here:
        started = renderer

        def png_renderer() -> PngRenderer:
            nonlocal renderer
            if renderer is None:
                renderer = started_here.enter_context(
                    PngRenderer(startup_timeout=browser_timeout, png_timeout=browser_timeout))
            return renderer

        if png and not previous:
            # Nothing drawn before, so every chart will be: start the browser now, while the
            # data is read (otherwise at the first chart that changed).
            png_renderer()
        return _write_charts(conn, charts_dir, png, disclosure_control, previous, started, png_renderer, as_at)


def _write_charts(conn: duckdb.DuckDBPyConnection, charts_dir: Path, png: bool, disclosure_control: bool,
                  previous: dict[str, str], started: PngRenderer | None,
                  png_renderer: Callable[[], PngRenderer], as_at: date | None = None) -> list[ChartFile]:
    manifest: dict[str, str] = {}
    marts = read_marts(conn, as_at=as_at)
    # A report embeds only the series and SPC charts: as at a date, no chart by breakdown is drawn.
    plan = plan_charts(conn, marts, charts_dir, png, Disclosure(disclosure_control), with_breakdowns=as_at is None)
    files = plan.files
    remove_stale_output(charts_dir, {p for f in files for p in f.paths})
    (charts_dir / MANIFEST).unlink(missing_ok=True)  # a run stopped part way must redraw
    write_plotly_js(charts_dir)
    wanted = []  # the charts whose PNG is drawn this run
    for drawing in plan.drawings:
        manifest[drawing.name] = drawing.digest
        if drawing.unchanged_since(previous):
            continue
        drawing.html.parent.mkdir(exist_ok=True)
        write_html(drawing.figure, drawing.title, drawing.html)
        if drawing.png is not None:
            wanted.append(drawing)
    outcome = place_pngs(wanted, charts_dir, started, png_renderer) if wanted else None
    for missing in outcome.missing if outcome is not None else ():
        manifest.pop(missing.name, None)  # not recorded, so the next run draws it
    (charts_dir / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    index = render_index(plan.series, files, marts.scorecard, marts.indicators,
                         built=datetime.now())
    (charts_dir / "index.html").write_text(index, encoding="utf-8")
    return ChartsWritten(files, outcome)


def place_pngs(wanted: list[ChartDrawing], charts_dir: Path, started: PngRenderer | None,
               png_renderer: Callable[[], PngRenderer]) -> PngOutcome:
    """Put each wanted PNG in place: moved from the staging folder when ``started`` (the
    renderer ``start_pngs`` was given) drew it there this run, else drawn now. (Bounded: the
    renderer never waits for good.)"""
    drawn_early = set(started.collect().drawn) if started is not None else set()
    embeddable = EmbeddableCharts(charts_dir)
    moved, late = [], []
    for drawing in wanted:
        staged = drawing.staged_png(charts_dir)
        if staged in drawn_early and staged.is_file():
            os.replace(staged, drawing.png)
            moved.append(drawing.png)
        else:
            draw_png(png_renderer(), drawing, drawing.png, embeddable)
            late.append(drawing)
    outcome = png_renderer().collect() if late else None
    shutil.rmtree(png_staging_dir(charts_dir), ignore_errors=True)
    if outcome is None:
        return PngOutcome(len(wanted), tuple(moved), ())
    return PngOutcome(len(wanted), (*moved, *outcome.drawn), outcome.missing, outcome.stalled)


# --- index page ----------------------------------------------------------------------------

@dataclass(frozen=True)
class IndexRow:
    partnership: str
    area_code: str
    area_name: str
    indicator_id: str
    score: Score | None
    chart: ChartFile | None


def index_rows(all_series: list[Series], files: list[ChartFile],
               scorecard: list[Score]) -> list[IndexRow]:
    """Every scorecard row, and every chart (even one the scorecard lacks)."""
    charts = {(f.indicator_id, f.area_code): f for f in files}
    rows = {(s.indicator_id, s.area_code): IndexRow(
        s.partnership, s.area_code, s.area_name, s.indicator_id, s,
        charts.get((s.indicator_id, s.area_code))) for s in scorecard}
    for series in all_series:
        key = (series.indicator.indicator_id, series.area_code)
        if key not in rows:
            rows[key] = IndexRow(series.partnership, series.area_code, series.area_name,
                                 key[0], None, charts.get(key))
    return sorted(rows.values(), key=lambda r: (
        r.partnership, r.area_name, INDICATOR_ORDER.get(r.indicator_id, len(INDICATOR_ORDER)),
        r.indicator_id))


def links(chart: ChartFile) -> list[tuple[str, str]]:
    """(text, href) of the chart's files, as the index links them."""
    return [(text, relative_href(path)) for text, path in (
        ("chart", chart.html), ("PNG", chart.png), ("SPC chart", chart.spc_html), ("SPC PNG", chart.spc_png),
        ("by breakdown", chart.parts_html), ("by breakdown PNG", chart.parts_png))
        if path is not None]


def relative_href(path: Path) -> str:
    """``<area_code>/<file>``, relative to index.html in the charts folder."""
    return f"{quote(path.parent.name)}/{quote(path.name)}"


def index_entry(row: IndexRow, indicators: dict[str, IndicatorInfo]) -> dict:
    """What the index shows of one row, as text (the template escapes it)."""
    indicator, score = indicators.get(row.indicator_id), row.score
    rag = (score.rag if score is not None else None) or "no data"
    return {
        "name": indicator.name if indicator is not None else row.indicator_id,
        "polarity": polarity_text(indicator) if indicator is not None else "",
        "period": (score.period_label if score is not None else None) or "–",
        "value": format_value(score.value if score is not None else None,
                              indicator.unit if indicator is not None else ""),
        "travel": (score.direction_of_travel if score is not None else None) or "–",
        "rag": rag, "rag_colour": RAG_COLOURS.get(rag, "#999999"),
        "illustrative": bool(score is not None and score.target_illustrative and rag in ("green", "amber", "red")),
        "links": links(row.chart) if row.chart is not None else [],
    }


def render_index(all_series: list[Series], files: list[ChartFile],
                 scorecard: tuple[Score, ...] | list[Score], indicators: dict[str, IndicatorInfo],
                 built: datetime) -> str:
    by_partnership: dict[str, dict[tuple[str, str], list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in index_rows(all_series, files, list(scorecard)):
        by_partnership[row.partnership][(row.area_name, row.area_code)].append(index_entry(row, indicators))
    partnerships = [{"id": partnership, "title": partnership.replace("_", " ").title(),
                     "areas": [{"name": name, "code": code, "rows": rows} for (name, code), rows in areas.items()]}
                    for partnership, areas in by_partnership.items()]
    return render("index.html.j2", built=built.strftime("%d %B %Y %H:%M"), chart_count=len(files),
                  rag_colours=RAG_COLOURS, partnerships=partnerships)
