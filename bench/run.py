"""`make bench`: the project's record-level build against bare DuckDB and pandas, side by side.

For each size (referrals; plans and assessments scale with it, see ``bench.generate``) the
dataset is generated once (reused afterwards), read once to warm the page cache, then each
implementation (``bench.implementations``) runs in its own fresh Python process, so that its
peak memory (``ru_maxrss`` of that process, from ``os.wait4``) is its own. Seconds are wall time
inside the process, from the start of the implementation to its measures in memory
(interpreter start-up and imports excluded). The three must give identical figures.

The three run in turn, ``--rounds`` times (D, P, X, D, P, X, ...): a slow spell on this shared
machine then falls on all three, and each is given by its median time (with the range) and its
largest peak.

    .venv/bin/python -m bench.run                      # 100k, 1M and 10M referrals, both layouts
    .venv/bin/python -m bench.run --sizes 100k,1M      # or any sizes
    .venv/bin/python -m bench.run --quick              # 100k only
    .venv/bin/python -m bench.run --layout one-file    # only the one-big-file case (P and D)

Two layouts of the same number of rows: ``many-files`` (150 authorities, a file per kind each:
P, D and X) and ``one-file`` (one authority, one file per kind holding every row: P and D,
judged against "within 2x bare DuckDB").

Results go to the terminal and to bench/results.md (unless --no-write).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.generate import DEFAULT_AREAS, DEFAULT_OUT, Dataset, Params, generate, parse_size, size_label

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.md"
ORDER = ("duckdb", "project", "pandas")
LAYOUTS = ("many-files", "one-file")
# The implementations run in each layout (pandas, minutes at 10M, only where it is judged).
ORDER_OF_LAYOUT = {"many-files": ORDER, "one-file": ("duckdb", "project")}
LABELS = {"project": "project build (P)", "duckdb": "bare DuckDB (D)", "pandas": "pandas (X)"}

# The targets of the issue, for the project's build.
MAX_RATIO_TO_DUCKDB = 1.5
MIN_SPEEDUP_OVER_PANDAS = 6.0
MAX_PEAK_BYTES = 1.5e9  # 1.5 GB
MAX_GROWTH_EXPONENT = 1.1  # time ~ rows^k between the two largest sizes: k <= 1.1 counts as linear
MAX_ONE_FILE_RATIO_TO_DUCKDB = 2.0  # one big file: the project's build within 2x bare DuckDB (issue 15)
DEFAULT_ROUNDS = 3


@dataclass
class Run:
    size: int
    implementation: str
    seconds: float
    peak_bytes: int
    rows_in: int
    rows_out: int
    detail: dict[str, float] = field(default_factory=dict)
    all_seconds: list[float] = field(default_factory=list)  # every round's, when there were several
    layout: str = "many-files"


def median_run(rounds: list[Run]) -> Run:
    """One implementation's rounds at one size as one run: the median round (its time and the
    project's breakdown), the largest peak of all, and every round's time."""
    ordered = sorted(rounds, key=lambda r: r.seconds)
    middle = ordered[(len(ordered) - 1) // 2]  # (an even count: the faster of the middle two)
    return Run(middle.size, middle.implementation, middle.seconds, max(r.peak_bytes for r in rounds), middle.rows_in,
               middle.rows_out, middle.detail, [r.seconds for r in rounds], middle.layout)


# ---------------------------------------------------------------------------------------------
# One implementation in its own process


def child(implementation: str, root: Path, result: Path, workdir: Path, settings: tuple[str, ...] = ()) -> None:
    """Run one implementation over the dataset at ``root``; write its measures and timings."""
    import polars as pl  # noqa: F401  (imports before the clock starts, as for every implementation)

    from bench import implementations

    if implementation == "project":  # the loading modules imported before the clock starts
        import scorecard.ingest.inventory  # noqa: F401
        import scorecard.load.record_level  # noqa: F401

    manifest = json.loads((root / "manifest.json").read_text())
    dataset = Dataset(root, Params(**manifest["params"]), manifest["rows"], manifest["areas"])
    detail: dict[str, float] = {}
    started = time.perf_counter()
    if implementation == "project":
        measures = implementations.project(dataset, workdir, detail, settings)
    else:
        measures = implementations.IMPLEMENTATIONS[implementation](dataset)
    seconds = time.perf_counter() - started
    measures.write_parquet(result.with_suffix(".parquet"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result.write_text(json.dumps({"seconds": seconds, "rows_out": measures.height, "detail": detail,
                                  "peak_bytes_self": peak}))


# One implementation on the largest dataset takes minutes; one that runs this long has hung.
CHILD_TIMEOUT_SECONDS = 1800


def wait_with_usage(process: subprocess.Popen, timeout: float) -> tuple[int, resource.struct_rusage]:
    """Wait for ``process`` at most ``timeout`` seconds (killing it then); its exit status and its
    resource usage (peak memory), which only ``os.wait4`` reports."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            return status, usage
        if time.monotonic() > deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)  # (killed: it ends at once)
            raise RuntimeError(f"{' '.join(process.args[3:5])} gave no answer within {timeout:.0f} s and was stopped")
        time.sleep(0.1)


def run_in_subprocess(implementation: str, dataset: Dataset, scratch: Path, settings: tuple[str, ...] = (),
                      layout: str = "many-files") -> Run:
    scratch.mkdir(parents=True, exist_ok=True)
    result = scratch / f"{implementation}.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.run", "--child", implementation, "--dataset", str(dataset.root),
               "--result", str(result), "--workdir", str(scratch),
               *(arg for setting in settings for arg in ("--project-setting", setting))]
    process = subprocess.Popen(command, cwd=REPO)
    status, usage = wait_with_usage(process, CHILD_TIMEOUT_SECONDS)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{implementation} failed (exit {process.returncode}) on {dataset.root}")
    report = json.loads(result.read_text())
    return Run(dataset.params.referrals, implementation, report["seconds"], usage.ru_maxrss * 1024,
               sum(dataset.rows.values()), report["rows_out"], report["detail"], layout=layout)


# Generating the 10M dataset takes about a minute; one that runs this long has hung.
GENERATE_TIMEOUT_SECONDS = 1800


def generated(params: Params, out: Path) -> Dataset:
    """The dataset for ``params`` (``bench.generate``), generated in a process of its own: Linux
    keeps a process's peak memory across fork and exec, so a dataset generated in this process
    (GBs at 10M) would be every implementation's peak too."""
    dataset = generate(params, out, only_if_present=True)
    if dataset is None:
        subprocess.run([sys.executable, "-m", "bench.generate", "--sizes", str(params.referrals), "--areas",
                        str(params.areas), "--out", str(out)], cwd=REPO, check=True, timeout=GENERATE_TIMEOUT_SECONDS)
        dataset = generate(params, out, only_if_present=True)
    if dataset is None:
        raise RuntimeError(f"bench.generate wrote no dataset for {params} under {out}")
    return dataset


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine so far (Linux /proc/stat)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy / os.sysconf("SC_CLK_TCK"), (busy + idle + iowait) / os.sysconf("SC_CLK_TCK")


def machine_busy(seconds: float = 2.0) -> float | None:
    """The share of the machine's CPU other processes use, measured while the benchmark waits:
    other work slows every implementation (and the disk syncs of the project's build most)."""
    before = _cpu_times()
    time.sleep(seconds)
    after = _cpu_times()
    if before is None or after is None or after[1] <= before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def warm_page_cache(dataset: Dataset) -> None:
    for path in sorted(dataset.root.rglob("*.csv")):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


# ---------------------------------------------------------------------------------------------
# Comparing and reporting


def compare(dataset: Dataset, scratch: Path, layout: str = "many-files") -> list[str]:
    """Differences between the implementations' figures (empty when all are identical)."""
    import polars as pl

    from bench.implementations import differences

    order = ORDER_OF_LAYOUT[layout]
    frames = {name: pl.read_parquet(scratch / f"{name}.parquet") for name in order}
    problems = []
    for name in order[1:]:
        if (diff := differences(frames["duckdb"], frames[name])) is not None:
            problems.append(f"{size_label(dataset.params.referrals)}, {layout}: {LABELS[name]} differs from bare "
                            f"DuckDB: {diff}")
    return problems


def _mb(value: float) -> str:
    return f"{value / 2**20:,.0f}"


def table(runs: list[Run]) -> list[str]:
    lines = ["| referrals | rows read | implementation | seconds (median) | rounds' range | peak MB | × bare DuckDB | "
             "pandas ÷ this |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
    for size in sorted({r.size for r in runs}):
        at = {r.implementation: r for r in runs if r.size == size}
        for name in ORDER:
            r = at[name]
            spread = f"{min(r.all_seconds):.2f}–{max(r.all_seconds):.2f}" if len(r.all_seconds) > 1 else "–"
            lines.append(f"| {size_label(size)} | {r.rows_in:,} | {LABELS[name]} | {r.seconds:.2f} | {spread} | "
                         f"{_mb(r.peak_bytes)} | "
                         f"{r.seconds / at['duckdb'].seconds:.2f} | {at['pandas'].seconds / r.seconds:.1f} |")
    return lines


def one_file_table(runs: list[Run]) -> list[str]:
    """The one-big-file case: P against D at each size, and the ratio (judged at the largest size:
    ``one_file_targets``; small sizes are mostly the fixed costs of either)."""
    lines = ["| referrals | rows read (in 3 files) | bare DuckDB (D) s | rounds' range | peak MB | "
             "project build (P) s | rounds' range | peak MB | P ÷ D |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size in sorted({r.size for r in runs}):
        at = {r.implementation: r for r in runs if r.size == size}
        d, p = at["duckdb"], at["project"]

        def spread(r: Run) -> str:
            return f"{min(r.all_seconds):.2f}–{max(r.all_seconds):.2f}" if len(r.all_seconds) > 1 else "–"

        lines.append(f"| {size_label(size)} | {p.rows_in:,} | {d.seconds:.2f} | {spread(d)} | {_mb(d.peak_bytes)} | "
                     f"{p.seconds:.2f} | {spread(p)} | {_mb(p.peak_bytes)} | {p.seconds / d.seconds:.2f} |")
    return lines


def one_file_targets(runs: list[Run]) -> list[str]:
    largest = max(r.size for r in runs)
    at = {r.implementation: r for r in runs if r.size == largest}
    ratio = at["project"].seconds / at["duckdb"].seconds
    met = ratio <= MAX_ONE_FILE_RATIO_TO_DUCKDB
    return [f"At {size_label(largest)} referrals in one file: project build within {MAX_ONE_FILE_RATIO_TO_DUCKDB:g}× "
            f"bare DuckDB: {ratio:.2f}× — {'**met**' if met else '**missed**'}"
            + ("" if met else f" (the target is {MAX_ONE_FILE_RATIO_TO_DUCKDB * at['duckdb'].seconds:.1f} s)")
            + f"; peak memory {at['project'].peak_bytes / 1e9:.2f} GB (bare DuckDB "
              f"{at['duckdb'].peak_bytes / 1e9:.2f} GB)."]


def breakdown(runs: list[Run]) -> list[str]:
    lines = []
    for r in sorted((r for r in runs if r.implementation == "project"), key=lambda r: (r.layout, r.size)):
        d = r.detail
        parts = [f"files found, hashed (sha256) and recognised {d.get('inventory', 0):.2f} s",
                 f"raw tables {d.get('raw_tables', 0):.2f} s (files read, checked, pseudonymised and written to "
                 f"Parquet on {d.get('read_threads', 2):.0f} worker threads, {d.get('read', 0):.2f} thread-seconds "
                 "reading; listed by the main thread a batch per transaction)",
                 f"monthly_measures {d.get('measures', 0):.2f} s"]
        lines.append(f"- {size_label(r.size)}, {r.layout}: " + "; ".join(parts))
    return lines


def growth(runs: list[Run]) -> tuple[list[str], dict[str, float]]:
    """Seconds per million rows read at each size, and the exponent k of time ~ rows^k between
    consecutive sizes (1 = linear)."""
    sizes = sorted({r.size for r in runs})
    lines, exponents = [], {}
    for name in ORDER:
        mine = sorted((r for r in runs if r.implementation == name), key=lambda r: r.size)
        per_million = ", ".join(f"{size_label(r.size)}: {r.seconds / (r.rows_in / 1e6):.2f}" for r in mine)
        steps = []
        for a, b in zip(mine, mine[1:]):
            k = math.log(b.seconds / a.seconds) / math.log(b.rows_in / a.rows_in)
            steps.append(f"{size_label(a.size)}→{size_label(b.size)} k = {k:.2f}")
            exponents[name] = k  # the last step: between the two largest sizes
        lines.append(f"- {LABELS[name]}: seconds per million rows read {per_million}"
                     + (f"; time ∝ rows^k: {', '.join(steps)}" if steps else ""))
    if len(sizes) < 2:
        lines.append("- (one size only: run more sizes to see how cost grows)")
    return lines, exponents


def targets(runs: list[Run], exponents: dict[str, float]) -> list[str]:
    largest = max(r.size for r in runs)
    at = {r.implementation: r for r in runs if r.size == largest}
    p, d, x = at["project"], at["duckdb"], at["pandas"]
    ratio, speedup = p.seconds / d.seconds, x.seconds / p.seconds

    def verdict(ok: bool) -> str:
        return "**met**" if ok else "**missed**"

    lines = [f"At {size_label(largest)} referrals ({p.rows_in:,} rows read):",
             f"- project build at most {MAX_RATIO_TO_DUCKDB}× bare DuckDB: {ratio:.2f}× — "
             f"{verdict(ratio <= MAX_RATIO_TO_DUCKDB)}"
             + ("" if ratio <= MAX_RATIO_TO_DUCKDB else
                f" (by {p.seconds - MAX_RATIO_TO_DUCKDB * d.seconds:.1f} s: "
                f"the target is {MAX_RATIO_TO_DUCKDB * d.seconds:.1f} s)"),
             f"- at least {MIN_SPEEDUP_OVER_PANDAS:g}× faster than pandas: {speedup:.1f}× — "
             f"{verdict(speedup >= MIN_SPEEDUP_OVER_PANDAS)}",
             f"- peak memory under 1.5 GB: {p.peak_bytes / 1e9:.2f} GB — {verdict(p.peak_bytes < MAX_PEAK_BYTES)}"]
    if "project" in exponents:
        k = exponents["project"]
        lines.append(f"- cost growing linearly with rows (time ∝ rows^k, k ≤ {MAX_GROWTH_EXPONENT} between the two "
                     f"largest sizes): k = {k:.2f} — {verdict(k <= MAX_GROWTH_EXPONENT)}")
    else:
        lines.append("- cost growing linearly with rows: not measured (one size only)")
    return lines


BUSY: list[tuple[str, float]] = []  # (when, share of the CPU other processes used)


def contention() -> list[str]:
    """Whether other processes were using the machine around the runs."""
    if not BUSY:
        return []
    text = ", ".join(f"{when} {share:.0%}" for when, share in BUSY)
    if max(share for _, share in BUSY) <= 0.05:
        return [f"The machine was otherwise idle (CPU used by other processes, sampled for 2 s: {text}).", ""]
    return [f"**Other processes were using the machine** (share of its CPU, sampled for 2 s: {text}): "
            "the timings are slower than it can do, the project's most (its file-by-file commits wait on the "
            "disk); rerun when it is idle.", ""]


def environment() -> list[str]:
    import duckdb
    import numpy
    import pandas
    import polars

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return [f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {cpu}, {os.cpu_count()} cores, {memory:.0f} GiB; "
            f"Python {platform.python_version()}, duckdb {duckdb.__version__}, polars {polars.__version__}, "
            f"pandas {pandas.__version__}, numpy {numpy.__version__}."]


def report(runs: list[Run], problems: list[str], params: list[Params], rounds: int,
           settings: tuple[str, ...] = ()) -> str:
    many = [r for r in runs if r.layout == "many-files"]
    one = [r for r in runs if r.layout == "one-file"]
    layouts = [name for name, ran in (("many files", many), ("one big file", one)) if ran]
    sections = [
        "# Record-level benchmark results",
        "",
        "Written by `make bench` (`.venv/bin/python -m bench.run`); see bench/README.md for what is measured.",
        "All figures below come from one run, the implementations side by side: they ran in turn, "
        f"{rounds} rounds at each size and layout ({' and '.join(layouts)}); seconds are each one's median round, "
        "peak memory its largest.",
        "",
        *environment(),
        "",
        "Datasets: " + "; ".join(f"{size_label(p.referrals)} referrals, {p.plans:,} plans, "
                                 f"{p.assessments:,} assessments, {p.areas} "
                                 + ("authority, one file per kind" if p.areas == 1 else "authorities")
                                 for p in params) + ".",
        "",
    ]
    if many:
        growth_lines, exponents = growth(many)
        sections += [
            "## Many files (a file per kind for each of the authorities)",
            "",
            *table(many),
            "",
        ]
    if one:
        sections += [
            "## One big file (one authority: every referral in one CSV, every plan in another, every assessment "
            "in a third)",
            "",
            *one_file_table(one),
            "",
            *one_file_targets(one),
            "",
        ]
    sections += [
        "Identical figures: " + ("yes, at every size and layout (every row of every measure)." if not problems
                                 else "**NO**\n\n" + "\n".join(f"- {p}" for p in problems)),
        "",
        *contention(),
    ]
    if many:
        sections += [
            "## Targets",
            "",
            *targets(many, exponents),
            "",
            "## How cost grows",
            "",
            *growth_lines,
            "",
        ]
    sections += [
        "## Where the project's time goes",
        "",
        *breakdown(runs),
        "",
    ]
    if settings:
        sections[2:2] = ["", f"**What-if run**: the project's DuckDB connection had `{'; '.join(settings)}` "
                             "(on top of the build's own `duckdb_config`).", ""]
    return "\n".join(sections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1M,10M", help="referrals per dataset, comma-separated")
    parser.add_argument("--quick", action="store_true", help="100k referrals only")
    parser.add_argument("--layout", choices=(*LAYOUTS, "both"), default="both",
                        help="many-files: 150 authorities, a file per kind each (P, D, X); one-file: one authority, "
                             "every row of a kind in one file (P, D); both (default)")
    parser.add_argument("--areas", type=int, default=DEFAULT_AREAS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="scratch folder for datasets and results")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                        help=f"times each implementation runs at each size, in turn (default {DEFAULT_ROUNDS})")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results.md")
    parser.add_argument("--project-setting", action="append", default=[], metavar="SETTING",
                        help="what-if: a DuckDB setting for the project's connection, e.g. \"memory_limit='1GB'\" "
                             "(repeatable; results are then not written to bench/results.md)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = tuple(args.project_setting)
    if args.child:
        child(args.child, args.dataset, args.result, args.workdir, settings)
        return 0

    sizes = [100_000] if args.quick else [parse_size(s) for s in args.sizes.split(",")]
    layouts = LAYOUTS if args.layout == "both" else (args.layout,)
    runs: list[Run] = []
    problems: list[str] = []
    params = []
    for layout in layouts:
        order = ORDER_OF_LAYOUT[layout]
        for size in sizes:
            dataset = generated(Params.for_size(size, 1 if layout == "one-file" else args.areas), args.out)
            params.append(dataset.params)
            warm_page_cache(dataset)
            if (busy := machine_busy()) is not None:
                BUSY.append((f"before {size_label(size)} {layout}", busy))
                if busy > 0.05:
                    print(f"warning: other processes are using {busy:.0%} of the CPU: timings will suffer", flush=True)
            scratch = args.out / "results" / dataset.root.name
            rounds: dict[str, list[Run]] = {name: [] for name in order}
            for round_number in range(1, args.rounds + 1):
                for name in order:
                    print(f"{size_label(size)} {layout}, round {round_number}/{args.rounds}: {LABELS[name]} ...",
                          end=" ", flush=True)
                    run = run_in_subprocess(name, dataset, scratch, settings if name == "project" else (), layout)
                    rounds[name].append(run)
                    print(f"{run.seconds:.2f} s, peak {_mb(run.peak_bytes)} MB", flush=True)
                problems += [p for p in compare(dataset, scratch, layout) if p not in problems]
            runs += [median_run(rounds[name]) for name in order]
    if (busy := machine_busy()) is not None:
        BUSY.append(("after", busy))
    text = report(runs, problems, params, args.rounds, settings)
    print()
    print(text)
    if not args.no_write and not settings:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"written to {RESULTS.relative_to(REPO)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
