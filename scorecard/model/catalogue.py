"""The indicator catalogue: ids are part of the warehouse contract (``marts.indicators``).

Each indicator is one entry here and one SQL file, ``sql/indicators/<id>.sql``, deriving it
from ``core.observation_periods``. Everything downstream is generic over this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scorecard.model.periods import PeriodType

Polarity = Literal["lower_is_better", "higher_is_better"]


@dataclass(frozen=True)
class Indicator:
    indicator_id: str
    name: str
    family: str
    unit: str
    polarity: Polarity
    definition: str
    source: str
    # The core.observations measures it is computed from (sql/indicators/<id>.sql), so a
    # figure resting on a quarantined file can be marked stale.
    measures: tuple[str, ...] = ()
    headline_period_type: PeriodType = "financial_year"
    # The series its SPC chart runs on (DOMAIN.md "Statistical process control: which series"):
    # the period of its points (a stock counted once a year is charted yearly), and a measure
    # whose monthly counts are charted instead of its own value when that value is not
    # independent from month to month (a rolling average).
    spc_period_type: PeriodType = "month"
    spc_measure: str | None = None
    # A count at the period's end (children looked after), not summed over the period: its
    # figure for a quarter is not a quarter of its year's.
    stock: bool = False

    @property
    def interval_method(self) -> tuple[str, float]:
        """How its confidence interval is made, and the multiplier from numerator/denominator to value:
        Wilson for a percentage, Byar on the count for counts and rates (scorecard.model.statistics)."""
        return {"%": ("proportion", 100.0), "per 10,000": ("rate", 10_000.0),
                "per month": ("rate", 1.0)}.get(self.unit, ("count", 1.0))

    @property
    def comparable_between_areas(self) -> bool:
        """Percentages and rates can be set beside England or neighbours; raw counts cannot."""
        return self.unit in {"%", "per 10,000"}

    @property
    def example_period(self) -> str:
        return {"financial_year": "2016/17", "academic_year": "2015/16", "month": "2017-09"}[
            self.headline_period_type]


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "cpp_neglect_pct", "Child protection plans under neglect", "CPP categories", "%",
        "lower_is_better",
        "Children on a child protection plan at the end of the period whose latest category of "
        "abuse is neglect, as a % of all children on a plan then.",
        "Partner return cpp_by_category (open at period end); CIN census LatestCategoryOfAbuse",
        measures=('cpp_open',),
    ),
    Indicator(
        "cpp_neglect_start_pct", "Plans starting under neglect", "CPP categories", "%",
        "lower_is_better",
        "Child protection plans starting in the period with initial category neglect, as a % "
        "of all plans starting in the period.",
        "Partner return cpp_by_category (started in period); CIN census InitialCategoryOfAbuse",
        measures=('cpp_started',),
    ),
    Indicator(
        "cpp_repeat_pct", "Repeat child protection plans", "repeat plans", "%", "lower_is_better",
        "Child protection plans starting in the period that are the child's second or "
        "subsequent plan, however long ago the previous one, as a % of all plans starting.",
        "Partner return cpp_repeat_plans; EES d3 CPP_subsequent_percent",
        measures=('cpp_repeat_started', 'cpp_repeat_subsequent'),
    ),
    Indicator(
        "cpp_repeat_neglect_pct", "Repeat plans under neglect", "repeat plans", "%",
        "lower_is_better",
        "Child protection plans starting in the period under neglect that are a second or "
        "subsequent plan, as a % of plans starting in the period under neglect.",
        "Partner return cpp_repeat_plans (neglect)",
        measures=('cpp_repeat_started', 'cpp_repeat_subsequent'),
    ),
    Indicator(
        "rereferral_pct", "Re-referrals within 12 months", "repeat referrals", "%",
        "lower_is_better",
        "Referrals in the period within 12 calendar months of the same child's previous "
        "referral, as a % of referrals in the period.",
        "Partner return referrals; EES c1 rereferral_percent",
        measures=('referrals', 'rereferrals'),
    ),
    Indicator(
        "referral_neglect_pct", "Referrals tagged neglect", "repeat referrals", "%",
        "lower_is_better",
        "Referrals to children's social care tagged neglect, as a % of all referrals in the period.",
        "Partner return referrals",
        measures=('referrals', 'referrals_neglect'),
    ),
    Indicator(
        "persistent_absence_pct", "Persistent absence", "persistent absence", "%",
        "lower_is_better",
        "Pupils missing 10% or more of their own possible sessions, as a % of pupils, per "
        "academic year.",
        "Partner return persistent_absence; EES absence pt_pupils_pa_10_exact",
        measures=('pupils', 'pupils_persistently_absent'),
        headline_period_type="academic_year",
    ),
    Indicator(
        "lac_count", "Children looked after", "LAC counts", "children", "lower_is_better",
        "Children looked after at the end of the period (31 March for a financial year).",
        "Partner return looked_after_children; EES cla_number_and_rate_per_10k_children",
        measures=('children_looked_after',),
        spc_period_type="financial_year",
        stock=True,
    ),
    Indicator(
        "lac_rate_per_10k", "Children looked after per 10,000", "LAC counts", "per 10,000",
        "lower_is_better",
        "Children looked after at the end of the period per 10,000 children aged 0-17 (ONS "
        "mid-year estimate).",
        "Partner return looked_after_children; EES cla_number_and_rate_per_10k_children",
        measures=('children_looked_after', 'population_aged_0_17'),
        spc_period_type="financial_year",
    ),
    Indicator(
        "eha_rolling12_avg", "Early help assessments per month (rolling 12 months)",
        "EHA/CAF volumes", "per month", "higher_is_better",
        "Early help assessments started in the 12 months to the end of the month, divided by 12.",
        "Partner return early_help_assessments",
        measures=('eha_started',),
        headline_period_type="month",
        spc_measure="eha_started",
    ),
    Indicator(
        "eha_neglect_count", "Early help assessments with neglect a concern", "EHA/CAF volumes",
        "assessments", "higher_is_better",
        "Early help assessments started in the period where neglect is a concern, all agencies "
        "(per agency in marts.eha_neglect_by_agency).",
        "Partner return early_help_assessments",
        measures=('eha_started_neglect',),
    ),
    Indicator(
        "hub_neglect_handled_pct", "Neglect referrals dealt with by the hubs", "hub referrals",
        "%", "higher_is_better",
        "Referrals tagged neglect dealt with by the early help hubs, as a % of all referrals "
        "tagged neglect.",
        "Partner return hub_referrals",
        measures=('hub_neglect_referrals', 'hub_neglect_handled'),
    ),
    Indicator(
        "hub_referrals_count", "Hub referrals", "hub referrals", "referrals", "higher_is_better",
        "Referrals received by the early help hubs / front door in the period, whatever the "
        "concern (a flow: a period's figure is the sum of its months).",
        "Partner return hub_all_referrals; hub log",
        measures=('hub_referrals',),
    ),
)

INDICATORS_BY_ID = {indicator.indicator_id: indicator for indicator in INDICATORS}
