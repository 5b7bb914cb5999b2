"""Indicators declared as data: data/raw/indicators/<id>.yaml, read safely and checked field by
field; a raw folder's own files join the shipped ones; a strategy target for an unknown id is
refused naming the ids that exist."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from scorecard.ingest.strategies import StrategyFileError, load_strategy
from scorecard.model.catalogue import (
    INDICATORS,
    INDICATORS_BY_ID,
    SHIPPED_INDICATORS_DIR,
    IndicatorFileError,
    MeasureRef,
    catalogue_for,
    load_indicator_file,
)
from scorecard.transform.indicator_series import build_indicator_series

NATIONAL_IDS = {"cpp_neglect_pct", "cpp_neglect_start_pct", "cpp_repeat_pct", "cpp_repeat_neglect_pct",
                "rereferral_pct", "referral_neglect_pct", "persistent_absence_pct", "lac_count",
                "lac_rate_per_10k", "eha_rolling12_avg", "eha_neglect_count", "hub_neglect_handled_pct"}

VALID = """\
id: school_nurse_visits_pct
name: Home visits by the school nurse
family: health
unit: '%'
polarity: higher_is_better
definition: Children visited at home by the school nurse, as a % of children referred to the service.
source: Local measures return (school nursing)
numerator: {measure: school_nurse_visits}
denominator: {measure: school_nurse_referrals, breakdown: All children}
kind: flow
headline_period: financial_year
"""


def write(folder: Path, text: str, name: str = "school_nurse_visits_pct") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_twelve_national_indicators_are_shipped_as_files_with_their_measures():
    assert set(INDICATORS_BY_ID) >= NATIONAL_IDS
    lac_rate = INDICATORS_BY_ID["lac_rate_per_10k"]
    assert lac_rate.numerator == MeasureRef("children_looked_after", "All children")
    assert lac_rate.denominator == MeasureRef("population_aged_0_17", "All children")
    assert (lac_rate.kind, lac_rate.interval_method) == ("stock", ("rate", 10_000.0))
    assert INDICATORS_BY_ID["eha_rolling12_avg"].sql_path.name == "eha_rolling12_avg.sql"
    assert INDICATORS_BY_ID["persistent_absence_pct"].headline_period_type == "academic_year"


def test_a_valid_file_reads_into_an_indicator(tmp_path: Path):
    indicator = load_indicator_file(write(tmp_path, VALID))
    assert indicator.indicator_id == "school_nurse_visits_pct"
    assert indicator.measures == ("school_nurse_visits", "school_nurse_referrals")
    assert indicator.numerator == MeasureRef("school_nurse_visits", None)
    assert indicator.comparable_between_areas and indicator.sql_path is None


@pytest.mark.parametrize(("change", "field", "rule"), [
    (("polarity: higher_is_better", "polarity: up"), "polarity", "must be one of lower_is_better, higher_is_better"),
    (("kind: flow", "kind: monthly"), "kind", "must be one of flow, stock"),
    (("headline_period: financial_year", "headline_period: decade"), "headline_period", "must be one of"),
    (("name: Home visits by the school nurse\n", ""), "name", "is missing"),
    (("id: school_nurse_visits_pct", "id: nurse_visits"), "id", "must match the file's name"),
    (("denominator: {measure: school_nurse_referrals, breakdown: All children}\n", ""), "denominator",
     "is missing (a value in '%' is a numerator over a denominator)"),
    (("unit: '%'", "unit: visits"), "unit", "must be one of %, per 10,000 for a numerator over a denominator"),
    (("numerator: {measure: school_nurse_visits}", "numerator: {measure: School Nurse Visits}"),
     "numerator.measure", "must be a measure name"),
    (("numerator: {measure: school_nurse_visits}", "numerator: {measure: x, brekdown: All}"),
     "numerator.brekdown", "is not a known field"),
    (("numerator: {measure: school_nurse_visits}", "numerator: [school_nurse_visits]"), "numerator",
     "must be a mapping"),
    (("kind: flow", "kind: flow\ntarget: 12"), "target", "is not a known field"),
    (("kind: flow", "kind: flow\nfingertips_id: ninety"), "fingertips_id", "must be a Fingertips indicator number"),
    (("kind: flow", "kind: flow\n  bad indent: [unclosed"), "(file)", "is not valid YAML at line"),
    (("kind: flow", "kind: flow\npartnerships: herefordshire"), "partnerships", "must list partnership ids"),
])
def test_a_malformed_indicator_file_is_refused_naming_file_field_and_rule(tmp_path: Path, change, field, rule):
    path = write(tmp_path, VALID.replace(*change))
    with pytest.raises(IndicatorFileError) as refused:
        load_indicator_file(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: field '{field}': ") and rule in message


def test_a_refusal_never_echoes_a_structure_back(tmp_path: Path):
    secret = "name: {secret: Jane Doe 2011-03-04}"
    path = write(tmp_path, VALID.replace("name: Home visits by the school nurse", secret))
    with pytest.raises(IndicatorFileError) as refused:
        load_indicator_file(path)
    assert "Jane" not in str(refused.value) and "must be text, found dict" in str(refused.value)


def test_yaml_is_read_safely(tmp_path: Path):
    path = write(tmp_path, "!!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(IndicatorFileError, match="is not valid YAML"):
        load_indicator_file(path)


def test_a_raw_folders_indicator_files_join_the_shipped_catalogue_and_may_replace_one(tmp_path: Path):
    write(tmp_path / "indicators", VALID)
    shipped = (SHIPPED_INDICATORS_DIR / "lac_count.yaml").read_text(encoding="utf-8")
    write(tmp_path / "indicators", shipped.replace("name: Children looked after\n", "name: Looked-after children\n"),
          name="lac_count")
    catalogue = catalogue_for(tmp_path)
    assert [i.indicator_id for i in catalogue] == [i.indicator_id for i in INDICATORS] + ["school_nurse_visits_pct"]
    assert {i.indicator_id: i for i in catalogue}["lac_count"].name == "Looked-after children"
    assert catalogue_for(tmp_path / "elsewhere") == INDICATORS


def test_a_sql_file_without_its_yaml_or_reading_other_tables_is_refused(tmp_path: Path):
    (tmp_path / "indicators").mkdir()
    (tmp_path / "indicators" / "orphan.sql").write_text("select 1")
    with pytest.raises(IndicatorFileError, match=r"orphan.sql: field '\(file\)': computes no indicator"):
        catalogue_for(tmp_path)
    (tmp_path / "indicators" / "orphan.sql").unlink()
    write(tmp_path / "indicators", VALID)
    (tmp_path / "indicators" / "school_nurse_visits_pct.sql").write_text("select * from raw.hub_log")
    with duckdb.connect() as conn, pytest.raises(IndicatorFileError, match="reads raw.hub_log; an indicator's SQL"):
        build_indicator_series(conn, catalogue_for(tmp_path))


def test_a_strategy_target_for_an_unknown_id_is_refused_naming_the_ids_that_exist(tmp_path: Path):
    path = tmp_path / "testshire.yaml"
    path.write_text("partnership: testshire\nname: Testshire\nstrategy: S\n"
                    "areas:\n  - {code: E06000057, name: Testshire, region: North East}\n"
                    "indicators:\n  school_nurse_visits_pct:\n    baseline: {period: 2016/17}\n"
                    "    target: {change_pct: 5, due: 2019-03-31}\n")
    with pytest.raises(StrategyFileError) as refused:
        load_strategy(path)
    message = str(refused.value)
    assert "field 'indicators.school_nurse_visits_pct': is not an indicator id" in message
    assert all(i in message for i in INDICATORS_BY_ID)
    local = catalogue_for(write(tmp_path / "raw" / "indicators", VALID).parent.parent)
    assert load_strategy(path, {i.indicator_id: i for i in local}).targets[0].indicator_id == "school_nurse_visits_pct"


def test_a_target_for_another_partnerships_own_indicator_is_refused(tmp_path: Path):
    path = tmp_path / "testshire.yaml"
    path.write_text("partnership: testshire\nname: Testshire\nstrategy: S\n"
                    "areas:\n  - {code: E06000057, name: Testshire, region: North East}\n"
                    "indicators:\n  obesity_year6_pct:\n    baseline: {period: 2019/20}\n"
                    "    target: {change_pct: -5, due: 2024-08-31}\n")
    with pytest.raises(StrategyFileError, match="field 'indicators.obesity_year6_pct': is kept for herefordshire "
                                                "only"):
        load_strategy(path)


def test_a_count_an_indicator_file_declares_in_any_noun_is_suppressed_when_small():
    from scorecard.publish.disclosure import Disclosure

    assert Disclosure().show(4, "home visits") == "c"
    assert Disclosure().show(4, "per month") != "c"  # (an average, not a count)


def test_a_changed_indicator_file_rebuilds_like_a_changed_extract(tmp_path: Path):
    from pipelines.fingerprint import changed_files, code_digest, content_digest, raw_folder_state

    shipped = tmp_path / "project" / "data" / "raw" / "indicators"
    write(shipped, VALID)
    before = code_digest(tmp_path / "project")
    write(shipped, VALID.replace("family: health", "family: school health"))
    assert code_digest(tmp_path / "project") != before  # (the shipped files count as code)

    raw = tmp_path / "raw"
    write(raw / "indicators", VALID)
    state = raw_folder_state(raw, {})
    write(raw / "indicators", VALID.replace("kind: flow", "kind: stock"))
    after = raw_folder_state(raw, {})
    assert changed_files(state, after) == ["indicators/school_nurse_visits_pct.yaml"]
    assert content_digest(state) != content_digest(after)


def test_a_build_refuses_a_malformed_indicator_file_naming_file_field_and_rule(tmp_path: Path):
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from assets.marts.tables import indicator_catalogue
    from pipelines.resources import ScorecardPaths

    bad = write(tmp_path / "raw" / "indicators", VALID.replace("kind: flow", "kind: sometimes"))
    resources = {"paths": ScorecardPaths(raw_dir=str(tmp_path / "raw"), db_path=str(tmp_path / "w.duckdb"),
                                         out_dir=str(tmp_path / "out")),
                 "duckdb": DuckDBResource(database=str(tmp_path / "t.duckdb"))}
    result = dg.materialize([indicator_catalogue], resources=resources, raise_on_error=False)
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data.user_failure_data.description == (
        f"Indicator file refused: {bad}: field 'kind': must be one of flow, stock, found 'sometimes'")


def test_the_sample_follows_a_strategy_naming_the_raw_folders_own_indicator(tmp_path: Path):
    from scorecard.sample import write_sample
    from tests.conftest import STRATEGIES

    raw = tmp_path / "raw"
    write(raw / "indicators", VALID)
    (raw / "strategies").mkdir()
    strategy = (STRATEGIES / "northumberland.yaml").read_text(encoding="utf-8")
    line = "  school_nurse_visits_pct: {baseline: {period: 2016/17}, target: {change_pct: 5, due: 2019-03-31}}\n"
    (raw / "strategies" / "northumberland.yaml").write_text(strategy + line, encoding="utf-8")
    assert write_sample(raw, first_year=2016, last_year=2017)
    write(raw / "indicators", VALID.replace("kind: flow", "kind: sometimes"))
    with pytest.raises(IndicatorFileError, match="field 'kind'"):
        write_sample(raw, first_year=2016, last_year=2017)
