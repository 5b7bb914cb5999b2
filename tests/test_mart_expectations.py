"""The Great Expectations suite on marts.scorecard: the built scorecard meets it, and a broken one
fails the blocking asset check ``great_expectations_suite`` (called directly, as Dagster's own
tests call checks), naming the expectations it broke, so the warehouse is not published."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from assets.marts.benchmarking import scorecard_expectations
from expectations.marts import load_suite_spec, validate_scorecard
from scorecard.model.catalogue import INDICATORS_BY_ID


@pytest.fixture()
def scorecard(warehouse) -> pd.DataFrame:
    return warehouse.execute("select * from marts.scorecard").df()


def test_the_built_scorecard_meets_every_expectation(scorecard):
    outcome = validate_scorecard(scorecard, list(INDICATORS_BY_ID))
    assert outcome.success, outcome.failed
    assert outcome.evaluated == len(load_suite_spec()["expectations"]) + 1  # (+ the catalogue's ids)


def test_an_indicator_id_outside_the_catalogue_breaks_the_suite(scorecard):
    outcome = validate_scorecard(scorecard, [i for i in INDICATORS_BY_ID if i != "lac_count"])
    assert not outcome.success
    assert [f for f in outcome.failed if "indicator_id" in f] == [
        "expect_column_values_to_be_in_set on indicator_id (e.g. ['lac_count', 'lac_count', 'lac_count'])"]


def test_a_broken_scorecard_fails_the_blocking_check_naming_the_expectations_it_broke(scorecard, tmp_path: Path):
    broken = scorecard.copy()
    broken.loc[broken.index[0], "rag"] = "purple"
    broken.loc[broken.index[1], "area_code"] = "W06000001"  # a Welsh code: not an English authority
    database = tmp_path / "t.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("create schema marts")
        conn.execute("create table marts.scorecard as select * from broken")
        conn.execute("create table marts.indicators as select unnest(?) as indicator_id", [list(INDICATORS_BY_ID)])
    result = scorecard_expectations(duckdb=DuckDBResource(database=str(database)))
    assert isinstance(result, dg.AssetCheckResult) and not result.passed
    assert sorted(result.metadata["failed"].value) == sorted([
        "expect_column_values_to_be_in_set on rag (e.g. ['purple'])",
        "expect_column_values_to_match_regex on area_code (e.g. ['W06000001'])"])
    assert "expect_column_values_to_be_in_set on rag" in result.description
    [spec] = scorecard_expectations.check_specs
    assert spec.asset_key == dg.AssetKey(["marts", "scorecard"]) and spec.blocking
