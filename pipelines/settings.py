"""Where the project reads and writes. The only place that reads the SCORECARD_* environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from scorecard.paths import PROJECT_ROOT, REPORTED_FIGURES_FILE, SQL_DIR  # noqa: F401  (SQL_DIR re-exported)


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    db_path: Path
    out_dir: Path
    # Published outputs suppress counts of 1 to 5; SCORECARD_DISCLOSURE=internal builds them unsuppressed.
    disclosure_control: bool = True
    # DuckDB's memory limit for the build (SCORECARD_DUCKDB_MEMORY). Past it, DuckDB spills sorts
    # and joins to disk: without one it would take up to 80% of the machine's memory.
    duckdb_memory_limit: str = "750MB"
    # How long Chromium may take to start, and to draw each chart PNG (SCORECARD_BROWSER_TIMEOUT):
    # past it the PNGs it owes are named as missing and drawn by the next build.
    browser_timeout_seconds: float = 60.0
    # Chart PNGs, for the reports and Word papers (SCORECARD_CHART_IMAGES=off: the HTML charts and
    # reports without images, for a machine without Chromium; the reports say no image was drawn).
    chart_images: bool = True
    # The date committee reports are written as at (SCORECARD_REPORT_AS_AT, e.g. 2025-09-30), for
    # scheduled builds; None: the last complete quarter in the data.
    report_as_at: date | None = None

    @property
    def duckdb_config(self) -> dict[str, str]:
        """The build connection's DuckDB settings (the Dagster resource and the benchmark use them)."""
        return {"memory_limit": self.duckdb_memory_limit}

    @property
    def strategies_dir(self) -> Path:
        return self.raw_dir / "strategies"

    @property
    def build_db_path(self) -> Path:
        """The database assets write to; published to ``db_path`` only when a build passes."""
        return self.db_path.with_name(f".{self.db_path.stem}.build{self.db_path.suffix}")

    @property
    def record_level_dir(self) -> Path:
        """Record-level raw rows, as Parquet files (``scorecard.load.row_stores``): beside the build
        database, never published."""
        return self.db_path.with_name(f".{self.db_path.stem}.record_level")

    @property
    def charts_dir(self) -> Path:
        return self.out_dir / "charts"

    @property
    def reports_dir(self) -> Path:
        return self.out_dir / "reports"

    @property
    def reported_figures_path(self) -> Path:
        """What each committee report showed (scorecard.model.reported): beside the warehouse, never
        rebuilt, so it outlives every build."""
        return self.db_path.with_name(REPORTED_FIGURES_FILE)

    @property
    def validation_dir(self) -> Path:
        return self.out_dir / "validation"


def pseudonym_key(environ: dict[str, str] | None = None) -> str | None:
    """The key child identifiers are pseudonymised with (``scorecard.ingest.record_level.keyed_hashes``);
    None when unset.

    Read at the moment it is needed, and never stored in a resource's config, so it appears
    in no Dagster page or log.
    """
    env = os.environ if environ is None else environ
    return env.get("SCORECARD_PSEUDONYM_KEY") or None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def path(name: str, default: str) -> Path:
        value = Path(env.get(name) or default)
        return value if value.is_absolute() else (Path.cwd() / value)

    return Settings(
        raw_dir=path("SCORECARD_RAW_DIR", "data/raw"),
        db_path=path("SCORECARD_DB", "data/marts/warehouse.duckdb"),
        out_dir=path("SCORECARD_OUT_DIR", "data/marts"),
        disclosure_control=(env.get("SCORECARD_DISCLOSURE") or "published").lower() != "internal",
        duckdb_memory_limit=env.get("SCORECARD_DUCKDB_MEMORY") or Settings.duckdb_memory_limit,
        browser_timeout_seconds=float(env.get("SCORECARD_BROWSER_TIMEOUT") or Settings.browser_timeout_seconds),
        report_as_at=parse_as_at(env.get("SCORECARD_REPORT_AS_AT") or None, "SCORECARD_REPORT_AS_AT"),
        chart_images=parse_switch(env.get("SCORECARD_CHART_IMAGES") or "on", "SCORECARD_CHART_IMAGES"),
    )


def parse_switch(text: str, where: str) -> bool:
    """``on`` or ``off`` (also yes/no, true/false, 1/0), or a clear error naming ``where``."""
    value = text.strip().lower()
    if value in ("on", "yes", "true", "1"):
        return True
    if value in ("off", "no", "false", "0"):
        return False
    raise ValueError(f"{where}: write on or off, found {text!r}")


def parse_as_at(text: str | None, where: str) -> date | None:
    """A report's as-at date written 2025-09-30; a clear error naming ``where`` otherwise."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{where}: the as-at date must be written like 2025-09-30, found {text!r}") from None
