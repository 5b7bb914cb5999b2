"""Marts for committees: benchmarks (England, region, statistical neighbours), statistical
process control, contributory factors, and the scorecard that brings them together."""

import dagster as dg
import numpy as np
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.core.tables import areas
from assets.marts.tables import indicator_values, indicators, stale_figures, targets, trajectories
from assets.raw.dfe_open_data import dfe_open_data, statistical_neighbours
from assets.sql_tables import sql_table_asset
from scorecard.model.catalogue import INDICATORS
from scorecard.model.contract import MARTS_BY_NAME
from expectations.marts import validate_scorecard
from scorecard.model.statistics import compare_to_benchmark_array, xmr
from scorecard.load.warehouse import comment_on, preview_markdown, replace_table

SPC_MONTHS = 24  # the window Making Data Count charts usually show: two years of months

neighbours = sql_table_asset(
    "core", "statistical_neighbours", deps=[statistical_neighbours, dfe_open_data],
    description="Each authority's ten statistical neighbours, by ONS code (newest DfE model supplied).")

benchmark_values = sql_table_asset(
    "core", "benchmark_values", deps=[indicator_values, indicators, neighbours, dfe_open_data],
    description="Partnership areas' headline values beside England, region and neighbours (no comparisons yet).")

contributory_factors = sql_table_asset(
    "marts", "contributory_factors", deps=[areas, dfe_open_data],
    description=MARTS_BY_NAME["marts.contributory_factors"].description)


def _write_mart(conn, name: str, frame: pl.DataFrame) -> int:
    mart = MARTS_BY_NAME[name]
    schema, table = name.split(".")
    rows = replace_table(conn, schema, table, frame.select(list(mart.columns)))
    comment_on(conn, mart.name, mart.description, mart.columns)
    return rows


@dg.asset(key=["marts", "benchmarks"], deps=[benchmark_values], group_name="marts",
          description=MARTS_BY_NAME["marts.benchmarks"].description)
def benchmarks(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        values = conn.execute("select * from core.benchmark_values").pl()
        # Counts (children, assessments) differ with an area's size: they are shown, not compared.
        comparable = values["indicator_id"].is_in([i.indicator_id for i in INDICATORS if i.comparable_between_areas])
        compared = values.with_columns(**{
            f"vs_{name}": pl.Series(compare_to_benchmark_array(
                values["ci95_low"].to_numpy(), values["ci95_high"].to_numpy(),
                values[column].cast(pl.Float64).to_numpy(), values["polarity"].to_list()), dtype=pl.String)
            .zip_with(comparable, pl.Series(["not compared"] * values.height))
            for name, column in (("england", "england_value"), ("region", "region_value"),
                                 ("neighbours", "neighbours_median"))})
        rows = _write_mart(conn, "marts.benchmarks", compared)
        preview = preview_markdown(conn, "marts.benchmarks")
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "preview": dg.MetadataValue.md(preview)})


RULE_NAMES = {"outside_limits": "outside limits", "run": "run of 7", "trend": "trend of 7",
              "two_of_three": "2 of 3 near a limit"}


@dg.asset(key=["marts", "spc"], deps=[indicator_values, indicators, targets], group_name="marts",
          description=MARTS_BY_NAME["marts.spc"].description + " Also core.spc_summary: the icons per series.")
def spc(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        series = conn.execute(f"""
            select values.partnership, values.area_code, values.indicator_id, values.period_label,
                values.period_end, values.value, indicators.polarity, targets.target_value
            from marts.indicator_values as values
            inner join marts.indicators as indicators using (indicator_id)
            left join marts.targets as targets using (indicator_id, area_code)
            where values.partnership is not null and values.period_type = 'month'
            qualify row_number() over (partition by values.indicator_id, values.area_code
                                       order by values.period_end desc) <= {SPC_MONTHS}
            order by values.indicator_id, values.area_code, values.period_end
        """).pl()
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
        frame = pl.concat(points) if points else pl.DataFrame(schema={c: pl.String for c in MARTS_BY_NAME["marts.spc"].columns})
        rows = _write_mart(conn, "marts.spc", frame)
        replace_table(conn, "core", "spc_summary", pl.DataFrame(
            summaries, schema={"indicator_id": pl.String, "area_code": pl.String, "variation": pl.String,
                               "assurance": pl.String}))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, "series": len(summaries)})


scorecard = sql_table_asset(
    "marts", "scorecard", deps=[indicator_values, indicators, targets, trajectories, areas, stale_figures,
                                benchmarks, spc],
    description=MARTS_BY_NAME["marts.scorecard"].description)


@dg.asset_check(asset=scorecard, blocking=True, name="great_expectations_suite",
                description="marts.scorecard against the Great Expectations suite in expectations/scorecard_suite.json.")
def scorecard_expectations(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with duckdb.get_connection() as conn:
        frame = conn.execute("select * from marts.scorecard").df()
    outcome = validate_scorecard(frame)
    return dg.AssetCheckResult(
        passed=outcome.success,
        description=("All expectations met." if outcome.success
                     else "Failed: " + "; ".join(outcome.failed)),
        metadata={"expectations": outcome.evaluated, "failed": dg.MetadataValue.json(outcome.failed)},
    )
