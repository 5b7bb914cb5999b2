"""``marts.reported_figures``: the record of what committee reports showed (a file beside the
warehouse, see ``scorecard.model.reported``), loaded as it stands at each build."""

from __future__ import annotations

from pathlib import Path

import duckdb

from scorecard.load.warehouse import comment_on, replace_table
from scorecard.model.contract import MARTS_BY_NAME
from scorecard.model.reported import read_history


def load_reported_figures(conn: duckdb.DuckDBPyConnection, history_path: Path) -> int:
    """Rebuild ``marts.reported_figures`` from the history file; rows written."""
    mart = MARTS_BY_NAME["marts.reported_figures"]
    rows = replace_table(conn, "marts", "reported_figures", read_history(history_path).select(list(mart.columns)))
    comment_on(conn, mart.name, mart.description, mart.columns)
    return rows
