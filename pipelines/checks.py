"""Dagster's view of a loader's outcome: its metadata, its ``valid`` check, and its log lines.

The loading itself (``scorecard.load.ledger``) knows nothing of Dagster; every raw asset ends
with ``load_result``.
"""

from pathlib import Path

import dagster as dg

from scorecard.load.file_refs import SyncOutcome
from scorecard.load.ledger import MAX_MESSAGES_IN_METADATA, quarantine_report_path, write_outcome_report


def outcome_check(outcome: SyncOutcome, out_dir: Path, asset_key: list[str] | None = None) -> dg.AssetCheckResult:
    """The ``valid`` check of a raw asset: quarantined files fail it (ERROR), but do not block
    the rest of the build, which publishes every file that passed."""
    problems = outcome.problems
    messages = [p.message() for p in problems]
    refused = [f"{ref.where} (report: {quarantine_report_path(out_dir, ref)})" for ref in outcome.quarantined]
    return dg.AssetCheckResult(
        check_name="valid", asset_key=asset_key, passed=not problems, severity=dg.AssetCheckSeverity.ERROR,
        description=(f"{len(refused)} file(s) quarantined with {len(problems)} problem(s): " + "; ".join(refused)
                     if problems else "Every file passed."),
        metadata={"problems": len(problems), "messages": dg.MetadataValue.json(messages[:MAX_MESSAGES_IN_METADATA]),
                  "quarantined": dg.MetadataValue.json(refused)},
    )


def outcome_metadata(outcome: SyncOutcome) -> dict:
    return {"loaded": dg.MetadataValue.json([r.where for r in outcome.loaded]),
            "unchanged": len(outcome.unchanged),
            "quarantined": dg.MetadataValue.json([r.where for r in outcome.quarantined]),
            "retired": dg.MetadataValue.json([f"{p} ({n} rows)" for p, _, n in outcome.retired])}


def load_result(context: dg.AssetExecutionContext, out_dir: Path, name: str, title: str, outcome: SyncOutcome,
                metadata: dict, asset_key: list[str] | None = None) -> dg.MaterializeResult:
    """What every loader ends with: the outcome report, its problems in the log, and the ``valid``
    check (``asset_key``: which of a multi-asset's tables this is)."""
    write_outcome_report(out_dir, name, title, outcome)
    for problem in outcome.problems[:MAX_MESSAGES_IN_METADATA]:
        context.log.error(problem.message())
    return dg.MaterializeResult(asset_key=asset_key, metadata={**outcome_metadata(outcome), **metadata},
                                check_results=[outcome_check(outcome, out_dir, asset_key)])
