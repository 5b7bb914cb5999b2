"""Loading read files into the warehouse: the ledger and quarantine, the row stores, and the DuckDB helpers."""
