"""The record of what was reported: every figure each committee report showed, kept in a CSV file
beside the warehouse (``reported_figures.csv``). A build never rewrites it, so it survives
rebuilds, ``--force`` and a new pseudonymisation key; each build loads it into
``marts.reported_figures`` and lists the figures changed since in ``marts.revisions``.

It holds aggregate figures only (no child, no worker). Appending writes a new file beside the old
one and renames it over it, so a reader never sees half a file and a failed write loses nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from scorecard.paths import REPORTED_FIGURES_FILE as HISTORY_FILE  # noqa: F401  (its name, for callers)

HISTORY_SCHEMA = {
    "partnership": pl.String, "as_at": pl.Date, "indicator_id": pl.String, "area_code": pl.String,
    "period_type": pl.String, "period_label": pl.String, "value": pl.Float64, "rag": pl.String,
    "report_file": pl.String, "reported_at": pl.Datetime("us"),
}
# What identifies one figure in one report: a report re-issued with the same figure adds nothing.
FIGURE_KEY = ("partnership", "as_at", "indicator_id", "area_code", "period_type", "period_label")


class ReportedFiguresError(ValueError):
    """The history file cannot be read; the message names the file and what is wrong."""


def empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


def read_history(path: Path) -> pl.DataFrame:
    """Every figure reported so far (none when the file does not exist yet)."""
    if not path.is_file():
        return empty_history()
    try:
        frame = pl.read_csv(path, schema=HISTORY_SCHEMA, try_parse_dates=True)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise ReportedFiguresError(
            f"{path}: the record of reported figures cannot be read ({type(error).__name__}); it needs the "
            f"columns {', '.join(HISTORY_SCHEMA)}. Restore it from a backup: it is never rebuilt.") from None
    return frame


def append_history(path: Path, figures: pl.DataFrame) -> int:
    """Add the figures a report showed, leaving out any the same report already recorded with the
    same value and RAG; rows added."""
    history = read_history(path)
    figures = figures.select(list(HISTORY_SCHEMA)).cast(HISTORY_SCHEMA)
    latest = (history.sort("reported_at").group_by(FIGURE_KEY, maintain_order=True).last()
              .select(*FIGURE_KEY, "value", "rag"))
    same = figures.join(latest, on=list(FIGURE_KEY), how="inner", suffix="_before", nulls_equal=True).filter(
        ((pl.col("value") - pl.col("value_before")).abs() < 1e-9).fill_null(
            pl.col("value").is_null() & pl.col("value_before").is_null())
        & (pl.col("rag") == pl.col("rag_before")).fill_null(False))
    new = figures.join(same.select(FIGURE_KEY), on=list(FIGURE_KEY), how="anti", nulls_equal=True)
    if new.is_empty():
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pl.concat([history, new]).write_csv(temporary)
    os.replace(temporary, path)
    return new.height
