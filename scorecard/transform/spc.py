"""``marts.spc`` and ``core.spc_summary``: XmR charts (Making Data Count) of each partnership
area's monthly series, and the variation and assurance icons of each."""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from scorecard.load.warehouse import replace_table
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.model.statistics import xmr
from scorecard.transform.marts_tables import write_mart

SPC_MONTHS = 24  # the window Making Data Count charts usually show: two years of months
RULE_NAMES = {"outside_limits": "outside limits", "run": "run of 7", "trend": "trend of 7",
              "two_of_three": "2 of 3 near a limit"}
SERIES_SQL = f"""
    select values.partnership, values.area_code, values.indicator_id, values.period_label,
        values.period_end, values.value, indicators.polarity, targets.target_value
    from marts.indicator_values as values
    inner join marts.indicators as indicators using (indicator_id)
    left join marts.targets as targets using (indicator_id, area_code)
    where values.partnership is not null and values.period_type = 'month'
    qualify row_number() over (partition by values.indicator_id, values.area_code
                               order by values.period_end desc) <= {SPC_MONTHS}
    order by values.indicator_id, values.area_code, values.period_end
"""


def build_spc(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild both tables; rows written to each."""
    series = conn.execute(SERIES_SQL).pl()
    points, summaries = [], []
    for (indicator_id, area_code), group in series.group_by(["indicator_id", "area_code"], maintain_order=True):
        improvement = "decrease" if group["polarity"][0] == "lower_is_better" else "increase"
        result = xmr(group["value"].cast(pl.Float64).fill_null(np.nan).to_numpy(), improvement,
                     target=group["target_value"][0])
        chart = result.to_polars()
        rules = [", ".join(label for flag, label in RULE_NAMES.items() if row[flag]) or None
                 for row in chart.iter_rows(named=True)]
        points.append(group.select("partnership", "area_code", "indicator_id", "period_label", "period_end",
                                   "value").with_columns(
            mean=chart["mean"], lower_limit=chart["lower"], upper_limit=chart["upper"],
            trial_limits=chart["limits_are_trial"], special_cause=chart["special_cause"],
            special_cause_rules=pl.Series(rules, dtype=pl.String),
            special_cause_direction=chart["direction"]).with_columns(
            pl.col("mean", "lower_limit", "upper_limit").fill_nan(None)))
        summaries.append({"indicator_id": indicator_id, "area_code": area_code,
                          "variation": result.variation, "assurance": result.assurance})
    frame = (pl.concat(points) if points
             else pl.DataFrame(schema={c: pl.String for c in MARTS_BY_NAME["marts.spc"].columns}))
    summary = pl.DataFrame(summaries, schema={"indicator_id": pl.String, "area_code": pl.String,
                                              "variation": pl.String, "assurance": pl.String})
    return {"marts.spc": write_mart(conn, "marts.spc", frame),
            "core.spc_summary": replace_table(conn, "core", "spc_summary", summary)}
