"""The sample shows the local indicators: it writes a local measures return and an OHID
Fingertips export, and Herefordshire's report shows its four health proxies against England."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from scorecard.ingest.fingertips import read_fingertips
from scorecard.ingest.inventory import recognitions
from scorecard.publish.report import write_reports
from tests.conftest import build_tables, make_settings, write_fixture_raw

PROXIES = {"dental_decay_age5_pct": "Five-year-olds with dental decay", "obesity_reception_pct": "Obesity in Reception",
           "obesity_year6_pct": "Obesity in Year 6",
           "children_low_income_pct": "Children under 16 in low-income families"}


@pytest.fixture(scope="module")
def herefordshire(tmp_path_factory: pytest.TempPathFactory):
    settings = make_settings(tmp_path_factory.mktemp("herefordshire"))
    write_fixture_raw(settings.raw_dir, partnerships=("herefordshire",))
    return settings


def test_the_sample_writes_a_fingertips_export_and_a_local_measures_return(herefordshire):
    export = herefordshire.raw_dir / "public_health" / "fingertips_child_health.csv"
    local = herefordshire.raw_dir / "early_help" / "herefordshire_local_measures.csv"
    assert [r["layout"] for r in recognitions(export)] == ["fingertips"]
    assert [r["layout"] for r in recognitions(local)] == ["local_measures"]
    assert export.read_bytes().startswith(b"\xef\xbb\xbf")
    read = read_fingertips(export, "public_health/fingertips_child_health.csv")
    assert read.problems == []
    herefordshire_rows = read.frame.filter((read.frame["area_code"] == "E06000019")
                                           & read.frame["category_type"].is_null())
    stated = {(r["fingertips_id"], r["time_period"]): round(r["value"], 1)
              for r in herefordshire_rows.iter_rows(named=True) if r["value"] is not None}
    # The strategy's figures, as its Child Health Profile gave them.
    assert (stated[93563, "2018/19"], stated[90319, "2019/20"], stated[90323, "2019/20"],
            stated[93700, "2018/19"]) == (31.9, 10.1, 19.2, 17.2)
    assert set(read.frame["area_code"]) == {"E06000019", "E12000005", "E92000001"}


def test_herefordshires_report_shows_its_four_proxies_against_england(herefordshire, tmp_path: Path):
    build_tables(herefordshire, "marts.scorecard")
    with duckdb.connect(str(herefordshire.build_db_path), read_only=True) as conn:
        rows = conn.execute("""
            select indicator_id, baseline_value, source, england_value is not null, vs_england, rag
            from marts.scorecard where partnership = 'herefordshire' and indicator_id in ?
            order by indicator_id""", [list(PROXIES)]).fetchall()
        reports = write_reports(conn, tmp_path / "reports", tmp_path / "charts")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("children_low_income_pct", 17.2, "fingertips", True), ("dental_decay_age5_pct", 31.9, "fingertips", True),
        ("obesity_reception_pct", 10.1, "fingertips", True), ("obesity_year6_pct", 19.2, "fingertips", True)]
    assert all(r[4] in ("better", "similar", "worse") and r[5] in ("green", "amber", "red") for r in rows)
    report = next(p for p in reports if p.name == "herefordshire.html").read_text(encoding="utf-8")
    for name in PROXIES.values():
        sentence = re.search(re.escape(name) + r"[^<]*? than England \(\d+\.\d%\)|" + re.escape(name)
                             + r"[^<]*?similar to England \(\d+\.\d%\)", report)
        assert sentence, f"{name}: no comparison with England in the report"
