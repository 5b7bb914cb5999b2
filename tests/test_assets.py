"""Assets one at a time, as Dagster's tutorials test them: ``dg.materialize`` on small hand-made
inputs with a temporary DuckDB. A partner-return loader and its ``valid`` check (a refused file
quarantined, its last good version kept, a file that went retired), the record-level loader's
checks, a SQL asset on hand-made tables, and the SPC multi-asset's two tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from assets.core.strategies import strategies
from assets.core.tables import stale_figures
from assets.marts.benchmarking import spc
from assets.raw.partner_returns import extract_files, raw_layout_assets
from assets.raw.record_level import record_level
from pipelines.resources import ScorecardPaths
from scorecard.ingest.file_references import file_reference
from scorecard.load.file_refs import FileRef
from scorecard.load.ledger import quarantine_report_path
from tests.conftest import STRATEGIES


def report_of(out: Path, path: str, sheet: str | None = None) -> Path:
    return quarantine_report_path(out, FileRef(path, sheet, "", 0))


REFERRALS_HEADER = "area_code,period,referrals,rereferrals_within_12_months,referrals_neglect\n"
COUNT_RULE = "a count must be a whole number of 0 or more"
referrals_loader = next(a for a in raw_layout_assets if a.key == dg.AssetKey(["raw", "referrals"]))


class Folder:
    """A raw folder holding Northumberland's strategy file, the output folder, and a temporary DuckDB."""

    def __init__(self, root: Path):
        self.raw, self.out, self.db = root / "raw", root / "out", root / "t.duckdb"
        (self.raw / "strategies").mkdir(parents=True)
        shutil.copy(STRATEGIES / "northumberland.yaml", self.raw / "strategies")

    def write(self, relative: str, text: str) -> Path:
        path = self.raw / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def materialize(self, assets: list) -> dg.ExecuteInProcessResult:
        resources = {"paths": ScorecardPaths(raw_dir=str(self.raw), db_path=str(self.db.with_name("w.duckdb")),
                                             out_dir=str(self.out)),
                     "duckdb": DuckDBResource(database=str(self.db))}
        return dg.materialize(assets, resources=resources, raise_on_error=False)

    def load_referrals(self) -> dg.AssetCheckEvaluation:
        """Recognise the raw folder, load the strategies and the referrals: the ``valid`` check's result."""
        result = self.materialize([extract_files, strategies, referrals_loader])
        assert result.success
        [valid] = [e for e in result.get_asset_check_evaluations() if e.asset_key == referrals_loader.key]
        return valid

    def query(self, sql: str, parameters: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.db), read_only=True) as conn:
            return conn.execute(sql, parameters or []).fetchall()

    def ledger_since(self, count: int) -> list[tuple]:
        """(path, status, detail) of the ledger's rows after its first ``count``."""
        return self.query("select path, status, detail from raw.load_ledger order by recorded_at, path "
                          f"offset {count}")


@pytest.fixture()
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


def test_a_refused_file_fails_the_loaders_check_naming_the_cell_and_the_rest_loads(folder):
    folder.write("csc/good.csv", REFERRALS_HEADER + "E06000057,2017-08,250,40,30\n")
    folder.write("csc/bad.csv", REFERRALS_HEADER + "E06000057,2017-09,251,41,31\nE06000057,2017-10,-12,40,30\n")
    valid = folder.load_referrals()
    assert not valid.passed and valid.severity == dg.AssetCheckSeverity.ERROR
    assert valid.metadata["messages"].value == [
        f"csc/bad.csv, row 3, column 'referrals': the value '-12' is refused because {COUNT_RULE}."]
    report = report_of(folder.out, "csc/bad.csv")
    assert "csc/bad.csv" in valid.description and str(report) in valid.description
    assert "row 3, column 'referrals'" in report.read_text(encoding="utf-8")
    assert (folder.out / "validation" / "referrals.md").is_file()
    assert folder.query("select source_file, period_label, referrals from raw.referrals") == [
        ("csc/good.csv", "2017-08", 250)]  # none of the refused file's rows, not even its good one
    assert sorted(folder.ledger_since(0))[:1] == [("csc/bad.csv", "quarantined", str(report))]


def test_a_refused_version_keeps_the_last_good_one_and_a_file_that_went_is_retired(folder):
    referrals = folder.write("csc/referrals.csv", REFERRALS_HEADER + "E06000057,2017-08,250,40,30\n")
    folder.write("csc/older.csv", REFERRALS_HEADER + "E06000057,2016-08,200,30,20\n")
    assert folder.load_referrals().passed
    assert {status for _, status, _ in folder.ledger_since(0)} == {"loaded"}

    referrals.write_text(REFERRALS_HEADER + "E06000057,2017-08,lots,40,30\n", encoding="utf-8")
    valid = folder.load_referrals()
    assert valid.metadata["messages"].value == [
        f"csc/referrals.csv, row 2, column 'referrals': the value 'lots' is refused because {COUNT_RULE}."]
    # The last good version stays in use; the unchanged file is not read again.
    assert folder.query("select source_file, referrals from raw.referrals order by 1") == [
        ("csc/older.csv", 200), ("csc/referrals.csv", 250)]
    assert [(path, status) for path, status, _ in folder.ledger_since(2)] == [("csc/referrals.csv", "quarantined")]
    assert report_of(folder.out, "csc/referrals.csv").is_file()

    referrals.write_text(REFERRALS_HEADER + "E06000057,2017-08,400,40,30\n", encoding="utf-8")
    (folder.raw / "csc" / "older.csv").unlink()
    assert folder.load_referrals().passed
    assert folder.query("select source_file, referrals from raw.referrals") == [("csc/referrals.csv", 400)]
    this_time = folder.ledger_since(3)
    assert sorted((path, status) for path, status, _ in this_time) == [
        ("csc/older.csv", "retired"), ("csc/referrals.csv", "loaded")]
    assert any("rows were retired" in detail for _, status, detail in this_time if status == "retired")
    assert not report_of(folder.out, "csc/referrals.csv").exists()


def test_putting_back_the_last_good_version_of_a_refused_file_ends_its_quarantine(folder):
    """What a person often does with a refused file: put the previous one back. Its rows are the
    ones in use already, but the file is no longer refused, so its figures are no longer stale."""
    good = REFERRALS_HEADER + "E06000057,2017-08,250,40,30\n"
    referrals = folder.write("csc/referrals.csv", good)
    assert folder.load_referrals().passed
    referrals.write_text(REFERRALS_HEADER + "E06000057,2017-08,lots,40,30\n", encoding="utf-8")
    assert not folder.load_referrals().passed
    referrals.write_text(good, encoding="utf-8")
    assert folder.load_referrals().passed
    assert folder.query("select status from raw.load_ledger where path = 'csc/referrals.csv' "
                        "order by recorded_at desc limit 1") != [("quarantined",)]
    assert not report_of(folder.out, "csc/referrals.csv").exists()


def test_the_same_figures_in_a_second_file_are_refused_naming_the_first(folder):
    first = folder.write("csc/referrals.csv", REFERRALS_HEADER + "E06000057,2017-08,250,40,30\n")
    assert folder.load_referrals().passed
    shutil.copy(first, folder.raw / "inbox_referrals_copy.csv")
    valid = folder.load_referrals()
    [message] = valid.metadata["messages"].value
    assert message.startswith("inbox_referrals_copy.csv, row 2: refused because csc/referrals.csv (row 2) "
                              "already gives the same area_code")
    assert folder.query("select source_file from raw.referrals") == [("csc/referrals.csv",)]


KEY = "a-test-key-that-is-not-a-secret"
EPISODES = ("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n"
            "CHILD-0001,15/01/2017,S,C2,N1,U1,PR1,31/03/2017,E11,,NE61 9QQ,NE46 7XY,SC123456\n")


def test_a_record_level_file_outside_an_authority_folder_fails_its_tables_check(folder, monkeypatch):
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    folder.write("unsorted/episodes.csv", EPISODES)
    folder.write("E06000057/903/episodes.csv", EPISODES)
    result = folder.materialize([extract_files, record_level])
    assert result.success
    checks = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations() if e.check_name == "valid"}
    assert set(checks) == {f"raw/{kind}" for kind in ("annex_a_list2", "annex_a_list3", "annex_a_list7",
                                                        "annex_a_list8", "ssda903_episodes", "hub_log",
                                                        "cin_assessments")}
    assert [key for key, e in checks.items() if not e.passed] == ["raw/ssda903_episodes"]
    # (a record-level file is named by reference, never as written: scorecard.ingest.file_references)
    assert checks["raw/ssda903_episodes"].metadata["messages"].value == [
        f"{file_reference('unsorted/episodes.csv', KEY)}: refused because a record-level file carries no local "
        "authority, so it must sit in a folder named after the authority's ONS code under the raw folder "
        "(E06000057/..., say)."]
    assert folder.query("select area_code, source_file from raw.ssda903_episodes") == [
        ("E06000057", file_reference("E06000057/903/episodes.csv", KEY))]
    assert (folder.out / "validation" / "record_level_ssda903_episodes.md").is_file()


def test_without_the_pseudonymisation_key_the_record_level_loader_stops_and_says_how_to_fix_it(folder, monkeypatch):
    monkeypatch.delenv("SCORECARD_PSEUDONYM_KEY", raising=False)
    folder.write("E06000057/903/episodes.csv", EPISODES)
    result = folder.materialize([extract_files, record_level])
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert "SCORECARD_PSEUDONYM_KEY is not set" in description
    assert file_reference("E06000057/903/episodes.csv", None) in description


def test_stale_figures_name_only_files_whose_newest_version_was_refused_and_that_are_still_there(folder):
    with duckdb.connect(str(folder.db)) as conn:
        conn.execute("create schema raw; create schema core")
        conn.execute("""create table raw.load_ledger as select * from (values
            (timestamptz '2026-11-01 09:00:00+00', 'a.csv', 'loaded', 0, 'new file'),
            (timestamptz '2026-11-02 09:00:00+00', 'a.csv', 'quarantined', 2, 'quarantine/a.csv.md'),
            (timestamptz '2026-11-01 09:00:00+00', 'b.csv', 'quarantined', 1, 'quarantine/b.csv.md'),
            (timestamptz '2026-11-02 09:00:00+00', 'b.csv', 'loaded', 0, 'changed'),
            (timestamptz '2026-11-02 09:00:00+00', 'gone.csv', 'quarantined', 1, 'quarantine/gone.csv.md'))
            as ledger (recorded_at, path, status, problems, detail), (select null::varchar as sheet)""")
        conn.execute("create table raw.extract_files as select * from (values ('a.csv'), ('b.csv')) as f (path), "
                     "(select null::varchar as sheet)")
        conn.execute("""create table core.observations as select * from (values
            ('a.csv', 'E06000057', 'referrals'), ('b.csv', 'E06000057', 'hub_neglect_referrals'),
            ('gone.csv', 'E06000001', 'referrals')) as o (source_file, area_code, measure)""")
        conn.execute("""create table core.indicator_measures as select * from (values
            ('rereferral_pct', 'referrals'), ('referral_neglect_pct', 'referrals'),
            ('hub_neglect_handled_pct', 'hub_neglect_referrals')) as m (indicator_id, measure)""")
    result = folder.materialize([stale_figures])
    assert result.success
    assert folder.query("select indicator_id, area_code, stale_reason from core.stale_figures order by 1") == [
        (indicator_id, "E06000057", "a.csv: its newest version was refused on 2 Nov 2026 (2 problem(s), see "
                                    "quarantine/a.csv.md), so figures from its last good version are shown")
        for indicator_id in ("referral_neglect_pct", "rereferral_pct")]


def test_the_spc_multi_asset_writes_both_its_tables(folder):
    with duckdb.connect(str(folder.db)) as conn:
        conn.execute("create schema marts")
        conn.execute("""create table marts.indicator_values as
            select 'northumberland' as partnership, 'E06000057' as area_code, 'rereferral_pct' as indicator_id,
                strftime(month, '%Y-%m') as period_label, last_day(month) as period_end, 'month' as period_type,
                20.0 + i % 3 as value
            from (select range as i, date '2020-01-01' + to_months(range::integer) as month from range(30))""")
        conn.execute("create table marts.indicators as select 'rereferral_pct' as indicator_id, "
                     "'lower_is_better' as polarity")
        conn.execute("create table marts.targets as select 'rereferral_pct' as indicator_id, "
                     "'E06000057' as area_code, 18.0 as target_value")
        # Measures charted instead of an indicator's own value (none here) come from these.
        conn.execute("create schema core")
        conn.execute("create table core.observation_periods (source varchar, area_code varchar, measure varchar, "
                     "period_type varchar, period_label varchar, period_end date, count bigint)")
        conn.execute("create table core.areas (area_code varchar, partnership varchar)")
        conn.execute("create table core.sources (source varchar, precedence integer)")
    result = folder.materialize([spc])
    assert result.success
    assert {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()} == {
        "marts/spc", "core/spc_summary"}
    # The last 24 months make the chart; a series alternating 20, 21, 22 stays within its limits.
    assert folder.query("select count(*), min(period_label), bool_or(special_cause) from marts.spc") == [
        (24, "2020-07", False)]
    assert folder.query("select indicator_id, area_code, variation from core.spc_summary") == [
        ("rereferral_pct", "E06000057", "common cause")]
