"""Strategy files: the tracked ones load, and a malformed one is refused naming file and field."""

from datetime import date
from pathlib import Path

import pytest

from scorecard.ingest.strategies import StrategyFileError, load_strategies, load_strategy
from scorecard.model.catalogue import INDICATORS_BY_ID
from tests.conftest import STRATEGIES

VALID = """\
partnership: testshire
name: Testshire Safeguarding Children Partnership
strategy: Neglect Strategy 2020
areas:
  - {code: E06000057, name: Testshire, region: North East}
indicators:
  referral_neglect_pct:
    baseline: {period: 2016/17, value: 10.3}
    target: {change_pct: -10, due: 2019-03-31}
"""


HEREFORDSHIRE_PROXIES = {"dental_decay_age5_pct", "obesity_reception_pct", "obesity_year6_pct",
                         "children_low_income_pct"}


def test_every_tracked_strategy_file_loads_with_a_target_for_every_national_indicator():
    strategies = load_strategies(STRATEGIES)
    assert {s.partnership for s in strategies} == {
        "northumberland", "hartlepool_stockton", "norfolk", "herefordshire", "lancashire"}
    local_to = {"herefordshire": HEREFORDSHIRE_PROXIES, "northumberland": {"eha_completed_count"}}
    national = set(INDICATORS_BY_ID) - set().union(*local_to.values())
    for strategy in strategies:
        local = local_to.get(strategy.partnership, set())
        assert {t.indicator_id for t in strategy.targets} == national | local, strategy.path


def test_herefordshire_uses_its_strategys_health_proxies_as_baselines():
    herefordshire = next(s for s in load_strategies(STRATEGIES) if s.partnership == "herefordshire")
    baselines = {t.indicator_id: (t.baseline_period, t.baseline_value) for t in herefordshire.targets}
    assert {i: baselines[i] for i in HEREFORDSHIRE_PROXIES} == {
        "dental_decay_age5_pct": ("2018/19", 31.9), "obesity_reception_pct": ("2019/20", 10.1),
        "obesity_year6_pct": ("2019/20", 19.2), "children_low_income_pct": ("2018/19", 17.2)}
    assert {INDICATORS_BY_ID[i].fingertips_id for i in HEREFORDSHIRE_PROXIES} == {93563, 90319, 90323, 93700}


def test_northumberland_uses_the_figures_its_strategy_states():
    northumberland = next(s for s in load_strategies(STRATEGIES) if s.partnership == "northumberland")
    target = next(t for t in northumberland.targets if t.indicator_id == "referral_neglect_pct")
    assert (target.baseline_period, target.baseline_value) == ("2016/17", 10.3)
    assert (target.target_change_pct, target.target_date, target.illustrative) == (-10, date(2019, 3, 31), False)
    hartlepool_stockton = next(s for s in load_strategies(STRATEGIES) if s.partnership == "hartlepool_stockton")
    assert [a.code for a in hartlepool_stockton.areas] == ["E06000001", "E06000004"]
    assert all(t.illustrative for t in hartlepool_stockton.targets)


@pytest.mark.parametrize(("change", "field", "words"), [
    (("name: Testshire Safeguarding Children Partnership\n", ""), "name", "is missing"),
    (("E06000057", "Northumberland"), "areas[0].code", "ONS local authority code"),
    (("referral_neglect_pct:", "referral_neglect_percent:"), "indicators.referral_neglect_percent",
     "is not an indicator id"),
    (("due: 2019-03-31", "due: March 2019"), "indicators.referral_neglect_pct.target.due", "must be a date"),
    (("change_pct: -10", "change_pct: -10, value: 9"), "indicators.referral_neglect_pct.target",
     "exactly one of"),
    (("period: 2016/17", "period: 2016"), "indicators.referral_neglect_pct.baseline.period",
     "financial year"),
    (("value: 10.3", "value: ten"), "indicators.referral_neglect_pct.baseline.value", "must be a number"),
    (("    target:", "    targte:"), "indicators.referral_neglect_pct.targte", "not a known field"),
    (("due: 2019-03-31}", "due: 2019-03-31}\n    milestones: [{due: 2020-03-31, value: 9.5}]"),
     "indicators.referral_neglect_pct.milestones[0].due", "must fall between the baseline"),
])
def test_a_malformed_strategy_file_is_refused_naming_file_and_field(tmp_path: Path, change, field, words):
    path = tmp_path / "testshire.yaml"
    path.write_text(VALID.replace(*change))
    with pytest.raises(StrategyFileError) as refused:
        load_strategy(path)
    message = str(refused.value)
    assert str(path) in message and f"'{field}'" in message and words in message


def test_invalid_yaml_is_refused_with_its_line(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(VALID.replace("areas:", "areas: [unclosed"))
    with pytest.raises(StrategyFileError, match=r"broken.yaml: is not valid YAML \(line \d+\)"):
        load_strategy(path)


def test_an_area_in_two_partnerships_is_refused(tmp_path: Path):
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID.replace("testshire", "otherside"))
    with pytest.raises(StrategyFileError, match="E06000057 is already listed in"):
        load_strategies(tmp_path)


def test_a_milestone_may_name_a_period_and_is_judged_on_it(tmp_path: Path):
    from scorecard.model.periods import rolling_months

    path = tmp_path / "testshire.yaml"
    path.write_text(VALID + """\
  hub_referrals_count:
    baseline: {period: 2016/17}
    target: {change_pct: 20, due: 2021-03-31}
    milestones: [{period: 6 months to Dec 2018, value: 1375}, {due: 2019-03-31, value: 2600}]
""")
    target = next(t for t in load_strategy(path).targets if t.indicator_id == "hub_referrals_count")
    assert target.period_milestones == ((rolling_months(2018, 12, 6), 1375.0),)
    # Only the milestone in the indicator's own period (a financial year) is on the trajectory.
    assert target.milestones == ((date(2019, 3, 31), 2600.0),)


@pytest.mark.parametrize(("milestone", "field", "words"), [
    ("{period: 7 months to Dec 2018, value: 1375}", "milestones[0].period", "must be a period such as"),
    ("{period: 6 months to Dec 2018, due: 2018-12-01, value: 1375}", "milestones[0].due",
     "must be the period's last day (2018-12-31)"),
    ("{period: 6 months to Dec 2022, value: 1375}", "milestones[0].period", "must fall between the baseline"),
])
def test_a_bad_period_milestone_is_refused_naming_the_field(tmp_path: Path, milestone, field, words):
    path = tmp_path / "testshire.yaml"
    path.write_text(VALID + f"""\
  hub_referrals_count:
    baseline: {{period: 2016/17}}
    target: {{change_pct: 20, due: 2021-03-31}}
    milestones: [{milestone}]
""")
    with pytest.raises(StrategyFileError) as refused:
        load_strategy(path)
    assert f"field 'indicators.hub_referrals_count.{field}'" in str(refused.value)
    assert words in str(refused.value)
