"""`make bench`, second part: the sample build timed as the data team runs it, side by side
with the code before the framework change (issue 14), in one run.

Each round, in a scratch folder per implementation with the project's sample extracts
(``scorecard sample``) and a Dagster home configured like the project's:

1. **first build**: `scorecard build` from nothing (every asset, checks, chart PNGs, reports);
2. **nothing changed**: `scorecard build` again, which must say that nothing changed;
3. **one extract changed**: one figure in one partner return edited, then `scorecard build`,
   which must reload only that source.

The code before is checked out once into a git worktree (``--against``, by default the last
commit before the change) and runs from there, in the same virtual environment. The two
implementations take turns within each round (each first in every other round), so an hour's
slowness of this shared machine falls on both alike; each build is given by its median round,
with the range, and by its ratio to the code before. The first build is also given by each
round's own ratio (how much of the spread is the machine's drift) and by its CPU seconds.

    .venv/bin/python -m bench.builds              # 5 rounds, about 9 minutes
    .venv/bin/python -m bench.builds --rounds 5 --against <commit>

Results go to the terminal and to bench/build_results.md (unless --no-write). What ran and what
was skipped in a rebuild is tested by tests/test_incremental.py; this measures how long it takes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.generate import DEFAULT_OUT
from bench.run import BUSY, REPO, contention, environment, machine_busy

RESULTS = Path(__file__).resolve().parent / "build_results.md"
DEFAULT_ROUNDS = 5  # (the machine's speed drifts: fewer rounds leave the median to chance)

# The code before the framework change (issue 14): its last commit.
BASELINE_COMMIT = "32305e966f27665ef57b06e7d550dbcc5beb8a0d"
# The targets of issue 14: a first build within 1.25 times the code before's; a rebuild with
# nothing changed under 2 s.
MAX_FIRST_BUILD_RATIO = 1.25
UNCHANGED_REBUILD_TARGET_SECONDS = 2.0

# The extract the "one extract changed" rebuild edits (as tests/test_incremental.py does).
CHANGED_EXTRACT = Path("childrens_social_care") / "northumberland_referrals.csv"
NOTHING_CHANGED = "Nothing changed since the last successful build"
SKIPPED_PREFIX = "Unchanged sources not reloaded: "


@dataclass(frozen=True)
class Build:
    kind: str
    seconds: float
    output: str
    cpu_seconds: float = 0.0  # user + system, the build's process and every process it started (Chromium too)


@dataclass(frozen=True)
class Code:
    """One implementation: a label and the folder its code runs from."""

    label: str
    folder: Path


KINDS = ("first build", "nothing changed", "one extract changed")
BUILD_TIMEOUT_SECONDS = 600  # a build that takes this long has hung: the benchmark stops


def scorecard_environment(code: Code, root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SCORECARD_")}
    env.update(SCORECARD_RAW_DIR=str(root / "raw"), SCORECARD_DB=str(root / "marts" / "warehouse.duckdb"),
               SCORECARD_OUT_DIR=str(root / "marts"), DAGSTER_HOME=str(root / "dagster_home"),
               # The code's own modules first, in every process it starts too (the code before ran
               # Great Expectations in a process of its own).
               PYTHONPATH=str(code.folder))
    return env


def scorecard(code: Code, root: Path, *args: str) -> tuple[float, str, float]:
    """Run the `scorecard` command of ``code`` in a fresh process; (wall seconds, its output, CPU
    seconds of it and the processes it started)."""
    command = [sys.executable, "-c", "from pipelines.cli import console_main; console_main()", *args]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # From the code's folder, so that its modules are the ones imported.
    done = subprocess.run(command, cwd=code.folder, env=scorecard_environment(code, root), capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT_SECONDS)
    seconds = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = ((children_after.ru_utime - children_before.ru_utime)
                   + (children_after.ru_stime - children_before.ru_stime))
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"{code.label}: `scorecard {' '.join(args)}` failed ({done.returncode}):\n{output}")
    return seconds, output, cpu_seconds


def prepare(code: Code, root: Path) -> None:
    """A scratch project: the strategy files, the sample extracts, an empty Dagster home."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(code.folder / "data" / "raw" / "strategies", root / "raw" / "strategies")
    (root / "dagster_home").mkdir(parents=True)
    shutil.copy(code.folder / ".dagster_home" / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
    scorecard(code, root, "sample")


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


def one_round(code: Code, root: Path, round_number: int) -> list[Build]:
    reset_outputs(root)
    builds = [Build(KINDS[0], *scorecard(code, root, "build"))]
    builds.append(Build(KINDS[1], *scorecard(code, root, "build")))
    if NOTHING_CHANGED not in builds[-1].output:
        raise RuntimeError(f"{code.label}: the second build should have found nothing changed:\n{builds[-1].output}")
    change_one_extract(root, round_number)
    builds.append(Build(KINDS[2], *scorecard(code, root, "build")))
    if SKIPPED_PREFIX not in builds[-1].output:
        raise RuntimeError(f"{code.label}: the rebuild after one change should have skipped the other sources:\n"
                           f"{builds[-1].output}")
    return builds


@contextmanager
def checked_out(commit: str, folder: Path) -> Iterator[Path]:
    """``commit`` of this repository as a worktree in ``folder``, removed afterwards."""
    git = ["git", "-C", str(REPO)]
    subprocess.run([*git, "worktree", "remove", "--force", str(folder)], capture_output=True, timeout=120)
    subprocess.run([*git, "worktree", "add", "--detach", "--force", str(folder), commit], check=True,
                   capture_output=True, timeout=120)
    try:
        yield folder
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(folder)], capture_output=True, timeout=120)


def skipped_sources(output: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith(SKIPPED_PREFIX):
            return line.removeprefix(SKIPPED_PREFIX).split(", ")
    return []


def medians_of(rounds: list[list[Build]]) -> dict[str, float]:
    return {kind: statistics.median(b.seconds for one in rounds for b in one if b.kind == kind) for kind in KINDS}


def report(rounds: dict[str, list[list[Build]]], before: str | None = None) -> str:
    """The timings of each implementation (``rounds`` by label, the current code first), each
    build's ratio to the code labelled ``before``, and the targets."""
    current = next(iter(rounds))
    medians = {label: medians_of(its_rounds) for label, its_rounds in rounds.items()}
    rows = []
    for kind in KINDS:
        for label, its_rounds in rounds.items():
            seconds = [b.seconds for one in its_rounds for b in one if b.kind == kind]
            ratio = (f"{medians[label][kind] / medians[before][kind]:.2f}" if before and label != before else "")
            rows.append(f"| {kind} | {label} | {medians[label][kind]:.1f} | {min(seconds):.1f}–{max(seconds):.1f} | "
                        + ", ".join(f"{s:.1f}" for s in seconds) + f" | {ratio} |")
    changed = [b for b in rounds[current][-1] if b.kind == KINDS[2]]
    skipped = skipped_sources(changed[-1].output) if changed else []

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**not met**"

    first, unchanged = medians[current][KINDS[0]], medians[current][KINDS[1]]
    paired = []
    if before:
        # This shared machine's speed drifts within minutes: each round's own ratio, of two builds
        # made a minute apart, shows how much of the spread is the machine.
        ratios = [this.seconds / that.seconds for one, other in zip(rounds[current], rounds[before])
                  for this, that in zip(one, other) if this.kind == that.kind == KINDS[0]]
        cpu = {label: statistics.median(b.cpu_seconds for one in its_rounds for b in one if b.kind == KINDS[0])
               for label, its_rounds in rounds.items()}
        paired = [f"First build, each round against the code before's in the same round: "
                  f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}).",
                  f"First build's CPU seconds (its process and those it started, Chromium included), median: "
                  f"{cpu[current]:.1f} against {cpu[before]:.1f}"
                  + (f", {cpu[current] / cpu[before]:.2f} times." if cpu[before] else "."), ""]
    targets = []
    if before:
        ratio = first / medians[before][KINDS[0]]
        targets.append(f"- the first build within {MAX_FIRST_BUILD_RATIO} times the code before's: {first:.1f} s "
                       f"against {medians[before][KINDS[0]]:.1f} s, {ratio:.2f} times — "
                       f"{verdict(ratio <= MAX_FIRST_BUILD_RATIO)}")
    targets += [
        f"- a second build with no input changed under {UNCHANGED_REBUILD_TARGET_SECONDS:.0f} s, recomputing nothing: "
        f"{unchanged:.1f} s — {verdict(unchanged < UNCHANGED_REBUILD_TARGET_SECONDS)}",
        f"- after one extract changed (`{CHANGED_EXTRACT.as_posix()}`), only its source reloaded: "
        f"{medians[current][KINDS[2]]:.1f} s; sources skipped: {', '.join(skipped) or 'none'}",
    ]
    count = len(rounds[current])
    return "\n".join([
        "# Sample build timings",
        "",
        "Written by `make bench` (`.venv/bin/python -m bench.builds`); see bench/README.md for what is measured.",
        f"`scorecard build` on the project's sample extracts, each build a fresh process timed from start to exit; "
        f"{count} rounds, the implementations in turn within each; seconds are each build's median round"
        + (f"; the ratio is to {before}." if before else "."),
        "",
        *environment(),
        "",
        "| build | code | seconds (median) | rounds' range | every round | ratio |",
        "| --- | --- | ---: | ---: | --- | ---: |",
        *rows,
        "",
        *paired,
        *contention(),
        "## Targets",
        "",
        *targets,
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help=f"default {DEFAULT_ROUNDS}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="scratch folder")
    parser.add_argument("--against", default=BASELINE_COMMIT,
                        help="the commit to time side by side (default: the code before issue 14); '' for none")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/build_results.md")
    args = parser.parse_args(argv)

    with contextlib.ExitStack() as stack:
        codes = [Code("this code", REPO)]
        before = None
        if args.against:
            before = f"before ({args.against[:7]})"
            codes.append(Code(before, stack.enter_context(checked_out(args.against, args.out / "code_before"))))
        roots = {code.label: args.out / f"sample_build_{index}" for index, code in enumerate(codes)}
        for code in codes:
            prepare(code, roots[code.label])
        if (busy := machine_busy()) is not None:
            BUSY.append(("before", busy))
        rounds: dict[str, list[list[Build]]] = {code.label: [] for code in codes}
        for round_number in range(1, args.rounds + 1):
            # Each goes first in every other round, so neither always builds on a machine the other warmed.
            for code in codes if round_number % 2 else reversed(codes):
                print(f"round {round_number}/{args.rounds}, {code.label}:", end=" ", flush=True)
                rounds[code.label].append(one_round(code, roots[code.label], round_number))
                print(", ".join(f"{b.kind} {b.seconds:.1f} s" for b in rounds[code.label][-1]), flush=True)
        if (busy := machine_busy()) is not None:
            BUSY.append(("after", busy))
    text = report(rounds, before)
    print()
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
