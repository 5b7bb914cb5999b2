"""OHID Fingertips exports (public health profiles), read as published.

The CSV the Fingertips site and its API download: one row per indicator, area, sex, age,
category and time period, with the value, its published 95% and 99.8% limits, the count, the
denominator and a value note; England and the regions in the same file as the local
authorities. Recognised by its header (quoted or not, with or without a UTF-8 BOM; the column
comparing with the parent is named after the parent's area type, and newer files add ``Time
period range``). Every figure is kept as published: nothing here is recomputed. A blank value
is a missing value, its reason the value note. Which rows feed which indicator is decided by
the indicator files' ``fingertips_id`` (``sql/macros/indicators.sql``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from expectations.partner_returns import Problem
from scorecard.ingest.reader import TEXT_SUFFIXES, UnreadableFile, header_row, read_published_csv

# The published columns every export carries, as written, and their names here.
COLUMNS = {
    "Indicator ID": "fingertips_id", "Indicator Name": "indicator_name", "Parent Code": "parent_code",
    "Area Code": "area_code", "Area Name": "area_name", "Area Type": "area_type", "Sex": "sex", "Age": "age",
    "Category Type": "category_type", "Category": "category", "Time period": "time_period", "Value": "value",
    "Lower CI 95.0 limit": "ci95_low", "Upper CI 95.0 limit": "ci95_high",
    "Lower CI 99.8 limit": "ci998_low", "Upper CI 99.8 limit": "ci998_high",
    "Count": "count", "Denominator": "denominator", "Value note": "value_note",
}
NUMBER_COLUMNS = ("value", "ci95_low", "ci95_high", "ci998_low", "ci998_high", "count", "denominator")
FINGERTIPS_COLUMNS = ["source_file", "source_row", "fingertips_id", "indicator_name", "area_code", "area_name",
                      "area_type", "parent_code", "sex", "age", "category_type", "category", "time_period",
                      "period_kind", "first_year", "last_year", *NUMBER_COLUMNS, "value_note"]
FINGERTIPS_SCHEMA = {**{c: pl.String for c in FINGERTIPS_COLUMNS}, "source_row": pl.Int64,
                     "fingertips_id": pl.Int64, "first_year": pl.Int64, "last_year": pl.Int64,
                     **{c: pl.Float64 for c in NUMBER_COLUMNS}}
# (One published figure per indicator, area, sex, age, category and period, across all files.)
FIGURE_KEY = ("fingertips_id", "area_code", "sex", "age", "category_type", "category", "time_period")

_NUMBER = r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$"
_YEAR_PAIR = re.compile(r"^(\d{4})/(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_POOLED_PAIRS = re.compile(r"^(\d{4})/(\d{2})\s*-\s*(\d{2})/(\d{2})$")
_POOLED_YEARS = re.compile(r"^(\d{4})\s*-\s*(\d{2}|\d{4})$")


@dataclass(frozen=True)
class FingertipsFile:
    frame: pl.DataFrame  # FINGERTIPS_COLUMNS
    problems: list[Problem]


def _header(path: Path) -> list[str]:
    return [c.strip() for c in header_row(path)]


def recognise_fingertips(path: Path) -> bool:
    """Whether a CSV is a Fingertips export, judged by its header row."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return False
    try:
        return set(COLUMNS) <= set(_header(path))
    except (OSError, UnreadableFile):
        return False


def parse_time_period(text: str) -> tuple[str, int, int] | None:
    """A Fingertips time period: (kind, first year, last year), each year by its start.

    ``2019/20``: a year pair (financial or academic, as the indicator says); ``2022``: a calendar
    year; ``2017/18 - 19/20`` and ``2016 - 18``: years pooled. Other forms (quarters, months) None.
    """
    text = text.strip()
    if (m := _YEAR_PAIR.match(text)) and int(m[2]) == (int(m[1]) + 1) % 100:
        return "year_pair", int(m[1]), int(m[1])
    if m := _YEAR.match(text):
        return "calendar_year", int(m[1]), int(m[1])
    if (m := _POOLED_PAIRS.match(text)) and int(m[2]) == (int(m[1]) + 1) % 100:
        last = int(m[1]) // 100 * 100 + int(m[3])
        last += 100 if last < int(m[1]) else 0
        if int(m[4]) == (last + 1) % 100 and last > int(m[1]):
            return "pooled_year_pairs", int(m[1]), last
    if m := _POOLED_YEARS.match(text):
        last = int(m[2]) if len(m[2]) == 4 else int(m[1]) // 100 * 100 + int(m[2])
        if last > int(m[1]):
            return "pooled_calendar_years", int(m[1]), last
    return None


def read_fingertips(path: Path, display_path: str) -> FingertipsFile:
    """A Fingertips export as a typed table, and the cells that cannot be read as published."""
    text = read_published_csv(path)
    text = text.rename({c: c.lstrip("\ufeff").strip() for c in text.columns})
    text = (text.select(pl.col(list(COLUMNS)).str.strip_chars().replace("", None)).rename(COLUMNS)
            .with_row_index("source_row", offset=2).with_columns(pl.col("source_row").cast(pl.Int64)))
    problems: list[Problem] = []

    def refuse(bad: pl.Expr, column: str, header: str, rule: str) -> None:
        for row in text.filter(bad).iter_rows(named=True):
            problems.append(Problem(display_path, None, row["source_row"], header, row[column], rule))

    headers = {name: header for header, name in COLUMNS.items()}
    refuse(~pl.col("fingertips_id").str.contains(r"^\d+$").fill_null(False), "fingertips_id", "Indicator ID",
           "it must be the Fingertips indicator number")
    refuse(pl.col("area_code").is_null(), "area_code", "Area Code", "every row needs its area code")
    for column in NUMBER_COLUMNS:
        refuse(~pl.col(column).str.contains(_NUMBER).fill_null(True), column, headers[column],
               "it must be a number as Fingertips publishes it, or blank")
    periods = {p: parse_time_period(p) for p in text["time_period"].drop_nulls().unique().to_list()}
    period = pl.col("time_period")
    frame = text.with_columns(
        pl.col("fingertips_id").cast(pl.Int64, strict=False),
        *(pl.col(c).cast(pl.Float64, strict=False) for c in NUMBER_COLUMNS),
        source_file=pl.lit(display_path),
        period_kind=period.replace_strict({p: v[0] for p, v in periods.items() if v}, default=None,
                                          return_dtype=pl.String),
        first_year=period.replace_strict({p: v[1] for p, v in periods.items() if v}, default=None,
                                         return_dtype=pl.Int64),
        last_year=period.replace_strict({p: v[2] for p, v in periods.items() if v}, default=None,
                                        return_dtype=pl.Int64),
    )
    return FingertipsFile(frame.select(FINGERTIPS_COLUMNS).cast(FINGERTIPS_SCHEMA), problems)
