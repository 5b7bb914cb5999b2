"""Publication is atomic: a build killed at any moment (SIGKILL) leaves the published warehouse
readable and unchanged, the next build succeeds, and an analyst's open read-only connection
neither blocks a build nor sees a mix of old and new.

The warehouse's first state is built in process, without drawing; the builds killed are
`scorecard build` subprocesses on one small raw folder, while an analyst in another process keeps
a read-only connection open: one build killed while it writes the build database, one while it
publishes (the moment that could damage the warehouse); then a build in process must succeed."""

import contextlib
import csv
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import STRATEGIES, build_cli, build_without_drawing, make_settings

REFERRALS = "childrens_social_care/northumberland_referrals.csv"
FIGURES = ("select indicator_id, area_code, period_type, period_label, numerator, denominator, value, source "
           "from marts.indicator_values order by all")
BUILD_TIMEOUT = 300
NO_IMAGES = "off"  # (what is published matters here, not the chart images: none is drawn)


def figures(db_path) -> list:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(FIGURES).fetchall()


def environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(SCORECARD_RAW_DIR=str(settings.raw_dir), SCORECARD_DB=str(settings.db_path),
               SCORECARD_OUT_DIR=str(settings.out_dir), SCORECARD_CHART_IMAGES=NO_IMAGES)
    return env


def start_build(settings) -> subprocess.Popen:
    # A session of its own, so a kill reaches the browser it may have started too.
    return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "build"], env=environment(settings),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill(build: subprocess.Popen) -> None:
    """SIGKILL the build and whatever it started (its session), unless it has ended."""
    if build.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(build.pid, signal.SIGKILL)
    build.wait(timeout=60)


def written_since(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since_ns
    except FileNotFoundError:
        return False


def wait_for(path: Path, build: subprocess.Popen, since_ns: int, timeout: float = BUILD_TIMEOUT) -> bool:
    """Wait until the build writes ``path`` (a killed build may have left one behind); False if
    the build ended first."""
    deadline = time.monotonic() + timeout
    while not written_since(path, since_ns):
        if build.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.002)
    return True


def small_raw_folder(raw_dir) -> None:
    from scorecard.sample import write_sample

    (raw_dir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGIES / "northumberland.yaml", raw_dir / "strategies")
    write_sample(raw_dir, partnerships=["northumberland"], first_year=2019, last_year=2021)


def change_referrals(raw_dir, by: int) -> None:
    path = raw_dir / REFERRALS
    rows = list(csv.DictReader(path.open(newline="")))
    rows[0]["referrals"] = str(int(rows[0]["referrals"]) + by)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


ANALYST = """
import hashlib, sys
import duckdb
analyst = duckdb.connect(sys.argv[1], read_only=True)
for _ in sys.stdin:  # one line: query the warehouse as opened, print a digest of what it shows
    rows = analyst.execute(sys.argv[2]).fetchall()
    print(hashlib.sha256(repr(rows).encode()).hexdigest(), flush=True)
"""


def digest(rows: list) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def ask(analyst: subprocess.Popen) -> str:
    analyst.stdin.write("query\n")
    analyst.stdin.flush()
    return analyst.stdout.readline().strip()


def test_killed_builds_and_open_connections_never_disturb_the_published_warehouse(tmp_path, monkeypatch):
    live = make_settings(tmp_path)
    small_raw_folder(live.raw_dir)
    build_without_drawing(live)  # (in process, and nothing drawn)
    old = figures(live.db_path)
    # An analyst in another process, with a read-only connection open all along.
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(live.db_path), FIGURES], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert ask(analyst) == digest(old)

        # Builds of a changed extract, killed: once while writing the build database, once while
        # publishing. Each time the warehouse is readable and one whole state: the old, or
        # the one the next complete build publishes.
        change_referrals(live.raw_dir, by=100)
        moments = random.Random(20261122)
        staging = live.db_path.with_name(f".{live.db_path.name}.publishing")
        seen = []
        for waiting_for, within in ((live.build_db_path.with_name(live.build_db_path.name + ".wal"), 2.0),
                                    (staging, 0.3)):
            started_ns = time.time_ns()
            build = start_build(live)
            try:
                if wait_for(waiting_for, build, started_ns):
                    time.sleep(moments.uniform(0, within))
            finally:
                kill(build)
            seen.append(figures(live.db_path))

        # The next build, whole (in this process: only the builds to kill need one of their own).
        monkeypatch.setenv("SCORECARD_CHART_IMAGES", NO_IMAGES)
        code, output = build_cli(live)
        assert code == 0, output  # not blocked by the open connection
        new = figures(live.db_path)
        assert new != old
        assert all(state in (old, new) for state in seen)
        assert ask(analyst) == digest(old)  # the analyst's connection keeps the warehouse it opened
    finally:
        analyst.stdin.close()
        analyst.wait(timeout=60)
