"""The report of what the vocabulary does not place (``marts.unmapped_values``), for the data team:
each value once, with its rows and files, and the vocabulary's own lines that could not be used."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from scorecard.model.markdown import escape_markdown

REPORT_NAME = "unmapped_values"
MAX_VALUES_IN_REPORT = 500  # the mart holds every one; the report is for reading


def write_unmapped_report(conn: duckdb.DuckDBPyConnection, validation_dir: Path,
                          vocabulary_problems: list[str]) -> Path:
    """``validation/unmapped_values.{json,md}`` from ``marts.unmapped_values``; the Markdown path."""
    rows = conn.execute("select vocabulary, value, rows, files from marts.unmapped_values "
                        "order by vocabulary, rows desc, value").fetchall()
    validation_dir.mkdir(parents=True, exist_ok=True)
    (validation_dir / f"{REPORT_NAME}.json").write_text(json.dumps({
        # (unmapped values are data, not refusals: only vocabulary lines that cannot be used are problems)
        "layout": REPORT_NAME, "status": "vocabulary lines skipped" if vocabulary_problems else "accepted",
        "unmapped": [{"vocabulary": v, "value": value, "rows": n, "files": files.split("; ") if files else []}
                     for v, value, n, files in rows[:MAX_VALUES_IN_REPORT]],
        "unmapped_values": len(rows),
        "vocabulary_problems": vocabulary_problems}, indent=2), encoding="utf-8")
    lines = ["# Values the vocabulary does not place", ""]
    if rows:
        lines += [f"{len(rows)} value(s) loaded as written, in agency group 'Unmapped'. To place one, add a "
                  "line `value,means` to the vocabulary file named (data/raw/vocabulary/, or the raw "
                  "folder's vocabulary/); the next build moves its rows.", "",
                  "| vocabulary | value | rows | files |", "| --- | --- | --- | --- |"]
        lines += [f"| {v}.csv | {escape_markdown(value)} | {n:,} | {escape_markdown(files or '')} |"
                  for v, value, n, files in rows[:MAX_VALUES_IN_REPORT]]
        if len(rows) > MAX_VALUES_IN_REPORT:
            lines.append(f"\n... and {len(rows) - MAX_VALUES_IN_REPORT:,} more: see marts.unmapped_values.")
    else:
        lines.append("Every value is placed.")
    if vocabulary_problems:
        lines += ["", "## Vocabulary lines not used", ""] + [f"- {escape_markdown(p)}" for p in vocabulary_problems]
    path = validation_dir / f"{REPORT_NAME}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
