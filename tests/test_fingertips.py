"""OHID Fingertips exports: recognised by their header, read as published (values, counts,
denominators and the published 95% and 99.8% limits, never recomputed), value notes kept as the
reason a value is missing, England and regions kept as benchmarks, rows matched to indicators by
fingertips_id, persons totals unless a category is asked for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from scorecard.ingest.fingertips import parse_time_period, read_fingertips, recognise_fingertips
from scorecard.ingest.inventory import recognitions
from tests.conftest import STRATEGIES, build_tables, make_settings

HEADER = ('"Indicator ID","Indicator Name","Parent Code","Parent Name","Area Code","Area Name","Area Type","Sex",'
          '"Age","Category Type","Category","Time period","Value","Lower CI 95.0 limit","Upper CI 95.0 limit",'
          '"Lower CI 99.8 limit","Upper CI 99.8 limit","Count","Denominator","Value note","Recent Trend",'
          '"Compared to England value or percentiles","Compared to Region value or percentiles",'
          '"Time period Sortable","New data","Compared to goal","Time period range"')
DENTAL = "Percentage of 5 year olds with experience of visually obvious dental decay"
DECILE = "County & UA deprivation deciles in England (IMD2019, 4/21 geog.)"


def dental_row(area_code, area_name, area_type, parent, period, value, ci95, ci998, count, denominator,
               note="", category_type="", category="", sex="Persons"):
    cells = [93563, DENTAL, parent, "West Midlands region (statistical)" if parent else "", area_code, area_name,
             area_type, sex, "5 yrs", category_type, category, period, value, *ci95, *ci998, count, denominator,
             note, "Cannot be calculated", "Similar", "Similar", period[:4] + "0000", "", "", "1y"]
    return ",".join(f'"{c}"' if isinstance(c, str) and ("," in c or " " in c) else str(c) for c in cells)


ROWS = [
    dental_row("E92000001", "England", "England", "", "2018/19", "23.4", ("23.2", "23.6"), ("23.0", "23.8"),
               "12345", "52758"),
    dental_row("E12000005", "West Midlands region (statistical)", "Regions (statistical)", "E92000001", "2018/19",
               "25.1", ("24.5", "25.7"), ("24.0", "26.2"), "1400", "5578"),
    dental_row("E06000019", "Herefordshire, County of", "Counties & UAs (from Apr 2023)", "E12000005", "2018/19",
               "31.9", ("27.1888", "37.1029"), ("24.8", "39.9"), "104", "326"),
    dental_row("E06000019", "Herefordshire, County of", "Counties & UAs (from Apr 2023)", "E12000005", "2016/17",
               "", ("", ""), ("", ""), "", "", note="Value suppressed for disclosure control due to small count"),
    dental_row("E06000019", "Herefordshire, County of", "Counties & UAs (from Apr 2023)", "E12000005", "2018/19",
               "40.2", ("30.1", "50.3"), ("25.0", "55.0"), "40", "99", category_type=DECILE,
               category="Most deprived decile (IMD2019)"),
    dental_row("E06000019", "Herefordshire, County of", "Counties & UAs (from Apr 2023)", "E12000005",
               "2014/15 - 18/19", "30.0", ("28.0", "32.0"), ("27.0", "33.0"), "500", "1666"),
    dental_row("E06000019", "Herefordshire, County of", "Counties & UAs (from Apr 2023)", "E12000005", "2019 Q1",
               "1", ("1", "1"), ("1", "1"), "1", "1"),
]


def write_export(folder: Path, rows=ROWS, name: str = "fingertips_export.csv", header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    # As the site downloads it: a UTF-8 byte order mark, CRLF line ends, quoted names with commas.
    path.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("2019/20", ("year_pair", 2019, 2019)),
    ("2022", ("calendar_year", 2022, 2022)),
    ("2017/18 - 19/20", ("pooled_year_pairs", 2017, 2019)),
    ("1998/99 - 00/01", ("pooled_year_pairs", 1998, 2000)),
    ("2016 - 18", ("pooled_calendar_years", 2016, 2018)),
    ("2019 Q1", None), ("2019/21", None), ("Jan 2020", None),
])
def test_time_periods_are_read_as_fingertips_writes_them(text, expected):
    assert parse_time_period(text) == expected


def test_an_export_is_recognised_by_its_header_with_or_without_the_newer_columns(tmp_path: Path):
    assert recognise_fingertips(write_export(tmp_path))
    older = HEADER.removesuffix(',"Time period range"').replace("Region value", "Counties & UAs (from Apr 2021) value")
    assert recognise_fingertips(write_export(tmp_path, [r.removesuffix(",1y") for r in ROWS], "older.csv", older))
    assert recognitions(tmp_path / "older.csv") == [
        {"sheet": None, "source": "fingertips", "layout": "fingertips", "recognition": "OHID Fingertips export"}]
    assert not recognise_fingertips(write_export(tmp_path, [], "other.csv", "area_code,period,measure,count"))


def test_values_counts_and_published_limits_are_read_unchanged_and_notes_kept(tmp_path: Path):
    read = read_fingertips(write_export(tmp_path), "health/fingertips_export.csv")
    assert read.problems == []
    rows = {(r["area_code"], r["time_period"], r["category"]): r for r in read.frame.iter_rows(named=True)}
    herefordshire = rows[("E06000019", "2018/19", None)]
    assert (herefordshire["value"], herefordshire["ci95_low"], herefordshire["ci95_high"], herefordshire["ci998_low"],
            herefordshire["ci998_high"], herefordshire["count"], herefordshire["denominator"]) == (
        31.9, 27.1888, 37.1029, 24.8, 39.9, 104, 326)
    assert (herefordshire["area_name"], herefordshire["source_row"]) == ("Herefordshire, County of", 4)
    suppressed = rows[("E06000019", "2016/17", None)]
    assert suppressed["value"] is None
    assert suppressed["value_note"] == "Value suppressed for disclosure control due to small count"
    assert rows[("E06000019", "2019 Q1", None)]["period_kind"] is None


def test_a_cell_that_is_not_a_number_is_refused_naming_file_row_column_and_rule(tmp_path: Path):
    bad = ROWS[2].replace('"27.1888"', '"27,1888"').replace("27.1888", "twenty")
    read = read_fingertips(write_export(tmp_path, [ROWS[0], bad]), "health/fingertips_export.csv")
    assert [p.message() for p in read.problems] == [
        "health/fingertips_export.csv, row 3, column 'Lower CI 95.0 limit': the value 'twenty' is refused "
        "because it must be a number as Fingertips publishes it, or blank."]


DENTAL_INDICATOR = """\
id: dental_decay_age5_pct
name: Five-year-olds with dental decay
family: health proxies
unit: '%'
polarity: lower_is_better
definition: Five-year-olds with visually obvious dental decay, as a % of those examined (OHID Fingertips 93563).
source: OHID Fingertips 93563 (National Dental Epidemiology Programme)
kind: flow
headline_period: academic_year
fingertips_id: 93563
"""


def test_a_fingertips_indicator_comes_through_as_published_with_england_beside_it(tmp_path: Path):
    settings = make_settings(tmp_path)
    (settings.raw_dir / "strategies").mkdir(parents=True)
    strategy = (STRATEGIES / "herefordshire.yaml").read_bytes()
    (settings.raw_dir / "strategies" / "herefordshire.yaml").write_bytes(strategy)
    write_export(settings.raw_dir / "health")
    (settings.raw_dir / "indicators").mkdir()
    (settings.raw_dir / "indicators" / "local_dental.yaml").write_text(
        DENTAL_INDICATOR.replace("id: dental_decay_age5_pct", "id: local_dental")
        + "fingertips_category: Most deprived decile (IMD2019)\n", encoding="utf-8")
    build_tables(settings, "marts.benchmarks", "marts.indicator_values")
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        values = conn.execute("""
            select area_code, area_type, period_type, period_label, period_start, period_end, value, ci95_low,
                ci95_high, ci998_low, ci998_high, numerator, denominator, value_note, source
            from marts.indicator_values where indicator_id = 'dental_decay_age5_pct' order by area_code, period_start
        """).fetchall()
        benchmark = conn.execute("""
            select value, england_value, region_value, vs_england from marts.benchmarks
            where indicator_id = 'dental_decay_age5_pct' and period_label = '2018/19'""").fetchone()
        decile = conn.execute("""select value, ci95_low from marts.indicator_values
                                 where indicator_id = 'local_dental'""").fetchall()
    assert values == [
        ("E06000019", "local_authority", "pooled_years", "2014/15 - 18/19", date(2014, 9, 1), date(2019, 8, 31),
         30.0, 28.0, 32.0, 27.0, 33.0, 500, 1666, None, "fingertips"),
        ("E06000019", "local_authority", "academic_year", "2016/17", date(2016, 9, 1), date(2017, 8, 31),
         None, None, None, None, None, None, None, "Value suppressed for disclosure control due to small count",
         "fingertips"),
        ("E06000019", "local_authority", "academic_year", "2018/19", date(2018, 9, 1), date(2019, 8, 31),
         31.9, 27.1888, 37.1029, 24.8, 39.9, 104, 326, None, "fingertips"),
        ("E12000005", "region", "academic_year", "2018/19", date(2018, 9, 1), date(2019, 8, 31),
         25.1, 24.5, 25.7, 24.0, 26.2, 1400, 5578, None, "fingertips"),
        ("E92000001", "england", "academic_year", "2018/19", date(2018, 9, 1), date(2019, 8, 31),
         23.4, 23.2, 23.6, 23.0, 23.8, 12345, 52758, None, "fingertips"),
    ]
    assert benchmark == (31.9, 23.4, 25.1, "worse")
    assert decile == [(40.2, 30.1)]


def test_a_bad_export_is_quarantined_and_a_good_one_still_loads(tmp_path: Path):
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from assets.raw.fingertips import fingertips
    from assets.raw.partner_returns import extract_files
    from pipelines.resources import ScorecardPaths

    raw = tmp_path / "raw"
    write_export(raw / "health", name="good.csv")
    write_export(raw / "health", [ROWS[0].replace(",12345,", ",lots,")], name="bad.csv")
    resources = {"paths": ScorecardPaths(raw_dir=str(raw), db_path=str(tmp_path / "w.duckdb"),
                                         out_dir=str(tmp_path / "out")),
                 "duckdb": DuckDBResource(database=str(tmp_path / "t.duckdb"))}
    result = dg.materialize([extract_files, fingertips], resources=resources, raise_on_error=False)
    [valid] = [e for e in result.get_asset_check_evaluations() if e.asset_key == fingertips.key]
    assert not valid.passed
    assert valid.metadata["messages"].value == [
        "health/bad.csv, row 2, column 'Count': the value 'lots' is refused because it must be a number as "
        "Fingertips publishes it, or blank."]
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as conn:
        loaded = conn.execute("select distinct source_file from raw.fingertips").fetchall()
    assert loaded == [("health/good.csv",)]
