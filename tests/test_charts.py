"""Charts and their index, drawn from a small hand-made set of marts."""

from __future__ import annotations

import calendar
import dataclasses
import json
import re
import shutil
import struct
import time
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from plotly.io.json import to_json_plotly

from scorecard.model.contract import MARTS_BY_NAME
from scorecard.publish import charts, png_renderer
from scorecard.publish.charts import ChartFile, write_charts
from scorecard.publish.disclosure import Disclosure
from scorecard.publish.formatting import VALUE_AXIS_EXTRA, value_label_width
from scorecard.publish.marts import read_marts, table_columns

NORTHUMBERLAND, HARTLEPOOL = "E06000057", "E06000001"
NOTE = "A rise is expected at first as recognition of neglect improves."
# The pairs with a value on the headline series. For Hartlepool, lac_count has a financial
# year without a value and a month, and eha_rolling12_avg nothing: no chart for either.
EXPECTED = {
    ("rereferral_pct", NORTHUMBERLAND), ("rereferral_pct", HARTLEPOOL),
    ("eha_rolling12_avg", NORTHUMBERLAND), ("lac_count", NORTHUMBERLAND),
}


def has_chromium() -> bool:
    return Path("/usr/bin/chromium").exists() or shutil.which("chromium") is not None


needs_chromium = pytest.mark.skipif(
    not has_chromium(),
    reason="PNG export needs a Chromium: install Debian's `chromium` package (make chromium)")

# --- a small warehouse ---------------------------------------------------------------------

# Tables are created with the contract's columns, so a renamed column fails these tests.
TABLES = ("marts.indicators", "marts.indicator_values", "marts.targets", "marts.scorecard")
DATE_COLUMNS = {"period_start", "period_end", "baseline_date", "target_date"}
BOOLEAN_COLUMNS = {"baseline_stated", "illustrative", "target_illustrative", "trial_limits",
                   "special_cause"}
DOUBLE_COLUMNS = {"numerator", "denominator", "value", "baseline_value", "target_value",
                  "target_change_pct", "amber_tolerance_pct", "previous_value", "change",
                  "trajectory_value", "ci95_low", "ci95_high", "ci998_low", "ci998_high",
                  "england_value", "region_value", "neighbours_median", "mean", "lower_limit",
                  "upper_limit", "episodes", "episodes_with_factors", "pct"}
INTEGER_COLUMNS = {"neighbours_with_value", "rank_among_neighbours"}


def column_type(column: str) -> str:
    if column in DATE_COLUMNS:
        return "date"
    if column in BOOLEAN_COLUMNS:
        return "boolean"
    if column in INTEGER_COLUMNS:
        return "integer"
    return "double" if column in DOUBLE_COLUMNS else "varchar"


def create_table_sql(table: str) -> str:
    columns = ", ".join(f"{name} {column_type(name)}" for name in MARTS_BY_NAME[table].columns)
    return f"create table {table} ({columns})"


AREAS = {NORTHUMBERLAND: {"area_name": "Northumberland", "partnership": "northumberland"},
         HARTLEPOOL: {"area_name": "Hartlepool", "partnership": "hartlepool_stockton"}}


def indicator(indicator_id: str, name: str, unit: str, polarity: str, period_type: str) -> dict:
    return {"indicator_id": indicator_id, "name": name, "family": "f", "unit": unit,
            "polarity": polarity, "definition": "d", "source": "s",
            "headline_period_type": period_type}


INDICATORS = [
    indicator("rereferral_pct", "Re-referrals within 12 months", "%", "lower_is_better",
              "financial_year"),
    indicator("eha_rolling12_avg", "Early help assessments per month (rolling 12 months)",
              "per month", "higher_is_better", "month"),
    indicator("lac_count", "Children looked after", "children", "lower_is_better",
              "financial_year"),
]


def year_row(indicator_id: str, area_code: str, start_year: int, value: float | None) -> dict:
    return {"indicator_id": indicator_id, "area_code": area_code, **AREAS[area_code],
            "period_type": "financial_year",
            "period_label": f"{start_year}/{(start_year + 1) % 100:02d}",
            "period_start": date(start_year, 4, 1), "period_end": date(start_year + 1, 3, 31),
            "value": value}


def month_row(indicator_id: str, area_code: str, year: int, month: int, value: float) -> dict:
    return {"indicator_id": indicator_id, "area_code": area_code, **AREAS[area_code],
            "period_type": "month", "period_label": f"{year}-{month:02d}",
            "period_start": date(year, month, 1),
            "period_end": date(year, month, calendar.monthrange(year, month)[1]), "value": value}


def indicator_values() -> list[dict]:
    rows = [year_row("rereferral_pct", NORTHUMBERLAND, y, v)
            for y, v in zip(range(2014, 2018), (30.0, 24.1, 21.7, 15.2))]
    rows += [year_row("rereferral_pct", HARTLEPOOL, y, v)
             for y, v in zip(range(2014, 2018), (22.4, 23.9, 21.0, 24.6))]
    # Months of a financial-year indicator: not its headline series.
    rows += [month_row("rereferral_pct", NORTHUMBERLAND, 2017, m, 14.0 + m / 10) for m in (4, 5)]
    months = [(2016 + (3 + i) // 12, (3 + i) % 12 + 1) for i in range(18)]  # 2016-04 .. 2017-09
    rows += [month_row("eha_rolling12_avg", NORTHUMBERLAND, y, m, 80 + i * 1.2)
             for i, (y, m) in enumerate(months)]
    rows += [year_row("lac_count", NORTHUMBERLAND, y, v)
             for y, v in zip(range(2014, 2017), (402, 406, 386))]
    rows += [year_row("lac_count", HARTLEPOOL, 2016, None)]  # a headline row, but no value
    rows += [month_row("lac_count", HARTLEPOOL, 2017, 3, 190)]
    return rows


def target(area_code: str, indicator_id: str, baseline: tuple[str, date, float],
           target_value: float, due: date, illustrative: bool, note: str | None, *,
           baseline_stated: bool = False, areas: dict[str, dict] = AREAS) -> dict:
    """A marts.targets row (tests/test_report.py builds its own with these too)."""
    period, baseline_date, baseline_value = baseline
    return {"partnership": areas[area_code]["partnership"], "area_code": area_code,
            "indicator_id": indicator_id, "baseline_period": period,
            "baseline_date": baseline_date, "baseline_value": baseline_value,
            "baseline_stated": baseline_stated, "target_value": target_value, "target_date": due,
            "amber_tolerance_pct": 5.0, "illustrative": illustrative, "note": note,
            "source": "strategy"}


TARGETS = [
    target(NORTHUMBERLAND, "rereferral_pct", ("2014/15", date(2015, 3, 31), 30.0), 20.0,
           date(2019, 3, 31), False, NOTE),
    target(HARTLEPOOL, "rereferral_pct", ("2014/15", date(2015, 3, 31), 22.4), 20.16,
           date(2018, 3, 31), True, None),
    target(NORTHUMBERLAND, "eha_rolling12_avg", ("2016-04", date(2016, 4, 30), 80.0), 101.0,
           date(2018, 3, 31), False, None),
]


def scorecard_row(area_code: str, indicator_id: str, period: str | None, value: float | None,
                  travel: str | None, rag: str, illustrative: bool | None = None) -> dict:
    return {"area_code": area_code, **AREAS[area_code], "indicator_id": indicator_id,
            "period_label": period, "value": value, "direction_of_travel": travel,
            "target_illustrative": illustrative, "rag": rag}


SCORECARD = [
    scorecard_row(NORTHUMBERLAND, "rereferral_pct", "2017/18", 15.2, "improving", "green", False),
    scorecard_row(HARTLEPOOL, "rereferral_pct", "2017/18", 24.6, "worsening", "red", True),
    scorecard_row(NORTHUMBERLAND, "eha_rolling12_avg", "2017-09", 100.4, "improving", "amber",
                  False),
    scorecard_row(HARTLEPOOL, "eha_rolling12_avg", None, None, None, "no data"),
    scorecard_row(NORTHUMBERLAND, "lac_count", "2016/17", 386, "improving", "no target"),
    scorecard_row(HARTLEPOOL, "lac_count", None, None, None, "no data"),
]


def insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        columns = ", ".join(row)
        conn.execute(f"insert into {table} ({columns}) values ({', '.join(['?'] * len(row))})",
                     list(row.values()))


def make_marts(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("create schema marts")
    for table in TABLES:
        conn.execute(create_table_sql(table))
    insert(conn, "marts.indicators", INDICATORS)
    insert(conn, "marts.indicator_values", indicator_values())
    insert(conn, "marts.targets", TARGETS)
    insert(conn, "marts.scorecard", SCORECARD)
    return conn


@pytest.fixture()
def marts(tmp_path: Path):
    with make_marts(tmp_path / "warehouse.duckdb") as conn:
        yield conn


@pytest.fixture(scope="module")
def module_browser():
    """One Chromium for the module's runs that draw PNGs (None without one)."""
    if not has_chromium():
        yield None
        return
    with png_renderer.PngRenderer() as renderer:
        yield renderer


@pytest.fixture(scope="module")
def drawn(tmp_path_factory: pytest.TempPathFactory, module_browser) -> tuple[Path, list[ChartFile]]:
    """One run for the module, with PNGs when a Chromium is here (the slow part)."""
    root = tmp_path_factory.mktemp("charts")
    with make_marts(root / "warehouse.duckdb") as conn:
        files = write_charts(conn, root / "charts", png=has_chromium(), renderer=module_browser)
    return root / "charts", files


def page(chart: ChartFile) -> str:
    return chart.html.read_text(encoding="utf-8")


def shows(text: str, page_text: str) -> bool:
    """``text`` is in the figure: plotly escapes "/", "<" and non-ASCII in its JSON."""
    return to_json_plotly(text)[1:-1] in page_text


def has_trace(name: str, page_text: str) -> bool:
    return f'"name":{to_json_plotly(name)}' in page_text


def by_pair(files: list[ChartFile]) -> dict[tuple[str, str], ChartFile]:
    return {(f.indicator_id, f.area_code): f for f in files}


# --- tests ---------------------------------------------------------------------------------


def test_fixture_rows_use_contract_columns() -> None:
    for table, rows in (("marts.indicators", INDICATORS), ("marts.targets", TARGETS),
                        ("marts.scorecard", SCORECARD),
                        ("marts.indicator_values", indicator_values())):
        for row in rows:
            assert set(row) <= set(MARTS_BY_NAME[table].columns), table


def test_one_chart_per_pair_with_headline_values(drawn) -> None:
    charts_dir, files = drawn
    assert {(f.indicator_id, f.area_code) for f in files} == EXPECTED
    for chart in files:
        assert chart.html == charts_dir / chart.area_code / f"{chart.indicator_id}.html"
        assert chart.html.is_file()
    on_disk = {(p.stem, p.parent.name) for p in charts_dir.glob("*/*.html")}
    assert on_disk == EXPECTED


def test_html_works_offline_with_the_folders_own_plotly_js(drawn) -> None:
    from plotly.offline import get_plotlyjs

    charts_dir, files = drawn
    assert (charts_dir / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    for chart in files:
        text = page(chart)
        # The one script loaded is the folder's plotly.js (plotly.js itself mentions cdn.plot.ly for maps).
        sources = re.findall(r"<script[^>]*\bsrc\s*=\s*\"([^\"]*)\"", text)
        assert sources == ["../plotly.min.js"]
        assert (chart.html.parent / sources[0]).resolve() == (charts_dir / "plotly.min.js").resolve()
        assert "https://cdn" not in text
        assert chart.html.stat().st_size < 200_000  # plotly.js is not copied into every page
        assert text.lstrip().lower().startswith("<!doctype html>")


def test_chart_shows_title_target_baseline_polarity_and_note(drawn) -> None:
    _, files = drawn
    text = page(by_pair(files)[("rereferral_pct", NORTHUMBERLAND)])
    assert "<title>Re-referrals within 12 months — Northumberland</title>" in text
    assert shows("Re-referrals within 12 months — Northumberland", text)
    for trace in ("Actual", "Baseline", "Target", "Trajectory to target"):
        assert has_trace(trace, text)
    assert shows("▼ Lower is better", text)
    assert shows(f"Note: {NOTE}", text)
    assert not shows("Illustrative", text)
    # x axis labelled by period, extended to the target's due year; values formatted by unit.
    assert to_json_plotly("2016/17") in text and to_json_plotly("2018/19") in text
    assert shows("Baseline 2014/15: 30.0%", text) and shows("Target: 20.0% by 2018/19", text)


def test_illustrative_target_and_higher_is_better_are_marked(drawn) -> None:
    _, files = drawn
    hartlepool = page(by_pair(files)[("rereferral_pct", HARTLEPOOL)])
    assert has_trace("Target (illustrative)", hartlepool)
    assert shows("Illustrative target", hartlepool)
    eha = page(by_pair(files)[("eha_rolling12_avg", NORTHUMBERLAND)])
    assert shows("▲ Higher is better", eha)
    assert to_json_plotly("2017-09") in eha


def test_chart_without_target_has_no_target_traces(drawn) -> None:
    _, files = drawn
    text = page(by_pair(files)[("lac_count", NORTHUMBERLAND)])
    assert has_trace("Actual", text)
    assert not has_trace("Baseline", text) and '"name":"Target' not in text
    assert shows("▼ Lower is better", text)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_pngs_are_written_at_the_export_size(drawn) -> None:
    _, files = drawn
    expected = (png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE, png_renderer.PNG_HEIGHT * png_renderer.PNG_SCALE)
    for chart in files:
        assert chart.png == chart.html.with_suffix(".png")
        assert png_size(chart.png) == expected


@needs_chromium
def test_pngs_are_drawn_as_figures_are_added_and_failures_are_reported(tmp_path: Path) -> None:
    """Figures handed to the renderer are drawn while the caller goes on; ``finish`` waits for
    them all and says how many failed, and the renderer can be used again afterwards."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2]))
    with png_renderer.PngRenderer() as renderer:
        renderer.add(figure, tmp_path / "first.png")
        renderer.add(figure, tmp_path / "no such folder" / "second.png")
        renderer.add(figure, tmp_path / "third.png")
        with pytest.raises(RuntimeError, match="1 of 3 PNG charts failed"):
            renderer.finish()
        assert (tmp_path / "first.png").read_bytes().startswith(b"\x89PNG")
        assert (tmp_path / "third.png").is_file()
        renderer.draw([(figure, tmp_path / "again.png")])
        assert (tmp_path / "again.png").is_file()


@needs_chromium
def test_the_build_starts_the_browser_with_the_run_only_when_every_chart_will_be_drawn(tmp_path: Path) -> None:
    """``ChartBrowser`` starts Chromium as the run starts when no chart was drawn before, so its
    start-up overlaps the loading steps; ``write_charts`` draws with it and leaves it open for
    the run to close. Once charts are drawn, the next run starts no browser (none is needed
    unless a chart changed, and ``write_charts`` starts one then)."""
    import dagster as dg

    from pipelines.resources import ChartBrowser

    charts_dir = tmp_path / "charts"
    context = dg.build_init_resource_context()
    browser = ChartBrowser(charts_dir=str(charts_dir))
    browser.setup_for_execution(context)
    try:
        renderer = browser.started
        assert renderer is not None
        with make_marts(tmp_path / "warehouse.duckdb") as conn:
            files = write_charts(conn, charts_dir, renderer=renderer)
            series = charts.chart_series(read_marts(conn), Disclosure())[0]
        assert files and all(f.png.read_bytes().startswith(b"\x89PNG") for f in files)
        renderer.draw([(charts.build_figure(series), tmp_path / "still_open.png")])  # not closed by write_charts
        assert (tmp_path / "still_open.png").is_file()
    finally:
        browser.teardown_after_execution(context)
    assert browser.started is None
    after = ChartBrowser(charts_dir=str(charts_dir))
    after.setup_for_execution(context)
    assert after.started is None  # charts drawn: a browser only if one changes
    not_a_folder = tmp_path / "not_a_folder"
    not_a_folder.write_text("a file where the charts folder should be\n", encoding="utf-8")
    unwritable = ChartBrowser(charts_dir=str(not_a_folder))
    unwritable.setup_for_execution(context)
    assert unwritable.started is None  # the charts step will fail: nothing is drawn for it


def test_the_chart_template_is_simple_white_for_the_scatter_traces_drawn(drawn_full) -> None:
    import plotly.io as pio

    _, files = drawn_full
    full = pio.templates["simple_white"]
    template = charts.chart_template()
    assert template["data"] == {"scatter": full.data.to_plotly_json()["scatter"]}
    simple_white = full.layout.to_plotly_json()
    for axis in ("xaxis", "yaxis"):  # less automargin, which only drew each chart twice
        assert template["layout"][axis] == {**simple_white[axis], "automargin": False}
    assert {k: v for k, v in template["layout"].items() if k not in ("xaxis", "yaxis")}.items() <= simple_white.items()
    for chart in files:  # every trace drawn is a scatter, the one kind the template keeps
        for path in (chart.html, chart.spc_html):
            if path is not None:
                types = set(re.findall(r'"type":"(\w+)"', path.read_text(encoding="utf-8")))
                assert types - {"date", "linear", "category", "log"} == {"scatter"}  # (less the axis types)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def test_index_links_every_chart_with_scorecard_text(drawn) -> None:
    charts_dir, files = drawn
    text = (charts_dir / "index.html").read_text(encoding="utf-8")
    parser = Links()
    parser.feed(text)
    for href in parser.hrefs:
        assert not re.match(r"^[a-z]+:|^/", href), f"{href} is not relative"
        assert (charts_dir / href).is_file(), f"{href} does not resolve"
    wanted = {f.html.relative_to(charts_dir).as_posix() for f in files}
    wanted |= {f.png.relative_to(charts_dir).as_posix() for f in files if f.png is not None}
    assert wanted <= set(parser.hrefs)
    assert "<script" not in text
    for shown in ("Northumberland", "Hartlepool", "Re-referrals within 12 months", "15.2%",
                  "Green", "Red", "No data", "No target", "illustrative target", "Built"):
        assert shown in text


def test_second_run_removes_charts_whose_data_went(marts, tmp_path: Path) -> None:
    charts_dir = tmp_path / "charts"
    write_charts(marts, charts_dir, png=False)
    keep = charts_dir / "README.txt"
    keep.write_text("not ours")
    assert (charts_dir / NORTHUMBERLAND / "eha_rolling12_avg.html").is_file()

    marts.execute("delete from marts.indicator_values where indicator_id = 'eha_rolling12_avg' "
                  "or area_code = ?", [HARTLEPOOL])
    files = write_charts(marts, charts_dir, png=False)

    assert {(f.indicator_id, f.area_code) for f in files} == {
        ("rereferral_pct", NORTHUMBERLAND), ("lac_count", NORTHUMBERLAND)}
    assert not (charts_dir / NORTHUMBERLAND / "eha_rolling12_avg.html").exists()
    assert not (charts_dir / HARTLEPOOL).exists()
    assert {p.relative_to(charts_dir).as_posix() for p in charts_dir.rglob("*.html")} == {
        "index.html", f"{NORTHUMBERLAND}/rereferral_pct.html", f"{NORTHUMBERLAND}/lac_count.html"}
    assert keep.read_text() == "not ours"


def test_png_export_without_a_browser_says_to_install_chromium(
        marts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    charts_dir = tmp_path / "charts"
    earlier = write_charts(marts, charts_dir, png=False)
    monkeypatch.setattr(png_renderer, "find_browser", lambda: None)
    with pytest.raises(RuntimeError, match="`chromium` package"):
        write_charts(marts, charts_dir, png=True)
    # Checked before anything is removed: the earlier charts are still there.
    assert all(chart.html.is_file() for chart in earlier)
    assert (charts_dir / "index.html").is_file()


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (53.06, "%", "53.1%"), (1765, "children", "1,765"), (21.34, "per 10,000", "21.3"),
    (None, "%", "–")])
def test_values_are_formatted_by_unit(value, unit, shown) -> None:
    assert charts.format_value(value, unit) == shown


@pytest.mark.parametrize(("day", "period_type", "label"), [
    (date(2019, 3, 31), "financial_year", "2018/19"),
    (date(2018, 8, 31), "academic_year", "2017/18"),
    (date(2017, 9, 30), "month", "2017-09"), (date(2019, 1, 15), "financial_year", "15 Jan 2019")])
def test_dates_are_labelled_as_periods(day, period_type, label) -> None:
    assert charts.period_label_for(day, period_type) == label


# --- confidence intervals, benchmarks and SPC (marts that older warehouses lack) ------------

SPC_MONTHS = [(2016 + (3 + i) // 12, (3 + i) % 12 + 1) for i in range(18)]  # 2016-04 .. 2017-09


def benchmark_rows() -> list[dict]:
    rows = []
    for i, start_year in enumerate(range(2014, 2018)):
        row = year_row("rereferral_pct", NORTHUMBERLAND, start_year, None)
        rows.append({"partnership": "northumberland", "area_code": NORTHUMBERLAND,
                     "area_name": "Northumberland", "indicator_id": "rereferral_pct",
                     "period_label": row["period_label"], "period_end": row["period_end"],
                     "england_value": 22.6 + i * 0.1, "neighbours_median": 24.0 - i * 0.5,
                     "neighbours_with_value": 10, "vs_england": "similar",
                     "vs_neighbours": "better"})
    return rows


def spc_rows(area_code: str, values: list[float], trial: bool, special: dict[int, str]) -> list[dict]:
    rows = []
    mean = sum(values) / len(values)
    for i, ((y, m), value) in enumerate(zip(SPC_MONTHS, values)):
        row = month_row("rereferral_pct", area_code, y, m, value)
        rows.append({"partnership": AREAS[area_code]["partnership"], "area_code": area_code,
                     "indicator_id": "rereferral_pct", "period_label": row["period_label"],
                     "period_end": row["period_end"], "value": value, "mean": mean,
                     "lower_limit": mean - 3.0, "upper_limit": mean + 3.0, "trial_limits": trial,
                     "special_cause": i in special,
                     "special_cause_rules": "outside limits" if i in special else None,
                     "special_cause_direction": special.get(i, "neither")})
    return rows


SPC_ROWS = (spc_rows(NORTHUMBERLAND, [18.0 - (i >= 12) * 2.5 + (i % 2) * 0.8 for i in range(18)],
                     False, {i: "improvement" for i in range(12, 18)})
            + spc_rows(HARTLEPOOL, [22.0 + (i % 3) * 0.5 + (i == 8) * 5 for i in range(9)], True,
                       {8: "concern"}))


def make_full_marts(path: Path) -> duckdb.DuckDBPyConnection:
    """The small warehouse, with 95% CIs on Northumberland's re-referrals, its benchmarks, and SPC
    points for both areas' re-referrals (Hartlepool's with trial limits)."""
    conn = make_marts(path)
    conn.execute("update marts.indicator_values set ci95_low = value - 1.5, ci95_high = value + 1.5 "
                 "where indicator_id = 'rereferral_pct' and area_code = ? "
                 "and period_type = 'financial_year'", [NORTHUMBERLAND])
    for table in ("marts.benchmarks", "marts.spc"):
        conn.execute(create_table_sql(table))
    insert(conn, "marts.benchmarks", benchmark_rows())
    insert(conn, "marts.spc", SPC_ROWS)
    return conn


@pytest.fixture(scope="module")
def drawn_full(tmp_path_factory: pytest.TempPathFactory, module_browser) -> tuple[Path, list[ChartFile]]:
    root = tmp_path_factory.mktemp("charts_full")
    with make_full_marts(root / "warehouse.duckdb") as conn:
        files = write_charts(conn, root / "charts", png=has_chromium(), renderer=module_browser)
    return root / "charts", files


def test_every_figure_passes_plotlys_checks(tmp_path: Path) -> None:
    """Figures are built as plain dicts (plotly's own objects check every property as it is set,
    which was most of the charts step's time): passed through ``plotly.graph_objects.Figure``,
    which checks them, every figure (confidence bands, benchmarks, SPC too) is accepted and
    unchanged, and a misspelt property fails."""
    import plotly.graph_objects as go

    with make_full_marts(tmp_path / "warehouse.duckdb") as conn:
        all_series = charts.chart_series(read_marts(conn), Disclosure())
    figures = [charts.build_figure(series) for series in all_series]
    figures += [charts.build_spc_figure(series) for series in all_series if series.spc]
    assert len(figures) > len(all_series)  # SPC charts among them
    for figure in figures:
        assert json.loads(go.Figure(figure).to_json()) == json.loads(to_json_plotly(figure))
    with pytest.raises(ValueError, match="nmae"):
        go.Figure(charts.figure([charts.scatter(x=[1], y=[2], nmae="a misspelt name")], {}))


def test_a_count_is_not_drawn_beside_england_or_the_neighbours(tmp_path: Path) -> None:
    """England's figure for a count is the whole country's (87,080 children looked after against an
    area's 1,019): a count's chart draws no reference lines, a percentage's does."""
    with make_full_marts(tmp_path / "warehouse.duckdb") as conn:
        series = next(s for s in charts.chart_series(read_marts(conn), Disclosure())
                      if (s.indicator.indicator_id, s.area_code) == ("rereferral_pct", NORTHUMBERLAND))
    assert series.benchmarks
    names = [trace["name"] for trace in charts.build_figure(series)["data"]]
    assert "England" in names and "Statistical neighbours (median)" in names
    as_count = dataclasses.replace(series, indicator=dataclasses.replace(series.indicator, unit="children"))
    names = [trace["name"] for trace in charts.build_figure(as_count)["data"]]
    assert "England" not in names and "Statistical neighbours (median)" not in names
    assert "Actual" in names


def test_the_left_margin_makes_room_for_wide_value_labels(tmp_path: Path) -> None:
    """Plotly's automargin is off, so the charts size the left margin themselves: a percentage's
    labels ("18.5%") fit the usual margin; a count in the tens of thousands ("25,000") gets a
    wider one, so the axis title is not drawn over its labels."""
    with make_full_marts(tmp_path / "warehouse.duckdb") as conn:
        series = next(s for s in charts.chart_series(read_marts(conn), Disclosure())
                      if (s.indicator.indicator_id, s.area_code) == ("rereferral_pct", NORTHUMBERLAND))
    assert charts.build_figure(series)["layout"]["margin"]["l"] == charts.MARGIN_SIDE
    big = dataclasses.replace(
        series, indicator=dataclasses.replace(series.indicator, unit="referrals"),
        points=tuple(dataclasses.replace(p, value=p.value * 1_500, ci_low=None, ci_high=None)
                     for p in series.points), target=None, benchmarks=())
    layout = charts.build_figure(big)["layout"]
    assert max(p.value for p in big.points) > 20_000
    assert layout["margin"]["l"] > charts.MARGIN_SIDE
    assert value_label_width([20_000, 25_000], "referrals", 17) > value_label_width([2_000, 2_500], "referrals", 17)
    assert value_label_width([12.5, 18.5], "%", 17) < charts.MARGIN_SIDE - VALUE_AXIS_EXTRA


def test_new_fixture_rows_use_contract_columns() -> None:
    for table, rows in (("marts.benchmarks", benchmark_rows()), ("marts.spc", SPC_ROWS)):
        for row in rows:
            assert set(row) <= set(MARTS_BY_NAME[table].columns), table


def test_confidence_band_and_reference_lines(drawn_full) -> None:
    _, files = drawn_full
    text = page(by_pair(files)[("rereferral_pct", NORTHUMBERLAND)])
    for trace in ("95% confidence interval", "England", "Statistical neighbours (median)",
                  "Actual", "Trajectory to target"):
        assert has_trace(trace, text), trace
    assert '"fill":"toself"' in text
    assert shows("England 2016/17: 22.8%", text)
    assert shows("2017/18: 15.2% (95% CI 13.7% to 16.7%)", text)
    # Hartlepool has neither CIs nor benchmarks: its chart has no band and no reference lines.
    hartlepool = page(by_pair(files)[("rereferral_pct", HARTLEPOOL)])
    assert has_trace("Actual", hartlepool)
    for trace in ("95% confidence interval", "England", "Statistical neighbours (median)"):
        assert not has_trace(trace, hartlepool), trace


def test_spc_chart_is_drawn_beside_the_headline_chart(drawn_full) -> None:
    charts_dir, files = drawn_full
    pairs = by_pair(files)
    northumberland = pairs[("rereferral_pct", NORTHUMBERLAND)]
    assert northumberland.spc_html == charts_dir / NORTHUMBERLAND / "rereferral_pct_spc.html"
    text = northumberland.spc_html.read_text(encoding="utf-8")
    assert "<title>Re-referrals within 12 months — Northumberland: monthly variation (SPC)</title>" in text
    for trace in ("Mean", "Process limits", "Common cause variation", "Special cause: improvement",
                  "Target: 20.0% by 2018/19"):
        assert has_trace(trace, text), trace
    assert not has_trace("Trial process limits", text) and not shows("Trial limits", text)
    assert "#289de0" in text and "#7B7D7D" in text  # Making Data Count blue and grey
    assert re.findall(r"<script[^>]*\bsrc\s*=\s*\"([^\"]*)\"", text) == ["../plotly.min.js"]
    hartlepool = pairs[("rereferral_pct", HARTLEPOOL)].spc_html.read_text(encoding="utf-8")
    assert has_trace("Trial process limits", hartlepool)
    assert has_trace("Special cause: concern", hartlepool) and "#fab428" in hartlepool
    assert shows("Trial limits (fewer than 12 points)", hartlepool)
    assert shows("Trial limits: fewer than 12 months of data (9)", hartlepool)
    # No SPC points, no SPC chart.
    assert pairs[("lac_count", NORTHUMBERLAND)].spc_html is None
    assert not (charts_dir / NORTHUMBERLAND / "lac_count_spc.html").exists()


def test_index_links_the_spc_charts(drawn_full) -> None:
    charts_dir, files = drawn_full
    parser = Links()
    parser.feed((charts_dir / "index.html").read_text(encoding="utf-8"))
    for chart in files:
        for path in chart.paths:
            assert path.relative_to(charts_dir).as_posix() in parser.hrefs
    assert f"{NORTHUMBERLAND}/rereferral_pct_spc.html" in parser.hrefs


@needs_chromium
def test_spc_pngs_are_written_at_the_export_size(drawn_full) -> None:
    _, files = drawn_full
    expected = (png_renderer.PNG_WIDTH * png_renderer.PNG_SCALE, png_renderer.PNG_HEIGHT * png_renderer.PNG_SCALE)
    spc = [chart for chart in files if chart.spc_html is not None]
    assert len(spc) == 2
    for chart in spc:
        assert chart.spc_png == chart.spc_html.with_suffix(".png")
        assert png_size(chart.spc_png) == expected


def test_spc_chart_goes_when_its_points_go(tmp_path: Path) -> None:
    charts_dir = tmp_path / "charts"
    with make_full_marts(tmp_path / "w.duckdb") as conn:
        write_charts(conn, charts_dir, png=False)
        assert (charts_dir / HARTLEPOOL / "rereferral_pct_spc.html").is_file()
        conn.execute("delete from marts.spc where area_code = ?", [HARTLEPOOL])
        files = write_charts(conn, charts_dir, png=False)
    assert not (charts_dir / HARTLEPOOL / "rereferral_pct_spc.html").exists()
    assert (charts_dir / HARTLEPOOL / "rereferral_pct.html").is_file()
    assert (charts_dir / NORTHUMBERLAND / "rereferral_pct_spc.html").is_file()
    assert by_pair(files)[("rereferral_pct", HARTLEPOOL)].spc_html is None


def test_unchanged_spc_chart_is_not_redrawn(tmp_path: Path) -> None:
    charts_dir = tmp_path / "charts"
    with make_full_marts(tmp_path / "w.duckdb") as conn:
        write_charts(conn, charts_dir, png=False)
        spc_chart = charts_dir / NORTHUMBERLAND / "rereferral_pct_spc.html"
        before = spc_chart.stat().st_mtime_ns
        time.sleep(0.01)
        write_charts(conn, charts_dir, png=False)
        assert spc_chart.stat().st_mtime_ns == before
        conn.execute("update marts.spc set value = value + 1 where area_code = ?", [NORTHUMBERLAND])
        write_charts(conn, charts_dir, png=False)
        assert spc_chart.stat().st_mtime_ns != before


def test_a_warehouse_without_the_new_columns_and_marts_still_draws(tmp_path: Path) -> None:
    """An older warehouse: indicator_values without CI columns, no benchmarks, no spc."""
    conn = duckdb.connect(str(tmp_path / "old.duckdb"))
    conn.execute("create schema marts")
    for table in TABLES:
        sql = create_table_sql(table)
        for column in ("ci95_low", "ci95_high", "ci998_low", "ci998_high"):
            sql = sql.replace(f", {column} double", "")
        conn.execute(sql)
    assert "ci95_low" not in table_columns(conn, "marts", "indicator_values")
    insert(conn, "marts.indicators", INDICATORS)
    insert(conn, "marts.indicator_values", indicator_values())
    insert(conn, "marts.targets", TARGETS)
    insert(conn, "marts.scorecard", SCORECARD)
    files = write_charts(conn, tmp_path / "charts", png=False)
    conn.close()
    assert {(f.indicator_id, f.area_code) for f in files} == EXPECTED
    assert all(f.spc_html is None for f in files)
    text = page(by_pair(files)[("rereferral_pct", NORTHUMBERLAND)])
    assert has_trace("Actual", text) and not has_trace("England", text)


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (15.25, "%", "15.3%"), (0.05, "%", "0.1%"), (2.675, "per 10,000", "2.7"),
    (1764.5, "children", "1,765"), (-0.25, "%", "-0.3%")])
def test_values_are_rounded_half_up(value, unit, shown) -> None:
    assert charts.format_value(value, unit) == shown


def test_values_made_from_counts_of_one_to_five_are_not_drawn_under_disclosure_control(marts) -> None:
    # Hartlepool 2015/16 re-referrals: 3 of 40 would reveal a count of 3.
    marts.execute("update marts.indicator_values set numerator = 3, denominator = 40 "
                  "where area_code = ? and indicator_id = 'rereferral_pct' and period_label = '2015/16'",
                  [HARTLEPOOL])

    def drawn_value(disclosure_control: bool):
        series = next(s for s in charts.chart_series(read_marts(marts), Disclosure(disclosure_control))
                      if s.area_code == HARTLEPOOL and s.indicator.indicator_id == "rereferral_pct")
        return next(p.value for p in series.points if p.label == "2015/16")

    assert drawn_value(True) is None
    assert drawn_value(False) == 23.9
