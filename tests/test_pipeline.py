"""The whole graph on the two-partnership fixture: what the data team, analysts and committees see."""

import re

import pytest

from scorecard.model.catalogue import INDICATORS_BY_ID
from scorecard.model.contract import MARTS
from tests.conftest import BuiltWarehouse

FIXTURE_AREAS = {"E06000057", "E06000001", "E06000004"}


def test_build_succeeds_and_says_where_everything_is(built: BuiltWarehouse):
    assert built.exit_code == 0, built.output
    settings = built.settings
    for line in (f"Published warehouse:  {settings.db_path}",
                 f"Published charts:     {settings.charts_dir / 'index.html'}",
                 f"Published reports:    {settings.reports_dir}", f"Validation reports: {settings.validation_dir}"):
        assert line in built.output
    assert "NOT published" not in built.output
    # As it runs, the build names the steps it finishes (a few seconds apart at most: never silent for long).
    assert re.search(r"^  \d\d:\d\d:\d\d  \S+ built$", built.output, re.M), built.output[:2000]
    assert built.settings.db_path.is_file()
    assert not built.settings.db_path.with_name(f".{built.settings.db_path.name}.publishing").exists()


def test_scorecard_holds_every_indicator_for_every_area(warehouse):
    rows = warehouse.execute("select partnership, area_code, indicator_id, value, rag from marts.scorecard").fetchall()
    # Every indicator the strategy names: the national ones, and Northumberland's own.
    national = set(INDICATORS_BY_ID) - {"eha_completed_count", "dental_decay_age5_pct", "obesity_reception_pct",
                                        "obesity_year6_pct", "children_low_income_pct"}
    assert {(r[1], r[2]) for r in rows} == {(a, i) for a in FIXTURE_AREAS for i in national} | {
        ("E06000057", "eha_completed_count")}
    assert all(r[3] is not None and r[4] in {"green", "amber", "red"} for r in rows)
    partnerships = dict(warehouse.execute("select distinct area_code, partnership from marts.scorecard").fetchall())
    assert partnerships == {"E06000057": "northumberland", "E06000001": "hartlepool_stockton",
                            "E06000004": "hartlepool_stockton"}


# The figures the strategies state (DOMAIN.md), as the warehouse must show them.
SEED_FIGURES = [
    ("rereferral_pct", "2014/15", 1765, 5882, 30.0),
    ("cpp_neglect_pct", "2016/17", 121, 228, 53.1),
    ("referral_neglect_pct", "2016/17", 340, 3296, 10.3),
    ("cpp_repeat_neglect_pct", "2015/16", 14, 237, 5.9),
    ("cpp_repeat_neglect_pct", "2016/17", 6, 167, 3.6),
    ("persistent_absence_pct", "2015/16", None, None, 10.2),
    ("lac_count", "2016/17", 386, None, 386.0),
    ("lac_count", "2015/16", 406, None, 406.0),
    ("eha_rolling12_avg", "2015-04", 888, 12, 74.0),
    ("eha_rolling12_avg", "2017-09", 1212, 12, 101.0),
]


@pytest.mark.parametrize(("indicator_id", "period", "numerator", "denominator", "value"), SEED_FIGURES)
def test_northumberland_seed_figures_come_out_where_the_strategy_says(warehouse, indicator_id, period,
                                                                      numerator, denominator, value):
    row = warehouse.execute(
        "select numerator, denominator, value from marts.indicator_values "
        "where area_code = 'E06000057' and indicator_id = ? and period_label = ?", [indicator_id, period]).fetchone()
    assert row is not None
    if numerator is not None:
        assert row[0] == numerator
    if denominator is not None:
        assert row[1] == denominator
    assert round(row[2], 1) == value


def test_half_year_figures_the_strategy_quotes_are_there_in_the_months(warehouse):
    """Apr-Sep 2017: re-referrals 229 of 1,569 (15%), repeat plans under neglect 16 of 216 (7.4%)."""
    def six_months(indicator_id):
        return warehouse.execute(
            "select sum(numerator), sum(denominator) from marts.indicator_values where area_code = 'E06000057' "
            "and indicator_id = ? and period_type = 'month' and period_label between '2017-04' and '2017-09'",
            [indicator_id]).fetchone()
    assert six_months("rereferral_pct") == (229, 1569)
    assert six_months("cpp_repeat_neglect_pct") == (16, 216)


def test_northumberland_referral_target_is_a_tenth_off_the_stated_baseline(warehouse):
    row = warehouse.execute(
        "select baseline_value, target_value, target_date, illustrative from marts.targets "
        "where area_code = 'E06000057' and indicator_id = 'referral_neglect_pct'").fetchone()
    assert row[0] == 10.3 and row[1] == pytest.approx(9.27) and str(row[2]) == "2019-03-31" and row[3] is False


@pytest.mark.parametrize("mart", MARTS, ids=lambda m: m.name)
def test_marts_keep_their_documented_columns_and_comments(warehouse, mart):
    schema, table = mart.name.split(".")
    columns = warehouse.execute(
        "select column_name, comment from duckdb_columns() where schema_name = ? and table_name = ? "
        "order by column_index", [schema, table]).fetchall()
    assert [c for c, _ in columns] == list(mart.columns)
    assert all(comment == mart.columns[name] for name, comment in columns)
    (table_comment,) = warehouse.execute(
        "select comment from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]).fetchone()
    assert table_comment == mart.description


def test_every_extract_was_recognised_and_accepted(built: BuiltWarehouse, warehouse):
    from expectations.layouts import LAYOUTS

    recognised = warehouse.execute("select source, layout from raw.extract_files").fetchall()
    assert all(layout is not None for _, layout in recognised)
    layouts = {layout.name for layout in LAYOUTS}
    assert {layout for source, layout in recognised if source == "partner_return"} == layouts
    reports = sorted(built.settings.validation_dir.glob("*.json"))
    assert {r.stem for r in reports} >= layouts | {"dfe_open_data"}
    assert all('"status": "accepted"' in r.read_text() for r in reports)
    quarantine = built.settings.out_dir / "quarantine"
    assert not quarantine.exists() or not any(quarantine.iterdir())


def test_charts_exist_for_every_indicator_and_area(built: BuiltWarehouse):
    charts = built.settings.charts_dir
    index = (charts / "index.html").read_text()
    partnership_of = {"E06000057": "northumberland", "E06000001": "hartlepool_stockton",
                      "E06000004": "hartlepool_stockton"}
    for area in FIXTURE_AREAS:
        # (an indicator kept for other partnerships, e.g. Herefordshire's proxies, is not drawn here)
        for indicator_id in (i for i, indicator in INDICATORS_BY_ID.items()
                             if indicator.shown_for(partnership_of[area])):
            assert (charts / area / f"{indicator_id}.html").is_file()
            assert (charts / area / f"{indicator_id}.png").is_file()
            assert f"{area}/{indicator_id}.html" in index


def test_sample_rereferrals_agree_with_the_dfe_published_figures(warehouse):
    """EES c1: Northumberland's year to 31 March 2015, as the strategy quotes it."""
    import polars as pl

    from tests.conftest import shared_reference

    published = (pl.read_csv(shared_reference() / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
                             infer_schema=False)
                 .filter(pl.col("new_la_code") == "E06000057", pl.col("time_period") == "2015")
                 .select("referral_count", "rereferral_count", "rereferral_percent").row(0))
    ours = warehouse.execute(
        "select denominator, numerator, round(value, 1) from marts.indicator_values "
        "where area_code = 'E06000057' and indicator_id = 'rereferral_pct' and period_label = '2014/15'").fetchone()
    assert (ours[0], ours[1], ours[2]) == (int(published[0]), int(published[1]), float(published[2]))


def test_every_partnership_gets_a_report_with_comparisons_and_spc_icons(built: BuiltWarehouse, warehouse):
    """Issue 4's 'done when': RAG, direction, SPC icons and England / neighbour comparisons."""
    reports = {p.stem for p in built.settings.reports_dir.glob("*.html")}
    assert reports == {"northumberland", "hartlepool_stockton"}
    rows = warehouse.execute(
        "select indicator_id, rag, direction_of_travel, variation, vs_england, vs_neighbours "
        "from marts.scorecard where area_code = 'E06000057'").fetchall()
    by_id = {r[0]: r for r in rows}
    assert all(r[1] in {"green", "amber", "red"} and r[2] is not None for r in rows)
    assert by_id["rereferral_pct"][3] in {"common cause", "special cause improvement", "special cause concern"}
    assert by_id["rereferral_pct"][4] in {"better", "similar", "worse"}   # England from the sample's c1
    assert by_id["lac_rate_per_10k"][5] in {"better", "similar", "worse"}  # neighbours from its CLA file
    page = (built.settings.reports_dir / "northumberland.html").read_text(encoding="utf-8")
    assert "Scorecard" in page and "Disclosure control applied" in page
    assert "https://" not in page and "http://" not in page
