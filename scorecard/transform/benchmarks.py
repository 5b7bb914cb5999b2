"""``marts.benchmarks``: each partnership area's headline values beside England, its region and its
statistical neighbours (``sql/marts/benchmarks.sql``), compared by Fingertips method 1."""

from __future__ import annotations

import duckdb
import polars as pl

from scorecard.load.warehouse import sql_text
from scorecard.model.catalogue import comparable_between_areas
from scorecard.model.statistics import compare_to_benchmark_array
from scorecard.transform.marts_tables import write_mart

BENCHMARKS = (("england", "england_value"), ("region", "region_value"), ("neighbours", "neighbours_median"))


def compared(values: pl.DataFrame, comparable_ids: list[str]) -> pl.DataFrame:
    """``values`` with a ``vs_<benchmark>`` column per benchmark: better, similar, worse, ...
    Counts (children, assessments) differ with an area's size: they are shown, not compared."""
    comparable = values["indicator_id"].is_in(comparable_ids)
    return values.with_columns(**{
        f"vs_{name}": pl.Series(compare_to_benchmark_array(
            values["ci95_low"].to_numpy(), values["ci95_high"].to_numpy(),
            values[column].cast(pl.Float64).to_numpy(), values["polarity"].to_list()), dtype=pl.String)
        .zip_with(comparable, pl.Series(["not compared"] * values.height))
        for name, column in BENCHMARKS})


def build_benchmarks(conn: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``marts.benchmarks``; rows written."""
    # Percentages and rates (comparable_between_areas), from the build's catalogue.
    comparable_ids = [indicator_id for indicator_id, unit in conn.execute(
        "select indicator_id, unit from marts.indicators").fetchall() if comparable_between_areas(unit)]
    return write_mart(conn, "marts.benchmarks",
                      compared(conn.execute(sql_text("marts/benchmarks.sql")).pl(), comparable_ids))
