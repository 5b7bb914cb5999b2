"""`make bench`, second part: the sample build timed as the data team runs it.

Each round, in a scratch folder with the project's sample extracts (``scorecard sample``) and a
Dagster home configured like the project's (``.dagster_home/dagster.yaml``):

1. **first build**: `scorecard build` from nothing (every asset, checks, chart PNGs, reports);
2. **nothing changed**: `scorecard build` again, which must say that nothing changed;
3. **one extract changed**: one figure in one partner return edited, then `scorecard build`,
   which must reload only that source.

Each build is a fresh process, timed from its start to its exit (imports and all), as a person
at the terminal waits for it. The rounds run one after another and each build is given by its
median round, with the range: this shared machine's speed moves by the hour.

    .venv/bin/python -m bench.builds              # 3 rounds, about a minute each
    .venv/bin/python -m bench.builds --rounds 5

Results go to the terminal and to bench/build_results.md (unless --no-write). What ran and what
was skipped in a rebuild is tested by tests/test_incremental.py; this measures how long it takes.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate import DEFAULT_OUT
from bench.run import BUSY, REPO, contention, environment, machine_busy

RESULTS = Path(__file__).resolve().parent / "build_results.md"
DEFAULT_ROUNDS = 3

# The targets of the issue.
FIRST_BUILD_TARGET_SECONDS = 30.0
UNCHANGED_REBUILD_TARGET_SECONDS = 8.0

# The extract the "one extract changed" rebuild edits (as tests/test_incremental.py does).
CHANGED_EXTRACT = Path("childrens_social_care") / "northumberland_referrals.csv"
NOTHING_CHANGED = "Nothing changed since the last successful build"
SKIPPED_PREFIX = "Unchanged sources not reloaded: "


@dataclass(frozen=True)
class Build:
    kind: str
    seconds: float
    output: str


KINDS = ("first build", "nothing changed", "one extract changed")


def scorecard_environment(root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCORECARD_")}
    env.update(SCORECARD_RAW_DIR=str(root / "raw"), SCORECARD_DB=str(root / "marts" / "warehouse.duckdb"),
               SCORECARD_OUT_DIR=str(root / "marts"), DAGSTER_HOME=str(root / "dagster_home"))
    return env


def scorecard(root: Path, *args: str) -> tuple[float, str]:
    """Run the `scorecard` command in a fresh process; (wall seconds, its output)."""
    command = [sys.executable, "-c", "from pipelines.cli import console_main; console_main()", *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=scorecard_environment(root), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"`scorecard {' '.join(args)}` failed ({done.returncode}):\n{output}")
    return seconds, output


def prepare(root: Path) -> None:
    """A scratch project: the strategy files, the sample extracts, an empty Dagster home."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "data" / "raw" / "strategies", root / "raw" / "strategies")
    (root / "dagster_home").mkdir(parents=True)
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    scorecard(root, "sample")


def reset_outputs(root: Path) -> None:
    """Back to nothing built: no warehouse, charts, reports or Dagster history."""
    shutil.rmtree(root / "marts", ignore_errors=True)
    for entry in (root / "dagster_home").iterdir():
        if entry.name != "dagster.yaml":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


def change_one_extract(root: Path, round_number: int) -> None:
    """One figure in one partner return changes (a different one each round)."""
    path = root / "raw" / CHANGED_EXTRACT
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["referrals"] = str(int(rows[0]["referrals"]) + round_number)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def one_round(root: Path, round_number: int) -> list[Build]:
    reset_outputs(root)
    builds = [Build(KINDS[0], *scorecard(root, "build"))]
    builds.append(Build(KINDS[1], *scorecard(root, "build")))
    if NOTHING_CHANGED not in builds[-1].output:
        raise RuntimeError(f"the second build should have found nothing changed:\n{builds[-1].output}")
    change_one_extract(root, round_number)
    builds.append(Build(KINDS[2], *scorecard(root, "build")))
    if SKIPPED_PREFIX not in builds[-1].output:
        raise RuntimeError(f"the rebuild after one change should have skipped the other sources:\n{builds[-1].output}")
    return builds


def skipped_sources(output: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith(SKIPPED_PREFIX):
            return line.removeprefix(SKIPPED_PREFIX).split(", ")
    return []


def report(rounds: list[list[Build]]) -> str:
    by_kind = {kind: [build for one in rounds for build in one if build.kind == kind] for kind in KINDS}
    medians = {kind: statistics.median(b.seconds for b in builds) for kind, builds in by_kind.items()}
    rows = []
    for kind, builds in by_kind.items():
        seconds = [b.seconds for b in builds]
        rows.append(f"| {kind} | {medians[kind]:.1f} | {min(seconds):.1f}–{max(seconds):.1f} | "
                    + ", ".join(f"{s:.1f}" for s in seconds) + " |")
    skipped = skipped_sources(by_kind[KINDS[2]][-1].output)

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    first, unchanged = medians[KINDS[0]], medians[KINDS[1]]
    return "\n".join([
        "# Sample build timings",
        "",
        "Written by `make bench` (`.venv/bin/python -m bench.builds`); see bench/README.md for what is measured.",
        f"`scorecard build` on the project's sample extracts, each build a fresh process timed from start to exit; "
        f"{len(rounds)} rounds, one after another; seconds are each build's median round.",
        "",
        *environment(),
        "",
        "| build | seconds (median) | rounds' range | every round |",
        "| --- | ---: | ---: | --- |",
        *rows,
        "",
        *contention(),
        "## Targets",
        "",
        f"- the whole sample build (every asset, checks and chart PNGs) under {FIRST_BUILD_TARGET_SECONDS:.0f} s: "
        f"{first:.1f} s — {verdict(first < FIRST_BUILD_TARGET_SECONDS)}",
        f"- a second build with no input changed under {UNCHANGED_REBUILD_TARGET_SECONDS:.0f} s, recomputing nothing: "
        f"{unchanged:.1f} s — {verdict(unchanged < UNCHANGED_REBUILD_TARGET_SECONDS)}",
        f"- after one extract changed (`{CHANGED_EXTRACT.as_posix()}`), only its source reloaded: "
        f"{medians[KINDS[2]]:.1f} s; sources skipped: {', '.join(skipped) or 'none'}",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"default {DEFAULT_ROUNDS}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="scratch folder")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/build_results.md")
    args = parser.parse_args(argv)

    root = args.out / "sample_build"
    prepare(root)
    if (busy := machine_busy()) is not None:
        BUSY.append(("before", busy))
    rounds = []
    for round_number in range(1, args.rounds + 1):
        print(f"round {round_number}/{args.rounds}:", end=" ", flush=True)
        rounds.append(one_round(root, round_number))
        print(", ".join(f"{b.kind} {b.seconds:.1f} s" for b in rounds[-1]), flush=True)
    if (busy := machine_busy()) is not None:
        BUSY.append(("after", busy))
    text = report(rounds)
    print()
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
