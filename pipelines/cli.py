"""`scorecard sample` writes sample extracts; `scorecard build` materialises everything.

`build` ends by saying what it published (warehouse, charts, reports) and what it did not, and
why. It exits non-zero, printing every validation message, when an input is refused (what
passed is still published) or an output could not be published.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.settings import Settings, load_settings, pseudonym_key

# Dagster, polars and DuckDB are imported where a command needs them: a build that finds nothing
# changed answers without them.
if TYPE_CHECKING:
    import dagster as dg

    from pipelines.fingerprint import Fingerprint


def _sample(settings: Settings, if_empty: bool) -> int:
    from scorecard.ingest.files import discover_files
    from scorecard.ingest.strategies import StrategyFileError
    from scorecard.model.catalogue import IndicatorFileError
    from scorecard.sample import write_sample

    existing = discover_files(settings.raw_dir) if settings.raw_dir.exists() else []
    if if_empty and existing:
        print(f"{len(existing)} extract(s) already under {settings.raw_dir}; not writing sample data.")
        return 0
    try:
        written = write_sample(settings.raw_dir)
    except StrategyFileError as error:
        print(f"No sample data written: {error}. The sample follows the partnerships' strategy "
              f"files, read from {settings.raw_dir / 'strategies'}: copy the project's "
              "data/raw/strategies/*.yaml there (or write your own) first.", file=sys.stderr)
        return 1
    except IndicatorFileError as error:
        print(f"No sample data written: {error}.", file=sys.stderr)
        return 1
    print(f"Wrote {len(written)} sample extract(s) under {settings.raw_dir}.")
    return 0


def _problems(result: dg.ExecuteInProcessResult) -> tuple[list[str], list[str]]:
    """(errors, warnings) a person should read, from a finished run."""
    import dagster as dg

    errors, warnings = [], []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        messages = evaluation.metadata.get("messages") or evaluation.metadata.get("not_recognised")
        lines = list(messages.value) if messages is not None else [evaluation.description or ""]
        target = errors if evaluation.severity == dg.AssetCheckSeverity.ERROR else warnings
        target.append(f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}: "
                      f"{evaluation.description}")
        if messages is not None:
            total = evaluation.metadata.get("problems")
            target.extend(f"  {line}" for line in lines)
            if total is not None and total.value > len(lines):
                target.append(f"  ... and {total.value - len(lines)} more in the report")
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            if error and "DagsterAssetCheckFailedError" not in (error.cls_name or ""):
                errors.append(f"{event.step_key} failed: {error.message.strip()}")
    return errors, warnings


def _loaders(source: str) -> list[list[str]]:
    """The loader assets of a kind of source in raw.extract_files (partner returns: one per layout)."""
    from scorecard.load.warehouse import RECORD_LEVEL_TABLES

    return {"dfe_published": [["raw", "dfe_open_data"]], "dfe_reference": [["raw", "statistical_neighbours"]],
            "fingertips": [["raw", "fingertips"]],
            "record_level": [["raw", kind] for kind in RECORD_LEVEL_TABLES]}.get(source, [])


def _loaders_to_skip(settings: Settings, changed: list[str]) -> list[list[str]] | None:
    """Loader assets none of whose files changed; None when every loader must run (a file was
    added, or a strategy file changed, so recognition or validation may differ)."""
    import duckdb

    from expectations.layouts import LAYOUTS

    if any(path.startswith("strategies/") for path in changed) or not settings.build_db_path.exists():
        return None
    try:
        with duckdb.connect(str(settings.build_db_path), read_only=True) as conn:
            known = conn.execute("select path, source, layout from raw.extract_files").fetchall()
    except duckdb.Error:
        return None
    by_path = {path: (source, layout) for path, source, layout in known}
    from scorecard.ingest.file_references import file_reference

    # (the inventory names a record-level file by reference, never as written)
    changed = [path if path in by_path else file_reference(path, pseudonym_key()) for path in changed]
    if any(path not in by_path for path in changed):
        return None
    every_loader = [["raw", layout.name] for layout in LAYOUTS] + [
        key for source in ("dfe_published", "dfe_reference", "fingertips", "record_level") for key in _loaders(source)]
    touched = [key for source, layout in (by_path[path] for path in changed)
               for key in ([["raw", layout]] if source == "partner_return" else _loaders(source))]
    return [key for key in every_loader if key not in touched]


def _build(settings: Settings, force: bool = False) -> int:
    from scorecard.ingest.files import one_hash_per_file

    # (the fingerprint and raw.extract_files both need every file's sha256: read each file once)
    with one_hash_per_file():
        return _build_once(settings, force)


def _build_once(settings: Settings, force: bool) -> int:
    from pipelines.fingerprint import changed_files, current_fingerprint, read_fingerprint

    previous = read_fingerprint(settings)
    current = current_fingerprint(settings, previous)
    if (not force and previous is not None and previous.complete and previous.same_build(current)
            and settings.db_path.exists()):
        print("Nothing changed since the last successful build (same inputs, same code): nothing rebuilt.")
        print(f"Warehouse:          {settings.db_path}")
        return 0
    skip = None
    if not force and previous is not None and (previous.code, previous.pseudonym) == (current.code, current.pseudonym):
        skip = _loaders_to_skip(settings, changed_files(previous.files, current.files))

    return _run_build(settings, current, skip)


# What a build publishes, in order: (name, asset key).
OUTPUTS = (("warehouse", ("outputs", "published_warehouse")), ("charts", ("outputs", "indicator_charts")),
           ("reports", ("outputs", "partnership_reports")))


def _output_locations(settings: Settings) -> dict[str, Path]:
    return {"warehouse": settings.db_path, "charts": settings.charts_dir / "index.html",
            "reports": settings.reports_dir}


def _file_identity(path: Path) -> tuple | None:
    """What changes when a file is replaced (``os.replace``) or rewritten."""
    try:
        facts = path.stat()
    except OSError:
        return None
    return (facts.st_ino, facts.st_mtime_ns, facts.st_size)


@dataclass
class Publication:
    """What one build published: for each output, the build it now shows (an ISO time)."""

    built_at: str
    published: dict[str, bool]
    failures: dict[str, str]
    warehouse_replaced: bool
    notes: list[str]

    def record(self, settings: Settings) -> Path | None:
        """``<out>/publication.json``: the build each output shows, so charts or reports left from
        an earlier build are marked as such. Best effort: the folder may be what failed."""
        path = settings.out_dir / "publication.json"
        try:
            shown = json.loads(path.read_text(encoding="utf-8")).get("shows_build", {})
        except (OSError, ValueError, AttributeError):
            shown = {}
        for name, _ in OUTPUTS:
            if self.published[name] or (name == "warehouse" and self.warehouse_replaced):
                shown[name] = self.built_at
        current = {name: shown.get(name) == self.built_at for name, _ in OUTPUTS}
        try:
            path.write_text(json.dumps({"last_build": self.built_at, "shows_build": shown,
                                        "current": current}, indent=2) + "\n", encoding="utf-8")
        except OSError:
            return None
        return path

    def lines(self, settings: Settings) -> list[str]:
        """The final message: what was published, and what was not and why, in plain words."""
        where = _output_locations(settings)
        lines = []
        for name, _ in OUTPUTS:
            if self.published[name]:
                lines.append(f"Published {name + ':':<11} {where[name]}")
                continue
            reason = self.failures.get(name) or "not made, because an earlier step failed"
            if name == "warehouse":
                state = ("it WAS replaced by this build before the failure" if self.warehouse_replaced
                         else "the published warehouse was not changed")
            else:
                state = f"{where[name]} still shows an earlier build (see publication.json)"
            lines.append(f"NOT published {name}: {reason}; {state}.")
        return lines + self.notes


def _root_cause(error) -> str:
    """The innermost error of a step's failure, in one line (Dagster wraps what the asset raised)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "an error"


def _publication(result: dg.ExecuteInProcessResult, settings: Settings, built_at: str,
                 warehouse_before: tuple | None) -> Publication:
    import dagster as dg

    materialized = {event.asset_key: event for event in result.get_asset_materialization_events()}
    failures = {}
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            for name, key in OUTPUTS:
                if event.step_key == "__".join(key):
                    failures[name] = _root_cause(event.step_failure_data.error)
    published = {name: dg.AssetKey(list(key)) in materialized for name, key in OUTPUTS}
    notes = []
    charts = materialized.get(dg.AssetKey(["outputs", "indicator_charts"]))
    if charts is not None:
        png_export = charts.step_materialization_data.materialization.metadata.get("png_export")
        if png_export is not None:
            notes.append(str(png_export.value))
    return Publication(built_at, published, failures,
                       _file_identity(settings.db_path) != warehouse_before, notes)


# A build that prints nothing for 20 s looks hung: with no progress line for this long, say so.
HEARTBEAT_SECONDS = 15.0


class _PrintedProgress(logging.StreamHandler):
    """Prints progress lines, remembering when it last did."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(logging.Formatter("  %(asctime)s  %(message)s", datefmt="%H:%M:%S"))
        self.last_printed = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        self.last_printed = time.monotonic()


@contextmanager
def _progress_printed(heartbeat_seconds: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Long steps' progress lines (``scorecard.load.progress``) printed as the build runs, and a
    line whenever none came for ``heartbeat_seconds``: a build that prints nothing looks hung."""
    from scorecard.load.progress import TERMINAL_LOG

    handler = _PrintedProgress()
    level, propagate = TERMINAL_LOG.level, TERMINAL_LOG.propagate
    TERMINAL_LOG.addHandler(handler)
    TERMINAL_LOG.setLevel(logging.INFO)
    TERMINAL_LOG.propagate = False  # (printed here only, not by whatever the root logger does)
    finished = threading.Event()
    started = time.monotonic()

    def heartbeat() -> None:
        while not finished.wait(timeout=heartbeat_seconds / 3):
            if time.monotonic() - handler.last_printed >= heartbeat_seconds:
                TERMINAL_LOG.info(f"still building ({time.monotonic() - started:.0f} s so far)")

    beating = threading.Thread(target=heartbeat, name="build-heartbeat", daemon=True)
    beating.start()
    try:
        yield
    finally:
        finished.set()
        beating.join(timeout=heartbeat_seconds)  # (it wakes within a third of that)
        TERMINAL_LOG.removeHandler(handler)
        TERMINAL_LOG.setLevel(level)
        TERMINAL_LOG.propagate = propagate


def _run_build(settings: Settings, current: Fingerprint, skip: list[list[str]] | None) -> int:
    """Run the job (only the loaders not in ``skip``); record ``current`` if it succeeds."""
    import dagster as dg

    from pipelines.definitions import build_definitions
    from pipelines.fingerprint import mark_incomplete, write_fingerprint

    job = build_definitions(settings).resolve_job_def("build_scorecard")
    selection = None
    if skip:
        selection = [key for key in job.asset_layer.asset_graph.get_all_asset_keys() if list(key.path) not in skip]
        print(f"Unchanged sources not reloaded: {', '.join('/'.join(key) for key in skip)}")
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    # The console shows what a person must act on; Dagster's step-by-step log stays in the run.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}, "step_finished_lines": {}}}
    warehouse_before = _file_identity(settings.db_path)
    built_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    with instance, _progress_printed():  # (leaving the instance closes its storage)
        result = job.execute_in_process(run_config=quiet, instance=instance, raise_on_error=False,
                                        asset_selection=selection)
        errors, warnings = _problems(result)
        publication = _publication(result, settings, built_at, warehouse_before)
    publication.record(settings)
    if errors or warnings:
        print(f"Files are named by their path under the raw folder, {settings.raw_dir}.")
    for line in warnings:
        print(f"WARNING {line}" if not line.startswith("  ") else line)
    everything_published = all(publication.published.values()) and not publication.notes
    report = sys.stdout if everything_published and not errors else sys.stderr
    if not result.success or not everything_published:
        print("\nBuild incomplete:", file=sys.stderr)
    for line in publication.lines(settings):
        print(line, file=report)
    print(f"Validation reports: {settings.validation_dir}")
    if errors:
        if publication.published["warehouse"]:
            print("\nPublished what passed, but some files were refused and quarantined; the last good "
                  "version of each stays in use (see marts.scorecard.stale_reason):", file=sys.stderr)
        for line in errors:
            print(line, file=sys.stderr)
        print(f"Quarantine reports: {settings.out_dir / 'quarantine'}", file=sys.stderr)
    if errors or not everything_published:
        mark_incomplete(settings)  # (so the next build runs, to publish what this one did not)
        return 1
    write_fingerprint(settings, current)
    return 0


def _report(settings: Settings, as_at_text: str | None) -> int:
    """Write the committee reports as at a date from the published warehouse, and record what they show."""
    import duckdb

    from pipelines.settings import parse_as_at
    from scorecard.model.reported import ReportedFiguresError
    from scorecard.publish.report import as_at_charts_dir, write_reports

    try:
        as_at = parse_as_at(as_at_text, "--as-at") or settings.report_as_at
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.db_path.is_file():
        print(f"No published warehouse at {settings.db_path}: run `scorecard build` first.", file=sys.stderr)
        return 1
    try:
        with duckdb.connect(str(settings.db_path), read_only=True) as conn:
            written = write_reports(conn, settings.reports_dir, settings.charts_dir,
                                    disclosure_control=settings.disclosure_control, as_at=as_at,
                                    history_path=settings.reported_figures_path, images=settings.chart_images)
    except ReportedFiguresError as error:
        print(f"Reports not recorded: {error}", file=sys.stderr)
        return 1
    when = f"as at {as_at}" if as_at else "as at the last complete quarter in the data"
    print(f"Wrote {len(written)} committee report(s) {when} (HTML and Word) in {settings.reports_dir}; "
          f"the figures they show are recorded in {settings.reported_figures_path}.")
    if as_at is not None and (charts := as_at_charts_dir(settings.reports_dir, as_at)).is_dir():
        print(f"Their charts run to {as_at}, drawn from the data up to that date in {charts}.")
    return 0


def _which(settings: Settings, reference: str) -> int:
    """Print the real name of a record-level file, on the data team's own terminal only: the
    warehouse, the reports and the logs name it by reference (``scorecard.ingest.file_references``)."""
    from scorecard.load.record_level import record_level_paths

    path = record_level_paths(settings.raw_dir, pseudonym_key()).get(reference.strip())
    if path is None:
        print(f"No file under {settings.raw_dir} has the reference '{reference}' (with this SCORECARD_PSEUDONYM_KEY).")
        return 1
    print(settings.raw_dir / path)
    return 0


def console_main() -> None:
    """The ``scorecard`` command."""
    sys.exit(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scorecard", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="write deterministic sample extracts into the raw folder")
    sample.add_argument("--if-empty", action="store_true", help="only when the raw folder holds no extracts")
    build = commands.add_parser("build", help="load, validate, build and publish the warehouse, then draw the charts")
    build.add_argument("--force", action="store_true", help="rebuild everything even if nothing changed")
    commands.add_parser("docs", help="rewrite docs/layouts.md and docs/warehouse.md from the registries")
    report = commands.add_parser("report", help="write each partnership's committee report (HTML and Word) "
                                                "from the published warehouse, as at a date")
    report.add_argument("--as-at", help="the committee's date, e.g. 2025-09-30 (default: SCORECARD_REPORT_AS_AT, "
                                        "else the last complete quarter in the data)")
    which = commands.add_parser("which", help="the file under the raw folder that a record-level file's reference "
                                              "in a message or the warehouse stands for")
    which.add_argument("reference", help='as a message names it, e.g. "E06000057/record-level file 3f9a2c1b7d40.xlsx"')
    args = parser.parse_args(argv)
    if args.command == "docs":
        from scorecard.docs import write_docs

        for path in write_docs():
            print(f"Wrote {path}")
        return 0
    try:
        settings = load_settings()
    except ValueError as error:  # (a setting written wrongly, e.g. SCORECARD_REPORT_AS_AT)
        print(error, file=sys.stderr)
        return 2
    if args.command == "sample":
        return _sample(settings, args.if_empty)
    if args.command == "report":
        return _report(settings, args.as_at)
    if args.command == "which":
        return _which(settings, args.reference)
    return _build(settings, force=args.force)


if __name__ == "__main__":
    console_main()
