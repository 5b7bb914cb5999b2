"""A refused file is quarantined with a message naming file, row, column, value and rule; the
rest still loads, its last good version stays in use (marked stale), and the build exits non-zero.
A refused strategy file stops the build, and the published warehouse stays exactly as it was."""

import contextlib
import csv
import hashlib
import io
import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest

from tests.conftest import BuiltWarehouse, make_settings, run_cli

REFERRALS = "childrens_social_care/northumberland_referrals.csv"
CPP = "childrens_social_care/northumberland_cpp_by_category.csv"
EARLY_HELP = "early_help/northumberland_early_help_assessments.xlsx"
HUB = "front_door/northumberland_hub_referrals.csv"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def published_figures(settings) -> tuple[list, list]:
    """What analysts and committees see: every indicator value, and the scorecard's figures."""
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        values = conn.execute("select * from marts.indicator_values order by all").fetchall()
        scorecard = conn.execute("select area_code, indicator_id, value, rag from marts.scorecard order by all").fetchall()
    return values, scorecard


def stale_reasons(settings) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        return {(a, i): r for a, i, r in conn.execute(
            "select area_code, indicator_id, stale_reason from marts.scorecard where stale_reason is not null").fetchall()}


@pytest.fixture()
def copy_of_built(built: BuiltWarehouse, tmp_path: Path):
    """The built fixture's raw folder and outputs (warehouse, build database, charts), copied so a
    test may spoil them; charts whose figures do not change are then not drawn again."""
    assert built.exit_code == 0, built.output
    root = tmp_path / "copy"
    shutil.copytree(built.settings.raw_dir, root / "raw")
    shutil.copytree(built.settings.out_dir, root / "marts")
    return make_settings(root)


def build(settings) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run_cli(settings, "build")
    return code, out.getvalue()


def edit_csv_cell(path: Path, excel_row: int, column: str, value: str) -> None:
    rows = list(csv.DictReader(path.open(newline="")))
    rows[excel_row - 2][column] = value
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(("file", "row", "column", "value", "rule"), [
    (REFERRALS, 5, "referrals", "-12", "a count must be a whole number of 0 or more"),
    (REFERRALS, 6, "referrals", "lots", "a count must be a whole number of 0 or more"),
    (REFERRALS, 7, "rereferrals_within_12_months", "99999",
     "rereferrals_within_12_months may not be more than referrals on the same row"),
    (REFERRALS, 8, "area_code", "E06000099", "the area must be the ONS code of a local authority"),
    (REFERRALS, 9, "period", "Sep 2014", 'the period must be a month written "2017-09"'),
    (REFERRALS, 10, "referrals_neglect", "", "every cell in this column must be filled in"),
    (CPP, 3, "category", "Domestic abuse", "it must be one of: Neglect, Emotional abuse"),
    (CPP, 4, "plan_status", "Closed", "it must be one of: Open at period end, Started in period"),
])
def test_each_rule_quarantines_the_file_naming_the_cell_and_keeps_its_last_good_version(
        copy_of_built, file, row, column, value, rule):
    before = published_figures(copy_of_built)
    edit_csv_cell(copy_of_built.raw_dir / file, row, column, value)
    code, output = build(copy_of_built)
    assert code == 1
    shown = "a blank cell" if value == "" else f"the value '{value}'"
    assert f"{file}, row {row}, column '{column}': {shown} is refused because {rule}" in output
    assert "refused and quarantined" in output
    assert published_figures(copy_of_built) == before
    report = (copy_of_built.out_dir / "quarantine" / file.replace("/", "_")).with_suffix(".csv.md")
    assert f"row {row}, column '{column}'" in report.read_text()
    stale = stale_reasons(copy_of_built)
    assert stale and all(area.startswith("E06000057") for area, _ in stale)
    assert all(file in reason and "refused" in reason for reason in stale.values())


def test_a_duplicated_row_is_quarantined(copy_of_built):
    path = copy_of_built.raw_dir / REFERRALS
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[1]]) + "\n")
    before = published_figures(copy_of_built)
    code, output = build(copy_of_built)
    assert code == 1
    assert f"{REFERRALS}, row 2: refused because another row already gives area_code E06000057" in output
    assert f"{REFERRALS}, row {len(lines) + 1}: refused" in output
    assert published_figures(copy_of_built) == before


def test_the_same_figures_in_a_second_file_are_quarantined_naming_the_first(copy_of_built):
    shutil.copy(copy_of_built.raw_dir / REFERRALS, copy_of_built.raw_dir / "inbox_referrals_copy.csv")
    code, output = build(copy_of_built)
    assert code == 1
    assert (f"inbox_referrals_copy.csv, row 2: refused because {REFERRALS} (row 2) already gives the same "
            "area_code") in output


def test_a_bad_workbook_cell_is_named_by_sheet_and_excel_row(copy_of_built):
    path = copy_of_built.raw_dir / EARLY_HELP
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=12, column=header.index("assessments_started") + 1, value=-3)
    workbook.save(path)
    code, output = build(copy_of_built)
    assert code == 1
    assert (f"{EARLY_HELP}, sheet '{sheet.title}', row 12, column 'assessments_started': the value '-3' is "
            "refused because a count must be a whole number of 0 or more") in output


def test_other_files_still_load_and_a_corrected_file_clears_the_quarantine(copy_of_built):
    edit_csv_cell(copy_of_built.raw_dir / REFERRALS, 5, "referrals", "-12")
    hub = copy_of_built.raw_dir / HUB
    edit_csv_cell(hub, 2, "neglect_referrals_handled_by_hub", "0")  # a real change elsewhere
    code, _ = build(copy_of_built)
    assert code == 1
    with duckdb.connect(str(copy_of_built.db_path), read_only=True) as conn:
        assert conn.execute("select numerator from marts.indicator_values where indicator_id = "
                            "'hub_neglect_handled_pct' and area_code = 'E06000057' and period_label = '2014-04'"
                            ).fetchone() == (0,)
        ledger = conn.execute("select path, status from raw.load_ledger where status in ('quarantined', 'loaded') "
                              "and recorded_at = (select max(recorded_at) from raw.load_ledger l2 where l2.path = "
                              "raw.load_ledger.path)").fetchall()
    assert (REFERRALS, "quarantined") in ledger and (HUB, "loaded") in ledger

    edit_csv_cell(copy_of_built.raw_dir / REFERRALS, 5, "referrals", "400")
    code, output = build(copy_of_built)
    assert code == 0, output
    assert stale_reasons(copy_of_built) == {}
    assert not list((copy_of_built.out_dir / "quarantine").glob("*referrals*"))


def test_an_unchanged_file_is_not_reloaded_and_a_removed_file_is_retired(copy_of_built):
    with duckdb.connect(str(copy_of_built.build_db_path), read_only=True) as conn:
        (before,) = conn.execute("select max(recorded_at) from raw.load_ledger").fetchone()
    (copy_of_built.raw_dir / HUB).unlink()
    code, output = build(copy_of_built)
    assert code == 0, output
    with duckdb.connect(str(copy_of_built.db_path), read_only=True) as conn:
        this_build = conn.execute("select path, status, detail from raw.load_ledger where recorded_at > ?",
                                  [before]).fetchall()
        hub_rows = conn.execute("select count(*) from raw.hub_referrals where source_file = ?", [HUB]).fetchone()
    assert [(path, status) for path, status, _ in this_build] == [(HUB, "retired")]  # nothing reloaded
    assert "rows were retired" in this_build[0][2]
    assert hub_rows == (0,)


def test_a_malformed_strategy_file_stops_the_build_and_leaves_the_warehouse_unchanged(copy_of_built):
    path = copy_of_built.raw_dir / "strategies" / "northumberland.yaml"
    path.write_text(path.read_text().replace("due: 2019-03-31", "due: end of 2019"))
    before = sha256(copy_of_built.db_path)
    code, output = build(copy_of_built)
    assert code == 1
    assert "northumberland.yaml: field 'indicators.referral_neglect_pct.target.due': must be a date" in output
    assert "Build failed; the published warehouse was not changed." in output
    assert sha256(copy_of_built.db_path) == before


def test_an_unrecognised_file_is_reported_by_name_and_the_rest_still_builds(copy_of_built):
    stray = copy_of_built.raw_dir / "inbox" / "referrals_v2.csv"
    stray.parent.mkdir()
    stray.write_text("LA,Month,Refs\nE06000057,2017-09,10\n")
    code, output = build(copy_of_built)
    assert code == 0, output
    assert "inbox/referrals_v2.csv: not loaded, header matches no known layout" in output
