"""Problems grouped and capped: one line per file, sheet, column and rule, however many rows.

"'Date of Referral': 412 rows are refused because it must be a date, rows 2-413, e.g. 'TBC'":
the rows as ranges (the first few), a few distinct values as examples (none for a cell about a
child), and at most ``MAX_GROUPS_PER_FILE`` groups a file, the rest counted in one line. The
grouping runs on a polars frame of failures, so a file with a million bad cells costs a frame,
not a million objects, and a report stays a few kilobytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from expectations.partner_returns import Problem

MAX_EXAMPLES = 3  # distinct values quoted per group
MAX_RANGES = 5  # row ranges listed per group
MAX_GROUPS_PER_FILE = 50  # groups kept per file (and sheet); the rest are one line

# One failure a row: the frame ``group_failures`` reads.
FAILURE_SCHEMA = {"file": pl.String, "sheet": pl.String, "row": pl.Int64, "column": pl.String,
                  "value": pl.String, "rule": pl.String, "withheld": pl.Boolean}


@dataclass(frozen=True)
class ProblemGroup(Problem):
    """The cells of one column of one file (and sheet) breaking one rule.

    ``row`` is the first of them and ``value`` the first example (None when withheld or blank).
    ``withheld``: the cells are about a child, so no content is quoted.
    """

    rows_affected: int = 1
    row_ranges: tuple[tuple[int, int], ...] = ()
    more_ranges: int = 0
    examples: tuple[str, ...] = ()
    withheld: bool = False

    def message(self) -> str:
        if self.rows_affected == 1:  # one cell: said as a single problem is
            if self.withheld:
                return (f"{self.location()}: the cell is refused because {self.rule} "
                        "(its content is not shown: it is about a child).")
            return super().message()
        where = ([self.file] + ([f"sheet '{self.sheet}'"] if self.sheet else [])
                 + ([f"column '{self.column}'"] if self.column else []))
        ranges = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in self.row_ranges)
        if self.more_ranges:
            ranges += f" and {self.more_ranges:,} more"
        if self.withheld:
            shown = " (their content is not shown: it is about a child)"
        elif self.examples:
            shown = ", e.g. " + ", ".join(f"'{example}'" for example in self.examples)
        else:
            shown = ""
        return f"{', '.join(where)}: {self.rows_affected:,} rows are refused because {self.rule}, rows {ranges}{shown}."


def failures_frame(problems: Iterable[Problem]) -> pl.DataFrame:
    """Single-cell problems as the frame ``group_failures`` reads."""
    return pl.DataFrame([(p.file, p.sheet, p.row, p.column, p.value, p.rule, bool(getattr(p, "withheld", False)))
                         for p in problems], schema=FAILURE_SCHEMA, orient="row")


KEYS = ["file", "sheet", "column", "rule"]
# Runs of consecutive failing rows of one group: what grouping keeps of a part of a file's failures
# (``failure_runs``), so that a large file is checked a part at a time in bounded memory.
RUN_SCHEMA = {"file": pl.String, "sheet": pl.String, "column": pl.String, "rule": pl.String, "first": pl.Int64,
              "last": pl.Int64, "examples": pl.List(pl.String), "withheld": pl.Boolean}


def failure_runs(failures: pl.DataFrame) -> pl.DataFrame:
    """Failures (``FAILURE_SCHEMA``, one a cell) -> ``RUN_SCHEMA``: one row per run of consecutive
    rows of a group (file, sheet, column, rule), with the run's first few distinct values. Failures
    about a whole table (no row) are runs with ``first`` null, kept as they are."""
    failures = failures.select(*FAILURE_SCHEMA).cast(FAILURE_SCHEMA)  # type: ignore[arg-type]
    cells = failures.filter(pl.col("row").is_not_null())
    runs = (cells.sort(*KEYS, "row", nulls_last=True)
            .with_columns(run=(pl.col("row") - pl.col("row").rank("dense").over(KEYS)))  # (a repeated row: one run)
            .group_by(*KEYS, "run", maintain_order=True)
            .agg(first=pl.col("row").min(), last=pl.col("row").max(),
                 examples=pl.col("value").drop_nulls().unique(maintain_order=True).head(MAX_EXAMPLES),
                 withheld=pl.col("withheld").any())
            .drop("run"))
    tables = failures.filter(pl.col("row").is_null()).unique(maintain_order=True).select(
        *KEYS, first=pl.lit(None, dtype=pl.Int64), last=pl.lit(None, dtype=pl.Int64),
        examples=pl.concat_list(pl.col("value")).list.drop_nulls(), withheld=pl.col("withheld"))
    return pl.concat([tables.cast(RUN_SCHEMA), runs.cast(RUN_SCHEMA)])  # type: ignore[arg-type]


def group_failures(failures: pl.DataFrame, max_groups: int = MAX_GROUPS_PER_FILE) -> list[Problem]:
    """Failures (``FAILURE_SCHEMA``, one a cell) -> a ``ProblemGroup`` per file, sheet, column and
    rule, in the order of each group's first row; past ``max_groups`` groups in a file, one line
    counting the rest. Failures without a row (about a whole table) are kept as they are."""
    if failures.is_empty():
        return []
    return group_runs(failure_runs(failures), max_groups)


def _all_examples() -> pl.Expr:
    """The examples of the runs being joined, one list."""
    return pl.col("examples").list.explode(keep_nulls=False, empty_as_null=False)


def group_runs(runs: pl.DataFrame, max_groups: int = MAX_GROUPS_PER_FILE) -> list[Problem]:
    """``group_failures`` from the runs of the parts of a file (``failure_runs`` of each part, its
    rows numbered as in the whole file, concatenated): runs that meet across parts are joined."""
    if runs.is_empty():
        return []
    tables = runs.filter(pl.col("first").is_null())
    runs = (runs.filter(pl.col("first").is_not_null()).sort(*KEYS, "first", nulls_last=True)
            # a run starting right after the one before it (in the part before) continues it
            .with_columns(joined=(pl.col("first") != pl.col("last").shift(1).over(KEYS) + 1).fill_null(True)
                          .cum_sum().over(KEYS))
            .group_by(*KEYS, "joined", maintain_order=True)
            .agg(first=pl.col("first").min(), last=pl.col("last").max(), examples=_all_examples(),
                 withheld=pl.col("withheld").any()))
    groups = (runs.group_by(KEYS, maintain_order=True).agg(
        rows_affected=(pl.col("last") - pl.col("first") + 1).sum(), first_row=pl.col("first").min(),
        withheld=pl.col("withheld").any(),
        examples=_all_examples().unique(maintain_order=True).head(MAX_EXAMPLES),
        ranges=pl.concat_list("first", "last").head(MAX_RANGES), range_count=pl.len())
        .sort("file", "sheet", "first_row", "column", "rule", nulls_last=True)
        .with_columns(place=pl.int_range(pl.len()).over("file", "sheet")))
    problems: list[Problem] = [Problem(r["file"], r["sheet"], None, r["column"], (r["examples"] or [None])[0],
                                       r["rule"]) for r in tables.iter_rows(named=True)]
    for group in groups.filter(pl.col("place") < max_groups).iter_rows(named=True):
        examples = () if group["withheld"] else tuple(group["examples"])
        problems.append(ProblemGroup(
            group["file"], group["sheet"], group["first_row"], group["column"], examples[0] if examples else None,
            group["rule"], rows_affected=group["rows_affected"],
            row_ranges=tuple((a, b) for a, b in group["ranges"]),
            more_ranges=group["range_count"] - len(group["ranges"]), examples=examples, withheld=group["withheld"]))
    left_out = (groups.filter(pl.col("place") >= max_groups)
                .group_by("file", "sheet", maintain_order=True)
                .agg(kinds=pl.len(), rows=pl.col("rows_affected").sum()))
    problems += [Problem(r["file"], r["sheet"], None, None, None,
                         f"{r['kinds']:,} more kinds of problem, in {r['rows']:,} more cells, are not listed "
                         f"(at most {max_groups} are): correct those listed and the rest are shown next time")
                 for r in left_out.iter_rows(named=True)]
    return problems


def group_problems(problems: list[Problem], max_groups: int = MAX_GROUPS_PER_FILE) -> list[Problem]:
    """``group_failures`` of single-cell problems; problems already grouped are kept as they are."""
    grouped = [p for p in problems if isinstance(p, ProblemGroup)]
    single = [p for p in problems if not isinstance(p, ProblemGroup)]
    return grouped + group_failures(failures_frame(single), max_groups) if single else grouped
