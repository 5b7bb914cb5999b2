"""The sample generator: layouts honoured, rules kept, seed figures exact, runs identical."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from expectations.layouts import CPP_CATEGORIES, LAYOUTS, LAYOUTS_BY_NAME, Layout
from scorecard.ingest.ees import read_ees, recognise_ees
from scorecard.ingest.neighbours import read_neighbours, recognise_neighbours
from scorecard.ingest.strategies import load_strategies
from scorecard.model.periods import parse_period
from scorecard.sample import allocate, published_count, published_ratio, write_sample
from tests.conftest import shared_reference

STRATEGIES = Path(__file__).resolve().parents[1] / "data" / "raw" / "strategies"
NORTHUMBERLAND, NORFOLK, HEREFORDSHIRE = "E06000057", "E10000020", "E06000019"
MONTHS = 12 * 11  # April 2014 to March 2025

# The DfE's files the sample writes in dfe/, and the dataset each is.
C1 = "c1_children_in_need_referrals_and_rereferrals_2015_to_2025.csv"
D3 = "d3_cpps_subsequent_plan_2015_to_2025.csv"
CLA = "cla_number_and_rate_per_10k_children_2015_to_2025.csv"
C3 = "c3_factors_identified_at_end_of_assessment_2018_to_2025.csv"
SN = "sn_model_2025_wide.csv"
PUBLISHED = {C1: "c1_referrals", D3: "d3_repeat_plans", CLA: "cla_numbers", C3: "c3_assessment_factors", SN: None}
REAL_FILES = {C1: "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
              D3: "d3_cpps_subsequent_plan_2013_to_2025.csv", CLA: "cla_number_and_rate_per_10k_children.csv",
              C3: "c3_factors_identified_at_end_of_assessment_2018_to_2025.csv", SN: "sn_model_2025_wide.csv"}
PARTNERSHIP_AREAS = {"929": "E06000057", "805": "E06000001", "808": "E06000004", "926": "E10000020",
                     "884": "E06000019", "888": "E10000017"}
REGION_NAMES = {"E12000001": "North East", "E12000002": "North West", "E12000003": "Yorkshire and The Humber",
                "E12000004": "East Midlands", "E12000005": "West Midlands", "E12000006": "East of England",
                "E12000007": "London", "E12000008": "South East", "E12000009": "South West"}
LA = "Local authority"

PERIOD_PATTERNS = {  # how the sample writes each layout's period
    "month": r"^\d{4}-\d{2}$", "financial_year": r"^\d{4}/\d{2}$",
    "academic_year": r"^\d{4}/\d{2}$", "date": r"^\d{4}-03-31$",
}


def read(path: Path) -> pl.DataFrame:
    return pl.read_excel(path) if path.suffix == ".xlsx" else pl.read_csv(path)


def layout_of(path: Path) -> Layout:
    # Longest name first: "northumberland_hub_referrals" also ends with "_referrals".
    for layout in sorted(LAYOUTS, key=lambda lay: -len(lay.name)):
        if path.stem.endswith(f"_{layout.name}"):
            return layout
    raise AssertionError(f"{path.name} names no layout")


def partner_returns(paths: list[Path]) -> list[Path]:
    """The partner returns among the files written (the DfE's benchmark files are in dfe/, the
    OHID Fingertips export in public_health/: tests/test_sample_local.py)."""
    return [p for p in paths if p.parent.name not in ("dfe", "public_health")]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_sample(tmp_path_factory.mktemp("raw"), STRATEGIES)


@pytest.fixture(scope="module")
def returns(written: list[Path]) -> list[Path]:
    return partner_returns(written)


@pytest.fixture(scope="module")
def frames(returns: list[Path]) -> dict[str, pl.DataFrame]:
    """All files of each layout, stacked."""
    by_layout: dict[str, list[pl.DataFrame]] = {}
    for path in returns:
        by_layout.setdefault(layout_of(path).name, []).append(read(path))
    return {name: pl.concat(parts) for name, parts in by_layout.items()}


def months(first: str, last: str) -> pl.Expr:
    return pl.col("period").is_between(pl.lit(first), pl.lit(last))


def total(frame: pl.DataFrame, column: str, *filters: pl.Expr) -> int:
    return frame.filter(*filters)[column].sum()


# ---------------------------------------------------------------------------- allocation

@pytest.mark.parametrize(("total_", "weights", "caps", "expected"), [
    (10, [1, 1, 1], None, [4, 3, 3]),
    (7, [0.5, 0.25, 0.25], None, [3, 2, 2]),
    (6, [10, 1, 1], [2, 5, 5], [2, 2, 2]),
    (3, [0, 0, 0], None, [1, 1, 1]),
    (0, [1, 2], None, [0, 0]),
])
def test_allocate_splits_exactly_within_caps(total_, weights, caps, expected) -> None:
    assert allocate(total_, weights, caps) == expected


def test_allocate_refuses_an_impossible_split() -> None:
    with pytest.raises(ValueError):
        allocate(5, [1, 1], [2, 2])


# ---------------------------------------------------------------------------- files

def test_every_partnership_gets_every_layout_in_csv_and_xlsx(written: list[Path], returns: list[Path]) -> None:
    partnerships = {s.partnership for s in load_strategies(STRATEGIES)}
    assert all(p.exists() for p in written)
    assert len(returns) == len(partnerships) * len(LAYOUTS)
    assert len(written) == len(returns) + len(PUBLISHED) + 1  # and the DfE's files and a Fingertips export, once
    assert {p.suffix for p in returns} == {".csv", ".xlsx"}
    assert any(p.suffix == ".xlsx" and layout_of(p).name.startswith("cpp_") for p in returns)
    assert any(p.suffix == ".csv" and layout_of(p).name.startswith("cpp_") for p in returns)


def test_workbooks_have_one_named_sheet(returns: list[Path]) -> None:
    for path in (p for p in returns if p.suffix == ".xlsx"):
        names = fastexcel.read_excel(path).sheet_names
        assert len(names) == 1 and names[0][:1].isupper(), (path.name, names)
    eha = next(p for p in returns if layout_of(p).name == "early_help_assessments")
    assert fastexcel.read_excel(eha).sheet_names == ["Early help assessments"]


def test_csv_header_is_exactly_the_layout_columns(returns: list[Path]) -> None:
    for path in (p for p in returns if p.suffix == ".csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(layout_of(path).column_names), path.name


def test_columns_types_and_counts(returns: list[Path]) -> None:
    for path in returns:
        layout, frame = layout_of(path), read(path)
        assert tuple(frame.columns) == layout.column_names, path.name
        assert frame.null_count().sum_horizontal().item() == 0, path.name
        for column in layout.count_columns:
            assert frame[column].dtype.is_integer(), (path.name, column)
            assert frame[column].min() >= 0, (path.name, column)


def test_periods_and_categories_as_the_layout_allows(frames: dict[str, pl.DataFrame]) -> None:
    for name, frame in frames.items():
        layout = LAYOUTS_BY_NAME[name]
        for label in frame[layout.period_column].unique():
            period = parse_period(label, layout.period_types)
            assert period is not None, (name, label)
            assert re.match(PERIOD_PATTERNS[period.period_type], label), (name, label)
        for column in (c for c in layout.columns if c.allowed):
            assert set(frame[column.name]) <= set(column.allowed), (name, column.name)


def test_parts_never_exceed_wholes(frames: dict[str, pl.DataFrame]) -> None:
    for name, frame in frames.items():
        for part, whole in LAYOUTS_BY_NAME[name].not_above:
            assert frame.filter(pl.col(part) > pl.col(whole)).is_empty(), (name, part, whole)


def test_keys_are_unique(frames: dict[str, pl.DataFrame]) -> None:
    for name, frame in frames.items():
        key = [c.name for c in LAYOUTS_BY_NAME[name].columns if c.kind != "count"]
        assert not frame.select(key).is_duplicated().any(), name


# ---------------------------------------------------------------------------- frequencies

def test_natural_frequencies(frames: dict[str, pl.DataFrame]) -> None:
    areas = [a.code for s in load_strategies(STRATEGIES) for a in s.areas]
    counts = {name: frame.group_by("area_code").len() for name, frame in frames.items()}
    for name, per_row in (("cpp_by_category", 2 * len(CPP_CATEGORIES)), ("cpp_repeat_plans", 2),
                          ("referrals", 1), ("hub_referrals", 1)):
        assert dict(counts[name].iter_rows()) == {a: MONTHS * per_row for a in areas}, name
    assert dict(counts["persistent_absence"].iter_rows()) == {a: 11 for a in areas}
    lac = frames["looked_after_children"]
    assert sorted(lac["snapshot_date"].unique()) == [f"{y}-03-31" for y in range(2015, 2026)]
    assert dict(counts["looked_after_children"].iter_rows()) == {a: 11 for a in areas}
    assert set(frames["persistent_absence"]["academic_year"]) == {
        f"{y}/{(y + 1) % 100:02d}" for y in range(2014, 2025)}


def test_early_help_has_five_to_eight_agencies_every_month(frames: dict[str, pl.DataFrame]) -> None:
    per_area = frames["early_help_assessments"].group_by("area_code").agg(
        agencies=pl.col("agency").n_unique(), months=pl.col("month").n_unique(), rows=pl.len())
    for row in per_area.iter_rows(named=True):
        assert 5 <= row["agencies"] <= 8, row
        assert row["months"] == MONTHS and row["rows"] == MONTHS * row["agencies"], row


# ---------------------------------------------------------------------------- consistency

def test_repeat_plans_agree_with_plans_started(frames: dict[str, pl.DataFrame]) -> None:
    started = frames["cpp_by_category"].filter(pl.col("plan_status") == "Started in period")
    by_month = started.group_by("area_code", "period").agg(
        all_started=pl.sum("children"),
        neglect_started=pl.col("children").filter(pl.col("category") == "Neglect").sum())
    repeat = frames["cpp_repeat_plans"].pivot(
        on="category_group", index=["area_code", "period"],
        values=["plans_started", "second_or_subsequent_plans"])
    joined = repeat.join(by_month, on=["area_code", "period"], how="full", validate="1:1")
    assert joined.height == by_month.height == repeat.height
    assert (joined["plans_started_All categories"] == joined["all_started"]).all()
    assert (joined["plans_started_Neglect"] == joined["neglect_started"]).all()
    assert (joined["second_or_subsequent_plans_Neglect"]
            <= joined["second_or_subsequent_plans_All categories"]).all()


def test_sizes_look_like_each_authority(frames: dict[str, pl.DataFrame]) -> None:
    population = dict(frames["looked_after_children"].filter(
        pl.col("snapshot_date") == "2017-03-31").select("area_code", "population_aged_0_17").iter_rows())
    stated = {"E06000057": 62_000, "E06000001": 20_000, "E06000004": 43_000, "E10000020": 170_000,
              "E06000019": 35_900, "E10000017": 255_000}
    for code, children in stated.items():
        assert abs(population[code] / children - 1) < 0.05, (code, population[code])
    # Referrals per 10,000 children a year sit in the range English LAs report.
    referrals = frames["referrals"].filter(months("2017-04", "2018-03")).group_by("area_code").agg(
        pl.sum("referrals"))
    for code, n in referrals.iter_rows():
        assert 300 < n / population[code] * 10_000 < 1200, (code, n)


def test_series_move_and_dip_in_august_and_december(frames: dict[str, pl.DataFrame]) -> None:
    referrals = frames["referrals"].with_columns(calendar_month=pl.col("period").str.slice(5, 2))
    for code, series in referrals.group_by("area_code"):
        assert series["referrals"].n_unique() > 40, code  # not a flat line
        by_month = series.group_by("calendar_month").agg(pl.mean("referrals"))
        mean = dict(by_month.iter_rows())
        typical = sum(mean.values()) / 12
        assert mean["08"] < typical and mean["12"] < typical, code


# ---------------------------------------------------------------------------- calibration

def test_northumberland_referrals(frames: dict[str, pl.DataFrame]) -> None:
    referrals = frames["referrals"].filter(pl.col("area_code") == NORTHUMBERLAND)
    y1415, y1617 = months("2014-04", "2015-03"), months("2016-04", "2017-03")
    h1_1718 = months("2017-04", "2017-09")
    assert total(referrals, "referrals", y1415) == 5882
    assert total(referrals, "rereferrals_within_12_months", y1415) == 1765
    assert round(1765 / 5882 * 100, 1) == 30.0
    assert total(referrals, "referrals", h1_1718) == 1569
    assert total(referrals, "rereferrals_within_12_months", h1_1718) == 229
    assert total(referrals, "referrals", y1617) == 3296
    assert total(referrals, "referrals_neglect", y1617) == 340


def test_northumberland_plans_open_at_31_march_2017(frames: dict[str, pl.DataFrame]) -> None:
    open_plans = frames["cpp_by_category"].filter(
        pl.col("area_code") == NORTHUMBERLAND, pl.col("period") == "2017-03",
        pl.col("plan_status") == "Open at period end")
    by_category = dict(open_plans.select("category", "children").iter_rows())
    assert sum(by_category.values()) == 228
    assert by_category["Neglect"] == 121 and by_category["Emotional abuse"] == 91
    assert by_category["Physical abuse"] + by_category["Sexual abuse"] + by_category["Multiple"] == 16


@pytest.mark.parametrize(("first", "last", "repeats", "started", "pct"), [
    ("2015-04", "2016-03", 14, 237, 5.9),
    ("2016-04", "2017-03", 6, 167, 3.6),
    ("2017-04", "2017-09", 16, 216, 7.4),
])
def test_northumberland_repeat_plans_under_neglect(frames, first, last, repeats, started, pct) -> None:
    neglect = frames["cpp_repeat_plans"].filter(
        pl.col("area_code") == NORTHUMBERLAND, pl.col("category_group") == "Neglect",
        months(first, last))
    assert total(neglect, "second_or_subsequent_plans") == repeats
    assert total(neglect, "plans_started") == started
    assert round(repeats / started * 100, 1) == pct


def test_northumberland_absence_lac_and_early_help(frames: dict[str, pl.DataFrame]) -> None:
    absence = frames["persistent_absence"].filter(
        pl.col("area_code") == NORTHUMBERLAND, pl.col("academic_year") == "2015/16").row(0, named=True)
    assert round(absence["persistently_absent_pupils"] / absence["pupils"] * 100, 1) == 10.2

    lac = dict(frames["looked_after_children"].filter(pl.col("area_code") == NORTHUMBERLAND)
               .select("snapshot_date", "children_looked_after").iter_rows())
    assert lac["2017-03-31"] == 386 and lac["2016-03-31"] == 406
    assert round((386 / 406 - 1) * 100) == -5

    eha = frames["early_help_assessments"].filter(pl.col("area_code") == NORTHUMBERLAND)
    eha = eha.rename({"month": "period"})
    assert total(eha, "assessments_started", months("2014-05", "2015-04")) == 888  # 74 a month
    assert total(eha, "assessments_started", months("2016-10", "2017-09")) == 1212  # 101 a month


def test_norfolk_plans_started_under_neglect_2019_20(frames: dict[str, pl.DataFrame]) -> None:
    started = frames["cpp_by_category"].filter(
        pl.col("area_code") == NORFOLK, pl.col("plan_status") == "Started in period",
        months("2019-04", "2020-03"))
    neglect = total(started, "children", pl.col("category") == "Neglect")
    assert round(neglect / total(started, "children") * 100) == 63


@pytest.mark.parametrize(("period", "pct"), [("2020-03", 38), ("2021-03", 35)])
def test_herefordshire_plans_open_under_neglect(frames, period, pct) -> None:
    open_plans = frames["cpp_by_category"].filter(
        pl.col("area_code") == HEREFORDSHIRE, pl.col("plan_status") == "Open at period end",
        pl.col("period") == period)
    neglect = total(open_plans, "children", pl.col("category") == "Neglect")
    assert round(neglect / total(open_plans, "children") * 100) == pct


# ---------------------------------------------------------------------------- determinism

def test_runs_are_identical(written: list[Path], tmp_path: Path) -> None:
    again = write_sample(tmp_path, STRATEGIES)
    first_root = written[0].parents[1]
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(first_root) for p in written]
    for old, new in zip(written, again):  # the DfE's benchmark files included
        if old.suffix == ".csv":
            assert old.read_bytes() == new.read_bytes(), old.name
        else:
            assert read(old).equals(read(new)), old.name


def test_one_partnership_and_a_short_range(returns: list[Path], tmp_path: Path) -> None:
    subset = partner_returns(write_sample(tmp_path, STRATEGIES, partnerships=["northumberland"]))
    assert len(subset) == len(LAYOUTS) and all(p.name.startswith("northumberland_") for p in subset)
    full = {p.name: p for p in returns}
    for path in subset:  # restricting the partnerships does not change the numbers
        assert read(path).equals(read(full[path.name])), path.name

    short = partner_returns(write_sample(tmp_path / "short", STRATEGIES, first_year=2016, last_year=2017,
                                         partnerships=["northumberland"]))
    referrals = read(next(p for p in short if layout_of(p).name == "referrals"))
    assert referrals["period"].to_list()[0] == "2016-04" and referrals.height == 24
    assert total(referrals, "referrals", months("2016-04", "2017-03")) == 3296


def test_unknown_partnership_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        write_sample(tmp_path, STRATEGIES, partnerships=["nowhere"])


# ---------------------------------------------------------------------------- DfE benchmark files

C1_COUNTS = ["referral_count", "rereferral_count", "no_further_action_count", "not_in_need_count",
             "referral_child_count", "rereferral_child_count"]
COUNT_COLUMNS = {C1: C1_COUNTS, D3: ["CPP_start", "CPP_subsequent"], CLA: ["children_count"]}
# (published ratio, numerator, denominator, per, decimal places)
RATIOS = {
    C1: [("rereferral_percent", "rereferral_count", "referral_count", 100, 1),
         ("no_further_action_percent", "no_further_action_count", "referral_count", 100, 1),
         ("not_in_need_percent", "not_in_need_count", "referral_count", 100, 1),
         ("rereferral_child_percent", "rereferral_child_count", "referral_child_count", 100, 1)],
    D3: [("CPP_subsequent_percent", "CPP_subsequent", "CPP_start", 100, 1)],
    CLA: [("rate_per_10000", "children_count", "population_estimate", 10_000, 0)],
}


@pytest.fixture(scope="module")
def published(written: list[Path]) -> dict[str, Path]:
    return {p.name: p for p in written if p.parent.name == "dfe"}


def text(path: Path) -> pl.DataFrame:
    """Every cell as the DfE wrote it, blanks as null."""
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.rename({c: c.lstrip("\ufeff") for c in frame.columns})
    return frame.with_columns(pl.all().replace("", None))


def first_line(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[0]


def counts_cells(frame: pl.DataFrame, column: str) -> list[str]:
    return frame[column].drop_nulls().to_list()


def test_published_files_are_recognised_and_read_without_problems(published: dict[str, Path]) -> None:
    assert set(published) == set(PUBLISHED)
    for name, dataset in PUBLISHED.items():
        path = published[name]
        if dataset is None:
            assert recognise_ees(path) is None and recognise_neighbours(path)
            read = read_neighbours(path, f"dfe/{name}")
            assert read.problems == [] and read.model == "sn_model_2025" and read.frame.height == 60
            continue
        assert recognise_ees(path) == dataset and not recognise_neighbours(path), name
        read = read_ees(path, f"dfe/{name}")
        assert read.dataset == dataset and read.problems == [] and read.frame.height > 1000, name


def test_layout_quirks_are_the_dfe_s(published: dict[str, Path]) -> None:
    bom = "\ufeff".encode()
    for name, path in published.items():
        content = path.read_bytes()
        assert content.startswith(bom) == (name in (CLA, SN)), name
        assert b"\r" not in content and content.endswith(b"\n"), name
    assert b",la_name,new_la_code,population_type," in first_line(published[CLA])
    # The d3 file writes some blank geography cells as "" (and old_la_code as nothing).
    national = published[D3].read_text(encoding="utf-8").splitlines()[1]
    assert national.startswith('2025,Reporting year,National,E92000001,England,"","",,"","",')
    assert b',884,E06000019,"Herefordshire, County of",' in published[C1].read_bytes()
    assert "Close ," in published[SN].read_text(encoding="utf-8-sig")  # closeness as published


def test_headers_are_those_of_the_real_files(published: dict[str, Path]) -> None:
    reference = shared_reference()
    for name, real in REAL_FILES.items():
        assert first_line(published[name]) == first_line(reference / real), name


def test_england_the_regions_and_each_partnership_area_with_its_neighbours(published: dict[str, Path]) -> None:
    neighbours = read_neighbours(published[SN]).frame
    assert set(neighbours["old_la_code"]) == set(PARTNERSHIP_AREAS)
    northumberland = neighbours.filter(pl.col("old_la_code") == "929").sort("neighbour_rank")
    assert northumberland["neighbour_old_la_code"].to_list() == [
        "926", "830", "888", "908", "878", "840", "838", "886", "885", "935"]
    expected_authorities = set(PARTNERSHIP_AREAS) | set(neighbours["neighbour_old_la_code"])
    for name in (C1, D3, CLA, C3):
        latest = text(published[name]).filter(pl.col("time_period") == "2025")
        england = latest.filter(pl.col("geographic_level") == "National")
        assert set(england.select("country_code", "country_name").rows()) == {("E92000001", "England")}
        regions = latest.filter(pl.col("geographic_level") == "Regional")
        assert dict(regions.select("region_code", "region_name").unique().iter_rows()) == REGION_NAMES
        authorities = latest.filter(pl.col("geographic_level") == LA)
        assert set(authorities["old_la_code"]) == expected_authorities, name
        codes = dict(authorities.select("old_la_code", "new_la_code").unique().iter_rows())
        assert {old: codes[old] for old in PARTNERSHIP_AREAS} == PARTNERSHIP_AREAS


def test_rows_come_newest_year_first_then_england_regions_and_authorities(published: dict[str, Path]) -> None:
    c1 = text(published[C1])
    assert c1["time_period"].to_list() == sorted(c1["time_period"].to_list(), reverse=True)
    level_order = {"National": 0, "Regional": 1, LA: 2}
    for _, year in c1.group_by("time_period"):
        keys = [(level_order[lv], rc or "", name or "") for lv, rc, name
                in year.select("geographic_level", "region_code", "la_name").iter_rows()]
        assert keys == sorted(keys)


def test_authorities_carry_the_codes_the_dfe_used_each_year(published: dict[str, Path]) -> None:
    c1, cla = text(published[C1]), text(published[CLA])

    def codes(frame: pl.DataFrame, old: str) -> dict[str, str]:
        return dict(frame.filter(pl.col("old_la_code") == old).select("time_period", "new_la_code")
                    .unique().iter_rows())

    north_yorkshire = codes(c1, "815")
    assert north_yorkshire["2023"] == "E10000023" and north_yorkshire["2024"] == "E06000065"
    assert set(codes(cla, "815").values()) == {"E06000065"}  # the CLA series is republished under today's code
    assert min(codes(c1, "838")) == "2020"  # Dorset, created in 2019
    assert sorted(codes(c1, "943")) == ["2024", "2025"]  # Westmorland and Furness, created in 2023
    assert codes(c1, "929") == {str(y): "E06000057" for y in range(2015, 2026)}


def test_england_and_regional_counts_are_rounded_to_10(published: dict[str, Path]) -> None:
    columns = {**COUNT_COLUMNS, C3: text(published[C3]).columns[11:]}
    for name, counts in columns.items():
        frame = text(published[name])
        broad = frame.filter(pl.col("geographic_level") != LA)
        local = frame.filter(pl.col("geographic_level") == LA)
        for column in counts:
            cells = [c for c in counts_cells(broad, column) if c != "x"]  # c3: not yet collected
            assert cells and all(int(c) % 10 == 0 for c in cells), (name, column)
        # The authorities' counts are not rounded.
        assert any(int(c) % 10 for column in counts for c in counts_cells(local, column) if c.isdigit()), name


@pytest.mark.parametrize(("n", "level", "cell"), [
    (0, LA, "0"), (1, LA, "c"), (5, LA, "c"), (6, LA, "6"), (None, LA, "x"),
    (3, "National", "0"), (1234, "National", "1230"), (1235, "Regional", "1240"), (4, "Regional", "0"),
])
def test_a_count_is_published_rounded_or_suppressed(n, level, cell) -> None:
    assert published_count(n, level) == cell


@pytest.mark.parametrize(("numerator", "denominator", "level", "per", "places", "cell"), [
    (1765, 5882, LA, 100, 1, "30"),  # Northumberland 2014/15: the DfE prints 30, not 30.0
    (1, 16, "National", 100, 1, "6.3"),  # 6.25 rounds half up (Python's round gives 6.2)
    (1, 8, "National", 100, 1, "12.5"),
    (2, 3, "National", 100, 1, "66.7"),
    (0, 700, LA, 100, 1, "0"),
    (3, 700, LA, 100, 1, "c"),  # suppressed with its count
    (60, 4, LA, 100, 1, "c"),  # or its denominator
    (0, 0, LA, 100, 1, "z"),
    (None, 700, LA, 100, 1, "x"),
    (431, 58941, LA, 10_000, 0, "73"),
    (13, 5200, LA, 10_000, 0, "25"),
    (245, 100_000, "National", 10_000, 0, "25"),  # 24.5, half up
])
def test_a_ratio_is_published_half_up_from_its_counts(numerator, denominator, level, per, places, cell) -> None:
    assert published_ratio(numerator, denominator, level, per, places) == cell


def test_suppression_only_where_counts_are_1_to_5(published: dict[str, Path]) -> None:
    columns = {**COUNT_COLUMNS, C3: text(published[C3]).columns[11:]}
    symbols: dict[str, set[str]] = {}
    for name, counts in columns.items():
        frame = text(published[name])
        broad = frame.filter(pl.col("geographic_level") != LA)
        local = frame.filter(pl.col("geographic_level") == LA)
        for column in counts:
            assert "c" not in counts_cells(broad, column), (name, column)
            for cell in counts_cells(local, column):
                if cell.isdigit():
                    assert not 1 <= int(cell) <= 5, (name, column, cell)  # shown only when not 1 to 5
                else:
                    symbols.setdefault(name, set()).add(cell)
    assert symbols[C3] == {"c", "x"}  # small factors suppressed; factors not yet collected
    assert all(found <= {"c", "x"} for found in symbols.values())
    assert all("x" in symbols[name] for name in (C1, D3, CLA))  # a few returns the DfE lacks
    # A ratio is suppressed with its count or denominator.
    for name, ratios in RATIOS.items():
        frame = text(published[name]).filter(pl.col("geographic_level") == LA)
        for ratio, numerator, denominator, _, _ in ratios:
            for r, n, d in frame.select(ratio, numerator, denominator).iter_rows():
                hidden = {n, d} & {"c", "x"}
                assert (r in ("c", "x")) == bool(hidden), (name, ratio, r, n, d)
                if hidden:
                    assert r == ("x" if "x" in hidden else "c"), (name, ratio, r, n, d)


def half_up(numerator: int, denominator: int, per: int, places: int) -> Decimal:
    return (Decimal(numerator) * per / Decimal(denominator)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def test_percentages_and_rates_are_recomputed_half_up(published: dict[str, Path]) -> None:
    checked = 0
    for name, ratios in RATIOS.items():
        frame = text(published[name])
        for ratio, numerator, denominator, per, places in ratios:
            for level, r, n, d in frame.select("geographic_level", ratio, numerator, denominator).iter_rows():
                if r in ("c", "x", "z"):
                    continue
                assert not r.endswith(".0"), (name, ratio, r)  # the DfE prints 30, not 30.0
                value, n, d = Decimal(r), int(n), int(d)
                if level == LA:
                    assert value == half_up(n, d, per, places), (name, ratio, r, n, d)
                else:
                    # England and regions: the DfE divides the unrounded counts, then rounds the
                    # counts to 10; the gap that can leave is what marts.published_value_checks allows.
                    exact = Decimal(n) * per / Decimal(d)
                    allowance = Decimal(0.5).scaleb(-places) + exact * (Decimal(5) / n + Decimal(5) / d)
                    assert abs(value - exact) <= allowance, (name, ratio, level, r, n, d)
                checked += 1
    assert checked > 2000


def fy_totals(frame: pl.DataFrame, columns: list[str], *filters: pl.Expr) -> pl.DataFrame:
    """Partner-return months summed by reporting year (the year to 31 March)."""
    year = pl.col("period").str.slice(0, 4).cast(pl.Int32)
    return (frame.filter(*filters)
            .with_columns(time_period=(year + (pl.col("period").str.slice(5, 2) >= "04").cast(pl.Int32))
                          .cast(pl.String))
            .group_by("area_code", "time_period").agg(pl.sum(c) for c in columns))


def test_partnership_areas_agree_with_their_returns_where_the_seeds_fix_a_figure(published: dict[str, Path]) -> None:
    c1, d3, cla = text(published[C1]), text(published[D3]), text(published[CLA])

    def row(frame: pl.DataFrame, old: str, year: int, *filters: pl.Expr) -> dict:
        return frame.filter(pl.col("old_la_code") == old, pl.col("time_period") == str(year), *filters).row(
            0, named=True)

    northumberland = row(c1, "929", 2015)
    assert (northumberland["referral_count"], northumberland["rereferral_count"],
            northumberland["rereferral_percent"]) == ("5882", "1765", "30")  # the DfE's real figures
    assert row(c1, "929", 2017)["referral_count"] == "3296"
    looked_after = pl.col("population_type") == "Children looked after on 31 March each year"
    assert row(cla, "929", 2016, looked_after)["children_count"] == "406"
    assert row(cla, "929", 2017, looked_after)["children_count"] == "386"
    assert row(d3, "926", 2020)["CPP_start"] == "850"  # Norfolk: 536 under neglect, 63%


def test_elsewhere_the_dfe_s_figures_differ_a_little_from_the_returns(published: dict[str, Path],
                                                                       frames: dict[str, pl.DataFrame]) -> None:
    referrals = fy_totals(frames["referrals"], ["referrals", "rereferrals_within_12_months"])
    plans = fy_totals(frames["cpp_repeat_plans"], ["plans_started", "second_or_subsequent_plans"],
                      pl.col("category_group") == "All categories")
    lac = frames["looked_after_children"].select(
        "area_code", time_period=pl.col("snapshot_date").str.slice(0, 4), returned=pl.col("children_looked_after"))
    pairs = [
        (C1, "referral_count", referrals.rename({"referrals": "returned"}), None),
        (C1, "rereferral_count", referrals.rename({"rereferrals_within_12_months": "returned"}), None),
        (D3, "CPP_start", plans.rename({"plans_started": "returned"}), None),
        (D3, "CPP_subsequent", plans.rename({"second_or_subsequent_plans": "returned"}), None),
        (CLA, "children_count", lac, pl.col("population_type") == "Children looked after on 31 March each year"),
    ]
    for name, column, returned, only in pairs:
        frame = text(published[name]).filter(pl.col("new_la_code").is_in(list(PARTNERSHIP_AREAS.values())))
        if only is not None:
            frame = frame.filter(only)
        joined = frame.select(area_code="new_la_code", time_period="time_period",
                              dfe=pl.col(column).cast(pl.Int64)).join(
            returned.select("area_code", "time_period", "returned"), on=["area_code", "time_period"],
            validate="1:1")
        assert joined.height == 6 * 11, (name, column)
        same = (joined["dfe"] == joined["returned"]).sum()
        assert joined.height // 2 < same < joined.height, (name, column, same)  # mostly, not always
        assert ((joined["dfe"] - joined["returned"]).abs() <= 0.1 * joined["returned"] + 3).all(), (name, column)


def test_one_partnership_gets_the_same_rows_for_its_area_and_neighbours(published: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    subset = {p.name: p for p in write_sample(tmp_path, STRATEGIES, partnerships=["northumberland"])
              if p.parent.name == "dfe"}
    assert set(subset) == set(published)
    neighbours = read_neighbours(subset[SN]).frame
    assert set(neighbours["old_la_code"]) == {"929"}
    authorities = {"929", *neighbours["neighbour_old_la_code"]}  # Lancashire among them
    for name in (C1, D3, CLA, C3):
        small, full = text(subset[name]), text(published[name])
        assert set(small["old_la_code"].drop_nulls()) == authorities
        # Restricting the partnerships leaves every published figure as it was.
        assert small.equals(full.filter(pl.col("old_la_code").is_null() | pl.col("old_la_code").is_in(authorities)))


def test_a_short_range_names_its_years(tmp_path: Path) -> None:
    short = [p.name for p in write_sample(tmp_path, STRATEGIES, first_year=2016, last_year=2017,
                                          partnerships=["norfolk"]) if p.parent.name == "dfe"]
    assert short == ["c1_children_in_need_referrals_and_rereferrals_2017_to_2018.csv",
                     "d3_cpps_subsequent_plan_2017_to_2018.csv",
                     "cla_number_and_rate_per_10k_children_2017_to_2018.csv",
                     "c3_factors_identified_at_end_of_assessment_2018_to_2018.csv", SN]
    early = [p.name for p in write_sample(tmp_path / "early", STRATEGIES, first_year=2014, last_year=2015,
                                          partnerships=["norfolk"]) if p.parent.name == "dfe"]
    assert not any(n.startswith("c3_") for n in early)  # c3 begins in 2017/18, as the DfE's does


def test_the_sample_command_without_strategy_files_says_what_to_do(tmp_path: Path) -> None:
    """`scorecard sample` (the installed command, as a person runs it) into a raw folder with no
    strategy files: exit status 1 and a sentence saying where to put them, not a traceback."""
    raw_dir = tmp_path / "raw"
    environment = {**os.environ, "SCORECARD_RAW_DIR": str(raw_dir)}
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "sample"], env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"No sample data written: {raw_dir / 'strategies'}: no strategy files" in done.stderr
    assert "copy the project's data/raw/strategies/*.yaml there" in done.stderr
    assert not raw_dir.exists() or not any(raw_dir.rglob("*.csv"))
