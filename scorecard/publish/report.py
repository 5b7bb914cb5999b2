"""Committee reports: one self-contained HTML file per partnership, for the papers.

``write_reports`` writes ``<reports_dir>/<partnership>.html``: the scorecard table first (one
row per area and indicator, with RAG, direction of travel, Making Data Count variation and
assurance icons, comparisons with England and the statistical neighbours and a trend
sparkline), then a section per indicator and area with the chart images and a sentence written
from the data, then the contributory factors at the end of assessment beside England's.

This module decides what the report says: which sections, which sentences, which figures are
shown. The figures come from ``scorecard.publish.marts``, the disclosure rule from
``scorecard.publish.disclosure``, the markup and CSS from ``templates/report.html.j2`` and
``templates/report.css`` (autoescaped), the embedded images from ``scorecard.publish.images``.

The file works offline and prints to A4: no scripts, fonts or links to anywhere else; charts
are the PNGs ``write_charts`` drew, embedded as data URIs (not the interactive HTML, which would
carry plotly.js into every report); sparklines, icons and bar charts are inline SVG.

With ``disclosure_control`` (the default) every count of 1 to 5 shown is ``c``, and so is every
percentage or rate whose numerator or denominator is 1 to 5; a chart image that would show such
a figure is withheld. The marts hold aggregate figures only: nothing here is about a child.
"""

from __future__ import annotations

import json
import logging
import os
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from scorecard.model.catalogue import INDICATORS
from scorecard.model.reported import append_history, read_history
from scorecard.publish.charts import (
    BLUE,
    RAG_COLOURS,
    SPC_COMMON,
    SPC_CONCERN,
    SPC_IMPROVEMENT,
    SPC_NEITHER,
    VERMILLION,
    write_charts,
)
from scorecard.publish.committee import committee_figures, committee_view, default_as_at, history_rows
from scorecard.publish.disclosure import SMALL_COUNT_MAX, SMALL_COUNT_MIN, SUPPRESSED, Disclosure
from scorecard.publish.formatting import format_value, percent_text, period_label_for, period_text
from scorecard.publish.images import EmbeddableCharts, png_data_uri
from scorecard.publish.marts import (
    Factor,
    IndicatorInfo,
    Marts,
    Point,
    Score,
    ends_after,
    read_marts,
    read_milestones,
    read_revisions,
)
from scorecard.publish.pages import render
from scorecard.publish.png_renderer import find_browser

log = logging.getLogger(__name__)
INDICATOR_ORDER = {indicator.indicator_id: i for i, indicator in enumerate(INDICATORS)}
MAX_FACTORS = 15  # bars per area in the contributory factors chart
REPORTS_MANIFEST = ".reports.json"
# Writing every report takes seconds; a writer that takes this long is stuck (a hung disk).
REPORTS_TIMEOUT_SECONDS = 600
SMALL_COUNTS = f"{SMALL_COUNT_MIN} to {SMALL_COUNT_MAX}"  # as the report words the rule

SOURCES = {"partner_return": "partner return", "record_level": "record-level extracts",
           "dfe_published": "DfE published statistics"}
# Fingertips-style comparison colours: a pale fill behind a dark word (never colour alone).
COMPARISON_STYLES = {"better": ("#d8ecd2", "#1e5a14"), "similar": ("#fff0bf", "#5c4700"),
                     "worse": ("#f8d4d4", "#8c1414")}
RAG_TEXT = {"green": "#ffffff", "amber": "#222222", "red": "#ffffff", "no target": "#222222",
            "no data": "#444444"}
# Column widths: the table is laid out fixed, so it never runs wider than an A4 page.
SCORECARD_COLUMNS = (19, 8, 9, 9, 10, 9, 10, 9, 9, 8)
COLOURS = {"blue": BLUE, "vermillion": VERMILLION, "england": "#8c8c8c"}


@dataclass
class Partnership:
    partnership: str
    name: str
    strategy: str | None
    areas: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    scores: list[Score] = field(default_factory=list)


def partnerships(marts: Marts) -> dict[str, Partnership]:
    """The partnerships with scorecard rows, their areas and rows in report order."""
    out: dict[str, Partnership] = {}
    for score in sorted(marts.scorecard, key=lambda s: (s.partnership, s.area_name or "", INDICATOR_ORDER.get(
            s.indicator_id, len(INDICATOR_ORDER)), s.indicator_id)):
        names = marts.partnership_names.get(score.partnership)
        name, strategy = (names.name, names.strategy) if names is not None else (None, None)
        entry = out.setdefault(score.partnership, Partnership(
            score.partnership, name or score.partnership.replace("_", " ").title(), strategy))
        if (score.area_code, score.area_name) not in entry.areas:
            entry.areas.append((score.area_code, score.area_name))
        entry.scores.append(score)
    return out


def series_points(marts: Marts, score: Score) -> tuple[Point, ...]:
    values = marts.series.get((score.indicator_id, score.area_code))
    return values.points if values is not None else ()


# --- sentences ----------------------------------------------------------------------------


def _point_for(points: tuple[Point, ...], label: str | None) -> Point | None:
    return next((p for p in points if p.label == label), None)


def _start_point(score: Score, points: tuple[Point, ...]) -> tuple[str, float | None, bool] | None:
    """Where the sentence starts: the strategy's baseline when it is before the latest period,
    else the first period with a value. Returns (period label, value, from the data?)."""
    latest = _point_for(points, score.period_label)
    latest_end = latest.end if latest is not None else score.period_end
    if score.baseline_period and score.baseline_value is not None:
        baseline = _point_for(points, score.baseline_period)
        if ((baseline is None or latest_end is None or baseline.end < latest_end)
                and (baseline is None or baseline.end != latest_end)):
            return score.baseline_period, score.baseline_value, baseline is not None
    first = next((p for p in points if p.value is not None), None)
    if first is not None and first.label != score.period_label:
        return first.label, first.value, True
    return None


def comparison_clause(score: Score, unit: str, disclosure: Disclosure) -> str:
    parts = []
    if score.vs_england in ("better", "similar", "worse") and score.england_value is not None:
        england = disclosure.show(score.england_value, unit)
        parts.append(f"{'similar to' if score.vs_england == 'similar' else score.vs_england + ' than'}"
                     f" England ({england})")
    if score.vs_neighbours in ("better", "similar", "worse") and score.neighbours_median is not None:
        median = disclosure.show(score.neighbours_median, unit)
        word = "similar to" if score.vs_neighbours == "similar" else f"{score.vs_neighbours} than"
        parts.append(f"{word} the statistical neighbours (median {median})")
    return "; " + " and ".join(parts) if parts else ""


def due_text(score: Score, indicator: IndicatorInfo) -> str | None:
    if score.target_date is None:
        return None
    return period_text(period_label_for(score.target_date, indicator.headline_period_type))


def target_clause(score: Score, indicator: IndicatorInfo) -> str:
    if score.target_value is None:
        return ""
    target = format_value(score.target_value, indicator.unit)
    due = due_text(score, indicator)
    kind = "an illustrative target" if score.target_illustrative else "a target"
    return f" against {kind} of {target}{f' by {due}' if due else ''}"


def headline_sentence(score: Score, indicator: IndicatorInfo, points: tuple[Point, ...],
                      disclosure: Disclosure) -> str:
    """E.g. "Re-referrals fell from 30.0% in 2014/15 to 15.0% in 2024/25 against a target of
    20.0% by 2020/21; similar to England (22.6%)." """
    unit, name = indicator.unit, indicator.name
    latest = _point_for(points, score.period_label)
    numerator = latest.numerator if latest is not None else None
    denominator = latest.denominator if latest is not None else None
    when = period_text(score.period_label)
    if score.value is None:
        return f"There is no figure yet for {name[:1].lower() + name[1:]}."
    if disclosure.hides(unit, score.value, numerator, denominator):
        return (f"{name} in {when} is not shown ({SUPPRESSED}): it rests on a count of "
                f"{SMALL_COUNTS}, which disclosure control suppresses.")
    value = format_value(score.value, unit)
    start = _start_point(score, points)
    start_hidden = False
    if start is not None and start[2]:
        point = _point_for(points, start[0])
        start_hidden = point is not None and disclosure.hides(unit, point.value, point.numerator,
                                                              point.denominator)
    if start is None or start_hidden or start[1] is None:
        text = f"{name} was {value} in {when}"
    else:
        start_period, start_value = period_text(start[0]), format_value(start[1], unit)
        if start_value == value:
            text = f"{name} was unchanged at {value} between {start_period} and {when}"
        else:
            verb = "rose" if start[1] < score.value else "fell"
            text = f"{name} {verb} from {start_value} in {start_period} to {value} in {when}"
    return text + target_clause(score, indicator) + comparison_clause(score, unit, disclosure) + "."


RAG_SENTENCES = {
    "green": "That is on track: at or better than the straight line from the baseline to the "
             "target (green).",
    "amber": "That is slightly off track: worse than the straight line from the baseline to the "
             "target, but within tolerance (amber).",
    "red": "That is off track: worse than the straight line from the baseline to the target by "
           "more than the tolerance (red).",
}


def _variation_kind(variation: str | None) -> str | None:
    text = (variation or "").lower()
    for kind in ("improvement", "concern", "common", "neither"):
        if kind in text:
            return kind
    return None


def _assurance_kind(assurance: str | None) -> str | None:
    text = (assurance or "").lower()
    if "pass" in text:
        return "pass"
    if "fail" in text:
        return "fail"
    if "hit" in text or "miss" in text:
        return "hit and miss"
    return None


VARIATION_SENTENCES = {
    "common": "The monthly figures vary only within their usual range (common cause variation).",
    "improvement": "The monthly figures show a real change for the better (special cause "
                   "variation: improvement).",
    "concern": "The monthly figures show a real change for the worse (special cause variation: "
               "concern).",
    "neither": "The monthly figures show a real change (special cause variation).",
}
ASSURANCE_SENTENCES = {
    "pass": "If nothing changes, the target will be met consistently.",
    "fail": "If nothing changes, the target will be missed consistently.",
    "hit and miss": "If nothing changes, the target will sometimes be met and sometimes missed.",
}


def other_sentences(score: Score) -> list[str]:
    out = []
    if score.value is not None and score.rag in RAG_SENTENCES:
        out.append(RAG_SENTENCES[score.rag].replace(
            "target (", "illustrative target (") if score.target_illustrative else RAG_SENTENCES[
            score.rag])
    if (kind := _variation_kind(score.variation)) is not None:
        out.append(VARIATION_SENTENCES[kind])
    if (kind := _assurance_kind(score.assurance)) is not None:
        out.append(ASSURANCE_SENTENCES[kind])
    return out


def narrative(score: Score, indicator: IndicatorInfo, points: tuple[Point, ...],
              disclosure: Disclosure) -> list[str]:
    """The sentences under an indicator's heading: the headline, then RAG and SPC, then the
    strategy's note. The stale warning is shown apart (see ``indicator_section``)."""
    sentences = [headline_sentence(score, indicator, points, disclosure), *other_sentences(score)]
    if score.note:
        note = score.note.strip()
        sentences.append(note if note.endswith((".", "!", "?")) else note + ".")
    return sentences


# --- icons and small graphics: what they show (templates/report_parts.html.j2 draws them) ----


@dataclass(frozen=True)
class Icon:
    """A Making Data Count circle: its colour, label (for screen readers), letter or glyph."""
    fill: str
    label: str
    letter: str = ""
    letter_colour: str = ""
    caption: str = ""
    common_glyph: bool = False  # the grey "usual variation" zigzag instead of a letter


def variation_icon(kind: str, lower_is_better: bool) -> Icon:
    """Grey common cause; blue improvement, orange concern, with H or L for a special cause
    high or low."""
    if kind == "common":
        return Icon(SPC_COMMON, "Common cause variation", caption="common cause", common_glyph=True)
    high = {"improvement": not lower_is_better, "concern": lower_is_better, "neither": True}[kind]
    letter, side = ("H", "high") if high else ("L", "low")
    fill = {"improvement": SPC_IMPROVEMENT, "concern": SPC_CONCERN, "neither": SPC_NEITHER}[kind]
    return Icon(fill, f"Special cause {kind}: {side} values", letter,
                "#222222" if kind == "concern" else "#ffffff", f"{kind} ({side})")


ASSURANCE_ICONS = {
    "pass": Icon(SPC_IMPROVEMENT, "Consistently passes the target", "P", "#ffffff", "consistently pass"),
    "fail": Icon(SPC_CONCERN, "Consistently fails the target", "F", "#222222", "consistently fail"),
    "hit and miss": Icon(SPC_COMMON, "Hit and miss: the target lies within the process limits", "?",
                         "#ffffff", "hit and miss"),
}


@dataclass(frozen=True)
class Badge:
    text: str
    background: str
    colour: str


def rag_badge(rag: str) -> Badge:
    return Badge(rag[:1].upper() + rag[1:], RAG_COLOURS.get(rag, "#cccccc"), RAG_TEXT.get(rag, "#222222"))


def comparison_badge(result: str) -> Badge:
    background, colour = COMPARISON_STYLES[result]
    return Badge(result[:1].upper() + result[1:], background, colour)


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    pad: int
    label: str
    lines: tuple[str, ...]  # polyline points of each unbroken run of shown values
    latest: tuple[str, str]  # (x, y) of the latest value
    target_y: str | None


def sparkline(points: tuple[Point, ...], unit: str, target: float | None, disclosure: Disclosure,
              width: int = 110, height: int = 32) -> Sparkline | None:
    """The headline series as a small line (suppressed points left out), with the target as a
    dashed line when it is set, and the latest value marked."""
    shown = [(i, p) for i, p in enumerate(points) if p.value is not None
             and not disclosure.hides(unit, p.value, p.numerator, p.denominator)]
    if not shown:
        return None
    values = [p.value for _, p in shown] + ([target] if target is not None else [])
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    pad = 4

    def x(i: int) -> float:
        return pad + (width - 2 * pad) * (i / (len(points) - 1) if len(points) > 1 else 0.5)

    def y(v: float) -> float:
        return pad + (height - 2 * pad) * (1 - (v - low) / span) if high != low else height / 2

    segments: list[list[str]] = [[]]
    previous = None
    for i, p in shown:
        if previous is not None and i != previous + 1:
            segments.append([])
        segments[-1].append(f"{x(i):.1f},{y(p.value):.1f}")
        previous = i
    last_i, last = shown[-1]
    first = shown[0][1]
    label = (f"Trend from {period_text(first.label)} ({format_value(first.value, unit)}) to "
             f"{period_text(last.label)} ({format_value(last.value, unit)})")
    if target is not None:
        label += f"; dashed line: target {format_value(target, unit)}"
    return Sparkline(width, height, pad, label, tuple(" ".join(seg) for seg in segments if len(seg) > 1),
                     (f"{x(last_i):.1f}", f"{y(last.value):.1f}"),
                     f"{y(target):.1f}" if target is not None else None)


@dataclass(frozen=True)
class Bar:
    y: int
    who: str
    text: str
    length: str
    text_x: str  # where its label starts, just past the bar's end
    colour: str


@dataclass(frozen=True)
class FactorRow:
    factor: str
    neglect: bool
    bars: tuple[Bar, ...]  # the area's, then England's


def factor_rows(area: list[Factor], england: dict[str, Factor], area_name: str,
                disclosure: Disclosure, bar_width: int) -> tuple[list[FactorRow], int]:
    """Each factor's pair of bars (the area's % and England's), most common first and every
    neglect factor kept; and how many less common factors were left out."""
    rows = sorted(area, key=lambda f: (-(f.pct or 0), f.factor))
    neglect = [f for f in rows if "neglect" in f.factor.lower()]
    chosen = rows[:MAX_FACTORS] + [f for f in neglect if f not in rows[:MAX_FACTORS]]
    top = max([f.pct or 0 for f in chosen] + [
        (england[f.factor].pct or 0) for f in chosen if f.factor in england] + [1])
    scale_max = top * 1.08
    out = []
    for factor in chosen:
        bars = []
        for row_y, item, colour, who in ((3, factor, COLOURS["blue"], area_name),
                                         (17, england.get(factor.factor), COLOURS["england"], "England")):
            if item is None or item.pct is None:
                text, length = "no figure", 0.0
            elif disclosure.hides("%", item.pct, item.episodes, item.episodes_with_factors):
                text, length = SUPPRESSED, 0.0
            else:
                text, length = percent_text(item.pct), bar_width * item.pct / scale_max
            bars.append(Bar(row_y, who, text, f"{length:.1f}", f"{length + 4:.1f}", colour))
        out.append(FactorRow(factor.factor, factor in neglect, tuple(bars)))
    return out, len(rows) - len(chosen)


# --- the report's parts -------------------------------------------------------------------


def section_id(area_code: str, indicator_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"s-{area_code}-{indicator_id}")


def scorecard_row(score: Score, indicator: IndicatorInfo, marts: Marts, disclosure: Disclosure,
                  has_section: bool) -> dict:
    unit = indicator.unit
    points = series_points(marts, score)
    latest = _point_for(points, score.period_label)
    rag = score.rag or "no data"
    travel = score.direction_of_travel
    if travel is None or score.change is None and travel != "no change":
        travel_shown = None
    else:
        change = score.change or 0.0
        travel_shown = {
            "arrow": "→" if travel == "no change" or abs(change) < 1e-9 else ("↑" if change > 0 else "↓"),
            "css": {"improving": "improving", "worsening": "worsening"}.get(travel, "steady"),
            "text": travel[:1].upper() + travel[1:],
            "since": period_text(score.previous_period_label) if score.previous_period_label else None}
    variation, assurance = _variation_kind(score.variation), _assurance_kind(score.assurance)

    def comparison(result: str | None, benchmark: float | None, label: str) -> dict | None:
        if result not in COMPARISON_STYLES:
            return None
        shown = f"{label} {disclosure.show(benchmark, unit)}" if benchmark is not None else ""
        return {"badge": comparison_badge(result), "shown": shown}

    return {
        "name": indicator.name, "section_id": section_id(score.area_code, score.indicator_id) if has_section else None,
        "polarity": "▼ lower is better" if indicator.lower_is_better else "▲ higher is better",
        "stale": bool(score.stale_reason), "nodata": score.value is None,
        "value": disclosure.show(score.value, unit, latest.numerator if latest else None,
                                 latest.denominator if latest else None),
        "period": period_text(score.period_label) if score.period_label else None,
        "target": None if score.target_value is None else {
            "value": format_value(score.target_value, unit), "due": due_text(score, indicator) or "",
            "illustrative": bool(score.target_illustrative)},
        "rag": rag_badge(rag), "rag_illustrative": bool(score.target_illustrative and rag in ("green", "amber", "red")),
        "travel": travel_shown,
        "variation": variation_icon(variation, indicator.lower_is_better) if variation else None,
        "assurance": ASSURANCE_ICONS[assurance] if assurance else None,
        "england": comparison(score.vs_england, score.england_value, "England"),
        "neighbours": comparison(score.vs_neighbours, score.neighbours_median, "median"),
        "sparkline": sparkline(points, unit, score.target_value, disclosure),
    }


def _spc_hidden(score: Score, unit: str, marts: Marts, disclosure: Disclosure) -> bool:
    """Would the SPC chart show a suppressed figure (a monthly count or % from 1 to 5)?"""
    key = (score.indicator_id, score.area_code)
    return any(disclosure.hides(point.value_unit or unit, point.value, *marts.month_counts(key, point.label))
               for point in marts.spc.get(key, ()))


def chart_figures(score: Score, indicator: IndicatorInfo, marts: Marts, charts: EmbeddableCharts,
                  disclosure: Disclosure, headline: str) -> list[dict]:
    """The section's chart images, each embedded, withheld or missing (with why). ``marts``: what
    the charts in ``charts.charts_dir`` were drawn from (cut at the report's date when they were)."""
    folder = charts.charts_dir / score.area_code
    series_hidden = any(disclosure.hides(indicator.unit, p.value, p.numerator, p.denominator)
                        for p in series_points(marts, score))
    pngs = [(folder / f"{score.indicator_id}.png", series_hidden,
               f"Chart of {indicator.name}, {score.area_name}, against its target. {headline}",
               "Headline series with baseline, target and trajectory, 95% confidence interval, "
               "England and statistical neighbours where available."),
              (folder / f"{score.indicator_id}_spc.png", _spc_hidden(score, indicator.unit, marts, disclosure),
               f"SPC chart of the monthly {indicator.name}, {score.area_name}.",
               "Monthly figures with mean and process limits (statistical process control): "
               "blue points are special cause improvement, orange concern, grey common cause.")]
    figures = []
    for path, hidden, alt, caption in pngs:
        if not path.is_file():
            if not path.name.endswith("_spc.png"):  # (an SPC chart is drawn only where there are months)
                figures.append({"state": "not drawn"})
        elif hidden:
            figures.append({"state": "withheld"})
        elif (png := charts.of(path)) is None:
            figures.append({"state": "unreadable", "file": f"{path.parent.name}/{path.name}"})
        else:
            figures.append({"state": "shown", "src": png_data_uri(png), "png": png, "alt": alt, "caption": caption,
                            "path": path})
    return figures


def indicator_section(score: Score, indicator: IndicatorInfo, marts: Marts, charts: EmbeddableCharts,
                      disclosure: Disclosure, chart_marts: Marts | None = None) -> dict:
    sentences = narrative(score, indicator, series_points(marts, score), disclosure)
    headline, others = sentences[0], sentences[1:len(sentences) - (1 if score.note else 0)]
    meta = ["▼ Lower is better" if indicator.lower_is_better else "▲ Higher is better"]
    if score.period_label:
        meta.append(f"Latest: {period_text(score.period_label)}")
    if score.source:
        meta.append(f"Source: {SOURCES.get(score.source, score.source)}")
    return {"id": section_id(score.area_code, score.indicator_id),
            "title": f"{indicator.name} — {score.area_name}", "meta": " · ".join(meta),
            "summary": " ".join([headline, *others]), "note": sentences[-1] if score.note else None,
            "stale_reason": score.stale_reason,
            "figures": chart_figures(score, indicator, chart_marts or marts, charts, disclosure, headline)}


def factor_blocks(partnership: Partnership, marts: Marts, disclosure: Disclosure) -> list[dict]:
    """Each area's contributory factors in its latest period, beside England's."""
    blocks = []
    england = marts.factors.get("england", [])
    bar_width = 300
    for code, name in partnership.areas:
        periods = marts.factors.get(code)
        if not periods:
            continue
        period, area_factors = periods[0]
        england_factors = {f.factor: f for f in next((fs for p, fs in england if p == period), [])}
        rows, left_out = factor_rows(area_factors, england_factors, name, disclosure, bar_width)
        blocks.append({"area": name, "period": period_text(period), "england_missing": not england_factors,
                       "rows": rows, "left_out": left_out, "bar_width": bar_width, "bar_height": 30})
    return blocks


def key_icons() -> dict:
    """The icons the key explains, with its words for each."""
    return {
        "rags": [rag_badge(r) for r in ("green", "amber", "red", "no target", "no data")],
        "variation": [([variation_icon(kind, lower) for lower in sides], text) for kind, sides, text in (
            ("common", (True,), "common cause: usual variation, no sign of real change"),
            ("improvement", (True, False), "special cause improvement: a real change for the "
                                           "better (L lower, H higher values)"),
            ("concern", (True, False), "special cause concern: a real change for the worse"))],
        "assurance": [(ASSURANCE_ICONS[kind], text) for kind, text in (
            ("pass", "will consistently pass the target"), ("fail", "will consistently fail it"),
            ("hit and miss", "hit and miss: sometimes met, sometimes not"))],
        "comparisons": [comparison_badge(result) for result in COMPARISON_STYLES],
    }


def report_context(partnership: Partnership, marts: Marts, charts: EmbeddableCharts, disclosure: Disclosure,
                   built: datetime, committee: dict | None = None, chart_marts: Marts | None = None) -> dict:
    """Everything a partnership's report shows, disclosure control applied: the HTML template and
    the Word paper (scorecard.publish.word) are both written from it. ``chart_marts``: what the
    charts in ``charts.charts_dir`` were drawn from, when not ``marts`` (cut at the report's date)."""
    scores = partnership.scores
    with_value = [s for s in scores if s.value is not None and s.period_end is not None]
    latest = max(with_value, key=lambda s: s.period_end, default=None)
    as_at = (f"{period_text(latest.period_label)} (latest period, to "
             f"{latest.period_end.day} {latest.period_end:%B %Y})" if latest else "no data yet")
    areas, sections, nodata = [], [], []
    for code, name in partnership.areas:
        # Indicators with figures first (in catalogue order), then those without.
        area_scores = sorted((s for s in scores if s.area_code == code), key=lambda s: s.value is None)
        rows = []
        for score in area_scores:
            indicator = marts.indicators.get(score.indicator_id)
            if indicator is None:
                continue
            has_section = score.value is not None
            rows.append(scorecard_row(score, indicator, marts, disclosure, has_section))
            if has_section:
                sections.append(indicator_section(score, indicator, marts, charts, disclosure, chart_marts))
            else:
                nodata.append(f"{indicator.name} ({name})")
        areas.append({"code": code, "name": name, "rows": rows})
    return dict(
        title=f"{partnership.name}: neglect scorecard", partnership=partnership,
        area_list=", ".join(f"{name} ({code})" for code, name in partnership.areas), as_at=as_at,
        built=built.strftime("%d %B %Y %H:%M"), disclosure_applied=disclosure.applied,
        small_counts=SMALL_COUNTS, suppressed=SUPPRESSED, column_widths=SCORECARD_COLUMNS, areas=areas,
        key=key_icons(), nodata=nodata, sections=sections,
        factors=factor_blocks(partnership, marts, disclosure), colours=COLOURS, committee=committee,
        rag_badges={rag: rag_badge(rag) for rag in ("green", "amber", "red", "no target", "no data")})


# --- files --------------------------------------------------------------------------------


def report_filename(partnership: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", partnership) + ".html"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def as_at_charts_dir(reports_dir: Path, as_at: date) -> Path:
    """Where a report as at ``as_at`` has its charts drawn: beside the reports, one folder a date."""
    return reports_dir / f"as_at_{as_at.isoformat()}" / "charts"


def write_reports(conn: duckdb.DuckDBPyConnection, reports_dir: Path, charts_dir: Path,
                  disclosure_control: bool = True, as_at: date | None = None,
                  history_path: Path | None = None, images: bool = True) -> list[Path]:
    """Write ``<reports_dir>/<partnership>.html`` and its Word paper ``<partnership>.docx`` for every
    partnership in marts.scorecard; the HTML files' paths are returned.

    Each report opens with the committee's periods as at ``as_at`` (by default the last complete
    quarter in the data; scorecard.publish.committee) and the figures revised since they were
    reported (marts.revisions). With ``history_path`` the figures each report showed are added to
    that record (scorecard.model.reported) once every report is written.

    Chart images are read from ``charts_dir`` (as ``write_charts`` left it; run that first). A report
    as at a date given as ``as_at``, earlier than the latest period the charts show, embeds charts
    drawn from the data up to that date instead (SPC recomputed on them), into a folder of their
    own, ``as_at_charts_dir``: ``charts_dir`` is left as it is (without their PNGs when not ``images``).
    Reports this function wrote earlier for partnerships no longer in the warehouse are
    removed; nothing else in ``reports_dir`` is touched.
    """
    from scorecard.publish.word import write_word_report

    if history_path is not None:
        read_history(history_path)  # a damaged record stops the reports before any is written
    reports_dir.mkdir(parents=True, exist_ok=True)
    marts = read_marts(conn)
    disclosure = Disclosure(disclosure_control)
    built = datetime.now()
    # Only a date asked for gets charts of its own: the default (the last complete quarter) keeps
    # the published charts, so a build draws nothing more.
    chart_marts, report_charts = marts, charts_dir
    if as_at is not None and ends_after(marts, as_at):
        report_charts = as_at_charts_dir(reports_dir, as_at)
        drawn = write_charts(conn, report_charts, png=images and find_browser() is not None,
                             disclosure_control=disclosure_control, as_at=as_at)
        if drawn.png_message:  # (the report says "no chart image" where one is missing)
            log.warning(drawn.png_message)
        chart_marts = read_marts(conn, as_at=as_at)
    as_at = as_at or default_as_at(conn)
    figures = committee_figures(conn, as_at) if as_at is not None else []
    data_end = max((s.period_end for s in marts.scorecard if s.period_end is not None), default=None)
    committees = {}
    for name in partnerships(marts):
        mine = [f for f in figures if f.partnership == name]
        committees[name] = None if as_at is None else (mine, committee_view(
            mine, marts.indicators, as_at, read_revisions(conn, name), disclosure,
            tuple(read_milestones(conn, name)), data_end, charts_cut=chart_marts is not marts))

    charts = EmbeddableCharts(report_charts)

    def write(partnership: Partnership) -> Path:
        path = reports_dir / report_filename(partnership.partnership)
        committee = committees[partnership.partnership]
        context = report_context(partnership, marts, charts, disclosure, built,
                                 committee[1] if committee else None, chart_marts)
        _write_atomically(path, render("report.html.j2", **context))
        write_word_report(path.with_suffix(".docx"), context)
        return path

    # Two at a time: a chart whose small copy was not drawn with it (by an earlier release, or
    # its copy removed) is shrunk here with Pillow, which releases the GIL.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="write-reports")
    try:
        written = list(pool.map(write, partnerships(marts).values(), timeout=REPORTS_TIMEOUT_SECONDS))
    except FuturesTimeout:
        raise TimeoutError(f"The reports were not all written within {REPORTS_TIMEOUT_SECONDS} s; "
                           f"those in {reports_dir} may be from an earlier build") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # (never waits on a writer that does not answer)
    charts.forget_unused()
    manifest = reports_dir / REPORTS_MANIFEST
    try:
        earlier = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = []
    names = {name for path in written for name in (path.name, path.with_suffix(".docx").name)}
    for name in earlier if isinstance(earlier, list) else []:
        if isinstance(name, str) and name not in names and "/" not in name and name.endswith((".html", ".docx")):
            (reports_dir / name).unlink(missing_ok=True)
    _write_atomically(manifest, json.dumps(sorted(names), indent=1))
    if history_path is not None and as_at is not None:
        reported_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        rows = [row for name, path in zip(partnerships(marts), written) for row in history_rows(
            committees[name][0], as_at, path.name, reported_at)]
        if rows:
            append_history(history_path, pl.DataFrame(rows))
    return written
