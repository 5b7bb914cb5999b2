"""The analyst-facing tables: names, descriptions and column meanings.

This is the warehouse contract. The same text becomes ``COMMENT ON`` in DuckDB and the
column list in docs/warehouse.md; tests fail when a mart's columns drift from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MartTable:
    name: str
    description: str
    columns: dict[str, str]


_AREA = {
    "area_code": "ONS code of the local authority, e.g. E06000057 (Northumberland)",
    "area_name": "Name of the local authority",
    "partnership": "Safeguarding children partnership id, as in data/raw/strategies/<id>.yaml",
}
_PERIOD = {
    "period_type": "month, financial_year (April-March), academic_year (September-August), quarter "
                   "(of the financial year), year_to_date (April to the month named), rolling_12_months "
                   "or rolling_6_months (the months to the one named); from OHID Fingertips also "
                   "calendar_year and pooled_years (e.g. 2017/18 - 19/20)",
    "period_label": 'The period as people write it: "2017-09", "2016/17", "2025/26 Q2", "2025/26 Apr-Sep", '
                    '"12 months to Sep 2025"',
    "period_start": "First day of the period",
    "period_end": "Last day of the period (the snapshot date for counts at period end)",
}

_VALUE_COLUMNS = {
    "indicator_id": "Indicator id (marts.indicators)",
    "area_code": "ONS code of the area: a local authority (E06000057), a region (E12000001) or England (E92000001)",
    "area_name": "Name of the area",
    "area_type": "local_authority, region or england",
    "partnership": "Partnership id for the partnerships' authorities; null for benchmark areas",
    **_PERIOD,
    "numerator": "Count the value is made from (for counts, the count itself)",
    "denominator": "Count the numerator is divided by; null for counts",
    "value": "The indicator value in its unit (percentages 0-100); null when a part is missing",
    "value_note": "Why a value is missing, e.g. 'c: confidential (1 to 5, suppressed)'",
    "source": "partner_return, record_level, dfe_published, local_return or fingertips (core.sources)",
    "ci95_low": "Lower 95% confidence limit (Wilson score for percentages; Byar, exact under 10, for counts and rates)",
    "ci95_high": "Upper 95% confidence limit",
    "ci998_low": "Lower 99.8% confidence limit",
    "ci998_high": "Upper 99.8% confidence limit",
}

MARTS: tuple[MartTable, ...] = (
    MartTable("marts.indicators", "The indicator catalogue: one row per indicator id.", {
        "indicator_id": "Stable id of the indicator, e.g. rereferral_pct",
        "name": "Short name for tables and charts",
        "family": "Indicator family (CPP categories, repeat plans, repeat referrals, ...)",
        "unit": "Unit of value: %, children, per 10,000, per month, assessments",
        "polarity": "lower_is_better or higher_is_better",
        "definition": "Numerator and denominator in words",
        "source": "Where the figures come from",
        "headline_period_type": "The series the scorecard reports: financial_year, academic_year or month",
        "fingertips_id": "The OHID Fingertips indicator whose published values it shows, if any",
        "partnerships": "The partnerships whose scorecards show it (a partnership's own indicator); null: every one",
    }),
    MartTable("marts.indicator_values",
              "One row per indicator, area and period: the figure of the first source (in precedence "
              "order, see core.sources) that has a value.", _VALUE_COLUMNS),
    MartTable("marts.indicator_values_by_source",
              "Every source's figure for every indicator, area and period.",
              {**_VALUE_COLUMNS, "precedence": "The source's place in the order of precedence (1 first)"}),
    MartTable("marts.source_disagreements",
              "Indicator values on which two sources differ by more than 0.05 (rounding to one decimal).", {
                  "indicator_id": "Indicator id (marts.indicators)",
                  "area_code": _AREA["area_code"],
                  "area_name": _AREA["area_name"],
                  "period_type": _PERIOD["period_type"],
                  "period_label": _PERIOD["period_label"],
                  "source": "The source shown in marts.indicator_values (higher precedence)",
                  "value": "Its value",
                  "other_source": "The other source",
                  "other_value": "The other source's value",
                  "difference": "value - other_value",
              }),
    MartTable("marts.published_value_checks",
              "Each percentage or rate the DfE publishes beside its counts, against the warehouse's "
              "recomputation from those counts.", {
                  "indicator_id": "Indicator id the published figure corresponds to",
                  "area_code": _AREA["area_code"],
                  "period_label": _PERIOD["period_label"],
                  "published_value": "The value as published",
                  "recomputed_value": "The value the warehouse computes from the published counts",
                  "difference": "recomputed_value - published_value",
                  "agrees": "True when within half a unit of the last decimal the DfE printed",
                  "source_file": "The published file",
              }),
    MartTable("marts.targets", "Strategy targets resolved to figures, per partnership, area and indicator.", {
        "partnership": _AREA["partnership"],
        "area_code": _AREA["area_code"],
        "indicator_id": "Indicator id (marts.indicators)",
        "baseline_period": "Period of the baseline, on the indicator's headline series",
        "baseline_date": "Last day of the baseline period: where the trajectory starts",
        "baseline_value": "Baseline value: as the strategy states it, or else the indicator's value then",
        "baseline_stated": "True when the strategy file states the baseline value",
        "target_value": "Value to reach by target_date",
        "target_change_pct": "The target as a % change on the baseline, when the strategy gives it so",
        "target_date": "When the target is due",
        "amber_tolerance_pct": "How far (% of the trajectory value) the wrong side of the trajectory is still amber",
        "illustrative": "True when the strategy states no figure and the target is only illustrative",
        "note": "Note to show with the indicator, e.g. a rise is expected at first",
        "source": "Where in the strategy the figure comes from",
    }),
    MartTable("marts.trajectories",
              "The path each strategy sets: baseline, milestones and target as dated points; straight "
              "lines between them, and the target after its date.", {
                  "partnership": _AREA["partnership"],
                  "area_code": _AREA["area_code"],
                  "indicator_id": "Indicator id (marts.indicators)",
                  "due": "Date of the point",
                  "value": "Value the strategy sets for that date",
                  "point": "baseline, milestone or target",
              }),
    MartTable("marts.milestones",
              "Each milestone a strategy sets on a named period, judged on that period's figure.", {
                  "partnership": _AREA["partnership"],
                  "area_code": _AREA["area_code"],
                  "indicator_id": "Indicator id (marts.indicators)",
                  "period_type": _PERIOD["period_type"],
                  "period_label": _PERIOD["period_label"],
                  "period_end": _PERIOD["period_end"],
                  "milestone_value": "The value the strategy sets for the period (at least, or at most, by polarity)",
                  "value": "The indicator's value for the period; null when it has none",
                  "status": "met, missed, or no data",
              }),
    MartTable("marts.reported_figures",
              "Every figure each committee report showed, as it showed it: the record kept beside the "
              "warehouse (reported_figures.csv), which no build rewrites.", {
                  "partnership": _AREA["partnership"],
                  "as_at": "The date the report was written as at (its latest quarter ends on or before it)",
                  "indicator_id": "Indicator id (marts.indicators)",
                  "area_code": _AREA["area_code"],
                  "period_type": _PERIOD["period_type"],
                  "period_label": _PERIOD["period_label"],
                  "value": "The value the report showed (before disclosure control)",
                  "rag": "The RAG the report showed: green, amber, red, no target or no data",
                  "report_file": "The report's file name",
                  "reported_at": "When the report was written (UTC)",
              }),
    MartTable("marts.revisions",
              "Figures a committee report showed that have changed since (late recording, corrected "
              "returns): the value last reported beside the value now.", {
                  "partnership": _AREA["partnership"],
                  "as_at": "The as-at date of the report that last showed it",
                  "indicator_id": "Indicator id (marts.indicators)",
                  "area_code": _AREA["area_code"],
                  "period_type": _PERIOD["period_type"],
                  "period_label": _PERIOD["period_label"],
                  "reported_value": "The value that report showed",
                  "current_value": "The value now; null when there is none now",
                  "difference": "current_value - reported_value",
                  "report_file": "The report's file name",
                  "reported_at": "When that report was written (UTC)",
              }),
    MartTable("marts.scorecard", "The latest position per partnership, area and indicator.", {
        "partnership": _AREA["partnership"],
        "area_code": _AREA["area_code"],
        "area_name": _AREA["area_name"],
        "indicator_id": "Indicator id (marts.indicators)",
        "period_label": "Latest period with a value on the headline series",
        "period_end": "Last day of that period",
        "value": "Latest value",
        "source": "Source of the latest value",
        "previous_period_label": "The period before it on the headline series",
        "previous_value": "Value in the previous period",
        "change": "value - previous_value",
        "direction_of_travel": "improving, worsening or no change, by polarity; null with no previous value",
        "baseline_period": "Baseline period from the strategy",
        "baseline_value": "Baseline value (marts.targets)",
        "target_value": "Target value (marts.targets)",
        "target_date": "When the target is due",
        "trajectory_value": "Where the strategy's path (marts.trajectories) stands at period_end",
        "target_illustrative": "True when the target is illustrative, not stated by the strategy",
        "rag": "green (on or better than the trajectory), amber (within tolerance), red, no target, or no data",
        "note": "Note from the strategy file",
        "stale_reason": "Set when the figure rests on a quarantined file's last good version: which file and why",
        "variation": "SPC variation icon for the monthly series: common cause, special cause improvement, "
                     "special cause concern; null without a monthly series",
        "assurance": "SPC assurance against the target: consistently pass, consistently fail, hit and miss; "
                     "null without a target or series",
        "england_value": "England's value for the same period",
        "vs_england": "Fingertips method 1: better, similar or worse than England (by the area's 95% CI), "
                      "or not compared",
        "neighbours_median": "Median of the statistical neighbours' values for the same period",
        "vs_neighbours": "better, similar or worse than the neighbours' median, or not compared",
    }),
    MartTable("marts.benchmarks",
              "Each partnership area's headline values beside England, its region and its ten statistical "
              "neighbours (DfE model), compared by Fingertips method 1.", {
                  "partnership": _AREA["partnership"],
                  "area_code": _AREA["area_code"],
                  "area_name": _AREA["area_name"],
                  "indicator_id": "Indicator id (marts.indicators)",
                  "period_label": _PERIOD["period_label"],
                  "period_end": _PERIOD["period_end"],
                  "value": "The area's value",
                  "ci95_low": "Lower 95% confidence limit of the area's value",
                  "ci95_high": "Upper 95% confidence limit of the area's value",
                  "england_value": "England's value",
                  "region_code": "ONS code of the area's region",
                  "region_value": "The region's value",
                  "neighbours_median": "Median of the neighbours' values (those with a value)",
                  "neighbours_with_value": "How many of the ten neighbours have a value",
                  "rank_among_neighbours": "The area's rank among itself and its neighbours with a value, "
                                           "1 = best by polarity",
                  "vs_england": "better, similar, worse or not compared",
                  "vs_region": "better, similar, worse or not compared",
                  "vs_neighbours": "better, similar, worse or not compared (against the neighbours' median)",
              }),
    MartTable("marts.spc",
              "Statistical process control (Making Data Count) of each partnership area's series over its "
              "last 24 points: an XmR chart of monthly values (a rolling average's monthly counts instead "
              "of the average), a run chart of yearly points for a stock counted once a year. One row per "
              "point.", {
                  "partnership": _AREA["partnership"],
                  "area_code": _AREA["area_code"],
                  "indicator_id": "Indicator id (marts.indicators)",
                  "period_label": _PERIOD["period_label"],
                  "period_end": _PERIOD["period_end"],
                  "value": "The value",
                  "mean": "Centre line: mean of the series (XmR chart) or its median (run chart)",
                  "lower_limit": "Lower process limit: mean - 2.66 x mean moving range",
                  "upper_limit": "Upper process limit: mean + 2.66 x mean moving range",
                  "trial_limits": "True with fewer than 12 points: the limits are trial limits",
                  "special_cause": "True when any of the four rules flags the point",
                  "special_cause_rules": "Which rules: outside limits, run of 7, trend of 7, 2 of 3 near a limit "
                                         "(XmR); shift of 6, trend of 5 (run chart)",
                  "special_cause_direction": "improvement, concern or neither",
                  "chart": "xmr (process limits) or run (median only)",
                  "series": "What the points are, in words (e.g. monthly counts instead of a rolling average)",
                  "target_value": "The strategy's target on the charted series' scale (an annual count target "
                                  "divided by 12 for monthly points); null without a target",
                  "target_basis": "How the target was put on that scale, when it was; null when compared as set",
                  "value_unit": "The unit of value: the indicator's, or count when the chart runs on a measure's "
                                "monthly counts (disclosure control treats it as a count)",
              }),
    MartTable("marts.contributory_factors",
              "Factors identified at the end of assessment (DfE c3): neglect beside domestic abuse, mental "
              "health and substance misuse, per partnership area and England.", {
                  "area_code": "ONS code of the area (a partnership authority or England)",
                  "area_name": "Name of the area",
                  "partnership": "Partnership id; null for England",
                  "period_label": _PERIOD["period_label"],
                  "factor": "Factor identified at the end of assessment",
                  "episodes": "Episodes with the factor",
                  "episodes_with_factors": "Episodes with any assessment factor recorded",
                  "pct": "Episodes with the factor as a % of episodes with any factor",
              }),
    MartTable("marts.eha_neglect_by_agency", "Early help assessments per agency, area and period.", {
        "partnership": _AREA["partnership"],
        "area_code": _AREA["area_code"],
        "area_name": _AREA["area_name"],
        "agency": "Organisation completing the assessment",
        "source": "partner_return or record_level",
        **_PERIOD,
        "assessments_started": "Early help assessments started",
        "assessments_started_neglect": "Of those, assessments where neglect is a concern",
    }),
    MartTable("marts.indicator_breakdowns",
              "A count indicator split by the breakdown its measure comes in (e.g. early help assessments "
              "completed per agency), per partnership area and headline period.", {
                  "indicator_id": "Indicator id (marts.indicators)",
                  "partnership": _AREA["partnership"],
                  "area_code": _AREA["area_code"],
                  "area_name": _AREA["area_name"],
                  "source": "The source marts.indicator_values shows for the indicator and area",
                  **_PERIOD,
                  "breakdown": "The part counted: an agency, a team, a category",
                  "count": "Its count; null when a month of it is suppressed or missing",
              }),
    MartTable("marts.unmapped_values",
              "Values the data team's vocabulary (data/raw/vocabulary/*.csv) does not place, each once: they "
              "load as written (an organisation in agency group Unmapped) until a line maps them.", {
                  "vocabulary": "The vocabulary file a line would go in, e.g. organisations",
                  "value": "The value as written in the files (trimmed)",
                  "rows": "Rows holding it",
                  "files": "The files holding it (paths under the raw folder, separated by '; ')",
              }),
)

MARTS_BY_NAME = {mart.name: mart for mart in MARTS}
