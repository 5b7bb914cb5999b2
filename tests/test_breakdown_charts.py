"""Charts by breakdown: a count indicator's parts (early help assessments completed per agency)
as stacked bars, from marts.indicator_breakdowns, with disclosure control."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go

from scorecard.publish.breakdown_charts import Breakdown, breakdown_figure_parts, disclosed, read_breakdowns
from scorecard.publish.charts import figure
from scorecard.publish.disclosure import Disclosure

NORTHUMBERLAND = "E06000057"


def test_breakdowns_are_read_per_indicator_and_area_in_period_order():
    with duckdb.connect() as conn:
        conn.execute("create schema marts")
        conn.execute("""create table marts.indicator_breakdowns as select * from (values
            ('eha_completed_count', 'E06000057', 'Northumberland', date '2017-04-01', '2017/18', 'School', 40),
            ('eha_completed_count', 'E06000057', 'Northumberland', date '2016-04-01', '2016/17', 'School', 30),
            ('eha_completed_count', 'E06000057', 'Northumberland', date '2016-04-01', '2016/17', 'Police', 12)
        ) as t(indicator_id, area_code, area_name, period_start, period_label, breakdown, count)""")
        found = read_breakdowns(conn)
    assert found == {("eha_completed_count", NORTHUMBERLAND): Breakdown(
        "eha_completed_count", NORTHUMBERLAND, "Northumberland", ("2016/17", "2017/18"),
        {"Police": (12, None), "School": (30, 40)})}


def test_a_small_part_is_left_out_with_the_next_smallest_so_the_total_cannot_give_it_back():
    parts = Breakdown("x", NORTHUMBERLAND, "Northumberland", ("2016/17", "2017/18"),
                      {"Police": (3, 20), "School": (30, 40), "Housing": (9, 2), "GP": (0, 4)})
    shown = disclosed(parts, Disclosure())
    assert shown.counts == {"Police": (None, 20), "School": (30, 40), "Housing": (None, None), "GP": (0, None)}
    assert shown.left_out == 4
    assert disclosed(parts, Disclosure(applied=False)).counts == parts.counts


def test_the_figure_is_valid_plotly_and_escapes_what_the_data_says():
    parts = Breakdown("x", NORTHUMBERLAND, "Northumberland", ("2016/17",), {"<b>Team</b>": (30,)})
    spec = figure(*breakdown_figure_parts(parts, "Early help assessments completed", "assessments"))
    checked = go.Figure(spec)
    assert checked.layout.barmode == "stack" and checked.data[0].name == "&lt;b&gt;Team&lt;/b&gt;"


def test_the_left_margin_holds_the_stacked_totals_labels():
    """The value axis shows the stacked totals: tens of thousands get a wider margin than hundreds,
    so the axis title is not drawn over the labels (plotly's automargin is off)."""
    def margin(counts: dict[str, tuple[int | None, ...]]) -> int:
        parts = Breakdown("x", NORTHUMBERLAND, "Northumberland", ("2016/17", "2017/18"), counts)
        return breakdown_figure_parts(parts, "Hub referrals", "referrals")[1]["margin"]["l"]

    assert margin({"A": (120, 140), "B": (30, None)}) == 80
    assert margin({"A": (12_000, 14_000), "B": (13_000, None)}) > 80


def test_the_sample_build_charts_northumberlands_completed_assessments_per_agency(built):
    chart = built.settings.charts_dir / NORTHUMBERLAND / "eha_completed_count_by_breakdown.html"
    text = chart.read_text(encoding="utf-8")
    assert "Early help assessments completed by breakdown" in text and "Early help service" in text
    assert (built.settings.charts_dir / NORTHUMBERLAND / "eha_completed_count_by_breakdown.png").is_file()
    index = (built.settings.charts_dir / "index.html").read_text(encoding="utf-8")
    assert f"{NORTHUMBERLAND}/eha_completed_count_by_breakdown.html" in index
    with duckdb.connect(str(built.settings.db_path), read_only=True) as conn:
        agencies = conn.execute("""select count(distinct breakdown) from marts.indicator_breakdowns
                                   where indicator_id = 'eha_completed_count' and area_code = ?""",
                                [NORTHUMBERLAND]).fetchone()[0]
    assert agencies >= 3


def test_another_partnerships_own_indicator_gets_no_chart_even_with_data(built):
    hartlepool = built.settings.charts_dir / "E06000001"
    assert (hartlepool / "eha_neglect_count_by_breakdown.html").is_file()
    assert not (hartlepool / "eha_completed_count.html").exists()  # (Northumberland's own, though the sample
    assert not (hartlepool / "dental_decay_age5_pct.html").exists()  # returns hold Hartlepool's figures)
