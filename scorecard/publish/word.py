"""The committee paper in Word: ``<partnership>.docx`` beside each HTML report (council committee
papers are Word documents). Written from the same context as the HTML (``report_context``), so it
shows the same figures with the same disclosure control: the as-at date, the committee's periods
and revisions, the scorecard table, and a section per indicator with its chart and sentence.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from docx import Document
from docx.shared import Cm, Pt, RGBColor

CHART_WIDTH = Cm(16)  # an A4 page less its margins
SCORECARD_HEADERS = ("Indicator", "Latest", "Target", "Against trajectory", "Direction of travel", "Variation",
                     "Assurance", "vs England", "vs neighbours")
COMMITTEE_HEADERS = ("Indicator", "Period", "Value", "Same period a year before", "Last full year",
                     "Trajectory at period end", "Against trajectory")


def _table(document, headers: tuple[str, ...]):
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    return table


def _row(table, texts: list[str]):
    cells = table.add_row().cells
    for cell, text in zip(cells, texts):
        cell.text = text
    return cells


def _area_row(table, text: str) -> None:
    cells = table.add_row().cells
    merged = cells[0].merge(cells[-1])
    merged.text = text
    for run in merged.paragraphs[0].runs:
        run.bold = True


def _rag_cell(cell, badge) -> None:
    """The RAG word in bold, in its colour (the word says it: never colour alone). python-docx has
    no public call for a cell's fill, so the word is coloured instead."""
    cell.text = ""
    run = cell.paragraphs[0].add_run(badge.text)
    run.bold = True
    if badge.text.lower() in ("green", "amber", "red"):
        run.font.color.rgb = RGBColor.from_string(badge.background.lstrip("#").upper())


def _scorecard_texts(row: dict) -> list[str]:
    target = row["target"]
    travel = row["travel"]
    return [
        f"{row['name']} ({row['polarity']})",
        row["value"] + (f" ({row['period']})" if row["period"] else ""),
        "–" if target is None else f"{target['value']} by {target['due']}"
                                   + (" (illustrative)" if target["illustrative"] else ""),
        row["rag"].text,
        "–" if travel is None else f"{travel['arrow']} {travel['text']}"
                                   + (f" since {travel['since']}" if travel["since"] else ""),
        row["variation"].caption if row["variation"] else "–",
        row["assurance"].caption if row["assurance"] else "–",
        "not compared" if row["england"] is None else f"{row['england']['badge'].text} ({row['england']['shown']})",
        "not compared" if row["neighbours"] is None
        else f"{row['neighbours']['badge'].text} ({row['neighbours']['shown']})",
    ]


def build_word_report(context: dict):
    """The paper as a python-docx Document."""
    document = Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading(context["partnership"].name, level=0)
    committee = context.get("committee")
    facts = [("Strategy", context["partnership"].strategy), ("Areas", context["area_list"]),
             ("Figures as at", committee["as_at"] if committee else context["as_at"]),
             ("Built", context["built"])]
    for label, text in facts:
        if text:
            paragraph = document.add_paragraph()
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(text)
    if context["disclosure_applied"]:
        document.add_paragraph(f"Disclosure control applied. Counts of {context['small_counts']} are shown as "
                               f"{context['suppressed']}, and so are percentages and rates made from them; "
                               "figures are rounded half up.")
    else:
        document.add_paragraph(f"UNSUPPRESSED — for internal use only. Counts of {context['small_counts']} are "
                               "shown as they are: do not publish or share this paper outside the partnership.")

    if committee:
        _committee_part(document, committee, context["rag_badges"])
    _scorecard_part(document, context["areas"])
    for section in context["sections"]:
        _indicator_part(document, section, context["small_counts"])
    return document


def _committee_part(document, committee: dict, rag_badges: dict) -> None:
    if committee:
        document.add_heading(f"The committee's periods, as at {committee['as_at']}", level=1)
        if committee["later_data"]:
            document.add_paragraph(committee["later_data"])
        if committee["milestones"]:
            document.add_heading("Milestones on a period", level=2)
            for sentence in committee["milestones"]:
                document.add_paragraph(sentence, style="List Bullet")
        if committee["revisions"]:
            document.add_heading("Revised since reported", level=2)
            for sentence in committee["revisions"]:
                document.add_paragraph(sentence, style="List Bullet")
        table = _table(document, COMMITTEE_HEADERS)
        for area in committee["areas"]:
            _area_row(table, f"{area['name']} ({area['code']})")
            for row in area["rows"]:
                cells = _row(table, [f"{row['name']}: {row['kind'].lower()}", row["period"], row["value"],
                                     row["year_before"], row["last_full_year"], row["path"], ""])
                _rag_cell(cells[-1], rag_badges[row["rag"]])


def _scorecard_part(document, areas: list[dict]) -> None:
    document.add_heading("Scorecard", level=1)
    table = _table(document, SCORECARD_HEADERS)
    for area in areas:
        _area_row(table, f"{area['name']} ({area['code']})")
        for row in area["rows"]:
            cells = _row(table, _scorecard_texts(row))
            _rag_cell(cells[3], row["rag"])


def _indicator_part(document, section: dict, small_counts: str) -> None:
    document.add_heading(section["title"], level=2)
    document.add_paragraph(section["meta"])
    document.add_paragraph(section["summary"])
    if section["note"]:
        document.add_paragraph(f"Note from the strategy: {section['note']}")
    if section["stale_reason"]:
        document.add_paragraph(f"Stale figure: {section['stale_reason']}")
    for figure in section["figures"]:
        if figure["state"] == "shown":
            # The image the HTML embeds (made small once): a page-wide chart needs no more pixels.
            document.add_picture(io.BytesIO(figure["png"]), width=CHART_WIDTH)
            document.add_paragraph(figure["caption"], style="Caption")
        elif figure["state"] == "withheld":
            document.add_paragraph("Chart withheld under disclosure control: it would show figures made "
                                   f"from counts of {small_counts}.")
        else:
            document.add_paragraph("No chart image: the charts were drawn without PNG export, or not yet.")


def write_word_report(path: Path, context: dict) -> Path:
    """Write the paper to ``path`` (a new file renamed over the old, so a reader never sees half of it)."""
    temporary = path.with_name(f".{path.name}.tmp")
    build_word_report(context).save(str(temporary))
    os.replace(temporary, path)
    return path
