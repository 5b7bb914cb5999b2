"""DfE open data (EES CSVs) load as published: any column order, BOM, suppression kept as reasons."""

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from scorecard.ingest.ees import read_ees, recognise_ees
from tests.conftest import STRATEGIES, build_tables, make_settings, shared_reference

C1_HEADER = ("time_period,time_identifier,geographic_level,country_code,country_name,region_code,region_name,"
             "old_la_code,new_la_code,la_name,category,referral_count,rereferral_count,rereferral_percent")


def c1_row(period: str, level: str, code: str, name: str, referrals: str, rereferrals: str, percent: str) -> str:
    region = ("E12000001", "North East") if level != "National" else ("", "")
    la = (("929", code, name) if level == "Local authority" else ("", "", ""))
    return ",".join([period, "Reporting year", level, "E92000001", "England", *region, *la,
                     "Referrals and Re-referrals", referrals, rereferrals, percent])


def write_c1(path: Path, rows: list[str], bom: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "\n".join([C1_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_figures_keep_their_geography_period_and_suppression_reason(tmp_path):
    path = write_c1(tmp_path / "c1.csv", [
        c1_row("2015", "National", "", "", "635600", "156260", "24.6"),
        c1_row("2015", "Local authority", "E06000057", "Northumberland", "5882", "1765", "30"),
        c1_row("2016", "Local authority", "E06000057", "Northumberland", "c", "x", "z"),
    ], bom=True)
    assert recognise_ees(path) == "c1_referrals"
    read = read_ees(path, "c1.csv")
    assert read.problems == []
    frame = read.frame.filter(pl.col("indicator") == "referral_count").sort("source_row")
    assert frame.select("area_code", "area_name", "geographic_level", "period_label", "period_end", "value",
                        "value_note").rows() == [
        ("E92000001", "England", "National", "2014/15", __import__("datetime").date(2015, 3, 31), 635600.0, None),
        ("E06000057", "Northumberland", "Local authority", "2014/15", __import__("datetime").date(2015, 3, 31), 5882.0,
         None),
        ("E06000057", "Northumberland", "Local authority", "2015/16", __import__("datetime").date(2016, 3, 31), None,
         "c: confidential (1 to 5, suppressed)"),
    ]
    assert read.frame.filter(pl.col("value_text") == "z")["value_note"].to_list() == ["z: not applicable"]
    assert set(read.frame["filters"]) == {"category=Referrals and Re-referrals"}


def test_columns_are_matched_by_name_whatever_their_order(tmp_path):
    original = write_c1(tmp_path / "a.csv", [c1_row("2015", "Local authority", "E06000057", "Northumberland",
                                                    "5882", "1765", "30")])
    shuffled = pl.read_csv(original, infer_schema=False)
    shuffled = shuffled.select(list(reversed(shuffled.columns)))
    shuffled.write_csv(tmp_path / "b.csv")
    columns = ["area_code", "period_label", "indicator", "value"]
    assert read_ees(original, "x").frame.select(columns).equals(read_ees(tmp_path / "b.csv", "x").frame.select(columns))


def test_academic_years_are_six_digits(tmp_path):
    path = tmp_path / "absence.csv"
    path.write_text("time_period,time_identifier,geographic_level,country_code,country_name,social_care_group,"
                    "phase_type_grouping,t_pupils,t_pupils_pa_10_exact,pt_pupils_pa_10_exact\n"
                    "201516,Academic year,National,E92000001,England,CPPO at 31 March,Total,1000,400,40\n")
    read = read_ees(path, "absence.csv")
    assert read.dataset == "absence_social_care"
    assert set(read.frame.select("period_type", "period_label").rows()) == {("academic_year", "2015/16")}
    assert set(read.frame["filters"]) == {"phase_type_grouping=Total; social_care_group=CPPO at 31 March"}


def test_rows_that_cannot_be_placed_are_problems_naming_the_cell(tmp_path):
    path = write_c1(tmp_path / "c1.csv", [
        c1_row("2015", "Ward", "E06000057", "Northumberland", "1", "1", "100"),
        c1_row("15/16", "Local authority", "E06000057", "Northumberland", "1", "1", "100"),
    ])
    problems = read_ees(path, "dfe/c1.csv").problems
    assert [(p.file, p.row, p.column, p.value) for p in problems] == [
        ("dfe/c1.csv", 2, "geographic_level", "Ward"), ("dfe/c1.csv", 3, "time_period", "15/16")]


def test_a_partner_return_takes_precedence_and_disagreements_are_listed(tmp_path):
    settings = make_settings(tmp_path)
    (settings.raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", settings.raw_dir / "strategies")
    referrals = settings.raw_dir / "csc" / "referrals.csv"
    referrals.parent.mkdir()
    referrals.write_text("area_code,period,referrals,rereferrals_within_12_months,referrals_neglect\n"
                         "E06000057,2014/15,5882,1765,500\nE06000057,2015/16,4000,1000,400\n")
    write_c1(settings.raw_dir / "dfe" / "c1.csv", [
        c1_row("2015", "Local authority", "E06000057", "Northumberland", "5882", "1765", "30"),
        c1_row("2016", "Local authority", "E06000057", "Northumberland", "4100", "1000", "24.4"),
        c1_row("2017", "Local authority", "E06000057", "Northumberland", "3296", "700", "21.2"),
        c1_row("2016", "National", "", "", "621470", "138540", "22.3"),
    ])
    build_tables(settings, "marts.indicator_values", "marts.indicator_values_by_source", "marts.source_disagreements")
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        shown = conn.execute("select period_label, source, round(value, 1) from marts.indicator_values "
                             "where indicator_id = 'rereferral_pct' and area_code = 'E06000057' "
                             "order by period_label").fetchall()
        assert shown == [("2014/15", "partner_return", 30.0), ("2015/16", "partner_return", 25.0),
                         ("2016/17", "dfe_published", 21.2)]
        by_source = conn.execute("select count(*) from marts.indicator_values_by_source "
                                 "where indicator_id = 'rereferral_pct' and area_code = 'E06000057'").fetchone()
        assert by_source == (5,)
        disagreements = conn.execute("select period_label, source, other_source, round(difference, 2) "
                                     "from marts.source_disagreements").fetchall()
        assert disagreements == [("2015/16", "partner_return", "dfe_published", 0.61)]
        england = conn.execute("select area_type, partnership, round(value, 1) from marts.indicator_values "
                               "where area_code = 'E92000001' and indicator_id = 'rereferral_pct'").fetchall()
        assert england == [("england", None, 22.3)]


@pytest.fixture(scope="module")
def published_only(tmp_path_factory):
    """The tables these tests read, built from the DfE's real files and the strategy files alone."""
    reference = shared_reference()
    settings = make_settings(tmp_path_factory.mktemp("ees"))
    shutil.copytree(STRATEGIES, settings.raw_dir / "strategies")
    for path in reference.glob("*.csv"):
        (settings.raw_dir / "dfe").mkdir(exist_ok=True)
        shutil.copy(path, settings.raw_dir / "dfe" / path.name)
    build_tables(settings, "marts.indicator_values", "marts.published_value_checks")
    with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
        yield conn


def test_real_files_publish_northumberland_rereferrals_faithfully(published_only):
    row = published_only.execute(
        "select numerator, denominator, round(value, 1), source from marts.indicator_values "
        "where indicator_id = 'rereferral_pct' and area_code = 'E06000057' and period_label = '2014/15'").fetchone()
    assert row == (1765, 5882, 30.0, "dfe_published")


def test_real_suppressed_cells_are_missing_with_their_reason(published_only):
    row = published_only.execute(
        "select value, value_note from marts.indicator_values where indicator_id = 'cpp_repeat_pct' "
        "and area_code = 'E06000001' and period_label = '2013/14'").fetchone()
    assert row == (None, "c: confidential (1 to 5, suppressed)")
    raw = published_only.execute(
        "select count(*) from raw.dfe_open_data where value_text = 'c' and value is null and value_note like 'c:%'"
    ).fetchone()[0]
    assert raw > 0


def test_real_files_give_every_authority_region_and_england(published_only):
    types = dict(published_only.execute(
        "select area_type, count(distinct area_code) from marts.indicator_values group by 1").fetchall())
    assert types["england"] == 1 and types["region"] >= 9 and types["local_authority"] >= 150


def test_real_published_percentages_agree_with_their_counts_but_where_the_dfe_differs(published_only):
    agrees, total = published_only.execute(
        "select count(*) filter (where agrees), count(*) from marts.published_value_checks").fetchone()
    assert total > 4000 and agrees / total > 0.99
