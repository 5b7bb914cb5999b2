"""A report as at an earlier date embeds charts drawn from the data up to that date (issue 16 item 2):
headline series and benchmarks cut at the date, SPC recomputed on the points up to it, drawn into a
folder of their own beside the reports; the published charts folder is left as it was."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from scorecard.model.statistics import xmr
from scorecard.publish.charts import CI_NAME, ENGLAND_NAME, NEIGHBOURS_NAME, write_charts
from scorecard.publish.images import EmbeddableCharts
from scorecard.publish.marts import data_end, latest_quarter_end, read_marts
from scorecard.publish.report import as_at_charts_dir, write_reports
from tests.conftest import make_settings
from tests.test_charts import has_chromium, make_marts

SERIES_TRACES = {"Actual", ENGLAND_NAME, NEIGHBOURS_NAME, CI_NAME}  # (not the target's path, set ahead)


def figure_of(page: Path) -> dict:
    """The plotly figure a chart page draws, read back from its ``Plotly.newPlot`` call."""
    text = page.read_text(encoding="utf-8")
    call = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*', text)
    assert call is not None, page
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(text, call.end())
    layout, _ = decoder.raw_decode(text, re.compile(r",\s*").match(text, end).end())
    return {"data": data, "layout": layout}


def days(trace: dict) -> list[date]:
    return [date.fromisoformat(x[:10]) for x in trace.get("x", []) if x is not None]


def trace(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t.get("name") == name)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def as_at_reports(built, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The built sample's outputs copied, then its reports written as at the quarter end a year
    before the latest (PNGs drawn when a Chromium is here)."""
    assert built.exit_code == 0, built.output
    root = tmp_path_factory.mktemp("as_at")
    shutil.copytree(built.settings.out_dir, root / "marts")
    settings = make_settings(root)
    published = digests(settings.charts_dir)
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        latest = latest_quarter_end(conn)
        as_at = date(latest.year - 1, latest.month, latest.day)
        written = write_reports(conn, settings.reports_dir, settings.charts_dir, as_at=as_at)
    return {"settings": settings, "as_at": as_at, "published": published, "written": written,
            "charts": as_at_charts_dir(settings.reports_dir, as_at)}


def test_the_charts_show_no_period_after_the_as_at_date(as_at_reports) -> None:
    as_at, charts, settings = as_at_reports["as_at"], as_at_reports["charts"], as_at_reports["settings"]
    pages = sorted(p for p in charts.rglob("*.html") if p.name != "index.html")
    assert pages and any(p.name.endswith("_spc.html") for p in pages)
    later_in_published = False
    for page in pages:
        spc = page.name.endswith("_spc.html")
        for t in figure_of(page)["data"]:
            if spc or t.get("name") in SERIES_TRACES:
                assert all(day <= as_at for day in days(t)), (page, t.get("name"))
        published = settings.charts_dir / page.parent.name / page.name
        assert published.is_file()
        later_in_published |= any(day > as_at for t in figure_of(published)["data"]
                                  if spc or t.get("name") in SERIES_TRACES for day in days(t))
    assert later_in_published  # (the published charts do run later: the cut is tested)


def test_spc_limits_are_computed_over_the_cut_series(as_at_reports) -> None:
    as_at, settings = as_at_reports["as_at"], as_at_reports["settings"]
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        pairs = conn.execute("""
            select s.area_code, i.polarity from marts.spc as s inner join marts.indicators as i using (indicator_id)
            where s.indicator_id = 'rereferral_pct' group by all order by s.area_code
        """).fetchall()
        assert pairs
        differ = False
        for area_code, polarity in pairs:
            page = as_at_reports["charts"] / area_code / "rereferral_pct_spc.html"
            cut = conn.execute("""
                select value from marts.indicator_values where indicator_id = 'rereferral_pct' and area_code = ?
                  and period_type = 'month' and partnership is not null and period_end <= ?
                order by period_end desc limit 24
            """, [area_code, as_at]).fetchall()
            if not cut:
                assert not page.exists()
                continue
            target = conn.execute("select target_value from marts.targets where indicator_id = 'rereferral_pct' "
                                  "and area_code = ?", [area_code]).fetchone()
            values = np.array([np.nan if v is None else v for (v,) in reversed(cut)], dtype=float)
            expected = xmr(values, "decrease" if polarity == "lower_is_better" else "increase",
                           target=None if target is None or target[0] is None else float(target[0])).to_polars()
            drawn = figure_of(page)
            assert len(trace(drawn, "Mean")["x"]) == len(values)
            limits = [t for t in drawn["data"] if t.get("legendgroup") == "limits"]
            for name, got in (("mean", trace(drawn, "Mean")["y"]), ("upper", limits[0]["y"]),
                              ("lower", limits[1]["y"])):
                assert got == pytest.approx([None if v is None or np.isnan(v) else v for v in expected[name]],
                                            nan_ok=True), (area_code, name)
            full = conn.execute("""
                select mean, upper_limit from marts.spc where indicator_id = 'rereferral_pct' and area_code = ?
                order by period_end desc limit 1
            """, [area_code]).fetchone()
            differ |= full != pytest.approx((expected["mean"][-1], expected["upper"][-1]))
        assert differ  # (later months move the limits: the build's are not reused)


def test_the_published_charts_folder_is_untouched(as_at_reports) -> None:
    assert digests(as_at_reports["settings"].charts_dir) == as_at_reports["published"]


def test_the_report_says_the_charts_run_to_the_as_at_date(as_at_reports) -> None:
    as_at = as_at_reports["as_at"]
    for path in as_at_reports["written"]:
        assert f"The charts below (and their SPC limits) run to {as_at.day} {as_at:%B %Y}" in path.read_text(
            encoding="utf-8")


def test_the_html_and_word_papers_embed_the_as_at_charts(as_at_reports) -> None:
    if not has_chromium():
        pytest.skip("PNG charts need a Chromium: install Debian's `chromium` package")
    as_at_charts = EmbeddableCharts(as_at_reports["charts"])  # (each PNG's small copy, as a report embeds it)
    as_at_images = {as_at_charts.of(p) for p in as_at_reports["charts"].rglob("*.png")}
    for path in as_at_reports["written"]:
        shown = {base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"',
                                                          path.read_text(encoding="utf-8"))}
        with zipfile.ZipFile(path.with_suffix(".docx")) as paper:
            pictures = {paper.read(name) for name in paper.namelist() if name.startswith("word/media/")}
        assert shown and shown <= as_at_images
        assert pictures == shown


def test_a_report_as_at_the_latest_period_draws_no_charts_of_its_own(built, tmp_path: Path) -> None:
    assert built.exit_code == 0, built.output
    with duckdb.connect(str(built.settings.db_path), read_only=True) as conn:
        end = data_end(read_marts(conn))
        write_reports(conn, tmp_path / "reports", built.settings.charts_dir, as_at=end)
    assert not as_at_charts_dir(tmp_path / "reports", end).parent.exists()


def test_cut_at_keeps_the_periods_up_to_the_date(tmp_path: Path) -> None:
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        whole = read_marts(conn)
        ends = sorted({p.end for values in whole.series.values() for p in values.points})
        as_at = ends[len(ends) // 2]
        cut = read_marts(conn, as_at=as_at)
        folder = tmp_path / "charts"
        write_charts(conn, folder, png=False, as_at=as_at)
    assert cut.series and all(p.end <= as_at for values in cut.series.values() for p in values.points)
    assert all(label in whole.series[key].months and p.end <= as_at
               for key, values in cut.series.items() for label, p in values.months.items())
    assert set(cut.series) <= set(whole.series) and cut.scorecard == whole.scorecard
    for page in (p for p in folder.rglob("*.html") if p.name != "index.html"):
        assert all(day <= as_at for day in days(trace(figure_of(page), "Actual")))
