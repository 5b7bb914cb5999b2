"""Things that must stay in step: SQL files and tables, the catalogue, the GX suite, the layouts doc."""

from pathlib import Path

from expectations.layouts import LAYOUTS
from expectations.marts import load_suite_spec, suite_expectations
from pipelines.settings import SQL_DIR
from scorecard.model.catalogue import INDICATORS_BY_ID, SHIPPED_INDICATORS_DIR


def sql_files(folder: str) -> set[str]:
    return {p.stem for p in (SQL_DIR / folder).glob("*.sql")}


def test_every_sql_built_table_has_exactly_one_sql_file_and_back(warehouse):
    tables = {f"{s}.{t}" for s, t in warehouse.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('core', 'marts')").fetchall()}
    files = {f"{folder}.{stem}" for folder in ("core", "marts") for stem in sql_files(folder)}
    # Tables built in Python from YAML, the catalogue, a loop over indicator files or SPC.
    built_in_python = {"core.partnership_areas", "core.strategy_targets", "core.indicator_series",
                       "core.indicator_measures", "core.record_level_measures", "core.spc_summary",
                       "core.strategy_milestones", "core.strategy_period_milestones", "marts.indicators",
                       "marts.spc", "marts.reported_figures"}
    assert files == tables - built_in_python


def test_every_indicator_is_one_yaml_file_and_only_a_sql_file_where_a_ratio_is_not_enough():
    assert {p.stem for p in SHIPPED_INDICATORS_DIR.glob("*.yaml")} == set(INDICATORS_BY_ID)
    # The twelve national indicators, hub referrals, Herefordshire's four proxies and Northumberland's EHAs
    # completed.
    assert len(INDICATORS_BY_ID) == 18
    assert {p.stem for p in SHIPPED_INDICATORS_DIR.glob("*.sql")} == {"eha_rolling12_avg"}
    assert not (SQL_DIR / "indicators").exists()


def test_the_great_expectations_suite_takes_the_catalogue_ids_from_the_indicator_files():
    assert not [e for e in load_suite_spec()["expectations"] if e["kwargs"].get("column") == "indicator_id"]
    id_sets = [e["kwargs"]["value_set"] for e in suite_expectations(["a_local_one", *INDICATORS_BY_ID])
               if e["kwargs"].get("column") == "indicator_id"]
    assert id_sets == [["a_local_one", *INDICATORS_BY_ID]]


def test_the_documents_are_generated_from_the_registries():
    from scorecard.docs import GENERATED_DOCS

    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, render in GENERATED_DOCS.items():
        assert (docs / name).read_text(encoding="utf-8") == render(), "run `scorecard docs` to regenerate"
    for layout in LAYOUTS:
        assert f"`{layout.name}`" in (docs / "layouts.md").read_text(encoding="utf-8")
