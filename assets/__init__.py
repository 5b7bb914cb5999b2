"""Dagster assets, one module per layer: raw extracts, core tables, analyst marts, outputs."""
