"""The benchmark's three implementations agree, and the fast paths of the record-level library
keep its results. Nothing here is timed (timed assertions are flaky): `make bench` times."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from bench.generate import ORGANISATIONS, Params, area_codes, generate, plus_12_months
from bench.implementations import bare_duckdb, differences, pandas_, project
from bench.run import Run, median_run, table
from scorecard.ingest.record_level import (
    keyed_hashes,
    parse_value,
    pseudonymise,
    read_record_level,
)
from tests.test_record_level import child_key


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return generate(Params(referrals=4_000, plans=800, assessments=400, areas=6, seed=7),
                    tmp_path_factory.mktemp("bench"), quiet=True)


def test_the_three_implementations_give_identical_figures(tiny, tmp_path):
    built = project(tiny, tmp_path)
    assert built.height > 0
    assert set(built["measure"]) == {"referrals", "rereferrals", "referrals_neglect", "cpp_started", "cpp_open",
                                     "cpp_repeat_started", "cpp_repeat_subsequent", "eha_started",
                                     "eha_started_neglect"}
    assert built.filter(pl.col("measure") == "rereferrals")["count"].sum() > 0
    assert differences(built, bare_duckdb(tiny)) is None
    assert differences(built, pandas_(tiny)) is None


def test_the_generated_files_exercise_the_counting_rules(tiny):
    referrals = pl.concat([
        pl.read_csv(path, infer_schema=False).select(
            pl.lit(path.parent.name).alias("area"), pl.col("Child Unique ID").alias("child"),
            pl.col("Date of Referral").str.to_date("%d/%m/%Y").alias("date"))
        for path in tiny.files("annex_a_list3")])
    gaps = (referrals.sort("area", "child", "date")
            .with_columns(previous=pl.col("date").shift().over("area", "child"))
            .drop_nulls("previous"))
    previous = gaps["previous"].cast(pl.Int32).to_numpy()
    exactly = plus_12_months(previous)
    days = gaps["date"].cast(pl.Int32).to_numpy()
    assert (days == previous).any()  # the same child twice on one day
    assert (days == exactly).any() and (days == exactly + 1).any() and (days == exactly - 1).any()
    # identifiers are unique within an authority only
    ids = referrals.group_by("child").agg(pl.col("area").n_unique())
    assert (ids["area"] > 1).any()


def test_plus_12_months_clamps_month_ends():
    def day(d: date) -> int:
        return (d - date(1970, 1, 1)).days

    got = plus_12_months(np.array([day(date(2020, 2, 29)), day(date(2020, 3, 15)), day(date(2019, 12, 31))]))
    assert list(got) == [day(date(2021, 2, 28)), day(date(2021, 3, 15)), day(date(2020, 12, 31))]


def test_the_generator_writes_what_the_project_reads_as_intended(tiny):
    assert area_codes(150)[:2] == ["E06000001", "E06000002"] and len(set(area_codes(150))) == 150
    for written, agency in ORGANISATIONS.items():
        assert parse_value("organisation", written) == agency
    [table] = read_record_level(tiny.files("annex_a_list3")[0], "k", "E06000001")
    assert table.kind == "annex_a_list3" and table.problems == []
    assert set(table.frame.columns) == {"area_code", "child_key", "referral_date", "referral_nfa", "neglect",
                                        "source_row"}


@pytest.mark.parametrize("key", ["test-key", "kéy with ünicode", "k" * 100, b"\x00\xffbinary"])
def test_child_keys_are_the_documented_siphash_of_the_identifier(key):
    values = ["A1", "CH-R1-ZQ", "123", "", "Ünïcode id", "x" * 300]
    expected = [child_key(v, key) for v in values]
    assert keyed_hashes(pl.Series(values), key).tolist() == expected
    assert pseudonymise(pl.Series(values), key).to_list() == expected


def test_a_csv_starting_with_blank_lines_is_read_from_its_header(tmp_path):
    path = tmp_path / "referrals.csv"
    path.write_text("\n\nAnnex A list 3\nChild Unique ID,Date of Referral\nC1,01/02/2020\n\nC2,03/02/2020\n",
                    encoding="utf-8")
    [table] = read_record_level(path, "k", "E06000057")
    assert table.problems == []
    assert table.frame["referral_date"].to_list() == [date(2020, 2, 1), date(2020, 2, 3)]
    assert table.frame["source_row"].to_list() == [5, 7]  # as a spreadsheet numbers them


def test_each_implementation_is_given_by_its_median_round_and_largest_peak():
    rounds = [Run(10, "project", seconds, peak, 100, 5, {"measures": seconds / 2})
              for seconds, peak in ((14.0, 900), (19.5, 700), (13.0, 800))]
    run = median_run(rounds)
    assert ((run.seconds, run.peak_bytes, run.detail, run.all_seconds)
            == (14.0, 900, {"measures": 7.0}, [14.0, 19.5, 13.0]))
    assert median_run(rounds[:2]).seconds == 14.0  # an even count: the faster of the middle two
    row = next(line for line in table([run, Run(10, "duckdb", 10.0, 1, 100, 5), Run(10, "pandas", 84.0, 1, 100, 5)])
               if "project" in line)
    assert "| 14.00 | 13.00–19.50 |" in row and row.endswith("| 1.40 | 6.0 |")


def test_the_sample_build_timings_give_each_build_its_median_its_ratio_and_whether_targets_are_met():
    from bench.builds import KINDS, SKIPPED_PREFIX, Build, report

    def round_of(first: float, unchanged: float, changed: float) -> list[Build]:
        return [Build(KINDS[0], first, "", cpu_seconds=first * 1.5), Build(KINDS[1], unchanged, "Nothing changed"),
                Build(KINDS[2], changed, f"{SKIPPED_PREFIX}raw/cpp_by_category, raw/hub_referrals\n")]

    rounds = {"this code": [round_of(31.0, 1.2, 9.0), round_of(27.5, 1.5, 8.0), round_of(29.0, 9.5, 7.0)],
              "before": [round_of(25.0, 0.9, 8.0), round_of(24.0, 0.8, 9.0), round_of(26.0, 1.0, 7.5)]}
    text = report(rounds, before="before")
    assert "| first build | this code | 29.0 | 27.5–31.0 | 31.0, 27.5, 29.0 | 1.16 |" in text
    assert "| first build | before | 25.0 | 24.0–26.0 | 25.0, 24.0, 26.0 |  |" in text
    assert "within 1.25 times the code before's: 29.0 s against 25.0 s, 1.16 times — **met**" in text
    assert "under 2 s, recomputing nothing: 1.5 s — **met**" in text
    assert "sources skipped: raw/cpp_by_category, raw/hub_referrals" in text
    assert "each round against the code before's in the same round: 1.24, 1.15, 1.12 (median 1.15)" in text
    assert "Chromium included), median: 43.5 against 37.5, 1.16 times" in text
    slower = {"this code": [round_of(32.0, 2.5, 8.0)], "before": [round_of(25.0, 0.9, 8.0)]}
    assert "1.28 times — **not met**" in report(slower, before="before")
    assert "2.5 s — **not met**" in report(slower, before="before")


def test_the_sample_build_timings_change_one_figure_of_one_extract(tmp_path):
    import csv

    from bench.builds import CHANGED_EXTRACT, change_one_extract

    path = tmp_path / "raw" / CHANGED_EXTRACT
    path.parent.mkdir(parents=True)
    path.write_text("period,referrals,area_code\n2014-04,100,E06000057\n2014-05,90,E06000057\n")
    change_one_extract(tmp_path, 2)
    rows = list(csv.DictReader(path.open(newline="")))
    assert [(r["period"], r["referrals"], r["area_code"]) for r in rows] == [
        ("2014-04", "102", "E06000057"), ("2014-05", "90", "E06000057")]
