"""Neglect Scorecard: the Dagster code location and the project's shared machinery."""
