"""Committee reports: one self-contained HTML file per partnership, for the papers.

``write_reports`` writes ``<reports_dir>/<partnership>.html``: the scorecard table first (one
row per area and indicator, with RAG, direction of travel, Making Data Count variation and
assurance icons, comparisons with England and the statistical neighbours and a trend
sparkline), then a section per indicator and area with the chart images and a sentence written
from the data, then the contributory factors at the end of assessment beside England's.

The file works offline and prints to A4: no scripts, fonts or links to anywhere else; charts
are the PNGs ``write_charts`` drew, embedded as data URIs (not the interactive HTML, which would
carry plotly.js into every report); sparklines, icons and bar charts are inline SVG.

With ``disclosure_control`` (the default) every count of 1 to 5 shown is ``c``, and so is every
percentage or rate whose numerator or denominator is 1 to 5; a chart image that would show such
a figure is withheld. The marts hold aggregate figures only: nothing here is about a child.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import struct
import zlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path

import duckdb
import numpy as np

from scorecard.publish.charts import (BLUE, RAG_COLOURS, SPC_COMMON, SPC_CONCERN, SPC_IMPROVEMENT,
                              SPC_NEITHER, VERMILLION, IndicatorInfo, format_value,
                              load_indicators, period_label_for, table_columns)
from scorecard.model.catalogue import INDICATORS
from scorecard.model.statistics import round_half_up

INDICATOR_ORDER = {indicator.indicator_id: i for i, indicator in enumerate(INDICATORS)}
COUNT_UNITS = frozenset({"children", "assessments"})
SUPPRESSED = "c"
SMALL_COUNT_MAX = 5
MAX_FACTORS = 15  # bars per area in the contributory factors chart
REPORTS_MANIFEST = ".reports.json"

SOURCES = {"partner_return": "partner return", "record_level": "record-level extracts",
           "dfe_published": "DfE published statistics"}
# Fingertips-style comparison colours: a pale fill behind a dark word (never colour alone).
COMPARISON_STYLES = {"better": ("#d8ecd2", "#1e5a14"), "similar": ("#fff0bf", "#5c4700"),
                     "worse": ("#f8d4d4", "#8c1414")}
RAG_TEXT = {"green": "#ffffff", "amber": "#222222", "red": "#ffffff", "no target": "#222222",
            "no data": "#444444"}


# --- what the report is made from ---------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A row of marts.scorecard (columns an older warehouse lacks are None)."""
    partnership: str
    area_code: str
    area_name: str
    indicator_id: str
    period_label: str | None = None
    period_end: date | None = None
    value: float | None = None
    source: str | None = None
    previous_period_label: str | None = None
    previous_value: float | None = None
    change: float | None = None
    direction_of_travel: str | None = None
    baseline_period: str | None = None
    baseline_value: float | None = None
    target_value: float | None = None
    target_date: date | None = None
    trajectory_value: float | None = None
    target_illustrative: bool | None = None
    rag: str | None = None
    note: str | None = None
    stale_reason: str | None = None
    variation: str | None = None
    assurance: str | None = None
    england_value: float | None = None
    vs_england: str | None = None
    neighbours_median: float | None = None
    vs_neighbours: str | None = None


SCORE_COLUMNS = tuple(f.name for f in fields(Score))


@dataclass(frozen=True)
class Point:
    label: str
    end: date
    value: float | None
    numerator: float | None
    denominator: float | None


@dataclass(frozen=True)
class Factor:
    factor: str
    episodes: float | None
    episodes_with_factors: float | None
    pct: float | None


@dataclass
class Partnership:
    partnership: str
    name: str
    strategy: str | None
    areas: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    scores: list[Score] = field(default_factory=list)


@dataclass
class Warehouse:
    indicators: dict[str, IndicatorInfo]
    partnerships: dict[str, Partnership]
    series: dict[tuple[str, str], list[Point]]  # headline series per (indicator, area)
    months: dict[tuple[str, str], dict[str, Point]]  # monthly points per (indicator, area)
    spc: dict[tuple[str, str], list[tuple[str, float | None]]]  # (period_label, value)
    # (area_code) -> [(period_label, factors)], latest period first; England under "england".
    factors: dict[str, list[tuple[str, list[Factor]]]]


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _select_list(columns: set[str], wanted: tuple[str, ...], alias: str) -> str:
    return ", ".join(f"{alias}.{c}" if c in columns else f"null as {c}" for c in wanted)


def load_warehouse(conn: duckdb.DuckDBPyConnection) -> Warehouse:
    indicators = load_indicators(conn)
    score_columns = table_columns(conn, "marts", "scorecard")
    scores = [Score(**row) for row in _rows(conn, f"""
        select {_select_list(score_columns, SCORE_COLUMNS, "s")}
        from marts.scorecard as s
        where s.partnership is not null
        order by s.partnership, s.area_name, s.indicator_id
    """)]

    names: dict[str, tuple[str, str | None]] = {}
    area_columns = table_columns(conn, "core", "partnership_areas")
    if {"partnership", "partnership_name"} <= area_columns:
        strategy = "strategy" if "strategy" in area_columns else "null"
        for row in _rows(conn, f"""select partnership, max(partnership_name) as name,
                                   max({strategy}) as strategy
                                   from core.partnership_areas group by partnership"""):
            names[row["partnership"]] = (row["name"], row["strategy"])

    partnerships: dict[str, Partnership] = {}
    for score in sorted(scores, key=lambda s: (s.partnership, s.area_name or "", INDICATOR_ORDER.get(
            s.indicator_id, len(INDICATOR_ORDER)), s.indicator_id)):
        name, strategy = names.get(score.partnership, (None, None))
        entry = partnerships.setdefault(score.partnership, Partnership(
            score.partnership, name or score.partnership.replace("_", " ").title(), strategy))
        if (score.area_code, score.area_name) not in entry.areas:
            entry.areas.append((score.area_code, score.area_name))
        entry.scores.append(score)

    value_columns = table_columns(conn, "marts", "indicator_values")
    wanted = ("indicator_id", "area_code", "period_type", "period_label", "period_end", "value",
              "numerator", "denominator")
    series: dict[tuple[str, str], list[Point]] = defaultdict(list)
    months: dict[tuple[str, str], dict[str, Point]] = defaultdict(dict)
    for row in _rows(conn, f"""
        select {_select_list(value_columns, wanted, "v")}, i.headline_period_type
        from marts.indicator_values as v
        inner join marts.indicators as i on i.indicator_id = v.indicator_id
        where v.partnership is not null
          and (v.period_type = i.headline_period_type or v.period_type = 'month')
        order by v.indicator_id, v.area_code, v.period_end
    """):
        point = Point(row["period_label"], row["period_end"], row["value"], row["numerator"],
                      row["denominator"])
        key = (row["indicator_id"], row["area_code"])
        if row["period_type"] == row["headline_period_type"]:
            series[key].append(point)
        if row["period_type"] == "month":
            months[key][row["period_label"]] = point

    spc: dict[tuple[str, str], list[tuple[str, float | None]]] = defaultdict(list)
    if {"indicator_id", "area_code", "period_label", "value"} <= table_columns(conn, "marts", "spc"):
        for row in _rows(conn, """select indicator_id, area_code, period_label, value
                                  from marts.spc order by indicator_id, area_code, period_end"""):
            spc[(row["indicator_id"], row["area_code"])].append((row["period_label"], row["value"]))

    factors: dict[str, list[tuple[str, list[Factor]]]] = {}
    factor_columns = table_columns(conn, "marts", "contributory_factors")
    if {"area_code", "period_label", "factor", "pct"} <= factor_columns:
        wanted = ("area_code", "area_name", "partnership", "period_label", "factor", "episodes",
                  "episodes_with_factors", "pct")
        grouped: dict[str, dict[str, list[Factor]]] = defaultdict(lambda: defaultdict(list))
        for row in _rows(conn, f"""
            select {_select_list(factor_columns, wanted, "f")}
            from marts.contributory_factors as f
            order by f.area_code, f.period_label desc, f.factor
        """):
            key = row["area_code"] if row["partnership"] is not None else _england_key(row)
            if key is None:
                continue
            grouped[key][row["period_label"]].append(Factor(
                row["factor"], row["episodes"], row["episodes_with_factors"], row["pct"]))
        factors = {key: sorted(periods.items(), key=lambda item: _period_sort_key(item[0]),
                               reverse=True)
                   for key, periods in grouped.items()}
    return Warehouse(indicators, partnerships, dict(series), dict(months), dict(spc), factors)


def _england_key(row: dict) -> str | None:
    """England's rows (the benchmark); other non-partnership areas are not used."""
    code, name = row["area_code"] or "", (row["area_name"] or "").lower()
    return "england" if code.startswith("E92") or name == "england" else None


def _period_sort_key(label: str) -> str:
    return label or ""  # one mart writes its periods one way: "2019/20" sorts as text


# --- disclosure control and numbers -------------------------------------------------------


def _small(count: float | None) -> bool:
    return count is not None and 1 <= count <= SMALL_COUNT_MAX


@dataclass(frozen=True)
class Disclosure:
    applied: bool

    def hides(self, unit: str, value: float | None, numerator: float | None = None,
              denominator: float | None = None) -> bool:
        """A count of 1-5, or a % or rate made from one, is suppressed when control is on."""
        if not self.applied or value is None:
            return False
        if unit in COUNT_UNITS and (_small(value) or _small(numerator)):
            return True
        return _small(numerator) or _small(denominator)

    def show(self, value: float | None, unit: str, numerator: float | None = None,
             denominator: float | None = None) -> str:
        return SUPPRESSED if self.hides(unit, value, numerator, denominator) else format_value(
            value, unit)


def percent_text(value: float | None) -> str:
    return "–" if value is None else f"{round_half_up(value, 1) + 0.0:.1f}%"


def period_text(label: str | None) -> str:
    """Months as people say them ("Sep 2017"); years as written ("2016/17")."""
    if label is None:
        return "–"
    match = re.fullmatch(r"(\d{4})-(\d{2})", label)
    if match:
        return date(int(match[1]), int(match[2]), 1).strftime("%b %Y")
    return label


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# --- sentences ----------------------------------------------------------------------------


def _point_for(points: list[Point], label: str | None) -> Point | None:
    return next((p for p in points if p.label == label), None)


def _start_point(score: Score, points: list[Point]) -> tuple[str, float | None, bool] | None:
    """Where the sentence starts: the strategy's baseline when it is before the latest period,
    else the first period with a value. Returns (period label, value, from the data?)."""
    latest = _point_for(points, score.period_label)
    latest_end = latest.end if latest is not None else score.period_end
    if score.baseline_period and score.baseline_value is not None:
        baseline = _point_for(points, score.baseline_period)
        if baseline is None or latest_end is None or baseline.end < latest_end:
            if baseline is None or baseline.end != latest_end:
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


def target_clause(score: Score, indicator: IndicatorInfo) -> str:
    if score.target_value is None:
        return ""
    target = format_value(score.target_value, indicator.unit)
    due = (f" by {period_text(period_label_for(score.target_date, indicator.headline_period_type))}"
           if score.target_date is not None else "")
    kind = "an illustrative target" if score.target_illustrative else "a target"
    return f" against {kind} of {target}{due}"


def headline_sentence(score: Score, indicator: IndicatorInfo, points: list[Point],
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
        return (f"{name} in {when} is not shown ({SUPPRESSED}): it rests on a count of 1 to 5, "
                "which disclosure control suppresses.")
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


def narrative(score: Score, indicator: IndicatorInfo, points: list[Point],
              disclosure: Disclosure) -> list[str]:
    """The sentences under an indicator's heading: the headline, then RAG and SPC, then the
    strategy's note. The stale warning is shown apart (see ``indicator_section``)."""
    sentences = [headline_sentence(score, indicator, points, disclosure), *other_sentences(score)]
    if score.note:
        note = score.note.strip()
        sentences.append(note if note.endswith((".", "!", "?")) else note + ".")
    return sentences


# --- small inline graphics ----------------------------------------------------------------


def _svg_circle(fill: str, label: str, text: str, text_colour: str, glyph: str = "") -> str:
    inner = glyph or (f'<text x="14" y="19" text-anchor="middle" font-size="14" font-weight="700" '
                      f'font-family="Arial, Helvetica, sans-serif" fill="{text_colour}">'
                      f"{esc(text)}</text>")
    return (f'<svg class="icon" width="28" height="28" viewBox="0 0 28 28" role="img" '
            f'aria-label="{esc(label)}"><title>{esc(label)}</title>'
            f'<circle cx="14" cy="14" r="12.5" fill="{fill}" stroke="#ffffff" stroke-width="1"/>'
            f"{inner}</svg>")


COMMON_GLYPH = ('<polyline points="6,15 10,11 14,17 18,10 22,14" fill="none" stroke="#ffffff" '
                'stroke-width="2.2" stroke-linejoin="round" stroke-linecap="round"/>')


def variation_svg(kind: str, lower_is_better: bool) -> tuple[str, str]:
    """Making Data Count variation icon and its caption: grey common cause; blue improvement,
    orange concern, with H or L for a special cause high or low."""
    if kind == "common":
        return _svg_circle(SPC_COMMON, "Common cause variation", "", "", COMMON_GLYPH), "common cause"
    high = {"improvement": not lower_is_better, "concern": lower_is_better, "neither": True}[kind]
    letter, side = ("H", "high") if high else ("L", "low")
    fill = {"improvement": SPC_IMPROVEMENT, "concern": SPC_CONCERN, "neither": SPC_NEITHER}[kind]
    label = f"Special cause {kind}: {side} values"
    return (_svg_circle(fill, label, letter, "#222222" if kind == "concern" else "#ffffff"),
            f"{kind} ({side})")


def variation_icon(variation: str | None, indicator: IndicatorInfo) -> str:
    kind = _variation_kind(variation)
    if kind is None:
        return '<span class="muted">–</span>'
    svg, caption = variation_svg(kind, indicator.lower_is_better)
    return f'{svg}<span class="caption">{esc(caption)}</span>'


ASSURANCE_ICONS = {  # kind: (fill, letter, letter colour, label, caption)
    "pass": (SPC_IMPROVEMENT, "P", "#ffffff", "Consistently passes the target", "consistently pass"),
    "fail": (SPC_CONCERN, "F", "#222222", "Consistently fails the target", "consistently fail"),
    "hit and miss": (SPC_COMMON, "?", "#ffffff",
                     "Hit and miss: the target lies within the process limits", "hit and miss"),
}


def assurance_svg(kind: str) -> str:
    fill, letter, text_colour, label, _ = ASSURANCE_ICONS[kind]
    return _svg_circle(fill, label, letter, text_colour)


def assurance_icon(assurance: str | None) -> str:
    kind = _assurance_kind(assurance)
    if kind is None:
        return '<span class="muted">–</span>'
    return f'{assurance_svg(kind)}<span class="caption">{ASSURANCE_ICONS[kind][4]}</span>'


def rag_badge(score: Score) -> str:
    rag = score.rag or "no data"
    background = RAG_COLOURS.get(rag, "#cccccc")
    colour = RAG_TEXT.get(rag, "#222222")
    badge = (f'<span class="badge" style="background:{background};color:{colour}">'
             f"{esc(rag[:1].upper() + rag[1:])}</span>")
    if score.target_illustrative and rag in ("green", "amber", "red"):
        badge += '<span class="caption">illustrative target</span>'
    return badge


def travel_cell(score: Score) -> str:
    travel = score.direction_of_travel
    if travel is None or score.change is None and travel != "no change":
        return '<span class="muted">–</span>'
    change = score.change or 0.0
    arrow = "→" if travel == "no change" or abs(change) < 1e-9 else ("↑" if change > 0 else "↓")
    css = {"improving": "improving", "worsening": "worsening"}.get(travel, "steady")
    since = (f'<span class="caption">since {esc(period_text(score.previous_period_label))}</span>'
             if score.previous_period_label else "")
    return (f'<span class="travel {css}"><span aria-hidden="true">{arrow}</span> '
            f"{esc(travel[:1].upper() + travel[1:])}</span>{since}")


def comparison_cell(result: str | None, benchmark: float | None, label: str, unit: str,
                    disclosure: Disclosure) -> str:
    if result not in COMPARISON_STYLES:
        return '<span class="muted">not compared</span>'
    background, colour = COMPARISON_STYLES[result]
    shown = f"{label} {disclosure.show(benchmark, unit)}" if benchmark is not None else ""
    return (f'<span class="compare" style="background:{background};color:{colour}">'
            f'{esc(result[:1].upper() + result[1:])}</span>'
            f'<span class="caption">{esc(shown)}</span>')


def sparkline(points: list[Point], unit: str, target: float | None, disclosure: Disclosure,
              width: int = 110, height: int = 32) -> str:
    """The headline series as a small line (suppressed points left out), with the target as a
    dashed line when it is set, and the latest value marked."""
    shown = [(i, p) for i, p in enumerate(points) if p.value is not None
             and not disclosure.hides(unit, p.value, p.numerator, p.denominator)]
    if not shown:
        return '<span class="muted">–</span>'
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
    parts = []
    if target is not None:
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y(target):.1f}" '
                     f'y2="{y(target):.1f}" stroke="{VERMILLION}" stroke-width="1.2" '
                     'stroke-dasharray="3 2"/>')
    parts += [f'<polyline points="{" ".join(seg)}" fill="none" stroke="{BLUE}" '
              'stroke-width="1.8" stroke-linejoin="round"/>' for seg in segments if len(seg) > 1]
    last_i, last = shown[-1]
    parts.append(f'<circle cx="{x(last_i):.1f}" cy="{y(last.value):.1f}" r="2.8" fill="{BLUE}"/>')
    first = shown[0][1]
    label = (f"Trend from {period_text(first.label)} ({format_value(first.value, unit)}) to "
             f"{period_text(last.label)} ({format_value(last.value, unit)})")
    if target is not None:
        label += f"; dashed line: target {format_value(target, unit)}"
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{esc(label)}"><title>{esc(label)}</title>'
            f'{"".join(parts)}</svg>')


def factor_bars(area: list[Factor], england: dict[str, Factor], area_name: str,
                disclosure: Disclosure) -> str:
    """A table of factors with an inline SVG bar pair each: the area's % and England's."""
    rows = sorted(area, key=lambda f: (-(f.pct or 0), f.factor))
    neglect = [f for f in rows if "neglect" in f.factor.lower()]
    chosen = rows[:MAX_FACTORS] + [f for f in neglect if f not in rows[:MAX_FACTORS]]
    top = max([f.pct or 0 for f in chosen] + [
        (england[f.factor].pct or 0) for f in chosen if f.factor in england] + [1])
    scale_max = top * 1.08
    bar_width, height = 300, 30
    body = []
    for factor in chosen:
        bars = []
        for row_y, item, colour, who in ((3, factor, BLUE, area_name),
                                         (17, england.get(factor.factor), "#8c8c8c", "England")):
            if item is None or item.pct is None:
                text, length = "no figure", 0.0
            elif disclosure.hides("%", item.pct, item.episodes, item.episodes_with_factors):
                text, length = SUPPRESSED, 0.0
            else:
                text, length = percent_text(item.pct), bar_width * item.pct / scale_max
            bars.append(f'<rect x="0" y="{row_y}" width="{length:.1f}" height="10" fill="{colour}">'
                        f"<title>{esc(who)}: {esc(text)}</title></rect>"
                        f'<text x="{length + 4:.1f}" y="{row_y + 9}" font-size="10" '
                        f'font-family="Arial, Helvetica, sans-serif" fill="#222">{esc(text)}</text>')
        css = ' class="neglect"' if factor in neglect else ""
        body.append(f"<tr{css}><th scope=\"row\">{esc(factor.factor)}</th><td>"
                    f'<svg class="bars" width="{bar_width + 50}" height="{height}" '
                    f'viewBox="0 0 {bar_width + 50} {height}" role="img" '
                    f'aria-label="{esc(factor.factor)}">{"".join(bars)}</svg></td></tr>')
    more = len(rows) - len(chosen)
    extra = (f'<p class="muted">The {len(chosen)} most common factors are shown; {more} less '
             f"common ones are left out.</p>" if more > 0 else "")
    key = (f'<p class="legend"><span class="swatch" style="background:{BLUE}"></span> '
           f'{esc(area_name)} <span class="swatch" style="background:#8c8c8c"></span> England</p>')
    return (f'{key}<table class="factors"><thead><tr><th scope="col">Factor</th>'
            f'<th scope="col">% of assessments with any factor recorded</th></tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>{extra}')


# --- the page -----------------------------------------------------------------------------

STYLE = """
:root { --ink: #1f1f1f; --muted: #5f5f5f; --rule: #d9d9d9; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--ink); background: #fff;
       max-width: 64rem; margin: 1.5rem auto; padding: 0 1.25rem; line-height: 1.4;
       font-size: 15px; }
h1 { font-size: 1.9rem; margin: 0.2rem 0 0.6rem; }
h2 { font-size: 1.35rem; margin: 1.8rem 0 0.6rem; padding-bottom: 0.2rem;
     border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
a { color: var(--accent); }
.kicker { text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted);
          font-size: 0.8rem; margin: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
           margin: 0 0 0.8rem; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
.disclosure { padding: 0.5rem 0.75rem; border-left: 6px solid #1a9641; background: #eef7ee;
              margin: 0.6rem 0 1rem; }
.disclosure.unsuppressed { border-left-color: #b2182b; background: #fdecea; font-weight: bold; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.4rem;
         border-bottom: 1px solid var(--rule); }
thead th { font-size: 0.8rem; color: var(--muted); border-bottom: 2px solid #999;
           vertical-align: bottom; }
table.scorecard { font-size: 0.85rem; table-layout: fixed; }
table.scorecard td, table.scorecard th { overflow-wrap: break-word; }
svg.spark { width: 100%; max-width: 110px; height: auto; }
table.scorecard td.value { font-weight: bold; font-size: 1rem; white-space: nowrap; }
table.scorecard tr.area th { background: #eef4f9; color: var(--ink); font-size: 0.95rem;
                             border-bottom: 1px solid #9fbfd9; }
table.scorecard tr.nodata td { color: var(--muted); }
.caption { display: block; font-size: 0.72rem; color: var(--muted); line-height: 1.2;
           margin-top: 0.15rem; }
.polarity { display: block; font-size: 0.72rem; color: var(--muted); }
.badge, .compare { display: inline-block; padding: 0.1rem 0.45rem; border-radius: 0.7rem;
                   font-weight: bold; font-size: 0.8rem; white-space: nowrap;
                   border: 1px solid rgba(0,0,0,0.15); }
.travel { font-weight: bold; white-space: nowrap; }
.travel.improving { color: #1d5fa0; }
.travel.worsening { color: #9a4a00; }
.travel.steady { color: var(--muted); }
.muted { color: var(--muted); }
svg.icon { display: block; }
.stale-flag { display: inline-block; margin-top: 0.2rem; font-size: 0.72rem; font-weight: bold;
              color: #8c1414; }
section.key { font-size: 0.85rem; margin-top: 1rem; padding: 0.6rem 0.8rem;
              background: #f7f7f7; border: 1px solid var(--rule); }
section.key h3 { margin-top: 0.2rem; }
section.key dl { display: grid; grid-template-columns: 9.5rem 1fr; gap: 0.35rem 0.8rem;
                 margin: 0; align-items: center; }
section.key dt { font-weight: bold; }
section.key dd { margin: 0; }
.icon-row { display: inline-flex; align-items: center; gap: 0.3rem; margin-right: 0.7rem; }
.icon-row svg.icon { display: inline-block; }
section.indicator .summary { font-size: 1.02rem; }
section.indicator .meta { color: var(--muted); font-size: 0.85rem; margin-top: -0.3rem; }
section.indicator figure { margin: 0.6rem 0 0.9rem; }
section.indicator img { display: block; width: 100%; max-width: 900px; height: auto;
                        border: 1px solid var(--rule); }
section.indicator figcaption { font-size: 0.8rem; color: var(--muted); }
.withheld { padding: 0.6rem; border: 1px dashed #999; color: var(--muted); }
.note { border-left: 4px solid #f0ad4e; background: #fff8ec; padding: 0.4rem 0.6rem; }
.stale { border-left: 4px solid #b2182b; background: #fdecea; padding: 0.4rem 0.6rem; }
table.factors { max-width: 48rem; font-size: 0.85rem; }
table.factors th[scope=row] { font-weight: normal; width: 45%; }
table.factors tr.neglect th, table.factors tr.neglect td { font-weight: bold;
                                                           background: #f3f8fc; }
.legend { font-size: 0.85rem; }
.swatch { display: inline-block; width: 0.9rem; height: 0.6rem; margin-left: 0.6rem;
          vertical-align: middle; }
ul.nodata { columns: 2; font-size: 0.85rem; color: var(--muted); }
footer { margin-top: 2rem; font-size: 0.8rem; color: var(--muted); }

@page { size: A4; margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  h1 { font-size: 18pt; }
  h2 { font-size: 13pt; margin-top: 0; }
  table.scorecard { font-size: 7.5pt; }
  table.scorecard th, table.scorecard td { padding: 0.25rem 0.2rem; }
  table.scorecard td.value { font-size: 9pt; }
  .caption, .polarity { font-size: 6.5pt; }
  table.scorecard thead th { font-size: 6.5pt; overflow-wrap: normal; }
  .badge, .compare { font-size: 7pt; padding: 0.05rem 0.3rem; }
  svg.icon { width: 22px; height: 22px; }
  section.key { font-size: 8pt; }
  thead { display: table-header-group; }
  tr, section.key, table.factors, figure, img, .summary, .note, .stale { break-inside: avoid; }
  section.indicator, section.factors-section { break-before: page; }
  section.methods { break-inside: avoid; }
  section.indicator .summary { font-size: 10.5pt; }
  section.indicator .meta, section.indicator figcaption { font-size: 8pt; }
  .note, .stale { font-size: 9pt; }
  section.indicator figure { margin: 0.3rem 0 0.5rem; }
  section.indicator img { width: auto; max-width: 100%; max-height: 88mm; }
}
"""


def section_id(area_code: str, indicator_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"s-{area_code}-{indicator_id}")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EMBED_MAX_WIDTH = 1200  # wider chart PNGs (write_charts draws at scale 2) are halved to embed


def _png_chunks(data: bytes):
    at = len(PNG_SIGNATURE)
    while at + 8 <= len(data):
        (length,), kind = struct.unpack(">I", data[at:at + 4]), data[at + 4:at + 8]
        yield kind, data[at + 8:at + 8 + length]
        at += 12 + length


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def embeddable_png(data: bytes) -> bytes:
    """The chart PNG at half size (2000 px wide -> 1000 px, ~140 dpi across an A4 page), for
    embedding: about a third of the bytes, so a report of 40 charts stays a few MB.

    Only the simple PNGs Chromium writes for kaleido are shrunk (8-bit RGB or RGBA, not
    interlaced, every row "Up"-filtered, so numpy undoes the filter a row at a time); anything
    else is returned unchanged.
    """
    try:
        if not data.startswith(PNG_SIGNATURE):
            return data
        chunks = list(_png_chunks(data))
        header = next(body for kind, body in chunks if kind == b"IHDR")
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
        channels = {2: 3, 6: 4}.get(colour)
        if width <= EMBED_MAX_WIDTH or depth != 8 or channels is None or interlace or height < 2:
            return data
        raw = np.frombuffer(zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT")),
                            dtype=np.uint8)
        if raw.size != height * (width * channels + 1):
            return data
        rows = raw.reshape(height, width * channels + 1)
        # "Up" on every row (a first row filtered "None" is the same: nothing above it).
        if not ((rows[1:, 0] == 2).all() and rows[0, 0] in (0, 2)):
            return data
        pixels = rows[:, 1:].copy()
        for row in range(1, height):  # undo "Up": add the row above (uint8 wraps, as PNG's does)
            np.add(pixels[row - 1], pixels[row], out=pixels[row])
        pixels = pixels.reshape(height, width, channels)
        rgb = pixels[..., :3]
        if channels == 4 and not (pixels[..., 3] == 255).all():
            alpha = pixels[..., 3:4].astype(np.uint16)
            rgb = (rgb * alpha + 255 * (255 - alpha) + 127) // 255  # over white paper
        even = rgb[: height // 2 * 2, : width // 2 * 2]
        # Each 2x2 block averaged (rounded), summed straight from the 8-bit pixels into 16 bits.
        summed = np.add(even[0::2, 0::2], even[0::2, 1::2], dtype=np.uint16)
        summed += np.add(even[1::2, 0::2], even[1::2, 1::2], dtype=np.uint16)
        summed += 2
        small = (summed >> 2).astype(np.uint8)
        flat = small.reshape(small.shape[0], -1)
        up = np.vstack([flat[:1], flat[1:] - flat[:-1]])
        filtered = np.hstack([np.full((flat.shape[0], 1), 2, dtype=np.uint8), up])
        return (PNG_SIGNATURE
                + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", small.shape[1], small.shape[0], 8,
                                                  2, 0, 0, 0))
                # Level 3: half the time of the default 6, for 3% more bytes.
                + _png_chunk(b"IDAT", zlib.compress(filtered.tobytes(), 3))
                + _png_chunk(b"IEND", b""))
    except (ValueError, StopIteration, zlib.error, struct.error):
        return data


def _chart_image(path: Path, alt: str) -> str | None:
    if not path.is_file():
        return None
    data = base64.b64encode(embeddable_png(path.read_bytes())).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


def _spc_hidden(key: tuple[str, str], unit: str, warehouse: Warehouse,
                disclosure: Disclosure) -> bool:
    """Would the SPC chart show a suppressed figure (a monthly count or % from 1 to 5)?"""
    months = warehouse.months.get(key, {})
    for label, value in warehouse.spc.get(key, []):
        point = months.get(label)
        numerator = point.numerator if point is not None else None
        denominator = point.denominator if point is not None else None
        if disclosure.hides(unit, value, numerator, denominator):
            return True
    return False


def indicator_section(score: Score, indicator: IndicatorInfo, warehouse: Warehouse,
                      charts_dir: Path, disclosure: Disclosure) -> str:
    key = (score.indicator_id, score.area_code)
    points = warehouse.series.get(key, [])
    sentences = narrative(score, indicator, points, disclosure)
    headline, others = sentences[0], sentences[1:len(sentences) - (1 if score.note else 0)]
    parts = [f'<section class="indicator" id="{section_id(score.area_code, score.indicator_id)}">',
             f"<h2>{esc(indicator.name)} — {esc(score.area_name)}</h2>"]
    meta = ["▼ Lower is better" if indicator.lower_is_better else "▲ Higher is better"]
    if score.period_label:
        meta.append(f"Latest: {period_text(score.period_label)}")
    if score.source:
        meta.append(f"Source: {SOURCES.get(score.source, score.source)}")
    parts.append(f'<p class="meta">{esc(" · ".join(meta))}</p>')
    parts.append(f'<p class="summary">{esc(" ".join([headline, *others]))}</p>')
    if score.note:
        parts.append(f'<p class="note"><strong>Note from the strategy:</strong> '
                     f"{esc(sentences[-1])}</p>")
    if score.stale_reason:
        parts.append(f'<p class="stale"><strong>Stale figure:</strong> this figure rests on the '
                     f"last good version of a file that failed its checks and is not yet "
                     f"replaced ({esc(score.stale_reason)}).</p>")

    folder = charts_dir / score.area_code
    series_hidden = any(disclosure.hides(indicator.unit, p.value, p.numerator, p.denominator)
                        for p in points)
    withheld = ('<p class="withheld">Chart withheld under disclosure control: it would show '
                "figures made from counts of 1 to 5.</p>")
    charts = [(folder / f"{score.indicator_id}.png", series_hidden,
               f"Chart of {indicator.name}, {score.area_name}, against its target. {headline}",
               "Headline series with baseline, target and trajectory, 95% confidence interval, "
               "England and statistical neighbours where available."),
              (folder / f"{score.indicator_id}_spc.png", _spc_hidden(key, indicator.unit, warehouse,
                                                                       disclosure),
               f"SPC chart of the monthly {indicator.name}, {score.area_name}.",
               "Monthly figures with mean and process limits (statistical process control): "
               "blue points are special cause improvement, orange concern, grey common cause.")]
    for path, hidden, alt, caption in charts:
        if not path.is_file():
            if path.name.endswith("_spc.png"):
                continue
            parts.append('<p class="withheld">No chart image: the charts were drawn without PNG '
                         "export, or not yet.</p>")
            continue
        if hidden:
            parts.append(withheld)
            continue
        parts.append(f"<figure>{_chart_image(path, alt)}<figcaption>{esc(caption)}</figcaption>"
                     "</figure>")
    parts.append("</section>")
    return "\n".join(parts)


def scorecard_row(score: Score, indicator: IndicatorInfo, warehouse: Warehouse,
                  disclosure: Disclosure, has_section: bool) -> str:
    unit = indicator.unit
    points = warehouse.series.get((score.indicator_id, score.area_code), [])
    latest = _point_for(points, score.period_label)
    value = disclosure.show(score.value, unit, latest.numerator if latest else None,
                            latest.denominator if latest else None)
    name = esc(indicator.name)
    if has_section:
        name = f'<a href="#{section_id(score.area_code, score.indicator_id)}">{name}</a>'
    polarity = "▼ lower is better" if indicator.lower_is_better else "▲ higher is better"
    stale = ('<span class="stale-flag">⚠ stale figure</span>' if score.stale_reason else "")
    if score.target_value is not None:
        due = (period_text(period_label_for(score.target_date, indicator.headline_period_type))
               if score.target_date is not None else "")
        target = (f"{esc(format_value(score.target_value, unit))}"
                  f'<span class="caption">{("by " + esc(due)) if due else ""}'
                  f'{" (illustrative)" if score.target_illustrative else ""}</span>')
    else:
        target = '<span class="muted">none set</span>'
    nodata = ' class="nodata"' if score.value is None else ""
    period = (f'<span class="caption">{esc(period_text(score.period_label))}</span>'
              if score.period_label else "")
    england = comparison_cell(score.vs_england, score.england_value, "England", unit, disclosure)
    neighbours = comparison_cell(score.vs_neighbours, score.neighbours_median, "median", unit,
                                 disclosure)
    return (
        f"<tr{nodata}><td>{name}<span class=\"polarity\">{polarity}</span>{stale}</td>"
        f'<td class="value">{esc(value)}{period}</td>'
        f"<td>{target}</td>"
        f"<td>{rag_badge(score)}</td>"
        f"<td>{travel_cell(score)}</td>"
        f"<td>{variation_icon(score.variation, indicator)}</td>"
        f"<td>{assurance_icon(score.assurance)}</td>"
        f"<td>{england}</td><td>{neighbours}</td>"
        f"<td>{sparkline(points, unit, score.target_value, disclosure)}</td></tr>")


# Column widths: the table is laid out fixed, so it never runs wider than an A4 page.
SCORECARD_COLUMNS = (19, 8, 9, 9, 10, 9, 10, 9, 9, 8)
SCORECARD_HEAD = ("<colgroup>" + "".join(f'<col style="width:{w}%">' for w in SCORECARD_COLUMNS)
                  + "</colgroup>"
                  "<thead><tr><th scope=\"col\">Indicator</th><th scope=\"col\">Latest</th>"
                  "<th scope=\"col\">Target</th><th scope=\"col\">Against trajectory</th>"
                  "<th scope=\"col\">Direction of travel</th><th scope=\"col\">Variation</th>"
                  "<th scope=\"col\">Assurance</th><th scope=\"col\">vs England</th>"
                  "<th scope=\"col\">vs neigh&shy;bours</th><th scope=\"col\">Trend</th>"
                  "</tr></thead>")


def key_section() -> str:
    rags = " ".join(
        f'<span class="badge" style="background:{RAG_COLOURS[r]};color:{RAG_TEXT[r]}">'
        f"{r[:1].upper() + r[1:]}</span>" for r in ("green", "amber", "red", "no target", "no data"))
    icons = "".join(
        f'<span class="icon-row">{"".join(variation_svg(kind, lower)[0] for lower in sides)}'
        f"{text}</span>"
        for kind, sides, text in (
            ("common", (True,), "common cause: usual variation, no sign of real change"),
            ("improvement", (True, False), "special cause improvement: a real change for the "
                                           "better (L lower, H higher values)"),
            ("concern", (True, False), "special cause concern: a real change for the worse")))
    assurance = "".join(
        f'<span class="icon-row">{assurance_svg(kind)}{text}</span>'
        for kind, text in (("pass", "will consistently pass the target"),
                           ("fail", "will consistently fail it"),
                           ("hit and miss", "hit and miss: sometimes met, sometimes not")))
    compare = " ".join(
        f'<span class="compare" style="background:{bg};color:{fg}">{w[:1].upper() + w[1:]}</span>'
        for w, (bg, fg) in COMPARISON_STYLES.items())
    return f"""<section class="key" aria-label="Key">
<h3>How to read the scorecard</h3>
<dl>
<dt>Against trajectory</dt><dd>{rags}<br>Where the latest value stands against the straight line
from the strategy's baseline to its target: green on or better than the line, amber slightly
worse but within tolerance, red worse. “Illustrative target”: the strategy names the indicator
but states no figure, so the target is only an illustration.</dd>
<dt>Direction of travel</dt><dd>Against the previous period: the arrow shows whether the value
went up (↑) or down (↓); the word says whether that is good for this indicator (▼ lower is
better, ▲ higher is better).</dd>
<dt>Variation</dt><dd>{icons}<br>Statistical process control (SPC, NHS “Making Data Count”) of the
monthly figures: is the latest variation usual, or a real change?</dd>
<dt>Assurance</dt><dd>{assurance}<br>Where the target lies against the SPC process limits.</dd>
<dt>vs England, vs neighbours</dt><dd>{compare}<br>“Similar” when England's value (or the median of
the ten statistical neighbours, the DfE's most alike authorities) lies inside this area's 95%
confidence interval; otherwise better or worse (Fingertips method 1).</dd>
<dt>Trend</dt><dd>The indicator's series over time; the dot is the latest value, the dashed line
the target.</dd>
<dt>c</dt><dd>Suppressed: a count of 1 to 5, or a percentage or rate made from one.</dd>
</dl>
</section>"""


def methods_section() -> str:
    return """<section class="methods">
<h2>About the figures</h2>
<p><strong>Confidence intervals</strong> (the faint band on the charts): 95% limits, by the
Wilson score method for percentages and Byar's method for counts and rates, as OHID Fingertips
computes them. They show how much a figure could vary by chance.</p>
<p><strong>Benchmarks</strong>: England's value and the median of the area's ten statistical
neighbours (the DfE's model of the most similar authorities) for the same period. An area is
“similar” when the benchmark lies inside its 95% confidence interval.</p>
<p><strong>Statistical process control</strong> (NHS England's Making Data Count): an XmR chart of
the monthly figures, with limits at the mean ± 2.66 × the mean moving range. A point outside the
limits, a run of 7 on one side of the mean, a trend of 7 rising or falling, or 2 of 3 points near
a limit signal special cause variation. With fewer than 12 months the limits are trial limits.</p>
<p><strong>Rounding</strong>: figures are rounded half up (15.25 shows as 15.3).</p>
</section>"""


def factors_section(partnership: Partnership, warehouse: Warehouse,
                    disclosure: Disclosure) -> str:
    blocks = []
    england = warehouse.factors.get("england", [])
    for code, name in partnership.areas:
        periods = warehouse.factors.get(code)
        if not periods:
            continue
        period, area_factors = periods[0]
        england_factors = {f.factor: f for f in next((fs for p, fs in england if p == period), [])}
        note = "" if england_factors else (
            '<p class="muted">England has no figures for this period.</p>')
        blocks.append(f"<h3>{esc(name)}, {esc(period_text(period))}</h3>{note}"
                      f"{factor_bars(area_factors, england_factors, name, disclosure)}")
    if not blocks:
        return ""
    return ("<section class=\"factors-section\" id=\"contributory-factors\">"
            "<h2>Contributory factors at the end of assessment</h2>"
            "<p>What social workers recorded at the end of children's social care assessments "
            "(DfE Children in Need census, table C3), as a % of assessments with any factor "
            "recorded. One assessment can record several factors, so the percentages add up to "
            "more than 100. Neglect is highlighted.</p>"
            + "".join(blocks) + "</section>")


def render_report(partnership: Partnership, warehouse: Warehouse, charts_dir: Path,
                  disclosure: Disclosure, built: datetime) -> str:
    scores = partnership.scores
    with_value = [s for s in scores if s.value is not None and s.period_end is not None]
    latest = max(with_value, key=lambda s: s.period_end, default=None)
    as_at = (f"{period_text(latest.period_label)} (latest period, to "
             f"{latest.period_end.day} {latest.period_end:%B %Y})" if latest else "no data yet")
    areas = ", ".join(f"{name} ({code})" for code, name in partnership.areas)
    if disclosure.applied:
        line = ('<p class="disclosure applied"><strong>Disclosure control applied.</strong> Counts '
                "of 1 to 5 are shown as c, and so are percentages and rates made from them; "
                "figures are rounded half up.</p>")
    else:
        line = ('<p class="disclosure unsuppressed">UNSUPPRESSED — for internal use only. Counts '
                "of 1 to 5 are shown as they are: do not publish or share this report outside the "
                "partnership.</p>")

    rows = []
    sections = []
    nodata = []
    for code, name in partnership.areas:
        # Indicators with figures first (in catalogue order), then those without.
        area_scores = sorted((s for s in scores if s.area_code == code),
                             key=lambda s: s.value is None)
        rows.append(f'<tr class="area"><th colspan="10" scope="rowgroup">{esc(name)} '
                    f'<span class="muted">({esc(code)})</span></th></tr>')
        for score in area_scores:
            indicator = warehouse.indicators.get(score.indicator_id)
            if indicator is None:
                continue
            has_section = score.value is not None
            rows.append(scorecard_row(score, indicator, warehouse, disclosure, has_section))
            if has_section:
                sections.append(indicator_section(score, indicator, warehouse, charts_dir,
                                                  disclosure))
            else:
                nodata.append(f"{indicator.name} ({name})")
    nodata_list = ("<h3>No figures yet</h3><ul class=\"nodata\">"
                   + "".join(f"<li>{esc(item)}</li>" for item in nodata) + "</ul>") if nodata else ""
    strategy = (f"<dt>Strategy</dt><dd>{esc(partnership.strategy)}</dd>"
                if partnership.strategy else "")
    title = f"{partnership.name}: neglect scorecard"
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<header class="title">
<p class="kicker">Neglect scorecard</p>
<h1>{esc(partnership.name)}</h1>
<dl class="facts">
{strategy}<dt>Areas</dt><dd>{esc(areas)}</dd>
<dt>Data as at</dt><dd>{esc(as_at)}</dd>
<dt>Built</dt><dd>{esc(built.strftime("%d %B %Y %H:%M"))}</dd>
</dl>
{line}
</header>
<section class="scorecard-section" id="scorecard">
<h2>Scorecard</h2>
<table class="scorecard">
{SCORECARD_HEAD}
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{key_section()}
{nodata_list}
</section>
{chr(10).join(sections)}
{factors_section(partnership, warehouse, disclosure)}
{methods_section()}
<footer>Built from the neglect scorecard warehouse (aggregate figures only). This file needs no
network connection.</footer>
</body>
</html>
"""


# --- files --------------------------------------------------------------------------------


def report_filename(partnership: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", partnership) + ".html"


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_reports(conn: duckdb.DuckDBPyConnection, reports_dir: Path, charts_dir: Path,
                  disclosure_control: bool = True) -> list[Path]:
    """Write ``<reports_dir>/<partnership>.html`` for every partnership in marts.scorecard.

    Chart images are read from ``charts_dir`` (as ``write_charts`` left it; run that first).
    Reports this function wrote earlier for partnerships no longer in the warehouse are
    removed; nothing else in ``reports_dir`` is touched.
    """
    reports_dir.mkdir(parents=True, exist_ok=True)
    warehouse = load_warehouse(conn)
    disclosure = Disclosure(disclosure_control)
    built = datetime.now()

    def write(partnership: Partnership) -> Path:
        path = reports_dir / report_filename(partnership.partnership)
        _write_atomically(path, render_report(partnership, warehouse, charts_dir, disclosure, built))
        return path

    # Two at a time: shrinking the chart PNGs is most of the work, and zlib and numpy release the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        written = list(pool.map(write, warehouse.partnerships.values()))
    manifest = reports_dir / REPORTS_MANIFEST
    try:
        earlier = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        earlier = []
    names = {path.name for path in written}
    for name in earlier if isinstance(earlier, list) else []:
        if isinstance(name, str) and name not in names and "/" not in name and name.endswith(".html"):
            (reports_dir / name).unlink(missing_ok=True)
    _write_atomically(manifest, json.dumps(sorted(names), indent=1))
    return written
