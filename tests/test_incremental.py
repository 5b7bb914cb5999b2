"""Rebuilds: nothing changed means nothing is recomputed; one changed extract reloads only its
source, and only the charts whose figures moved are drawn again. (`build --force` rebuilding
with nothing changed: test_publication, whose builds are forced.)"""

import csv

import duckdb
import pytest

from tests.conftest import build_cli

REFERRALS = "childrens_social_care/northumberland_referrals.csv"


def build(settings, *args) -> tuple[int, str]:
    return build_cli(settings, *args)


def test_a_build_with_nothing_changed_recomputes_nothing(copy_of_built):
    published = copy_of_built.db_path.stat().st_mtime_ns
    code, output = build(copy_of_built)
    assert code == 0, output
    assert "Nothing changed since the last successful build" in output
    assert copy_of_built.db_path.stat().st_mtime_ns == published


def test_one_changed_extract_reloads_only_its_source_and_redraws_only_its_charts(copy_of_built):
    charts = copy_of_built.charts_dir
    drawn_before = {p: p.stat().st_mtime_ns for p in charts.rglob("*.png")}
    with duckdb.connect(str(copy_of_built.build_db_path), read_only=True) as conn:
        (ledger_before,) = conn.execute("select max(recorded_at) from raw.load_ledger").fetchone()

    path = copy_of_built.raw_dir / REFERRALS
    rows = list(csv.DictReader(path.open(newline="")))
    rows[0]["referrals"] = str(int(rows[0]["referrals"]) + 50)  # April 2014, Northumberland
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    code, output = build(copy_of_built)
    assert code == 0, output
    skipped = output.split("Unchanged sources not reloaded: ")[1].splitlines()[0].split(", ")
    assert "raw/referrals" not in skipped
    assert {"raw/cpp_by_category", "raw/early_help_assessments", "raw/hub_referrals"} <= set(skipped)

    with duckdb.connect(str(copy_of_built.db_path), read_only=True) as conn:
        reloaded = conn.execute("select path, status from raw.load_ledger where recorded_at > ?",
                                [ledger_before]).fetchall()
    assert reloaded == [(REFERRALS, "loaded")]

    redrawn = {p for p, mtime in drawn_before.items() if p.stat().st_mtime_ns != mtime}
    assert redrawn, "the referral charts should have been drawn again"
    assert all(p.parent.name == "E06000057" and p.stem.startswith(("rereferral", "referral_neglect"))
               for p in redrawn), sorted(str(p) for p in redrawn)


@pytest.mark.parametrize("folder", ["pipelines", "assets", "sql", "expectations", "scorecard"])
def test_a_change_to_any_of_the_code_a_build_runs_changes_its_fingerprint(tmp_path, folder):
    """Otherwise `scorecard build` would say nothing changed and keep figures made by the old code."""
    from pipelines.fingerprint import code_digest

    for name in ("pipelines", "assets", "sql", "expectations", "scorecard"):
        (tmp_path / name / "stage").mkdir(parents=True)
        (tmp_path / name / "stage" / "step.py").write_text("STEP = 1\n")
    before = code_digest(tmp_path)
    (tmp_path / folder / "stage" / "step.py").write_text("STEP = 2\n")
    assert code_digest(tmp_path) != before
