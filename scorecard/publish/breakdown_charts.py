"""Charts "by breakdown": a count indicator's headline periods as stacked bars, one colour per
part it is counted in (early help assessments completed per agency), from
``marts.indicator_breakdowns``.

Disclosure control as everywhere else: a part of 1 to 5 is left out, and when a period would
then leave out only one part, the next smallest is left out too, so the total cannot give it
back. A footnote says how many parts were left out.
"""

from __future__ import annotations

import html
import textwrap
from collections import defaultdict
from dataclasses import dataclass

import duckdb

from scorecard.publish.disclosure import Disclosure, is_small_count
from scorecard.publish.formatting import value_axis_margin
from scorecard.publish.marts import table_columns

FONT_SIZE, MARGIN_LEFT = 17, 80  # as the other charts (``scorecard.publish.charts``)

# Okabe-Ito, then greys: distinguishable for colour-blind readers, and in print.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#777777", "#BBBBBB")


@dataclass(frozen=True)
class Breakdown:
    """One indicator's parts in one area: ``counts[part][i]`` is the count in ``periods[i]``."""

    indicator_id: str
    area_code: str
    area_name: str
    periods: tuple[str, ...]
    counts: dict[str, tuple[int | None, ...]]
    left_out: int = 0  # parts a period leaves out (disclosure control)


def read_breakdowns(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], Breakdown]:
    """Every (indicator, area) of ``marts.indicator_breakdowns``, its periods in order; none from an
    older warehouse without it."""
    if not table_columns(conn, "marts", "indicator_breakdowns"):
        return {}
    rows = conn.execute("""
        select indicator_id, area_code, area_name, period_label, breakdown, count
        from marts.indicator_breakdowns order by indicator_id, area_code, period_start, breakdown
    """).fetchall()
    grouped: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for row in rows:
        grouped[row[0], row[1]].append(row)
    found = {}
    for (indicator_id, area_code), parts in grouped.items():
        periods = tuple(dict.fromkeys(r[3] for r in parts))
        counts = {part: [None] * len(periods) for part in dict.fromkeys(sorted(r[4] for r in parts))}
        for _, _, _, period, part, count in parts:
            counts[part][periods.index(period)] = count
        found[indicator_id, area_code] = Breakdown(indicator_id, area_code, parts[0][2], periods,
                                                   {part: tuple(c) for part, c in counts.items()})
    return found


def disclosed(breakdown: Breakdown, disclosure: Disclosure) -> Breakdown:
    """``breakdown`` with the parts disclosure control hides left out (None)."""
    if not disclosure.applied:
        return breakdown
    counts = {part: list(values) for part, values in breakdown.counts.items()}
    left_out = 0
    for i in range(len(breakdown.periods)):
        small = [part for part in counts if is_small_count(counts[part][i])]
        shown = sorted((counts[part][i], part) for part in counts if part not in small and counts[part][i])
        if len(small) == 1 and shown:
            small.append(shown[0][1])  # (secondary: else the total gives the one part back)
        for part in small:
            counts[part][i] = None
        left_out += len(small)
    return Breakdown(breakdown.indicator_id, breakdown.area_code, breakdown.area_name, breakdown.periods,
                     {part: tuple(values) for part, values in counts.items()}, left_out)


def breakdown_title(indicator_name: str, area_name: str) -> str:
    return f"{indicator_name} by breakdown — {area_name}"


def breakdown_figure_parts(breakdown: Breakdown, indicator_name: str, unit: str) -> tuple[list[dict], dict]:
    """The stacked bars' traces and layout (``scorecard.publish.charts.figure`` adds the template)."""
    # (Plotly reads a subset of HTML in text: data is escaped so it shows as written.)
    traces = [{"type": "bar", "name": html.escape(part, quote=False), "x": list(breakdown.periods),
               "y": list(values), "marker": {"color": COLOURS[i % len(COLOURS)]},
               "hovertemplate": f"{html.escape(part, quote=False)}<br>%{{x}}: %{{y:,}} "
                                f"{html.escape(unit, quote=False)}<extra></extra>"}
              for i, (part, values) in enumerate(breakdown.counts.items())]
    notes = [f"Each bar is the {unit} counted in the period, split by the return's breakdown."]
    if breakdown.left_out:
        notes.append(f"{breakdown.left_out} part(s) of 1 to 5 (or that would reveal one) are left out: "
                     "disclosure control.")
    lines = [line for note in notes for line in textwrap.wrap(note, 110)]
    layout = {
        "barmode": "stack", "height": 600,
        "margin": {"t": 88, "b": 150 + 21 * len(lines), "r": 40,
                   "l": value_axis_margin((sum(c or 0 for c in column) for column in zip(*breakdown.counts.values())),
                                          unit, FONT_SIZE, least=MARGIN_LEFT)},
        "font": {"family": "Arial, Helvetica, sans-serif", "size": FONT_SIZE, "color": "#222222"},
        "title": {"text": html.escape(breakdown_title(indicator_name, breakdown.area_name), quote=False), "x": 0,
                  "xref": "paper",
                  "font": {"size": 22}},
        "legend": {"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top", "font": {"size": 15}},
        "xaxis": {"type": "category", "showgrid": False, "ticks": "outside"},
        "yaxis": {"title": {"text": html.escape(unit[:1].upper() + unit[1:], quote=False)}, "tickformat": ",",
                  "gridcolor": "#dddddd"},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "annotations": [{"text": "<br>".join(html.escape(line, quote=False) for line in lines), "showarrow": False,
                         "xref": "paper", "yref": "paper",
                         "x": 0, "y": 0, "xanchor": "left", "yanchor": "top", "align": "left",
                         "yshift": -120, "font": {"size": 15, "color": "#222222"}}],
    }
    return traces, layout
