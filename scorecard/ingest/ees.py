"""DfE open data (Explore Education Statistics CSVs), read as published.

Every EES file has the standard columns (``time_period, time_identifier, geographic_level``,
the geography codes and names) and then filter columns (text, e.g. ``category``,
``population_type``) and indicator columns (numbers, or a suppression symbol). Columns are
matched by name whatever their order, with or without a UTF-8 BOM. The file is kept whole,
as one long table: one row per file row and indicator column, with the number, or a missing
value and the reason it is missing. Which of those figures feed the warehouse's measures is
decided in ``sql/core/observations.sql``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from expectations.partner_returns import Problem
from scorecard.ingest.reader import TEXT_SUFFIXES, UnreadableFile, header_row, read_published_csv
from scorecard.model.periods import academic_year, financial_year

# Suppression and missing-value symbols: missing values with a reason, never zero.
SUPPRESSION_REASONS = {
    "c": "c: confidential (1 to 5, suppressed)",
    "x": "x: not available",
    "z": "z: not applicable",
    "low": "low: rounds to 0",
    "k": "k: rounds to 0",
    "u": "u: low reliability",
    ":": ":: not available (legacy symbol)",
    "~": "~: rounds to 0 (legacy symbol)",
}
GEOGRAPHY_COLUMNS = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name",
                     "region_code", "region_name", "old_la_code", "new_la_code", "la_name")
REQUIRED_COLUMNS = ("time_period", "time_identifier", "geographic_level")
GEOGRAPHIC_LEVELS = ("National", "Regional", "Local authority")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

# Which published dataset a file is, by the indicator columns it carries (first match wins).
DATASETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("c1_referrals", ("referral_count", "rereferral_count")),
    ("d3_repeat_plans", ("cpp_start", "cpp_subsequent")),
    ("d5_plans_by_duration", ("cpp_at31",)),
    ("cla_numbers", ("children_count", "population_type")),
    ("absence_social_care", ("t_pupils_pa_10_exact",)),
    ("b1_children_in_need", ("anypoint_child", "at31_episodes")),
    ("c3_assessment_factors", ("episodes_with_assessment_factor",)),
    ("ons_population", ("age_group", "population_estimate")),
)


@dataclass(frozen=True)
class EesFile:
    dataset: str
    frame: pl.DataFrame  # the long table, see ``read_ees``
    problems: list[Problem]


def _header(path: Path) -> list[str]:
    return [c.strip().lower() for c in header_row(path)]


def recognise_ees(path: Path) -> str | None:
    """The EES dataset a CSV holds, judged by its header row; None when it is not EES."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        return None
    try:
        header = set(_header(path))
    except (OSError, UnreadableFile):
        return None
    if not set(REQUIRED_COLUMNS) <= header:
        return None
    return next((name for name, signature in DATASETS if set(signature) <= header), "ees_other")


def _period(time_period: str, identifier: str):
    """EES ``time_period``: 4 digits = year to 31 March ("Reporting year"), 6 = academic/financial year."""
    if re.fullmatch(r"\d{4}", time_period):
        return financial_year(int(time_period) - 1)
    if re.fullmatch(r"\d{6}", time_period) and int(time_period[4:]) == (int(time_period[:4]) + 1) % 100:
        start = int(time_period[:4])
        return academic_year(start) if identifier.lower().startswith("academic") else financial_year(start)
    return None


def read_ees(path: Path, display_path: str) -> EesFile:
    """A published EES CSV as one long, typed table, and the rows that cannot be read."""
    dataset = recognise_ees(path) or "ees_other"
    text = read_published_csv(path)
    text = text.rename({c: c.lstrip("\ufeff").strip().lower() for c in text.columns})
    text = text.with_columns(pl.all().str.strip_chars().replace("", None)).with_row_index("source_row", offset=2)
    text = text.with_columns(pl.col("source_row").cast(pl.Int64))
    for column in GEOGRAPHY_COLUMNS:
        if column not in text.columns:
            text = text.with_columns(pl.lit(None, dtype=pl.String).alias(column))

    others = [c for c in text.columns if c not in GEOGRAPHY_COLUMNS and c != "source_row"]
    # A column whose every cell is a number or a suppression symbol holds figures; others are filters.
    all_figures = text.select(
        (pl.col(c).str.contains(_NUMBER.pattern) | pl.col(c).is_in(list(SUPPRESSION_REASONS))).fill_null(True).all()
        for c in others).row(0)
    figure_columns = [c for c, figures in zip(others, all_figures) if figures]
    filter_columns = sorted(c for c in others if c not in figure_columns)  # sorted: stable text to match on

    problems: list[Problem] = []

    def refuse(rows: pl.DataFrame, column: str, rule: str) -> None:
        for row in rows.iter_rows(named=True):
            problems.append(Problem(display_path, None, row["source_row"], column, row[column], rule))

    refuse(text.filter(~pl.col("geographic_level").is_in(GEOGRAPHIC_LEVELS) | pl.col("geographic_level").is_null()),
           "geographic_level", f"it must be one of {', '.join(GEOGRAPHIC_LEVELS)}")
    periods = {tp: _period(tp or "", ti or "")
               for tp, ti in text.select("time_period", "time_identifier").unique().iter_rows()}
    refuse(text.filter(pl.col("time_period").map_elements(lambda v: periods.get(v) is None, return_dtype=pl.Boolean)),
           "time_period", "it must be 4 digits (2015: the year to 31 March 2015) or 6 (201516: 2015/16)")
    refuse(text.filter((pl.col("geographic_level") == "Local authority") & pl.col("new_la_code").is_null()),
           "new_la_code", "a local authority row needs its ONS code")

    area_code = (pl.when(pl.col("geographic_level") == "National").then(pl.col("country_code"))
                 .when(pl.col("geographic_level") == "Regional").then(pl.col("region_code"))
                 .otherwise(pl.col("new_la_code")))
    area_name = (pl.when(pl.col("geographic_level") == "National").then(pl.col("country_name"))
                 .when(pl.col("geographic_level") == "Regional").then(pl.col("region_name"))
                 .otherwise(pl.col("la_name")))
    filters = (pl.concat_str([pl.lit(f"{c}=") + pl.col(c).fill_null("") for c in filter_columns], separator="; ")
               if filter_columns else pl.lit(""))
    period_of = {tp: p for tp, p in periods.items() if p is not None}
    frame = (
        text.filter(pl.col("time_period").is_in(list(period_of)) & pl.col("geographic_level").is_in(GEOGRAPHIC_LEVELS))
        .with_columns(area_code=area_code, area_name=area_name, filters=filters)
        .unpivot(index=["source_row", "time_period", "time_identifier", "geographic_level", "area_code",
                        "area_name", "region_code", "region_name", "old_la_code", "filters"],
                 on=sorted(figure_columns), variable_name="indicator", value_name="value_text")
        .with_columns(
            dataset=pl.lit(dataset), source_file=pl.lit(display_path),
            value=pl.when(pl.col("value_text").str.contains(_NUMBER.pattern))
                    .then(pl.col("value_text").cast(pl.Float64, strict=False)),
            value_note=pl.col("value_text").replace_strict(SUPPRESSION_REASONS, default=None),
            period_type=pl.col("time_period").replace_strict({k: p.period_type for k, p in period_of.items()}),
            period_label=pl.col("time_period").replace_strict({k: p.label for k, p in period_of.items()}),
            period_start=pl.col("time_period").replace_strict({k: p.start for k, p in period_of.items()},
                                                              return_dtype=pl.Date),
            period_end=pl.col("time_period").replace_strict({k: p.end for k, p in period_of.items()},
                                                            return_dtype=pl.Date),
        )
        .filter(pl.col("area_code").is_not_null())
    )
    return EesFile(dataset, frame.select(EES_COLUMNS), problems)


EES_COLUMNS = ["dataset", "source_file", "source_row", "time_period", "time_identifier", "period_type",
               "period_label", "period_start", "period_end", "geographic_level", "area_code", "area_name",
               "region_code", "region_name", "old_la_code", "filters", "indicator", "value_text", "value",
               "value_note"]
