"""``marts.spc`` and ``core.spc_summary``: SPC charts (Making Data Count) of each partnership
area's series, and the variation and assurance icons of each (computed by
``scorecard.model.spc_charts``, which says which series each indicator is charted on)."""

from __future__ import annotations

import duckdb

from scorecard.load.warehouse import replace_table
from scorecard.model.spc_charts import SERIES_SQL, SPC_PLANS, SPC_POINTS, SpcPlan, spc_plan, spc_points
from scorecard.transform.marts_tables import write_mart

__all__ = ["SERIES_SQL", "SPC_PLANS", "SPC_POINTS", "SpcPlan", "build_spc", "spc_plan"]


def build_spc(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild both tables; rows written to each."""
    frame, summary = spc_points(conn)
    return {"marts.spc": write_mart(conn, "marts.spc", frame),
            "core.spc_summary": replace_table(conn, "core", "spc_summary", summary)}
