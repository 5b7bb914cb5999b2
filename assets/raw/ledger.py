"""Raw layer: the load ledger, every outcome of every file every loader has met."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.raw.dfe_open_data import dfe_open_data, statistical_neighbours
from assets.raw.fingertips import fingertips
from assets.raw.partner_returns import raw_layout_assets
from assets.raw.record_level import record_level
from assets.sql_tables import NOT_DRAWN
from scorecard.load.ledger import ledger_summary

LOADERS = [*raw_layout_assets, dfe_open_data, statistical_neighbours, record_level, fingertips]


@dg.asset(key=["raw", "load_ledger"], deps=LOADERS, group_name="raw", op_tags=NOT_DRAWN,
          description="Every loading outcome (path, sheet, size, sha256, source, layout, status, rows read and "
                      "accepted, problems, time). Each loader appends its files' rows in the same transaction as "
                      "their data (scorecard.load.ledger); this step follows them all and sums the outcomes up.")
def load_ledger(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        files_by_status = ledger_summary(conn)
    return dg.MaterializeResult(metadata={"dagster/row_count": sum(files_by_status.values()),
                                          "files_by_status": dg.MetadataValue.json(files_by_status)})
