"""Core layer: partnerships, their areas and their targets, from the strategy files."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from pipelines.resources import ScorecardPaths
from scorecard.ingest.strategies import StrategyFileError, load_strategies
from scorecard.load.warehouse import replace_table
from scorecard.model.catalogue import IndicatorFileError, catalogue_for


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["core", "partnership_areas"], group_name="core",
                     description="Each partnership's local authorities, from data/raw/strategies/*.yaml."),
        dg.AssetSpec(["core", "strategy_targets"], group_name="core",
                     description="Each strategy's baseline and target per indicator and area."),
        dg.AssetSpec(["core", "strategy_milestones"], group_name="core",
                     description="The milestones a strategy sets between its baseline and its target."),
        dg.AssetSpec(["core", "strategy_period_milestones"], group_name="core",
                     description="The milestones a strategy sets on a named period (e.g. at least 1,375 hub "
                                 "referrals in the six months ending December 2018)."),
    ],
    name="strategies")
def strategies(paths: ScorecardPaths, duckdb: DuckDBResource):
    """Partnerships, their areas and their targets, from the strategy files (one YAML each)."""
    try:
        catalogue = catalogue_for(paths.settings.raw_dir)
    except IndicatorFileError as error:
        raise dg.Failure(description=f"Indicator file refused: {error}") from None
    try:
        loaded = load_strategies(paths.settings.strategies_dir, {i.indicator_id: i for i in catalogue})
    except StrategyFileError as error:
        raise dg.Failure(description=f"Strategy file refused: {error}") from None
    areas = pl.DataFrame(
        [{"area_code": a.code, "area_name": a.name, "region": a.region, "partnership": s.partnership,
          "partnership_name": s.name, "strategy": s.strategy} for s in loaded for a in s.areas])
    targets = pl.DataFrame(
        [{"partnership": s.partnership, "area_code": code, "indicator_id": t.indicator_id,
          "baseline_period": t.baseline_period,
          "baseline_period_end": t.baseline_period_end,
          "stated_baseline_value": t.baseline_value, "target_value": t.target_value,
          "target_change_pct": t.target_change_pct, "target_date": t.target_date,
          "amber_tolerance_pct": t.amber_tolerance_pct, "illustrative": t.illustrative,
          "note": t.note, "source": t.source}
         for s in loaded for t in s.targets for code in t.area_codes],
        schema_overrides={"stated_baseline_value": pl.Float64, "target_value": pl.Float64,
                          "target_change_pct": pl.Float64, "note": pl.String, "source": pl.String})
    milestones = pl.DataFrame(
        [{"partnership": s.partnership, "area_code": code, "indicator_id": t.indicator_id, "due": when,
          "value": value} for s in loaded for t in s.targets for code in t.area_codes for when, value in t.milestones],
        schema={"partnership": pl.String, "area_code": pl.String, "indicator_id": pl.String, "due": pl.Date,
                "value": pl.Float64})
    period_milestones = pl.DataFrame(
        [{"partnership": s.partnership, "area_code": code, "indicator_id": t.indicator_id,
          "period_type": period.period_type, "period_label": period.label, "period_end": period.end, "value": value}
         for s in loaded for t in s.targets for code in t.area_codes for period, value in t.period_milestones],
        schema={"partnership": pl.String, "area_code": pl.String, "indicator_id": pl.String,
                "period_type": pl.String, "period_label": pl.String, "period_end": pl.Date, "value": pl.Float64})
    with duckdb.get_connection() as conn:
        replace_table(conn, "core", "partnership_areas", areas)
        replace_table(conn, "core", "strategy_targets", targets)
        replace_table(conn, "core", "strategy_milestones", milestones)
        replace_table(conn, "core", "strategy_period_milestones", period_milestones)
    for table, frame in (("partnership_areas", areas), ("strategy_targets", targets),
                         ("strategy_milestones", milestones), ("strategy_period_milestones", period_milestones)):
        yield dg.MaterializeResult(asset_key=["core", table],
                                   metadata={"dagster/row_count": frame.height, "partnerships": len(loaded)})
