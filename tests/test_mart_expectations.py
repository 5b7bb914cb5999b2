"""The Great Expectations suite on marts.scorecard, run as a build runs it: in the worker process
(expectations.marts.SuiteWorker) that imports GX while the build works."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.marts import SuiteError, SuiteWorker, load_suite_spec, validate_scorecard


@pytest.fixture()
def scorecard(warehouse) -> pd.DataFrame:
    return warehouse.execute("select * from marts.scorecard").df()


@pytest.fixture()
def worker():
    started = SuiteWorker()
    yield started
    started.close()


def test_the_built_scorecard_meets_every_expectation_in_the_worker(scorecard, worker):
    outcome = worker.validate(scorecard)
    assert outcome.success, outcome.failed
    assert outcome.evaluated == len(load_suite_spec()["expectations"])


def test_a_broken_scorecard_fails_with_the_expectations_it_broke_named(scorecard, worker):
    broken = scorecard.copy()
    broken.loc[broken.index[0], "rag"] = "purple"
    broken.loc[broken.index[1], "area_code"] = "W06000001"  # a Welsh code: not an English authority
    outcome = worker.validate(broken)
    assert not outcome.success
    assert sorted(outcome.failed) == sorted([
        "expect_column_values_to_be_in_set on rag (e.g. ['purple'])",
        "expect_column_values_to_match_regex on area_code (e.g. ['W06000001'])"])
    # The same outcome as in this process, and the worker goes on serving.
    assert validate_scorecard(broken) == outcome
    assert worker.validate(scorecard).success


def test_an_error_in_the_worker_is_raised_in_the_build(worker):
    with pytest.raises(SuiteError, match="The Great Expectations suite failed to run") as raised:
        worker.validate("not a data frame")
    assert "Traceback" in str(raised.value)  # the worker's, to find the cause by
    assert not worker.validate(pd.DataFrame({"partnership": []})).success  # and it still serves


def test_a_worker_that_died_is_reported_in_plain_words(worker):
    worker._process.kill()
    worker._process.wait()
    with pytest.raises(RuntimeError, match="The Great Expectations worker process stopped unexpectedly"):
        worker.validate(pd.DataFrame({"partnership": ["x"]}))


def test_closing_a_worker_still_importing_ends_it():
    started = SuiteWorker()
    started.close()  # at once: it is still starting up
    assert started._process.poll() is not None
