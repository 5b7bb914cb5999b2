"""Committee reports per partnership, from a small hand-made set of marts (built from the contract),
and one opened in a real headless Chromium."""

from __future__ import annotations

import base64
import calendar
import contextlib
import io
import json
import os
import re
import select
import shutil
import struct
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest
from PIL import Image

from scorecard.model.contract import MARTS_BY_NAME
from scorecard.publish import images
from scorecard.publish.charts import write_charts
from scorecard.publish.disclosure import Disclosure
from scorecard.publish.report import write_reports
from tests.test_charts import create_table_sql, has_chromium, indicator, insert
from tests.test_charts import target as chart_target

NORTHUMBERLAND, HARTLEPOOL, STOCKTON, ENGLAND = "E06000057", "E06000001", "E06000004", "E92000001"
NOTE = "A rise is expected at first as recognition of neglect improves."
STALE = "partner_returns/hartlepool/looked_after.csv quarantined: column 'count' is missing"
AREAS = {
    NORTHUMBERLAND: {"area_name": "Northumberland", "partnership": "northumberland"},
    HARTLEPOOL: {"area_name": "Hartlepool", "partnership": "hartlepool_stockton"},
    STOCKTON: {"area_name": "Stockton-on-Tees", "partnership": "hartlepool_stockton"},
}
PARTNERSHIP_AREAS = [
    {"area_code": code, **info, "region": "North East",
     "partnership_name": ("Northumberland Safeguarding Children Partnership"
                          if info["partnership"] == "northumberland"
                          else "Hartlepool & Stockton-on-Tees Safeguarding Children Partnership"),
     "strategy": ("Multi-Agency Neglect Strategy 2018-2021" if info["partnership"] == "northumberland"
                  else "Neglect Strategy 2015")}
    for code, info in AREAS.items()]

# --- the marts -----------------------------------------------------------------------------

TABLES = ("marts.indicators", "marts.indicator_values", "marts.targets", "marts.scorecard",
          "marts.benchmarks", "marts.spc", "marts.contributory_factors")


INDICATORS = [
    indicator("cpp_repeat_neglect_pct", "Repeat plans under neglect", "%", "lower_is_better",
              "financial_year"),
    indicator("rereferral_pct", "Re-referrals", "%", "lower_is_better", "financial_year"),
    indicator("lac_count", "Children looked after", "children", "lower_is_better",
              "financial_year"),
    indicator("eha_rolling12_avg", "Early help assessments per month (rolling 12 months)",
              "per month", "higher_is_better", "month"),
    indicator("eha_neglect_count", "Early help assessments with neglect a concern", "assessments",
              "higher_is_better", "financial_year"),
]


def fy(start_year: int) -> dict:
    return {"period_type": "financial_year",
            "period_label": f"{start_year}/{(start_year + 1) % 100:02d}",
            "period_start": date(start_year, 4, 1), "period_end": date(start_year + 1, 3, 31)}


def mo(year: int, month: int) -> dict:
    return {"period_type": "month", "period_label": f"{year}-{month:02d}",
            "period_start": date(year, month, 1),
            "period_end": date(year, month, calendar.monthrange(year, month)[1])}


def months(first: tuple[int, int], count: int) -> list[tuple[int, int]]:
    year, month = first
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def value_row(indicator_id: str, area_code: str, period: dict, value: float | None,
              numerator: float | None = None, denominator: float | None = None,
              ci: float | None = None) -> dict:
    return {"indicator_id": indicator_id, "area_code": area_code, **AREAS[area_code],
            "area_type": "local_authority", **period, "numerator": numerator,
            "denominator": denominator, "value": value, "source": "partner_return",
            "ci95_low": None if ci is None or value is None else value - ci,
            "ci95_high": None if ci is None or value is None else value + ci}


REREFERRALS = (30.0, 28.1, 26.0, 24.4, 22.9, 21.0, 19.6, 18.2, 17.0, 16.1, 15.0)  # 2014/15-2024/25
NORTHUMBERLAND_MONTHS = months((2023, 4), 24)
HARTLEPOOL_MONTHS = months((2024, 6), 10)
STOCKTON_MONTHS = months((2024, 4), 12)
STOCKTON_MONTHLY_COUNTS = (2, 1, 0, 1, 3, 0, 0, 1, 2, 0, 1, 0)


def indicator_values() -> list[dict]:
    rows = [value_row("rereferral_pct", NORTHUMBERLAND, fy(2014 + i), v,
                      round(v * 58.82), 5882, ci=1.2) for i, v in enumerate(REREFERRALS)]
    rows += [value_row("rereferral_pct", NORTHUMBERLAND, mo(y, m), 17.0 - i * 0.1, 60, 400)
             for i, (y, m) in enumerate(NORTHUMBERLAND_MONTHS)]
    rows += [value_row("lac_count", NORTHUMBERLAND, fy(2014 + i), v, v, None, ci=38)
             for i, v in enumerate((402, 406, 386))]
    rows += [value_row("eha_rolling12_avg", NORTHUMBERLAND, mo(y, m), 80 + i * 1.2, None, None)
             for i, (y, m) in enumerate(months((2016, 4), 18))]
    rows += [value_row("rereferral_pct", HARTLEPOOL, fy(2021 + i), v, v * 10, 1000, ci=2.6)
             for i, v in enumerate((22.4, 23.9, 21.0, 24.6))]
    rows += [value_row("rereferral_pct", HARTLEPOOL, mo(y, m), 22.0 + i * 0.3, 50, 220)
             for i, (y, m) in enumerate(HARTLEPOOL_MONTHS)]
    rows += [value_row("lac_count", HARTLEPOOL, fy(2021 + i), v, v, None, ci=27)
             for i, v in enumerate((180, 185, 190))]
    # A count of 3, and a percentage made from one.
    rows += [value_row("eha_neglect_count", STOCKTON, fy(2021 + i), v, v, None)
             for i, v in enumerate((12, 8, 3))]
    rows += [value_row("eha_neglect_count", STOCKTON, mo(y, m), v, v, None)
             for (y, m), v in zip(STOCKTON_MONTHS, STOCKTON_MONTHLY_COUNTS)]
    rows += [value_row("cpp_repeat_neglect_pct", STOCKTON, fy(2022), 8.0, 6, 75),
             value_row("cpp_repeat_neglect_pct", STOCKTON, fy(2023), 7.5, 3, 40)]
    # England: a benchmark area, in the marts but without a report of its own.
    rows += [{**value_row("rereferral_pct", NORTHUMBERLAND, fy(2024), 22.6, 148000, 654000),
              "area_code": ENGLAND, "area_name": "England", "partnership": None,
              "area_type": "england"}]
    return rows


def target(*args, **kwargs) -> dict:
    return chart_target(*args, baseline_stated=True, areas=AREAS, **kwargs)


TARGETS = [
    target(NORTHUMBERLAND, "rereferral_pct", ("2014/15", date(2015, 3, 31), 30.0), 20.0,
           date(2021, 3, 31), False, NOTE),
    target(NORTHUMBERLAND, "eha_rolling12_avg", ("2016-04", date(2016, 4, 30), 80.0), 101.0,
           date(2018, 3, 31), False, None),
    target(HARTLEPOOL, "rereferral_pct", ("2021/22", date(2022, 3, 31), 22.4), 20.0,
           date(2026, 3, 31), True, None),
]


def score(area_code: str, indicator_id: str, **fields) -> dict:
    row = {"area_code": area_code, **AREAS[area_code], "indicator_id": indicator_id,
           "rag": "no data"}
    row.update(fields)
    return row


def latest(period: dict) -> dict:
    return {"period_label": period["period_label"], "period_end": period["period_end"],
            "source": "partner_return"}


SCORECARD = [
    score(NORTHUMBERLAND, "rereferral_pct", **latest(fy(2024)), value=15.0,
          previous_period_label="2023/24", previous_value=16.1, change=-1.1,
          direction_of_travel="improving", baseline_period="2014/15", baseline_value=30.0,
          target_value=20.0, target_date=date(2021, 3, 31), trajectory_value=20.0,
          target_illustrative=False, rag="green", note=NOTE,
          variation="special cause improvement", assurance="consistently pass",
          england_value=22.6, vs_england="similar", neighbours_median=18.0,
          vs_neighbours="better"),
    score(NORTHUMBERLAND, "lac_count", **latest(fy(2016)), value=386, previous_period_label="2015/16",
          previous_value=406, change=-20, direction_of_travel="improving", rag="no target",
          vs_england="not compared", vs_neighbours="not compared"),
    score(NORTHUMBERLAND, "eha_rolling12_avg", **latest(mo(2017, 9)), value=100.4,
          previous_period_label="2017-08", previous_value=99.2, change=1.2,
          direction_of_travel="improving", baseline_period="2016-04", baseline_value=80.0,
          target_value=101.0, target_date=date(2018, 3, 31), trajectory_value=101.0,
          target_illustrative=False, rag="amber", variation="common cause",
          assurance="hit and miss"),
    score(NORTHUMBERLAND, "cpp_repeat_neglect_pct"),
    score(NORTHUMBERLAND, "eha_neglect_count"),
    score(HARTLEPOOL, "rereferral_pct", **latest(fy(2024)), value=24.6,
          previous_period_label="2023/24", previous_value=21.0, change=3.6,
          direction_of_travel="worsening", baseline_period="2021/22", baseline_value=22.4,
          target_value=20.0, target_date=date(2026, 3, 31), trajectory_value=20.9,
          target_illustrative=True, rag="red", variation="special cause concern",
          assurance="consistently fail", england_value=22.6, vs_england="worse",
          neighbours_median=23.0, vs_neighbours="similar"),
    score(HARTLEPOOL, "lac_count", **latest(fy(2023)), value=190, previous_period_label="2022/23",
          previous_value=185, change=5, direction_of_travel="worsening", rag="no target",
          stale_reason=STALE),
    score(HARTLEPOOL, "cpp_repeat_neglect_pct"),
    score(HARTLEPOOL, "eha_rolling12_avg"),
    score(HARTLEPOOL, "eha_neglect_count"),
    score(STOCKTON, "eha_neglect_count", **latest(fy(2023)), value=3, previous_period_label="2022/23",
          previous_value=8, change=-5, direction_of_travel="worsening", rag="no target"),
    score(STOCKTON, "cpp_repeat_neglect_pct", **latest(fy(2023)), value=7.5,
          previous_period_label="2022/23", previous_value=8.0, change=-0.5,
          direction_of_travel="improving", rag="no target"),
    score(STOCKTON, "rereferral_pct"),
    score(STOCKTON, "lac_count"),
    score(STOCKTON, "eha_rolling12_avg"),
]


def benchmarks() -> list[dict]:
    rows = []
    for area_code, values, first_year in ((NORTHUMBERLAND, REREFERRALS, 2014),
                                          (HARTLEPOOL, (22.4, 23.9, 21.0, 24.6), 2021)):
        for i, value in enumerate(values):
            period = fy(first_year + i)
            rows.append({"partnership": AREAS[area_code]["partnership"], "area_code": area_code,
                         "area_name": AREAS[area_code]["area_name"],
                         "indicator_id": "rereferral_pct", "period_label": period["period_label"],
                         "period_end": period["period_end"], "value": value,
                         "ci95_low": value - 1.2, "ci95_high": value + 1.2,
                         "england_value": 24.0 - 0.14 * (first_year + i - 2014),
                         "region_code": "E12000001", "region_value": 23.0,
                         "neighbours_median": (25.0 - 0.7 * (first_year + i - 2014)
                                               if area_code == NORTHUMBERLAND else 23.0),
                         "neighbours_with_value": 10, "rank_among_neighbours": 3,
                         "vs_england": "similar", "vs_region": "similar",
                         "vs_neighbours": "better"})
    return rows


def spc_rows(area_code: str, indicator_id: str, points: list[tuple[tuple[int, int], float]],
             mean: float, limit: float, trial: bool, special: dict[int, str]) -> list[dict]:
    rows = []
    for i, ((year, month), value) in enumerate(points):
        period = mo(year, month)
        rows.append({"partnership": AREAS[area_code]["partnership"], "area_code": area_code,
                     "indicator_id": indicator_id, "period_label": period["period_label"],
                     "period_end": period["period_end"], "value": value, "mean": mean,
                     "lower_limit": mean - limit, "upper_limit": mean + limit,
                     "trial_limits": trial, "special_cause": i in special,
                     "special_cause_rules": "run of 7" if i in special else None,
                     "special_cause_direction": special.get(i, "neither")})
    return rows


def spc() -> list[dict]:
    northumberland = [(ym, 17.5 + (0.6 if i % 2 else -0.6) - (1.5 if i >= 16 else 0))
                      for i, ym in enumerate(NORTHUMBERLAND_MONTHS)]
    hartlepool = [(ym, 22.0 + (0.4 if i % 2 else -0.4) + (3.5 if i >= 8 else 0))
                  for i, ym in enumerate(HARTLEPOOL_MONTHS)]
    stockton = list(zip(STOCKTON_MONTHS, STOCKTON_MONTHLY_COUNTS))
    return (spc_rows(NORTHUMBERLAND, "rereferral_pct", northumberland, 17.2, 2.4, False,
                     {i: "improvement" for i in range(16, 24)})
            + spc_rows(HARTLEPOOL, "rereferral_pct", hartlepool, 22.7, 1.9, True,
                       {8: "concern", 9: "concern"})
            + spc_rows(STOCKTON, "eha_neglect_count", stockton, 0.9, 2.7, False, {}))


def factor(area_code: str, period: str, name: str, episodes: float, total: float) -> dict:
    info = ({"area_name": "England", "partnership": None} if area_code == ENGLAND
            else AREAS[area_code])
    return {"area_code": area_code, **info, "period_label": period, "factor": name,
            "episodes": episodes, "episodes_with_factors": total,
            "pct": 100.0 * episodes / total}


FACTORS = [
    *(factor(NORTHUMBERLAND, "2023/24", name, n, 4800) for name, n in (
        ("Neglect", 1205), ("Domestic abuse: child", 1450), ("Parental mental health", 1344),
        ("Parental substance misuse", 744))),
    factor(NORTHUMBERLAND, "2022/23", "Neglect", 999, 4000),
    *(factor(ENGLAND, "2023/24", name, n, 400000) for name, n in (
        ("Neglect", 77000), ("Domestic abuse: child", 128000), ("Parental mental health", 88000),
        ("Parental substance misuse", 60000))),
    *(factor(HARTLEPOOL, "2023/24", name, n, 900) for name, n in (
        ("Neglect", 310), ("Domestic abuse: child", 250), ("Child sexual exploitation", 4))),
]


def make_marts(path: Path, full: bool = True) -> duckdb.DuckDBPyConnection:
    """The marts; ``full=False`` is an older warehouse: no benchmarks, SPC, factors, CIs or
    new scorecard columns, and no core.partnership_areas."""
    conn = duckdb.connect(str(path))
    conn.execute("create schema marts")
    if full:
        for table in TABLES:
            conn.execute(create_table_sql(table))
        conn.execute("create schema core")
        conn.execute("create table core.partnership_areas (area_code varchar, area_name varchar, "
                     "region varchar, partnership varchar, partnership_name varchar, "
                     "strategy varchar)")
        insert(conn, "core.partnership_areas", PARTNERSHIP_AREAS)
        insert(conn, "marts.benchmarks", benchmarks())
        insert(conn, "marts.spc", spc())
        insert(conn, "marts.contributory_factors", FACTORS)
        insert(conn, "marts.indicator_values", indicator_values())
        insert(conn, "marts.scorecard", SCORECARD)
    else:
        old = {"ci95_low", "ci95_high", "ci998_low", "ci998_high", "variation", "assurance",
               "england_value", "vs_england", "neighbours_median", "vs_neighbours"}
        for table in TABLES[:4]:
            sql = create_table_sql(table)
            for column in old:
                sql = re.sub(rf", {column} \w+", "", sql)
            conn.execute(sql)
        insert(conn, "marts.indicator_values",
               [{k: v for k, v in row.items() if k not in old} for row in indicator_values()])
        insert(conn, "marts.scorecard",
               [{k: v for k, v in row.items() if k not in old} for row in SCORECARD])
    insert(conn, "marts.indicators", INDICATORS)
    insert(conn, "marts.targets", TARGETS)
    return conn


REPORTS = ("hartlepool_stockton.html", "northumberland.html")  # by partnership id


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Charts (with PNGs when a Chromium is here), then suppressed and unsuppressed reports."""
    root = tmp_path_factory.mktemp("report")
    with make_marts(root / "warehouse.duckdb") as conn:
        charts = write_charts(conn, root / "charts", png=has_chromium())
        suppressed = write_reports(conn, root / "reports", root / "charts")
        unsuppressed = write_reports(conn, root / "internal", root / "charts",
                                     disclosure_control=False)
    return {"root": root, "charts": charts, "suppressed": suppressed, "unsuppressed": unsuppressed}


def page(built: dict, name: str, suppressed: bool = True) -> str:
    folder = built["root"] / ("reports" if suppressed else "internal")
    return (folder / name).read_text(encoding="utf-8")


def text_of(fragment: str) -> str:
    """Visible text: tags dropped, entities decoded, whitespace collapsed."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def section(text: str, area_code: str, indicator_id: str) -> str:
    start = text.index(f'<section class="indicator" id="s-{area_code}-{indicator_id}"')
    return text[start:text.index("</section>", start)]


def scorecard_cell(text: str, area_code: str, indicator_id: str) -> str:
    """The Latest cell of the scorecard row linking to the section."""
    match = re.search(rf'<a href="#s-{area_code}-{indicator_id}">.*?<td class="value">(.*?)<span',
                      text, flags=re.S)
    assert match, (area_code, indicator_id)
    return match[1]


# --- tests ---------------------------------------------------------------------------------


def test_fixture_rows_use_contract_columns() -> None:
    for table, rows in (("marts.indicators", INDICATORS), ("marts.targets", TARGETS),
                        ("marts.scorecard", SCORECARD), ("marts.indicator_values", indicator_values()),
                        ("marts.benchmarks", benchmarks()), ("marts.spc", spc()),
                        ("marts.contributory_factors", FACTORS)):
        for row in rows:
            assert set(row) <= set(MARTS_BY_NAME[table].columns), table


def test_one_self_contained_file_per_partnership(built) -> None:
    root = built["root"]
    assert [p.name for p in built["suppressed"]] == list(REPORTS)
    assert [p.name for p in built["unsuppressed"]] == list(REPORTS)
    for name in REPORTS:
        text = page(built, name)
        assert text.startswith("<!doctype html>")
        assert (root / "reports" / name).is_file()
        # Offline: nothing fetched from anywhere, no script at all.
        assert "http://" not in text and "https://" not in text
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(//|[a-z][a-z0-9+.-]*:(?!image/png;base64))""",
                             text.replace('href="#', 'href="'), flags=re.I)
        assert "<script" not in text and "<link" not in text and "@import" not in text
        assert "url(" not in text


def test_scorecard_comes_before_the_first_indicator_section(built) -> None:
    for name in REPORTS:
        text = page(built, name)
        assert text.index('id="scorecard"') < text.index('<section class="indicator"')
        assert text.index('<table class="scorecard">') < text.index('<section class="indicator"')


def test_title_block(built) -> None:
    text = text_of(page(built, "northumberland.html"))
    assert "Northumberland Safeguarding Children Partnership" in text
    assert "Strategy Multi-Agency Neglect Strategy 2018-2021" in text
    assert "Areas Northumberland (E06000057)" in text
    assert "Data as at 2024/25 (latest period, to 31 March 2025)" in text
    assert "Built " in text
    assert "Disclosure control applied. Counts of 1 to 5 are shown as c" in text
    tees = text_of(page(built, "hartlepool_stockton.html"))
    assert "Areas Hartlepool (E06000001), Stockton-on-Tees (E06000004)" in tees
    internal = text_of(page(built, "hartlepool_stockton.html", suppressed=False))
    assert "UNSUPPRESSED — for internal use only" in internal
    assert "Disclosure control applied" not in internal


def test_sentences_are_written_from_the_data(built) -> None:
    text = page(built, "northumberland.html")
    rereferrals = text_of(section(text, NORTHUMBERLAND, "rereferral_pct"))
    assert ("Re-referrals fell from 30.0% in 2014/15 to 15.0% in 2024/25 against a target of "
            "20.0% by 2020/21; similar to England (22.6%) and better than the statistical "
            "neighbours (median 18.0%).") in rereferrals
    assert "That is on track" in rereferrals
    assert "special cause variation: improvement" in rereferrals
    assert "the target will be met consistently" in rereferrals
    assert f"Note from the strategy: {NOTE}" in rereferrals
    # No target and no comparison: neither clause.
    assert text_of(section(text, NORTHUMBERLAND, "lac_count")).count(
        "Children looked after fell from 402 in 2014/15 to 386 in 2016/17.") == 1
    eha = text_of(section(text, NORTHUMBERLAND, "eha_rolling12_avg"))
    assert ("Early help assessments per month (rolling 12 months) rose from 80.0 in Apr 2016 to "
            "100.4 in Sep 2017 against a target of 101.0 by Mar 2018.") in eha
    assert "slightly off track" in eha and "common cause variation" in eha
    tees = page(built, "hartlepool_stockton.html")
    hartlepool = text_of(section(tees, HARTLEPOOL, "rereferral_pct"))
    assert ("Re-referrals rose from 22.4% in 2021/22 to 24.6% in 2024/25 against an illustrative "
            "target of 20.0% by 2025/26; worse than England (22.6%) and similar to the "
            "statistical neighbours (median 23.0%).") in hartlepool
    assert "off track" in hartlepool and "missed consistently" in hartlepool


def test_stale_figure_is_flagged(built) -> None:
    text = page(built, "hartlepool_stockton.html")
    stale = text_of(section(text, HARTLEPOOL, "lac_count"))
    assert "Stale figure:" in stale and STALE in stale
    assert "⚠ stale figure" in text_of(text[:text.index('<section class="indicator"')])
    assert "Stale figure" not in text_of(section(text, HARTLEPOOL, "rereferral_pct"))


def test_scorecard_labels_icons_and_comparisons(built) -> None:
    text = page(built, "northumberland.html")
    table = text[text.index('<table class="scorecard">'):text.index("</table>")]
    shown = text_of(table)
    for label in ("Green", "Amber", "No target", "No data", "↓ Improving", "↑ Improving",
                  "Similar", "Better", "not compared", "England 22.6%", "median 18.0%",
                  "improvement (low)", "common cause", "consistently pass", "hit and miss",
                  "by 2020/21", "none set"):
        assert label in shown, label
    assert 'aria-label="Special cause improvement: low values"' in table
    assert "#289de0" in table  # Making Data Count improvement blue
    assert table.count('<svg class="spark"') == 3  # one per indicator with figures
    tees = page(built, "hartlepool_stockton.html")
    tees_table = text_of(tees[tees.index('<table class="scorecard">'):tees.index("</table>")])
    for label in ("Red", "illustrative target", "↑ Worsening", "↓ Worsening", "Worse",
                  "concern (high)", "consistently fail", "(illustrative)"):
        assert label in tees_table, label
    assert "#fab428" in tees  # Making Data Count concern orange
    # The key explains RAG, icons, comparisons and c.
    key = text_of(text[text.index('<section class="key"'):])
    for words in ("Against trajectory", "Variation", "Assurance", "Fingertips method 1",
                  "Suppressed: a count of 1 to 5"):
        assert words in key


def test_small_counts_are_c_under_disclosure_control(built) -> None:
    text = page(built, "hartlepool_stockton.html")
    assert scorecard_cell(text, STOCKTON, "eha_neglect_count") == "c"
    assert scorecard_cell(text, STOCKTON, "cpp_repeat_neglect_pct") == "c"  # 3 of 40
    assert scorecard_cell(text, HARTLEPOOL, "lac_count") == "190"
    assert "is not shown (c)" in text_of(section(text, STOCKTON, "eha_neglect_count"))
    # Its charts would show the small counts: withheld, not embedded.
    stockton = section(text, STOCKTON, "eha_neglect_count")
    assert "Chart withheld under disclosure control" in stockton
    assert "data:image/png" not in stockton
    # The contributory factor made from 4 episodes.
    factors = text[text.index('id="contributory-factors"'):]
    assert re.search(r"Child sexual exploitation</th><td><svg[^>]*>.*?>c</text>", factors)


def test_small_counts_are_shown_without_disclosure_control(built) -> None:
    text = page(built, "hartlepool_stockton.html", suppressed=False)
    assert scorecard_cell(text, STOCKTON, "eha_neglect_count") == "3"
    assert scorecard_cell(text, STOCKTON, "cpp_repeat_neglect_pct") == "7.5%"
    assert ("Early help assessments with neglect a concern fell from 12 in 2021/22 to 3 in "
            "2023/24.") in text_of(section(text, STOCKTON, "eha_neglect_count"))
    assert "Chart withheld" not in text
    factors = text[text.index('id="contributory-factors"'):]
    assert re.search(r"Child sexual exploitation</th><td><svg[^>]*>.*?>0\.4%</text>", factors)


def test_chart_images_are_embedded(built) -> None:
    if not has_chromium():
        pytest.skip("PNG charts need a Chromium: install Debian's `chromium` package")
    text = page(built, "northumberland.html")
    # Three headline charts and the re-referrals SPC chart.
    assert text.count('<img src="data:image/png;base64,') == 4
    rereferrals = section(text, NORTHUMBERLAND, "rereferral_pct")
    assert rereferrals.count("data:image/png;base64,") == 2
    for match in re.finditer(r'src="data:image/png;base64,([^"]+)"', text):
        png = base64.b64decode(match[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        # Halved from the 2000 x 1120 PNG write_charts drew, to keep the report small.
        assert struct.unpack(">II", png[16:24]) == (1000, 560)
    tees = page(built, "hartlepool_stockton.html")
    # Hartlepool's re-referrals and SPC and its looked-after children; Stockton's % chart is
    # made from a count of 3, and its assessments chart shows counts: both withheld.
    assert tees.count("data:image/png;base64,") == 3
    assert tees.count("Chart withheld under disclosure control") == 3
    assert page(built, "hartlepool_stockton.html", suppressed=False).count(
        "data:image/png;base64,") == 6


def test_contributory_factors_beside_england(built) -> None:
    text = page(built, "northumberland.html")
    factors = text[text.index('id="contributory-factors"'):]
    shown = text_of(factors)
    assert "Northumberland, 2023/24" in shown  # the latest period only
    assert "Neglect" in shown and "England" in shown
    assert "25.1%" in shown and "19.3%" in shown  # 1,205 of 4,800; 77,000 of 400,000
    assert '<tr class="neglect">' in factors
    # Sorted by the area's share: domestic abuse (30.2%) first.
    bars = text_of(factors[factors.index('<table class="factors">'):])
    assert bars.index("Domestic abuse") < bars.index("Parental mental health") < bars.index(
        "Neglect") < bars.index("Parental substance misuse")
    assert "2022/23" not in shown


def test_a_warehouse_without_the_new_marts_still_reports(tmp_path: Path) -> None:
    with make_marts(tmp_path / "old.duckdb", full=False) as conn:
        write_charts(conn, tmp_path / "charts", png=False)
        paths = write_reports(conn, tmp_path / "reports", tmp_path / "charts")
    assert [p.name for p in paths] == list(REPORTS)
    text = paths[1].read_text(encoding="utf-8")
    assert "Northumberland" in text  # the id, titled, without core.partnership_areas
    assert "not compared" in text and "contributory-factors" not in text
    assert "No chart image" in text
    assert ("Re-referrals fell from 30.0% in 2014/15 to 15.0% in 2024/25 against a target of "
            "20.0% by 2020/21.") in text_of(text)


def test_reports_of_partnerships_that_went_are_removed(tmp_path: Path) -> None:
    reports_dir = tmp_path / "reports"
    with make_marts(tmp_path / "w.duckdb") as conn:
        write_reports(conn, reports_dir, tmp_path / "charts")
        (reports_dir / "README.txt").write_text("not ours")
        conn.execute("delete from marts.scorecard where partnership = 'hartlepool_stockton'")
        paths = write_reports(conn, reports_dir, tmp_path / "charts")
    assert [p.name for p in paths] == ["northumberland.html"]
    assert not (reports_dir / "hartlepool_stockton.html").exists()
    assert (reports_dir / "README.txt").read_text() == "not ours"


@pytest.mark.parametrize(("value", "unit", "numerator", "denominator", "shown"), [
    (3, "children", None, None, "c"), (5, "assessments", 5, None, "c"),
    (6, "children", 6, None, "6"), (0, "children", 0, None, "0"),
    (7.5, "%", 3, 40, "c"), (60.0, "%", 30, 5, "c"), (15.25, "%", 61, 400, "15.3%"),
    (2.675, "per 10,000", 40, 149533, "2.7"), (0.05, "%", 20, 40000, "0.1%")])
def test_disclosure_and_half_up_rounding(value, unit, numerator, denominator, shown) -> None:
    assert Disclosure(True).show(value, unit, numerator, denominator) == shown
    if shown == "c":
        assert Disclosure(False).show(value, unit, numerator, denominator) != "c"


def test_text_from_the_marts_is_escaped(tmp_path: Path) -> None:
    with make_marts(tmp_path / "w.duckdb") as conn:
        conn.execute("update marts.scorecard set note = '<b>Rise</b> & \"expected\"' "
                     "where area_code = ? and indicator_id = 'rereferral_pct'", [NORTHUMBERLAND])
        path = write_reports(conn, tmp_path / "reports", tmp_path / "charts")[1]
    text = path.read_text(encoding="utf-8")
    assert "<b>Rise</b>" not in text and "&lt;b&gt;Rise&lt;/b&gt; &amp; &#34;expected&#34;" in text


def test_names_from_the_marts_are_escaped_in_the_report_and_the_index(tmp_path: Path) -> None:
    """Autoescaping: a partnership, area or indicator name is text, never markup."""
    evil = "<script>alert(1)</script>"
    with make_marts(tmp_path / "w.duckdb") as conn:
        conn.execute("update core.partnership_areas set partnership_name = ? where partnership = 'northumberland'",
                     [f"North {evil} & Co"])
        for table in ("marts.scorecard", "marts.indicator_values"):
            conn.execute(f"update {table} set area_name = ? where area_code = ?", [f"Hartle{evil}pool", HARTLEPOOL])
        conn.execute("update marts.indicators set name = ? where indicator_id = 'lac_count'", [f"Looked {evil} after"])
        write_charts(conn, tmp_path / "charts", png=False)
        paths = write_reports(conn, tmp_path / "reports", tmp_path / "charts")
    for text in [path.read_text(encoding="utf-8") for path in paths] + [
            (tmp_path / "charts" / "index.html").read_text(encoding="utf-8")]:
        assert "<script" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    northumberland = paths[1].read_text(encoding="utf-8")
    assert "<title>North &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co: neglect scorecard</title>" in northumberland
    assert "Looked <script>alert(1)</script> after" in text_of(northumberland)
    assert "Hartle<script>alert(1)</script>pool" in text_of(paths[0].read_text(encoding="utf-8"))


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("transparent_pixel", [False, True])
def test_wide_chart_pngs_are_shrunk_to_embed(transparent_pixel) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (1120, 2000, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    if transparent_pixel:
        pixels[:2, :2] = (0, 0, 0, 0)  # laid over white paper
    small = Image.open(io.BytesIO(images.embeddable_png(png_bytes(Image.fromarray(pixels, "RGBA")))))
    assert small.format == "PNG" and small.mode == "RGB"
    assert small.size == (images.EMBED_MAX_WIDTH, 560)
    # Exactly halved: each pixel the mean of its 2 x 2 block (a see-through one counts as white).
    rgb = pixels[..., :3].astype(int)
    if transparent_pixel:
        rgb[:2, :2] = 255
    expected = (rgb[0::2, 0::2] + rgb[1::2, 0::2] + rgb[0::2, 1::2] + rgb[1::2, 1::2]) / 4
    assert np.abs(np.asarray(small).astype(int) - expected).max() <= 1
    # A chart no wider than that is embedded as it is.
    narrow = png_bytes(Image.fromarray(pixels[:100, :images.EMBED_MAX_WIDTH], "RGBA"))
    assert images.embeddable_png(narrow) == narrow


def test_a_damaged_chart_png_is_reported_missing_and_the_build_goes_on(tmp_path: Path) -> None:
    charts_dir = tmp_path / "charts"
    (charts_dir / NORTHUMBERLAND).mkdir(parents=True)
    good = png_bytes(Image.new("RGB", (2000, 1120), "white"))
    (charts_dir / NORTHUMBERLAND / "lac_count.png").write_bytes(good)
    (charts_dir / NORTHUMBERLAND / "rereferral_pct.png").write_bytes(good[:len(good) // 2])  # cut short
    (charts_dir / NORTHUMBERLAND / "rereferral_pct_spc.png").write_bytes(b"not a png at all")
    with make_marts(tmp_path / "w.duckdb") as conn:
        path = write_reports(conn, tmp_path / "reports", charts_dir)[1]
    text = path.read_text(encoding="utf-8")
    rereferrals = text_of(section(text, NORTHUMBERLAND, "rereferral_pct"))
    assert f"the chart file {NORTHUMBERLAND}/rereferral_pct.png could not be read" in rereferrals
    assert f"the chart file {NORTHUMBERLAND}/rereferral_pct_spc.png could not be read" in rereferrals
    assert "data:image/png" not in section(text, NORTHUMBERLAND, "rereferral_pct")
    # The good one is embedded, shrunk to the embedding width.
    lac = section(text, NORTHUMBERLAND, "lac_count")
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', lac)[1])
    assert struct.unpack(">II", png[16:24]) == (images.EMBED_MAX_WIDTH, 560)


def embedded_png(text: str, area: str, indicator: str) -> bytes:
    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', section(text, area, indicator))[1])


def test_each_chart_is_made_small_once_and_kept_only_while_a_report_shows_it(tmp_path: Path) -> None:
    charts_dir = tmp_path / "charts"
    (charts_dir / NORTHUMBERLAND).mkdir(parents=True)
    lac, rereferrals = charts_dir / NORTHUMBERLAND / "lac_count.png", charts_dir / NORTHUMBERLAND / "rereferral_pct.png"
    lac.write_bytes(png_bytes(Image.new("RGB", (2000, 1120), "white")))
    rereferrals.write_bytes(png_bytes(Image.new("RGB", (2000, 1120), "navy")))
    kept_dir = images.EmbeddableCharts(charts_dir).kept_dir
    with make_marts(tmp_path / "w.duckdb") as conn:
        write_reports(conn, tmp_path / "reports", charts_dir)
        assert kept_dir.parent == charts_dir.parent  # beside the charts, never published with them
        assert len(list(kept_dir.iterdir())) == 2
        # The next reports embed the small copy made last time (here, one marked to tell it apart).
        [lac_kept] = [p for p in kept_dir.iterdir() if p.read_bytes() == images.embeddable_png(lac.read_bytes())]
        marked = png_bytes(Image.new("RGB", (images.EMBED_MAX_WIDTH, 560), "red"))
        lac_kept.write_bytes(marked)
        text = write_reports(conn, tmp_path / "reports", charts_dir)[1].read_text(encoding="utf-8")
        assert embedded_png(text, NORTHUMBERLAND, "lac_count") == marked
        # A chart drawn afresh is made small afresh; the copy of the chart it replaced goes.
        lac.write_bytes(png_bytes(Image.new("RGB", (2000, 1120), "green")))
        text = write_reports(conn, tmp_path / "reports", charts_dir)[1].read_text(encoding="utf-8")
    assert embedded_png(text, NORTHUMBERLAND, "lac_count") == images.embeddable_png(lac.read_bytes())
    assert not lac_kept.exists() and len(list(kept_dir.iterdir())) == 2


# --- a real browser ------------------------------------------------------------------------

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
                  "--remote-debugging-pipe")


def chromium_path() -> str | None:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")


class DevTools:
    """The Chrome DevTools Protocol over --remote-debugging-pipe (fd 3 in, fd 4 out; messages
    end with NUL): no package needed beyond the standard library."""

    def __init__(self, chromium: str, user_data_dir: Path, log: Path) -> None:
        self.log = log.open("wb")
        # The shell gives chromium our stdin as fd 3 and our stdout as fd 4.
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null', chromium,
             *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.buffer = bytearray()
        self.events: list[dict] = []
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.process.stdin.write(json.dumps(message).encode() + b"\0")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            reply = self.read(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def read(self, deadline: float) -> dict:
        fd = self.process.stdout.fileno()
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self.buffer += chunk
        end = self.buffer.index(b"\0")
        raw = bytes(self.buffer[:end])
        del self.buffer[:end + 1]
        return json.loads(raw)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            if found := next((e for e in self.events if e.get("method") == method), None):
                return found
            self.events.append(self.read(deadline))

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, EOFError, RuntimeError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()  # the process this test started, by its handle
            self.process.wait()
        self.log.close()


def console_errors(events: list[dict], log_text: str) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                   for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    # Chromium's own log, as a fallback: console messages it printed as CONSOLE lines.
    errors += [line for line in log_text.splitlines() if "CONSOLE" in line and "error" in line.lower()]
    return errors


IMAGES_CHECK = """JSON.stringify({
  images: Array.from(document.images).map(i => ({ok: i.complete && i.naturalWidth > 0,
                                                 width: i.naturalWidth, alt: i.alt.slice(0, 80)})),
  svgs: document.querySelectorAll('svg').length,
  scripts: document.scripts.length,
  scorecardRows: document.querySelectorAll('table.scorecard tbody tr').length,
  title: document.title,
  tableFits: document.querySelector('table.scorecard').scrollWidth <= document.body.clientWidth + 1
})"""


def test_report_renders_in_a_real_browser(built, tmp_path: Path) -> None:
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("No Chromium here: install Debian's `chromium` package (make chromium) to "
                    "open the report in a real browser")
    report_path = built["root"] / "reports" / "northumberland.html"
    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        browser.send("Page.navigate", {"url": report_path.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")
        state = json.loads(browser.send("Runtime.evaluate", {
            "expression": IMAGES_CHECK, "returnByValue": True}, session=session)["result"]["value"])
        shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"},
                                             session=session)["data"])
        browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
        browser.send("Emulation.setDeviceMetricsOverride", {
            "width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False},
            session=session)
        print_shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"},
                                                   session=session)["data"])
        pdf = base64.b64decode(browser.send("Page.printToPDF", {
            "preferCSSPageSize": True, "printBackground": True}, session=session,
            timeout=60)["data"])
        requests = [e["params"]["request"]["url"] for e in browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
        events = list(browser.events)
    finally:
        browser.close()

    screenshot = tmp_path / "northumberland.png"
    screenshot.write_bytes(shot)
    (tmp_path / "northumberland-print.png").write_bytes(print_shot)
    (tmp_path / "northumberland.pdf").write_bytes(pdf)
    if out := os.environ.get("SCORECARD_SCREENSHOT_DIR"):
        Path(out).mkdir(parents=True, exist_ok=True)
        for name in ("northumberland.png", "northumberland-print.png", "northumberland.pdf"):
            shutil.copy(tmp_path / name, Path(out) / name)

    assert console_errors(events, (tmp_path / "chromium.log").read_text(errors="replace")) == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert state["title"] == "Northumberland Safeguarding Children Partnership: neglect scorecard"
    assert state["scripts"] == 0
    if has_chromium():
        assert len(state["images"]) == 4
    assert all(image["ok"] for image in state["images"]), state["images"]
    assert state["svgs"] > 10  # sparklines, icons, factor bars
    assert state["scorecardRows"] == 6  # the area row and five indicators
    assert state["tableFits"], "the scorecard is wider than the page"
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000
    # Printed to A4: a page for the title and scorecard, one per indicator section, and more.
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= 1 + 3, pages
