"""Every indicator, the roll-up rules and the scorecard on a hand-made fixture, worked by hand."""

import csv
from pathlib import Path

import duckdb
import pytest

from tests.conftest import build_without_drawing, make_settings

AREA = "E06000057"

STRATEGY = f"""\
partnership: testshire
name: Testshire Safeguarding Children Partnership
strategy: Hand-worked strategy
areas:
  - {{code: {AREA}, name: Testshire, region: North East}}
indicators:
  rereferral_pct:
    baseline: {{period: 2015/16, value: 30}}
    target: {{value: 20, due: 2019-03-31}}
    milestones: [{{due: 2018-03-31, value: 22}}]
  hub_neglect_handled_pct:
    baseline: {{period: 2015/16, value: 60}}
    target: {{value: 80, due: 2017-03-31, amber_tolerance_pct: 15}}
    note: Hand-worked note.
  lac_count:
    baseline: {{period: 2016/17}}
    target: {{change_pct: -10, due: 2020-03-31}}
  cpp_neglect_pct:
    baseline: {{period: 2016/17, value: 50}}
    target: {{value: 40, due: 2018-03-31}}
"""


def months(first_year: int, first_month: int, count: int) -> list[str]:
    out, year, month = [], first_year, first_month
    for _ in range(count):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


@pytest.fixture(scope="module")
def marts(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("hand"))
    raw = settings.raw_dir
    (raw / "strategies").mkdir(parents=True)
    (raw / "strategies" / "testshire.yaml").write_text(STRATEGY)

    cpp = [[AREA, "2016/17", "Open at period end", c, n] for c, n in
           (("Neglect", 10), ("Emotional abuse", 5), ("Physical abuse", 5))]
    for month in months(2017, 4, 12):
        cpp += [[AREA, month, "Started in period", "Neglect", 2], [AREA, month, "Started in period", "Multiple", 1]]
        open_neglect = 12 if month == "2018-03" else 7  # only 31 March counts for the year
        cpp += [[AREA, month, "Open at period end", "Neglect", open_neglect],
                [AREA, month, "Open at period end", "Physical abuse", 4]]
    write_csv(raw / "cpp.csv", ["area_code", "period", "plan_status", "category", "children"], cpp)

    write_csv(raw / "repeat.csv", ["area_code", "period", "category_group", "plans_started",
                                   "second_or_subsequent_plans"],
              [[AREA, "2016/17", "All categories", 40, 8], [AREA, "2016/17", "Neglect", 20, 3]])

    referrals = [[AREA, m, 100, 13 if m == "2016-07" else 25, 10] for m in months(2016, 4, 12)]
    referrals += [[AREA, "2015/16", 1000, 300, 90]]  # a year given directly
    referrals += [[AREA, m, 100, 20, 10] for m in months(2017, 4, 11)]  # 11 months: no 2017/18 total
    write_csv(raw / "referrals.csv", ["area_code", "period", "referrals", "rereferrals_within_12_months",
                                      "referrals_neglect"], referrals)

    write_csv(raw / "hub.csv", ["area_code", "period", "neglect_referrals", "neglect_referrals_handled_by_hub"],
              [[AREA, "2016/17", 50, 35]])
    write_csv(raw / "lac.csv", ["area_code", "snapshot_date", "children_looked_after", "population_aged_0_17"],
              [[AREA, "31/03/2017", 100, 20000]])
    write_csv(raw / "eha.csv", ["area_code", "month", "agency", "assessments_started", "assessments_started_neglect"],
              [[AREA, m, agency, n, k] for m in months(2016, 4, 12)
               for agency, n, k in (("School", 10, 2), ("Police", 5, 1))])
    write_csv(raw / "absence.csv", ["area_code", "academic_year", "pupils", "persistently_absent_pupils"],
              [[AREA, "2015/16", 1000, 102]])

    build_without_drawing(settings)
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        yield conn


def value(conn, indicator_id: str, period: str):
    row = conn.execute("select numerator, denominator, value from marts.indicator_values "
                       "where indicator_id = ? and period_label = ?", [indicator_id, period]).fetchone()
    return None if row is None else (row[0], row[1], round(row[2], 2))


@pytest.mark.parametrize(("indicator_id", "period", "expected"), [
    ("cpp_neglect_pct", "2016/17", (10, 20, 50.0)),             # given for the year
    ("cpp_neglect_pct", "2018-03", (12, 16, 75.0)),             # a month-end snapshot
    ("cpp_neglect_pct", "2017/18", (12, 16, 75.0)),             # a stock's year = 31 March
    ("cpp_neglect_start_pct", "2017/18", (24, 36, 66.67)),      # a flow's year = 12 months summed
    ("cpp_repeat_pct", "2016/17", (8, 40, 20.0)),
    ("cpp_repeat_neglect_pct", "2016/17", (3, 20, 15.0)),
    ("rereferral_pct", "2016/17", (288, 1200, 24.0)),
    ("rereferral_pct", "2015/16", (300, 1000, 30.0)),
    ("referral_neglect_pct", "2016/17", (120, 1200, 10.0)),
    ("persistent_absence_pct", "2015/16", (102, 1000, 10.2)),
    ("lac_count", "2016/17", (100, None, 100.0)),
    ("lac_rate_per_10k", "2016/17", (100, 20000, 50.0)),
    ("eha_rolling12_avg", "2017-03", (180, 12, 15.0)),
    ("eha_neglect_count", "2016/17", (36, None, 36.0)),
    ("hub_neglect_handled_pct", "2016/17", (35, 50, 70.0)),
])
def test_each_indicator_matches_the_hand_worked_figure(marts, indicator_id, period, expected):
    assert value(marts, indicator_id, period) == expected


def test_incomplete_years_and_windows_give_no_value(marts):
    assert value(marts, "rereferral_pct", "2017/18") is None      # 11 of 12 months
    assert value(marts, "eha_rolling12_avg", "2017-02") is None   # 11 months in the window
    assert value(marts, "rereferral_pct", "2018-02") == (20, 100, 20.0)


def scorecard(conn, indicator_id: str) -> dict:
    frame = conn.execute("select * from marts.scorecard where indicator_id = ?", [indicator_id]).pl()
    return frame.to_dicts()[0]


def test_on_or_better_than_the_trajectory_is_green(marts):
    row = scorecard(marts, "rereferral_pct")
    # Baseline 30 at 31 Mar 2016, milestone 22 at 31 Mar 2018 (target 20 a year later):
    # halfway to the milestone (26) at 31 Mar 2017.
    assert ((row["period_label"], row["value"], row["trajectory_value"])
            == ("2016/17", 24.0, pytest.approx(26.0, abs=0.02)))
    assert ((row["previous_value"], row["change"], row["direction_of_travel"], row["rag"])
            == (30.0, -6.0, "improving", "green"))


def test_within_the_strategy_tolerance_is_amber(marts):
    row = scorecard(marts, "hub_neglect_handled_pct")
    # Higher is better: 70 against a trajectory of 80, within 15% of 80.
    assert ((row["value"], row["trajectory_value"], row["rag"], row["note"])
            == (70.0, 80.0, "amber", "Hand-worked note."))
    assert row["direction_of_travel"] is None  # only one year


def test_beyond_the_tolerance_is_red_and_worsening_by_polarity(marts):
    row = scorecard(marts, "cpp_neglect_pct")
    assert (row["value"], row["previous_value"], row["direction_of_travel"]) == (75.0, 50.0, "worsening")
    assert (row["trajectory_value"], row["rag"]) == (40.0, "red")


def test_the_trajectory_passes_through_the_milestones(marts):
    points = marts.execute("select point, due::varchar, value from marts.trajectories "
                           "where indicator_id = 'rereferral_pct' order by due").fetchall()
    assert points == [("baseline", "2016-03-31", 30.0), ("milestone", "2018-03-31", 22.0),
                      ("target", "2019-03-31", 20.0)]


def test_a_baseline_from_the_data_and_a_percentage_target(marts):
    row = scorecard(marts, "lac_count")
    assert (row["baseline_value"], row["target_value"], row["rag"]) == (100.0, pytest.approx(90.0), "green")


def test_indicators_without_a_target_say_so(marts):
    assert scorecard(marts, "persistent_absence_pct")["rag"] == "no target"
