"""Things that must stay in step: SQL files and tables, the catalogue, the GX suite, the layouts doc."""

from pathlib import Path

from expectations.layouts import LAYOUTS
from expectations.marts import load_suite_spec
from pipelines.settings import SQL_DIR
from scorecard.model.catalogue import INDICATORS_BY_ID


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


def test_every_indicator_has_one_sql_file_and_every_file_an_indicator():
    assert sql_files("indicators") == set(INDICATORS_BY_ID)


def test_the_great_expectations_suite_knows_exactly_the_catalogue_ids():
    spec = load_suite_spec()
    id_sets = [e["kwargs"]["value_set"] for e in spec["expectations"] if e["kwargs"].get("column") == "indicator_id"]
    assert id_sets == [sorted(INDICATORS_BY_ID, key=list(INDICATORS_BY_ID).index)]


def test_the_documents_are_generated_from_the_registries():
    from scorecard.docs import GENERATED_DOCS

    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, render in GENERATED_DOCS.items():
        assert (docs / name).read_text(encoding="utf-8") == render(), "run `scorecard docs` to regenerate"
    for layout in LAYOUTS:
        assert f"`{layout.name}`" in (docs / "layouts.md").read_text(encoding="utf-8")
