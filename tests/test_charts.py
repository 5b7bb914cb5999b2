"""Charts and their index, drawn from a small hand-made set of marts."""

from __future__ import annotations

import calendar
import re
import shutil
import struct
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from plotly.io.json import to_json_plotly

from pipelines import charts
from pipelines.charts import ChartFile, write_charts
from pipelines.contract import MARTS_BY_NAME

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
BOOLEAN_COLUMNS = {"baseline_stated", "illustrative", "target_illustrative"}
DOUBLE_COLUMNS = {"numerator", "denominator", "value", "baseline_value", "target_value",
                  "target_change_pct", "amber_tolerance_pct", "previous_value", "change",
                  "trajectory_value"}


def column_type(column: str) -> str:
    if column in DATE_COLUMNS:
        return "date"
    if column in BOOLEAN_COLUMNS:
        return "boolean"
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
           target_value: float, due: date, illustrative: bool, note: str | None) -> dict:
    period, baseline_date, baseline_value = baseline
    return {"partnership": AREAS[area_code]["partnership"], "area_code": area_code,
            "indicator_id": indicator_id, "baseline_period": period,
            "baseline_date": baseline_date, "baseline_value": baseline_value,
            "baseline_stated": False, "target_value": target_value, "target_date": due,
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
def drawn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[ChartFile]]:
    """One run for the module, with PNGs when a Chromium is here (the slow part)."""
    root = tmp_path_factory.mktemp("charts")
    with make_marts(root / "warehouse.duckdb") as conn:
        files = write_charts(conn, root / "charts", png=has_chromium())
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


def test_html_is_self_contained(drawn) -> None:
    _, files = drawn
    for chart in files:
        text = page(chart)
        # No script is loaded from anywhere (plotly.js itself mentions cdn.plot.ly for maps).
        assert not re.search(r"<script[^>]*\bsrc\s*=", text)
        assert "https://cdn" not in re.sub(r"<script>.*?</script>", "", text, flags=re.S)
        assert chart.html.stat().st_size > 1_000_000  # plotly.js is embedded
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
    expected = (charts.PNG_WIDTH * charts.PNG_SCALE, charts.PNG_HEIGHT * charts.PNG_SCALE)
    for chart in files:
        assert chart.png == chart.html.with_suffix(".png")
        assert png_size(chart.png) == expected


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
    monkeypatch.setattr(charts, "find_browser", lambda: None)
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
