"""Publication is atomic: a build killed at any moment (SIGKILL) leaves the published warehouse
readable and unchanged, the next build succeeds, and an analyst's open read-only connection
neither blocks a build nor sees a mix of old and new."""

import csv
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import duckdb

from tests.conftest import STRATEGIES, make_settings

REFERRALS = "childrens_social_care/northumberland_referrals.csv"


def figures(db_path) -> list:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute("select indicator_id, area_code, period_type, period_label, numerator, denominator, "
                            "value, source from marts.indicator_values order by all").fetchall()


def environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(SCORECARD_RAW_DIR=str(settings.raw_dir), SCORECARD_DB=str(settings.db_path),
               SCORECARD_OUT_DIR=str(settings.out_dir))
    return env


def start_build(settings) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "build"], env=environment(settings),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def small_raw_folder(raw_dir) -> None:
    from scorecard.sample import write_sample

    (raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", raw_dir / "strategies")
    write_sample(raw_dir, partnerships=["northumberland"], first_year=2019, last_year=2021)


def change_referrals(raw_dir) -> None:
    path = raw_dir / REFERRALS
    rows = list(csv.DictReader(path.open(newline="")))
    rows[0]["referrals"] = str(int(rows[0]["referrals"]) + 100)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_killed_builds_never_damage_the_published_warehouse(tmp_path):
    settings = make_settings(tmp_path / "live")
    small_raw_folder(settings.raw_dir)
    assert start_build(settings).wait(timeout=300) == 0
    old = figures(settings.db_path)

    # What the warehouse must hold once the change below is published, built apart.
    reference = make_settings(tmp_path / "reference")
    shutil.copytree(settings.raw_dir, reference.raw_dir)
    change_referrals(reference.raw_dir)
    assert start_build(reference).wait(timeout=300) == 0
    new = figures(reference.db_path)
    assert new != old

    change_referrals(settings.raw_dir)
    moments = random.Random(20261122)
    for _ in range(6):
        build = start_build(settings)
        time.sleep(moments.uniform(0.5, 12.0))
        build.send_signal(signal.SIGKILL)
        build.wait()
        assert figures(settings.db_path) in (old, new)  # readable, and one whole state or the other

    assert start_build(settings).wait(timeout=300) == 0
    assert figures(settings.db_path) == new


def test_an_open_read_only_connection_neither_blocks_a_build_nor_sees_a_mix(tmp_path):
    settings = make_settings(tmp_path)
    small_raw_folder(settings.raw_dir)
    assert start_build(settings).wait(timeout=300) == 0
    old = figures(settings.db_path)

    analyst = duckdb.connect(str(settings.db_path), read_only=True)
    try:
        change_referrals(settings.raw_dir)
        assert start_build(settings).wait(timeout=300) == 0
        held = analyst.execute("select indicator_id, area_code, period_type, period_label, numerator, denominator, "
                               "value, source from marts.indicator_values order by all").fetchall()
        assert held == old  # the analyst's connection keeps the warehouse it opened
    finally:
        analyst.close()
    assert figures(settings.db_path) != old  # a new connection sees the new build
