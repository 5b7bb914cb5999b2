"""Dagster resources: where the project reads and writes, and the build database."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.settings import Settings


class ScorecardPaths(dg.ConfigurableResource):
    """The raw folder, the published warehouse and the output folder (see ``pipelines.settings``)."""

    raw_dir: str
    db_path: str
    out_dir: str
    disclosure_control: bool = True

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.raw_dir), Path(self.db_path), Path(self.out_dir), self.disclosure_control)


def resources_for(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    settings.build_db_path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "paths": ScorecardPaths(raw_dir=str(settings.raw_dir), db_path=str(settings.db_path),
                                out_dir=str(settings.out_dir), disclosure_control=settings.disclosure_control),
        "duckdb": DuckDBResource(database=str(settings.build_db_path), connection_config=settings.duckdb_config),
    }
