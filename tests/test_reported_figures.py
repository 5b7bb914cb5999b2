"""Reports as at a date, the record of what they showed, revisions flagged, and the Word papers:
one end-to-end test on a copy of the built sample (reports twice, one extract changed, one
incremental build)."""

import csv
import re
from html import unescape
from pathlib import Path

import duckdb
from docx import Document

from pipelines.settings import Settings
from tests.conftest import build_cli, run_cli

NORTHUMBERLAND = "E06000057"


def report(settings: Settings, as_at: str) -> str:
    assert run_cli(settings, "report", "--as-at", as_at) == 0
    return (settings.reports_dir / "northumberland.html").read_text(encoding="utf-8")


def committee_rows(html: str, indicator_id: str) -> dict[str, list[str]]:
    """{kind: [period, value, year before, last full year, trajectory, RAG]} of one indicator's rows."""
    rows = {}
    for kind, cells in re.findall(rf'<tr data-indicator="{indicator_id}" data-kind="([^"]+)">(.*?)</tr>', html):
        texts = [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells)]
        rows[kind] = texts
    return rows


def scorecard_values(html: str) -> list[str]:
    """The scorecard's "Latest" column: each value, and its period."""
    table = html[html.index('<table class="scorecard">'):]
    table = table[:table.index("</table>")]
    return [unescape(f"{value} ({period})") if period else unescape(value)
            for value, period in re.findall(r'<td class="value">([^<]*)(?:<span class="caption">([^<]*)</span>)?',
                                            table)]


def change_rereferrals(raw_dir: Path, month: str, more: int) -> None:
    path = raw_dir / "childrens_social_care" / "northumberland_referrals.csv"
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        if row[0] == NORTHUMBERLAND and row[1] == month:
            row[3] = str(int(row[3]) + more)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def test_reports_as_at_two_quarter_ends_record_what_they_showed_and_flag_revisions(copy_of_built: Settings,
                                                                                  monkeypatch):
    settings = copy_of_built
    # (the as-at reports' chart images are not looked at here, so none is drawn: test_report_as_at)
    monkeypatch.setenv("BROWSER_PATH", "/bin/false")
    september = report(settings, "2024-09-30")
    rows = committee_rows(september, "rereferral_pct")
    assert [rows[k][0] for k in ("Latest quarter", "Year to date", "Rolling 12 months")] == [
        "2024/25 Q2", "2024/25 Apr-Sep", "12 months to Sep 2024"]
    assert rows["Year to date"][2].endswith("(2023/24 Apr-Sep)") and rows["Year to date"][3].endswith("(2023/24)")
    assert rows["Latest quarter"][5] in {"Green", "Amber", "Red"}
    reported_q2 = rows["Latest quarter"][1]

    december = report(settings, "2024-12-31")
    rows = committee_rows(december, "rereferral_pct")
    assert [rows[k][0] for k in ("Year to date", "Rolling 12 months")] == ["2024/25 Apr-Dec", "12 months to Dec 2024"]
    # The strategy's milestone on a period is judged on that period (marts.milestones).
    assert re.search(r"Hub referrals, Northumberland: at least 1,375 in 6 months to Dec 2018; it was [0-9,]+: "
                     r"(met|missed)\.", december)
    # Figures after the as-at date are in the warehouse; the report says what its charts show.
    assert "the figures above are as at 31 December 2024" in december

    # The Word paper reads back with the same scorecard as the HTML (disclosure control alike).
    paper = Document(str(settings.reports_dir / "northumberland.docx"))
    texts = [p.text for p in paper.paragraphs]
    assert "Figures as at: 31 December 2024" in texts
    tables = {table.rows[0].cells[0].text + "|" + table.rows[0].cells[1].text: table for table in paper.tables}
    scorecard = tables["Indicator|Latest"]
    latest = [row.cells[1].text for row in scorecard.rows[1:] if row.cells[0].text != row.cells[1].text]
    assert latest == scorecard_values(december)
    assert any("Re-referrals within 12 months" in row.cells[0].text for row in tables["Indicator|Period"].rows)

    # A late-recorded re-referral in August 2024 changes 2024/25 Q2, already reported. The record
    # of what was reported outlives a forced rebuild under a new pseudonymisation key.
    change_rereferrals(settings.raw_dir, "2024-08", 40)
    history = settings.reported_figures_path.read_bytes()
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", "a key the earlier builds never used")
    monkeypatch.delenv("BROWSER_PATH")  # (the build's reports embed the published charts)
    code, output = build_cli(settings, "--force")
    assert code == 0, output
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        revised = conn.execute(
            "select as_at, reported_value, current_value from marts.revisions where partnership = 'northumberland' "
            "and indicator_id = 'rereferral_pct' and period_label = '2024/25 Q2'").fetchall()
        assert conn.execute("select count(*) from marts.reported_figures where as_at = '2024-09-30'").fetchone()[0]
    assert len(revised) == 1 and revised[0][2] > revised[0][1]
    # The build's own report flags it, in the HTML and the Word paper.
    html = (settings.reports_dir / "northumberland.html").read_text(encoding="utf-8")
    flagged = re.search(r"Re-referrals within 12 months, Northumberland: 2024/25 Q2 was reported as ([0-9.]+%) "
                        r"\(report as at (?:30 September|31 December) 2024\); it is now ([0-9.]+%) after late "
                        r"recording or a corrected return\.", unescape(html))
    assert flagged and flagged[1] == reported_q2 and flagged[2] != reported_q2
    paper = Document(str(settings.reports_dir / "northumberland.docx"))
    assert any("2024/25 Q2 was reported as" in p.text for p in paper.paragraphs)
    assert paper.inline_shapes, "the charts are in the paper"
    # The record is kept beside the warehouse, not rebuilt: every report so far is in it.
    assert settings.reported_figures_path.read_bytes().startswith(history)
    assert "2024-09-30" in history.decode() and "2024-12-31" in history.decode()

