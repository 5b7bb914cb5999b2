"""The indicator catalogue as tables: ``marts.indicators`` for analysts, and
``core.indicator_measures`` (which measures each indicator is made from, and whether each is a
flow or a stock) for the SQL."""

from __future__ import annotations

import duckdb
import polars as pl

from scorecard.load.warehouse import replace_table
from scorecard.model.catalogue import INDICATORS, Indicator
from scorecard.transform.marts_tables import write_mart


def build_catalogue_tables(conn: duckdb.DuckDBPyConnection,
                           catalogue: tuple[Indicator, ...] = INDICATORS) -> dict[str, int]:
    """Rebuild both tables; rows written to each."""
    indicators = pl.DataFrame(
        [{"indicator_id": i.indicator_id, "name": i.name, "family": i.family, "unit": i.unit,
          "polarity": i.polarity, "definition": i.definition, "source": i.source,
          "headline_period_type": i.headline_period_type, "fingertips_id": i.fingertips_id,
          "partnerships": None if i.partnerships is None else list(i.partnerships)}
         for i in catalogue],
        schema_overrides={"fingertips_id": pl.Int64, "partnerships": pl.List(pl.String)})
    measures = pl.DataFrame(
        [{"indicator_id": i.indicator_id, "role": role, "measure": ref.measure, "breakdown": ref.breakdown,
          "measure_kind": i.kind}
         for i in catalogue for role, ref in (("numerator", i.numerator), ("denominator", i.denominator))
         if ref is not None],
        schema={"indicator_id": pl.String, "role": pl.String, "measure": pl.String, "breakdown": pl.String,
                "measure_kind": pl.String})
    return {"marts.indicators": write_mart(conn, "marts.indicators", indicators),
            "core.indicator_measures": replace_table(conn, "core", "indicator_measures", measures)}
