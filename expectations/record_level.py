"""The record-level tables' contract, beside the partner returns' (``expectations.layouts``): each
kind's typed columns, and the pandera schema every frame a reader gives is checked against before
it is stored. A frame that breaks it is a reader's fault, so the file is refused, not half-stored."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from expectations.layouts import CPP_CATEGORIES, EARLY_HELP_AGENCIES

UNMAPPED = "Unmapped"  # the agency group of an organisation the vocabulary does not place
HUB_OUTCOMES = ("hub", "stepped_up", "nfa")

# The typed frame of each kind, column by column (``ssda903_header`` keeps nothing).
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "annex_a_list2": {"area_code": pl.String(), "child_key": pl.Int64(), "assessment_start": pl.Date(),
                      "assessment_completed": pl.Date(), "organisation": pl.String(), "agency": pl.String(),
                      "neglect": pl.Boolean(), "source_row": pl.Int64()},
    "annex_a_list3": {"area_code": pl.String(), "child_key": pl.Int64(), "referral_date": pl.Date(),
                      "referral_nfa": pl.Boolean(), "neglect": pl.Boolean(), "source_row": pl.Int64()},
    "annex_a_list7": {"area_code": pl.String(), "child_key": pl.Int64(), "plan_start": pl.Date(),
                      "plan_end": pl.Date(), "initial_category": pl.String(), "latest_category": pl.String(),
                      "previous_plans": pl.Int64(), "return_reference_date": pl.Date(), "source_row": pl.Int64()},
    "annex_a_list8": {"area_code": pl.String(), "child_key": pl.Int64(), "date_started": pl.Date(),
                      "date_ceased": pl.Date(), "source_row": pl.Int64()},
    "ssda903_episodes": {"area_code": pl.String(), "child_key": pl.Int64(), "decom": pl.Date(),
                         "dec": pl.Date(), "source_row": pl.Int64()},
    "hub_log": {"area_code": pl.String(), "child_key": pl.Int64(), "referral_date": pl.Date(),
                "neglect": pl.Boolean(), "outcome": pl.String(), "source_row": pl.Int64()},
    # CIN census assessments (scorecard.ingest.cin_census): factors are codes such as "2B,16A"
    "cin_assessments": {"area_code": pl.String(), "child_key": pl.Int64(), "assessment_start": pl.Date(),
                        "assessment_authorised": pl.Date(), "factors": pl.String(),
                        "return_reference_date": pl.Date(), "source_row": pl.Int64()},
}
# Columns a row cannot be counted without (the readers drop a row missing one).
_REQUIRED = {"annex_a_list2": ("child_key", "assessment_start"), "annex_a_list3": ("child_key", "referral_date"),
             "annex_a_list7": ("child_key", "plan_start"), "annex_a_list8": ("child_key", "date_started"),
             "ssda903_episodes": ("child_key", "decom"), "hub_log": ("referral_date", "area_code"),
             "cin_assessments": ("child_key", "assessment_start", "assessment_authorised")}
_ALLOWED = {"initial_category": CPP_CATEGORIES, "latest_category": CPP_CATEGORIES,
            "agency": (*EARLY_HELP_AGENCIES, UNMAPPED), "outcome": HUB_OUTCOMES}
_CHECKS = {"area_code": [pa.Check.str_matches(r"^[EWSN]\d{8}$")], "source_row": [pa.Check.ge(1)],
           "previous_plans": [pa.Check.ge(0)], "factors": [pa.Check.str_matches(r"^\d{1,2}[A-Z]?(,\d{1,2}[A-Z]?)*$")],
           **{name: [pa.Check.isin(list(allowed))] for name, allowed in _ALLOWED.items()}}


def record_level_schema(kind: str) -> pa.DataFrameSchema:
    """The pandera schema of ``raw.<kind>``'s rows as a reader gives them."""
    required = _REQUIRED[kind]
    return pa.DataFrameSchema(
        {name: pa.Column(dtype, checks=_CHECKS.get(name, []), nullable=name not in required)
         for name, dtype in SCHEMAS[kind].items()}, strict=True, ordered=True)


def contract_breaches(kind: str, frame: pl.DataFrame) -> list[str]:
    """What of ``frame`` breaks the kind's schema, by column and check (never a cell's content)."""
    try:
        record_level_schema(kind).validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        return [f"column '{column}' breaks {check}" for column, check in
                cases.select(pl.col("column").fill_null("(table)"), "check").unique(maintain_order=True).iter_rows()]
    return []
