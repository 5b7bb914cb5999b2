"""Validating partner returns with pandera, and turning failures into messages a person can act on.

Two pandera schemas per layout, both built from its entry in ``expectations.layouts``:

1. the *cell* schema runs on the text as read: every cell present, counts whole numbers of 0
   or more, categories from the allowed list, periods written the allowed way, area codes
   those of the strategy files;
2. the *row* schema runs on the typed rows that passed: a part never above its whole, one
   row per key across all files of the layout.

Every failure becomes a ``Problem`` naming file, sheet, row (as a spreadsheet numbers it),
column, value and rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaErrors

from expectations.layouts import Layout, normalise_category
from scorecard.model.periods import describe_allowed, parse_period

SOURCE_COLUMNS = ("source_file", "source_sheet", "source_row")
_WHOLE_NUMBER = r"^\d{1,3}(,\d{3})+$|^\d+$"  # thousands separators allowed: "5,882"
_BLANK = "\x00"


@dataclass(frozen=True)
class Problem:
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def location(self) -> str:
        """File, sheet, row (as a spreadsheet numbers it) and column, as far as they are known."""
        where = [self.file]
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return ", ".join(where)

    def message(self) -> str:
        if self.column is None:
            return f"{self.location()}: refused because {self.rule}."
        value = "a blank cell" if self.value is None else f"the value '{self.value}'"
        return f"{self.location()}: {value} is refused because {self.rule}."

    def as_dict(self) -> dict:
        return asdict(self)


def _column_check(expr_of_column, rule: str) -> pa.Check:
    return pa.Check(lambda data: data.lazyframe.select(expr_of_column(pl.col(data.key))), name=rule, error=rule)


def _cell_schema(layout: Layout, area_codes: frozenset[str]) -> pa.DataFrameSchema:
    columns = {}
    for column in layout.columns:
        if column.kind == "count":
            check = _column_check(lambda c: c.str.contains(_WHOLE_NUMBER),
                                  "a count must be a whole number of 0 or more")
        elif column.kind == "category":
            allowed = {normalise_category(a) for a in column.allowed}
            check = _column_check(
                lambda c, allowed=allowed: c.map_elements(normalise_category, return_dtype=pl.String).is_in(allowed),
                f"it must be one of: {', '.join(column.allowed)}")
        elif column.kind == "period":
            kinds = layout.period_types
            check = _column_check(
                lambda c, kinds=kinds: c.map_elements(lambda v: parse_period(v, kinds) is not None,
                                                      return_dtype=pl.Boolean),
                f"the period must be {describe_allowed(kinds)}")
        elif column.kind == "measure":
            check = _column_check(lambda c: c.str.contains(r"^[a-z][a-z0-9_]{0,62}$"),
                                  "a measure name must be lower case letters, digits and _, starting with a letter")
        elif column.kind == "label":
            check = _column_check(lambda c: c.str.strip_chars().str.len_chars() > 0, "it must not be blank")
        else:
            codes = sorted(area_codes)
            check = _column_check(lambda c, codes=codes: c.str.to_uppercase().is_in(codes),
                                  "the area must be the ONS code of a local authority in the strategy "
                                  f"files ({', '.join(codes)})")
        columns[column.name] = pa.Column(pl.String, checks=[check], nullable=True)
    return pa.DataFrameSchema(columns)


def _row_schema(layout: Layout) -> pa.DataFrameSchema:
    checks: dict[str, list[pa.Check]] = {c: [] for c in layout.count_columns}
    for part, whole in layout.not_above:
        checks[part].append(_column_check(lambda c, whole=whole: c <= pl.col(whole),
                                          f"{part} may not be more than {whole} on the same row"))
    columns = {name: pa.Column(pl.Int64, checks=checks[name]) for name in layout.count_columns}
    return pa.DataFrameSchema(columns, unique=list(layout.unique_key_columns))


def _failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        return errors.failure_cases.filter(pl.col("index").is_not_null())
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "index": pl.Int32})


def _located(frame: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """Failures (``index`` into ``frame``, ``column``, ``value``, ``rule``) -> the frame of failures
    ``expectations.problem_groups.group_failures`` reads, each at its file, sheet and row."""
    where = frame.select(*SOURCE_COLUMNS).with_row_index("index")
    return failures.with_columns(pl.col("index").cast(pl.UInt32)).join(where, on="index", how="left").select(
        file="source_file", sheet="source_sheet", row=pl.col("source_row").cast(pl.Int64), column="column",
        value="value", rule="rule", withheld=pl.lit(False))


def _cell_failures(frame: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    """pandera's failure cases (``index``, ``column``, ``check``) -> with each cell's value as text."""
    parts = [pl.DataFrame(schema={"index": pl.UInt32, "column": pl.String, "value": pl.String, "rule": pl.String})]
    for column in failures["column"].drop_nulls().unique(maintain_order=True).to_list():
        part = failures.filter(pl.col("column") == column)
        indexes = part["index"].cast(pl.UInt32)
        parts.append(pl.DataFrame({"index": indexes, "column": part["column"],
                                   "value": frame[column].cast(pl.String).gather(indexes), "rule": part["check"]}))
    return pl.concat(parts)


def _typed(layout: Layout, text: pl.DataFrame) -> pl.DataFrame:
    """Cell-valid text rows -> typed rows with canonical categories and parsed periods."""
    canonical = {c.name: {normalise_category(a): a for a in c.allowed} for c in layout.columns if c.allowed}
    periods = [parse_period(v, layout.period_types) for v in text[layout.period_column].to_list()]
    return text.with_columns(
        pl.col("area_code").str.to_uppercase(),
        *(pl.col(c).str.replace_all(",", "").cast(pl.Int64) for c in layout.count_columns),
        *(pl.col(c.name).str.strip_chars() for c in layout.columns if c.kind == "label"),
        *(pl.col(name).map_elements(lambda v, m=mapping: m[normalise_category(v)], return_dtype=pl.String)
          for name, mapping in canonical.items()),
        period_type=pl.Series([p.period_type for p in periods], dtype=pl.String),
        period_label=pl.Series([p.label for p in periods], dtype=pl.String),
        period_start=pl.Series([p.start for p in periods], dtype=pl.Date),
        period_end=pl.Series([p.end for p in periods], dtype=pl.Date),
    ).drop(layout.period_column)


# Rows whose cells are checked at once (pandera's failure cases for them are held at once).
CHECK_ROWS = 100_000


def validate_layout(layout: Layout, text: pl.DataFrame,
                    area_codes: frozenset[str]) -> tuple[pl.DataFrame, list[Problem]]:
    """Validate every row of a layout (all its files together) and return the typed rows and problems.

    ``text`` holds the layout's columns as text plus ``source_file, source_sheet, source_row``.
    The typed frame is only meaningful when there are no problems. Problems are grouped by file,
    column and rule, and capped (``expectations.problem_groups``): the cells are checked
    ``CHECK_ROWS`` rows at a time and each part's failures kept as runs of rows, never as an object
    a cell, so a file of a million bad rows costs what a hundred thousand do.
    """
    from expectations.problem_groups import failure_runs, group_runs  # (it imports Problem from here)

    cell_schema = _cell_schema(layout, area_codes)
    runs, bad_parts = [], [pl.Series("index", [], dtype=pl.UInt32)]
    # The cells are checked a part at a time, each part's failures kept only as runs of rows: a
    # file of millions of bad cells costs what one part's do.
    for start in range(0, text.height, CHECK_ROWS):
        part = text.slice(start, CHECK_ROWS)
        indexed = part.with_row_index("index")
        # A blank cell is its own, plainer, problem.
        blanks = pl.concat([pl.DataFrame(schema={"index": pl.UInt32, "column": pl.String, "value": pl.String,
                                                 "rule": pl.String})] + [
            indexed.filter(pl.col(column).is_null()).select(
                "index", column=pl.lit(column), value=pl.lit(None, dtype=pl.String),
                rule=pl.lit("every cell in this column must be filled in"))
            for column in layout.column_names])
        # Blanks are reported above; a placeholder keeps them from failing the format checks twice.
        cells = part.select(layout.column_names).fill_null(_BLANK)
        malformed = _cell_failures(part, _failures(cell_schema, cells))
        malformed = malformed.filter(pl.col("value").is_not_null())
        runs.append(failure_runs(pl.concat([_located(part, blanks), _located(part, malformed)])))
        bad_parts.append((pl.concat([blanks["index"], malformed["index"]]).unique() + start).cast(pl.UInt32))
    bad_rows = pl.concat(bad_parts)

    indexed = text.with_row_index("index")
    clean = _typed(layout, indexed.filter(~pl.col("index").is_in(bad_rows.implode())).drop("index"))
    row_failures = _failures(_row_schema(layout), clean)
    broken = _cell_failures(clean, row_failures.filter(pl.col("column").is_not_null()))
    repeated = row_failures.filter(pl.col("column").is_null())["index"].cast(pl.UInt32)
    duplicates = clean[repeated].select(
        index=repeated, column=pl.lit(None, dtype=pl.String), value=pl.lit(None, dtype=pl.String),
        rule=pl.format("another row already gives area_code {}, period_label {} with the same categories, and "
                       "each may appear only once across all files", "area_code", "period_label"))
    runs.append(failure_runs(_located(clean, pl.concat([broken, duplicates]))))
    return clean, group_runs(pl.concat(runs))
