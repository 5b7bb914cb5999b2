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


def group_failures(failures: pl.DataFrame, max_groups: int = MAX_GROUPS_PER_FILE) -> list[Problem]:
    """Failures (``FAILURE_SCHEMA``, one a cell) -> a ``ProblemGroup`` per file, sheet, column and
    rule, in the order of each group's first row; past ``max_groups`` groups in a file, one line
    counting the rest. Failures without a row (about a whole table) are kept as they are."""
    if failures.is_empty():
        return []
    failures = failures.select(*FAILURE_SCHEMA).cast(FAILURE_SCHEMA)  # type: ignore[arg-type]
    cells = failures.filter(pl.col("row").is_not_null()).sort("row")
    tables = failures.filter(pl.col("row").is_null())
    keys = ["file", "sheet", "column", "rule"]
    runs = (cells.select(*keys, "row").unique().sort(*keys, "row", nulls_last=True)
            # consecutive rows share row - (its place among the group's rows): one run each
            .with_columns(run=pl.col("row") - pl.int_range(pl.len()).over(keys))
            .group_by(*keys, "run", maintain_order=True).agg(first=pl.col("row").min(), last=pl.col("row").max()))
    ranges = runs.group_by(keys, maintain_order=True).agg(
        ranges=pl.concat_list("first", "last").head(MAX_RANGES), range_count=pl.len())
    groups = (cells.group_by(keys).agg(
        rows_affected=pl.col("row").n_unique(), first_row=pl.col("row").min(), withheld=pl.col("withheld").any(),
        examples=pl.col("value").drop_nulls().unique(maintain_order=True).head(MAX_EXAMPLES))
        .join(ranges, on=keys, how="left", nulls_equal=True)
        .sort("file", "sheet", "first_row", "column", "rule", nulls_last=True)
        .with_columns(place=pl.int_range(pl.len()).over("file", "sheet")))
    problems: list[Problem] = [Problem(r["file"], r["sheet"], r["row"], r["column"], r["value"], r["rule"])
                               for r in tables.unique(maintain_order=True).iter_rows(named=True)]
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
