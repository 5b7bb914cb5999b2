"""The sample generator: layouts honoured, rules kept, seed figures exact, runs identical."""

from __future__ import annotations

import re
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from expectations.layouts import CPP_CATEGORIES, LAYOUTS, LAYOUTS_BY_NAME, Layout
from pipelines.periods import parse_period
from pipelines.sample import allocate, write_sample
from pipelines.strategies import load_strategies

STRATEGIES = Path(__file__).resolve().parents[1] / "data" / "raw" / "strategies"
NORTHUMBERLAND, NORFOLK, HEREFORDSHIRE = "E06000057", "E10000020", "E06000019"
MONTHS = 12 * 11  # April 2014 to March 2025

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


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_sample(tmp_path_factory.mktemp("raw"), STRATEGIES)


@pytest.fixture(scope="module")
def frames(written: list[Path]) -> dict[str, pl.DataFrame]:
    """All files of each layout, stacked."""
    by_layout: dict[str, list[pl.DataFrame]] = {}
    for path in written:
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

def test_every_partnership_gets_every_layout_in_csv_and_xlsx(written: list[Path]) -> None:
    partnerships = {s.partnership for s in load_strategies(STRATEGIES)}
    assert all(p.exists() for p in written)
    assert len(written) == len(partnerships) * len(LAYOUTS)
    assert {p.suffix for p in written} == {".csv", ".xlsx"}
    assert any(p.suffix == ".xlsx" and layout_of(p).name.startswith("cpp_") for p in written)
    assert any(p.suffix == ".csv" and layout_of(p).name.startswith("cpp_") for p in written)


def test_workbooks_have_one_named_sheet(written: list[Path]) -> None:
    for path in (p for p in written if p.suffix == ".xlsx"):
        names = fastexcel.read_excel(path).sheet_names
        assert len(names) == 1 and names[0][:1].isupper(), (path.name, names)
    eha = next(p for p in written if layout_of(p).name == "early_help_assessments")
    assert fastexcel.read_excel(eha).sheet_names == ["Early help assessments"]


def test_csv_header_is_exactly_the_layout_columns(written: list[Path]) -> None:
    for path in (p for p in written if p.suffix == ".csv"):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(layout_of(path).column_names), path.name


def test_columns_types_and_counts(written: list[Path]) -> None:
    for path in written:
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
    for old, new in zip(written, again):
        assert read(old).equals(read(new)), old.name
        if old.suffix == ".csv":
            assert old.read_bytes() == new.read_bytes(), old.name


def test_one_partnership_and_a_short_range(written: list[Path], tmp_path: Path) -> None:
    subset = write_sample(tmp_path, STRATEGIES, partnerships=["northumberland"])
    assert len(subset) == len(LAYOUTS) and all(p.name.startswith("northumberland_") for p in subset)
    full = {p.name: p for p in written}
    for path in subset:  # restricting the partnerships does not change the numbers
        assert read(path).equals(read(full[path.name])), path.name

    short = write_sample(tmp_path / "short", STRATEGIES, first_year=2016, last_year=2017,
                         partnerships=["northumberland"])
    referrals = read(next(p for p in short if layout_of(p).name == "referrals"))
    assert referrals["period"].to_list()[0] == "2016-04" and referrals.height == 24
    assert total(referrals, "referrals", months("2016-04", "2017-03")) == 3296


def test_unknown_partnership_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nowhere"):
        write_sample(tmp_path, STRATEGIES, partnerships=["nowhere"])
