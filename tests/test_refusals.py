"""A refused file is quarantined with a message naming file, row, column, value and rule; the
rest still loads, its last good version stays in use (marked stale), and the build exits non-zero.
A refused strategy file stops the build, and the published warehouse stays exactly as it was.

Each of these needs a whole `scorecard build`. The message for each rule, a duplicated row, a
workbook's sheet and row, and a second file giving the same figures are checked without one
(test_validation.py, test_messy_files.py, test_assets.py)."""

import csv
import hashlib
from pathlib import Path

import duckdb

from scorecard.load.file_refs import FileRef
from scorecard.load.ledger import quarantine_report_path
from tests.conftest import build_cli

REFERRALS = "childrens_social_care/northumberland_referrals.csv"
CPP = "childrens_social_care/northumberland_cpp_by_category.csv"
HUB = "front_door/northumberland_hub_referrals.csv"
STRAY = "inbox/referrals_v2.csv"
HUB_INDICATOR = "hub_neglect_handled_pct"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def query(settings, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(settings.db_path), read_only=True) as conn:
        return conn.execute(sql, parameters or []).fetchall()


def published_figures(settings) -> tuple[list, list]:
    """What analysts and committees see (the hub's indicator aside): every indicator value, and the
    scorecard's figures."""
    return (query(settings, "select * from marts.indicator_values where indicator_id <> ? order by all",
                  [HUB_INDICATOR]),
            query(settings, "select area_code, indicator_id, value, rag from marts.scorecard "
                            "where indicator_id <> ? order by all", [HUB_INDICATOR]))


def stale_reasons(settings) -> dict[tuple[str, str], str]:
    return {(a, i): r for a, i, r in query(
        settings, "select area_code, indicator_id, stale_reason from marts.scorecard where stale_reason is not null")}


def build(settings) -> tuple[int, str]:
    """A build whose charts are written without PNGs: these tests are about refused files."""
    return build_cli(settings, chart_images=False)


def edit_csv_cell(path: Path, excel_row: int, column: str, value: str) -> str:
    """Set one cell (the row as a spreadsheet numbers it); the row's period."""
    rows = list(csv.DictReader(path.open(newline="")))
    rows[excel_row - 2][column] = value
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows[excel_row - 2]["period"]


def ledger_since(settings, recorded_at) -> set[tuple[str, str]]:
    return set(query(settings, "select path, status from raw.load_ledger where recorded_at > ?", [recorded_at]))


def test_refused_files_are_quarantined_the_rest_loads_and_a_corrected_file_clears_the_quarantine(copy_of_built):
    raw = copy_of_built.raw_dir
    original = list(csv.DictReader((raw / CPP).open(newline="")))[1]
    before = published_figures(copy_of_built)
    (started,) = query(copy_of_built, "select max(recorded_at) from raw.load_ledger")[0]
    # Two files spoiled, a real change elsewhere, and a file no layout recognises.
    period = edit_csv_cell(raw / REFERRALS, 5, "referrals", "-12")
    edit_csv_cell(raw / CPP, 3, "category", "Domestic abuse")
    hub_period = edit_csv_cell(raw / HUB, 2, "neglect_referrals_handled_by_hub", "0")
    (raw / STRAY).parent.mkdir()
    (raw / STRAY).write_text("LA,Month,Refs\nE06000057,2017-09,10\n")

    code, output = build(copy_of_built)
    assert code == 1
    assert (f"{REFERRALS}, row 5, column 'referrals': the value '-12' is refused because a count must be "
            "a whole number of 0 or more") in output
    assert f"{CPP}, row 3, column 'category': the value 'Domestic abuse' is refused because it must be one of" in output
    assert "refused and quarantined" in output and "Published warehouse:" in output
    assert f"{STRAY}: not loaded, header matches no known layout" in output
    for file, cell in ((REFERRALS, "row 5, column 'referrals'"), (CPP, "row 3, column 'category'")):
        report = quarantine_report_path(copy_of_built.out_dir, FileRef(file, None, "", 0))
        assert cell in report.read_text()
    # The refused files' last good versions stay in use, marked stale; the hub's change is published.
    assert published_figures(copy_of_built) == before
    stale = stale_reasons(copy_of_built)
    assert {area for area, _ in stale} == {"E06000057"}
    assert {("E06000057", "referral_neglect_pct"), ("E06000057", "cpp_neglect_pct")} <= set(stale)
    assert all(("refused" in reason and (REFERRALS in reason or CPP in reason)) for reason in stale.values())
    assert query(copy_of_built, "select numerator from marts.indicator_values where indicator_id = ? and "
                                "area_code = 'E06000057' and period_label = ?", [HUB_INDICATOR, hub_period]) == [(0,)]
    assert ledger_since(copy_of_built, started) == {(REFERRALS, "quarantined"), (CPP, "quarantined"), (HUB, "loaded")}

    # Both corrected, and a file taken away: only those three are touched; nothing is stale.
    (mid,) = query(copy_of_built, "select max(recorded_at) from raw.load_ledger")[0]
    edit_csv_cell(raw / REFERRALS, 5, "referrals", "400")
    edit_csv_cell(raw / CPP, 3, "category", original["category"])
    edit_csv_cell(raw / CPP, 3, "children", str(int(original["children"]) + 1))  # a new version, not the last good one
    (raw / HUB).unlink()
    code, output = build(copy_of_built)
    assert code == 0, output  # (the unrecognised file is a warning, not a refusal)
    assert f"{STRAY}: not loaded, header matches no known layout" in output
    assert stale_reasons(copy_of_built) == {}
    assert not list((copy_of_built.out_dir / "quarantine").glob("*northumberland*"))
    assert ledger_since(copy_of_built, mid) == {(REFERRALS, "loaded"), (CPP, "loaded"), (HUB, "retired")}
    assert query(copy_of_built, "select count(*) from raw.hub_referrals where source_file = ?", [HUB]) == [(0,)]
    assert query(copy_of_built, "select denominator from marts.indicator_values where indicator_id = "
                                "'referral_neglect_pct' and area_code = 'E06000057' and period_label = ?",
                 [period]) == [(400,)]


def test_a_malformed_strategy_file_stops_the_build_and_leaves_the_warehouse_unchanged(copy_of_built):
    path = copy_of_built.raw_dir / "strategies" / "northumberland.yaml"
    path.write_text(path.read_text().replace("due: 2019-03-31", "due: end of 2019"))
    before = sha256(copy_of_built.db_path)
    code, output = build(copy_of_built)
    assert code == 1
    assert "northumberland.yaml: field 'indicators.referral_neglect_pct.target.due': must be a date" in output
    assert "NOT published warehouse: not made, because an earlier step failed; the published warehouse was " \
           "not changed." in output
    assert sha256(copy_of_built.db_path) == before
