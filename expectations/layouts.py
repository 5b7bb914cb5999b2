"""The partner-return layouts: what an agency sends, column by column.

Each layout is one entry here. Recognition (by header row), reading, the pandera schema,
the raw table, the conforming SQL (``sql/core/obs_<layout>.sql``) and the documentation in
``docs/layouts.md`` all come from this one registry, so a new source is one new entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from scorecard.model.periods import PeriodType

# "measure": a measure name (lower case, digits, _); "label": any text (the local measures return).
ColumnKind = Literal["area_code", "period", "count", "category", "measure", "label"]

CPP_CATEGORIES = ("Neglect", "Emotional abuse", "Physical abuse", "Sexual abuse", "Multiple")
EARLY_HELP_AGENCIES = (
    "Early help service", "School", "Health visiting", "School nursing", "GP and health",
    "Police", "Housing", "Voluntary sector", "Children's centre", "Other",
)


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    description: str
    allowed: tuple[str, ...] = ()
    # Other headers agencies write for this column (already normalised, see normalise_header).
    aliases: tuple[str, ...] = ()

    @property
    def header_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Layout:
    name: str
    family: str
    title: str
    description: str
    columns: tuple[Column, ...]
    period_types: tuple[PeriodType, ...]
    # (part, whole): the part may never be larger than the whole on the same row.
    not_above: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def period_column(self) -> str:
        return next(c.name for c in self.columns if c.kind == "period")

    @property
    def count_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "count")

    @property
    def unique_key_columns(self) -> tuple[str, ...]:
        """The typed columns that identify a row: one per area, period and category."""
        return ("area_code", "period_type", "period_start", "period_end",
                *(c.name for c in self.columns if c.kind in ("category", "measure", "label")))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def match_headers(self, headers: list[str]) -> dict[str, str] | None:
        """{header as written: column name} when every column is present, else None."""
        found = {}
        for column in self.columns:
            header = next((h for h in headers if h in column.header_names), None)
            if header is None:
                return None
            found[header] = column.name
        return found

    def missing_columns(self, headers: list[str]) -> list[str]:
        return [c.name for c in self.columns if not set(c.header_names) & set(headers)]


def _area() -> Column:
    return Column("area_code", "area_code",
                  "ONS code of the local authority (e.g. E06000057), one of the areas in the strategy files")


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        name="cpp_by_category",
        family="CPP categories",
        title="Child protection plans by category of abuse",
        description="Children's social care: plans open at the end of each period by latest "
                    "category, and plans started in each period by initial category.",
        columns=(
            _area(),
            Column("period", "period", "The month or financial year the row covers"),
            Column("plan_status", "category", "Which plans are counted",
                   ("Open at period end", "Started in period")),
            Column("category", "category", "Latest category (open plans) or initial category "
                   "(plans started)", CPP_CATEGORIES),
            Column("children", "count", "Number of children"),
        ),
        period_types=("month", "financial_year"),
    ),
    Layout(
        name="cpp_repeat_plans",
        family="repeat plans",
        title="Second or subsequent child protection plans",
        description="Children's social care: plans started in the period, and how many of them "
                    "are a second or subsequent plan for the child, however long ago the last one.",
        columns=(
            _area(),
            Column("period", "period", "The month or financial year the row covers"),
            Column("category_group", "category", "All plans, or plans started under neglect",
                   ("All categories", "Neglect")),
            Column("plans_started", "count", "Plans started in the period"),
            Column("second_or_subsequent_plans", "count",
                   "Of those, plans that are the child's second or subsequent plan"),
        ),
        period_types=("month", "financial_year"),
        not_above=(("second_or_subsequent_plans", "plans_started"),),
    ),
    Layout(
        name="referrals",
        family="repeat referrals",
        title="Referrals to children's social care",
        description="Children's social care front door: referrals received, re-referrals "
                    "within 12 calendar months of the child's previous referral, and referrals "
                    "tagged neglect.",
        columns=(
            _area(),
            Column("period", "period", "The month or financial year the row covers"),
            Column("referrals", "count", "Referrals received in the period"),
            Column("rereferrals_within_12_months", "count",
                   "Referrals within 12 calendar months of the same child's previous referral",
                   aliases=("re_referrals_within_12_months",)),
            Column("referrals_neglect", "count", "Referrals where neglect is the presenting concern",
                   aliases=("neglect_referrals",)),
        ),
        period_types=("month", "financial_year"),
        not_above=(("rereferrals_within_12_months", "referrals"), ("referrals_neglect", "referrals")),
    ),
    Layout(
        name="persistent_absence",
        family="persistent absence",
        title="Persistent absence from school",
        description="Education: pupils, and pupils missing 10% or more of their own possible "
                    "sessions, per academic year.",
        columns=(
            _area(),
            Column("academic_year", "period", "The academic year (September to August)"),
            Column("pupils", "count", "Pupils on roll with possible sessions"),
            Column("persistently_absent_pupils", "count",
                   "Pupils missing 10% or more of their own possible sessions"),
        ),
        period_types=("academic_year",),
        not_above=(("persistently_absent_pupils", "pupils"),),
    ),
    Layout(
        name="looked_after_children",
        family="LAC counts",
        title="Children looked after",
        description="Children's social care: children looked after on the snapshot date "
                    "(31 March for the national return), and the ONS mid-year estimate of "
                    "children aged 0-17 used for the rate.",
        columns=(
            _area(),
            Column("snapshot_date", "period", "The date the children are counted on"),
            Column("children_looked_after", "count", "Children looked after on that date"),
            Column("population_aged_0_17", "count", "ONS mid-year estimate of children aged 0 to 17",
                   aliases=("population_0_17", "children_aged_0_to_17")),
        ),
        period_types=("date",),
        not_above=(("children_looked_after", "population_aged_0_17"),),
    ),
    Layout(
        name="early_help_assessments",
        family="EHA/CAF volumes",
        title="Early help assessments (EHA, formerly CAF) by agency",
        description="Early help: assessments started each month by the organisation completing "
                    "them, and how many of those record neglect as a concern.",
        columns=(
            _area(),
            Column("month", "period", "The month the assessments started in"),
            Column("agency", "category", "Organisation completing the assessment", EARLY_HELP_AGENCIES),
            Column("assessments_started", "count", "Early help assessments started"),
            Column("assessments_started_neglect", "count", "Of those, assessments where neglect is a concern"),
        ),
        period_types=("month",),
        not_above=(("assessments_started_neglect", "assessments_started"),),
    ),
    Layout(
        name="hub_referrals",
        family="hub referrals",
        title="Neglect referrals at the early help hubs and front door",
        description="Front door / MASH log summary: referrals tagged neglect, and how many of "
                    "them were dealt with by the early help hubs rather than stepped up to "
                    "social work teams.",
        columns=(
            _area(),
            Column("period", "period", "The month or financial year the row covers"),
            Column("neglect_referrals", "count", "Referrals tagged neglect"),
            Column("neglect_referrals_handled_by_hub", "count",
                   "Of those, referrals dealt with by the early help hubs"),
        ),
        period_types=("month", "financial_year"),
        not_above=(("neglect_referrals_handled_by_hub", "neglect_referrals"),),
    ),
    Layout(
        name="hub_all_referrals",
        family="hub referrals",
        title="All referrals to the early help hubs and front door",
        description="Front door / MASH log summary: every referral received, whatever its concern "
                    "(the strategies state hub volumes, e.g. Northumberland's 1,147 in October "
                    "2016 to March 2017).",
        columns=(
            _area(),
            Column("period", "period", "The month or financial year the row covers"),
            Column("hub_referrals", "count", "Referrals received by the hubs / front door"),
        ),
        period_types=("month", "financial_year"),
    ),
    Layout(
        name="local_measures",
        family="local measures",
        title="Local measures (any agency, one long table)",
        description="Any count a partnership tracks that no other layout holds, one row per area, "
                    "period, measure and breakdown. A measure named here and in an indicator file "
                    "(data/raw/indicators/<id>.yaml) is all an indicator needs; the indicator file says "
                    "whether it is a flow (summed over a period) or a stock (at its end). Loaded into "
                    "core.observations as source local_return.",
        columns=(
            _area(),
            Column("period", "period", "The month, financial year or snapshot date the row covers"),
            Column("measure", "measure", "What is counted, as the indicator files name it (e.g. school_nurse_visits)"),
            Column("breakdown", "label", "Which part of it (an agency, a category), or All for the total"),
            Column("count", "count", "The count"),
        ),
        period_types=("month", "financial_year", "date"),
    ),
)

LAYOUTS_BY_NAME = {layout.name: layout for layout in LAYOUTS}


def normalise_header(text: object) -> str:
    """Header cell -> column name: case, spacing, non-breaking spaces and punctuation ignored."""
    return re.sub(r"[^0-9a-z]+", "_", str(text or "").replace("\xa0", " ").lower()).strip("_")


def normalise_category(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip().casefold()
