"""The three implementations the benchmark compares, each computing the monthly record-level
measures of lists 3, 7 and 2 (referrals, child protection plans, early help assessments) from
a generated dataset (``bench.generate``), as a polars frame ``area_code, month, measure,
breakdown, count`` sorted the same way.

- ``project``: the project's own path, the functions the Dagster assets use: the inventory
  (``extract_files``: every file found, hashed and recognised), the raw asset's
  ``sync_files`` + ``read_record_files`` (batches of files read by ``read_record_levels``: typed,
  checked, child identifiers replaced by keyed hashes; each file's rows added to ``raw.<kind>``
  with a ledger row), then ``monthly_measures`` as the core asset does.
- ``bare_duckdb``: the same queries (``sql/record_level/*.sql``) in one DuckDB statement straight
  over ``read_csv`` of every authority's file: no checks, no pseudonymisation, no raw tables.
- ``pandas``: a straightforward pandas implementation of the documented counting rules
  (docs/record_level.md), written independently of the SQL: read_csv, sort, groupby, shift.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl

from bench.generate import ORGANISATIONS, Dataset

KINDS = ("annex_a_list3", "annex_a_list7", "annex_a_list2")
SQL_OF_KIND = {"annex_a_list3": "referrals_monthly", "annex_a_list7": "cpp_monthly", "annex_a_list2": "eha_monthly"}
MEASURES_OF_KIND = {
    "annex_a_list3": ("referrals", "rereferrals", "referrals_neglect"),
    "annex_a_list7": ("cpp_started", "cpp_open", "cpp_repeat_started", "cpp_repeat_subsequent"),
    "annex_a_list2": ("eha_started", "eha_started_neglect"),
}
MEASURES = tuple(m for kind in KINDS for m in MEASURES_OF_KIND[kind])
CATEGORIES = ("Neglect", "Emotional abuse", "Physical abuse", "Sexual abuse", "Multiple")
BENCH_KEY = "benchmark-key-not-a-secret-0123456789"
OUTPUT_SCHEMA = {"area_code": pl.String, "month": pl.Date, "measure": pl.String, "breakdown": pl.String,
                 "count": pl.Int64}


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """The measures of the three lists, typed and sorted, for comparing implementations."""
    return (frame.filter(pl.col("measure").is_in(MEASURES))
            .select([pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items()])
            .sort("area_code", "measure", "breakdown", "month"))


# ---------------------------------------------------------------------------------------------
# (P) the project's own path


def project(dataset: Dataset, workdir: Path, timings: dict[str, float] | None = None,
            settings: tuple[str, ...] = ()) -> pl.DataFrame:
    """The raw asset's file-by-file load, then monthly_measures (see ``_project``)."""
    return _project(dataset, workdir, {} if timings is None else timings, settings)


def file_refs(dataset: Dataset) -> dict[str, list]:
    """The record-level files of each kind as the ``extract_files`` asset lists them in
    ``raw.extract_files`` (``scorecard.ingest.inventory``: every data file found, hashed and
    recognised by its content, named by reference), as the record-level asset reads that table."""
    from scorecard.ingest.inventory import inventory
    from scorecard.load.file_refs import FileRef

    files = inventory(dataset.root, BENCH_KEY).filter(pl.col("source") == "record_level")
    refs: dict[str, list] = {}
    for row in files.sort("path", "sheet", nulls_last=True).iter_rows(named=True):
        refs.setdefault(row["layout"], []).append(FileRef(row["path"], row["sheet"], row["sha256"], row["size_bytes"]))
    return refs


def _project(dataset: Dataset, workdir: Path, timings: dict[str, float],
             settings: tuple[str, ...] = ()) -> pl.DataFrame:
    """What the assets raw.extract_files, raw.record_level and core.record_level_measures do, minus
    Dagster: the inventory (``file_refs``), then for every kind, ``sync_record_level`` with
    ``read_record_files`` (batches of files read, checked and pseudonymised together, a Parquet file
    written per file, on worker threads; listed with their ledger rows, a batch of files per
    transaction), then ``monthly_measures``."""
    import duckdb

    import scorecard.load.record_level as record_level_loading
    from pipelines.settings import load_settings
    from scorecard.load.ledger import READ_THREADS
    from scorecard.load.warehouse import RECORD_LEVEL_TABLES
    from scorecard.transform.record_level_measures import monthly_measures

    finding = time.perf_counter()
    refs = file_refs(dataset)  # the extract_files asset's work: find, hash and recognise every file
    paths = record_level_loading.record_level_paths(dataset.root, BENCH_KEY)  # (where each reference is read)
    timings["inventory"] = time.perf_counter() - finding
    database = workdir / "build.duckdb"
    for stale in (database, database.with_name(database.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(workdir / "record_level", ignore_errors=True)
    out_dir = workdir / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    read_seconds: list[float] = []  # per batch (read on worker threads: list.append is atomic)

    def read(refs, kind):
        tick = time.perf_counter()
        results = record_level_loading.read_record_files(dataset.root, refs, kind, BENCH_KEY, paths=paths)
        read_seconds.append(time.perf_counter() - tick)
        return results

    started = time.perf_counter()
    conn = duckdb.connect(str(database), config=load_settings().duckdb_config)  # as the build connects
    for setting in settings:  # what-if runs only (bench.run --project-setting): on top of the build's own
        conn.execute(f"set {setting}")
    conn.execute("create schema if not exists raw")
    problems = 0
    for kind in RECORD_LEVEL_TABLES:
        outcome = record_level_loading.sync_record_level(conn, kind, refs.get(kind, []),
                                                         lambda refs, kind=kind: read(refs, kind),
                                                         BENCH_KEY, out_dir, workdir / "record_level")
        problems += len(outcome.problems)
    if problems:
        raise AssertionError(f"the project found {problems} problems in generated files: the build would "
                             "quarantine them")
    loaded = time.perf_counter()
    measures = monthly_measures(conn)
    done = time.perf_counter()
    conn.close()
    timings.update(raw_tables=loaded - started, read=sum(read_seconds), measures=done - loaded,
                   read_threads=READ_THREADS)
    return canonical(measures)


# ---------------------------------------------------------------------------------------------
# (D) bare DuckDB: the same queries, straight over read_csv


def _sql_text(name: str) -> str:
    from scorecard.transform.record_level_measures import sql_path

    return sql_path(name).read_text(encoding="utf-8")


def _read_csv(dataset: Dataset, kind: str) -> str:
    """Every authority's file of a kind, cells as text, as one relation.

    Files differ in their columns (some have no neglect column). ``read_csv(glob, union_by_name
    = true)`` reads them, but sniffs and reads file after file on one thread (7 s instead of
    1.5 s for the 10M referrals here), so the files are grouped by header row and each group
    read in parallel with its columns given, the groups stacked by column name.
    """
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in dataset.files(kind):
        with path.open(encoding="utf-8", newline="") as handle:
            groups.setdefault(tuple(next(csv.reader(handle))), []).append(path)
    reads = []
    for header, paths in groups.items():
        files = ", ".join(f"'{p}'" for p in paths)
        columns = ", ".join(f"'{name.replace(chr(39), chr(39) * 2)}': 'VARCHAR'" for name in header)
        reads.append(f"select * from read_csv([{files}], header = true, auto_detect = false, delim = ',', "
                     f"quote = '\"', escape = '\"', filename = true, columns = {{{columns}}})")
    return "(" + " union all by name ".join(reads) + ")"


_AREA = r"regexp_extract(filename, '(E\d{8})[/\\][^/\\]+$', 1)"


def _date(column: str) -> str:
    return f"""strptime("{column}", '%d/%m/%Y')::date"""


def _flag(column: str) -> str:
    return f"""case "{column}" when 'Y' then true when 'N' then false end"""


def bare_sources(dataset: Dataset) -> dict[str, str]:
    """The raw table each SQL file reads, as a query over read_csv (raw child identifiers)."""
    organisations = ", ".join(f"('{written.replace(chr(39), chr(39) * 2)}', '{agency.replace(chr(39), chr(39) * 2)}')"
                              for written, agency in ORGANISATIONS.items())
    return {
        "annex_a_list3": f"""
            select {_AREA} as area_code, "Child Unique ID" as child_key, {_date('Date of Referral')} as referral_date,
                {_flag('Neglect identified')} as neglect
            from {_read_csv(dataset, 'annex_a_list3')}""",
        "annex_a_list7": f"""
            select {_AREA} as area_code, "Child Unique ID" as child_key,
                {_date('Child Protection Plan Start Date')} as plan_start,
                {_date('Child Protection Plan End Date')} as plan_end,
                "Initial Category of Abuse" as initial_category, "Latest Category of Abuse" as latest_category,
                "Number of Previous Child Protection Plans"::bigint as previous_plans,
                null::date as return_reference_date
            from {_read_csv(dataset, 'annex_a_list7')}""",
        "annex_a_list2": f"""
            select {_AREA} as area_code, "Child Unique ID" as child_key,
                {_date('Assessment start date')} as assessment_start, agency,
                {_flag('Neglect identified')} as neglect
            from {_read_csv(dataset, 'annex_a_list2')}
            left join (values {organisations}) as organisations(written, agency)
                on organisations.written = "Organisation completing assessment"
        """,
    }


def bare_duckdb_sql(dataset: Dataset) -> str:
    """One statement: each SQL file with its raw table replaced by a CTE over read_csv."""
    sources = bare_sources(dataset)
    parts = []
    for kind in KINDS:
        text = _sql_text(SQL_OF_KIND[kind])
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        source = f"with raw_{kind} as materialized ({sources[kind]}),\n"
        body = re.sub(r"^\s*with\s", lambda _, source=source: source, body, count=1, flags=re.IGNORECASE)
        body = body.replace(f"raw.{kind}", f"raw_{kind}")
        if "raw." in body:
            raise ValueError(f"{SQL_OF_KIND[kind]}.sql reads another raw table")
        parts.append(f"select * from ({body})")
    return "\nunion all\n".join(parts) + "\norder by area_code, measure, breakdown, month"


def bare_duckdb(dataset: Dataset) -> pl.DataFrame:
    import duckdb

    conn = duckdb.connect()
    result = conn.execute(bare_duckdb_sql(dataset)).pl()
    conn.close()
    return canonical(result)


# ---------------------------------------------------------------------------------------------
# (X) pandas, from the documented rules


def _read_pandas(dataset: Dataset, kind: str, columns: list[str]) -> pd.DataFrame:
    parts = []
    for path in dataset.files(kind):
        frame = pd.read_csv(path, dtype=str, usecols=lambda c: c in columns)
        frame["area_code"] = path.parent.name
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True)
    for column in columns:
        if column not in frame:
            frame[column] = pd.Series(pd.NA, index=frame.index, dtype="str")
    return frame


def _to_date(texts: pd.Series) -> pd.Series:
    return pd.to_datetime(texts, format="%d/%m/%Y")


def _month_index(dates: pd.Series) -> np.ndarray:
    """Months since January 1970 (NaT -> a very small number)."""
    values = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    out = values.astype(np.int64)
    out[np.isnat(values)] = np.iinfo(np.int64).min // 2
    return out


def _month_start(index: np.ndarray) -> np.ndarray:
    return index.astype("datetime64[M]").astype("datetime64[D]")


def _grid(spans: pd.DataFrame) -> pd.DataFrame:
    """area_code, month_index for every month from first to last (inclusive) of each area."""
    lengths = (spans["last"] - spans["first"] + 1).to_numpy()
    areas = np.repeat(spans["area_code"].to_numpy(), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame({"area_code": areas, "m": np.repeat(spans["first"].to_numpy(), lengths) + offsets})


def _output(frame: pd.DataFrame, measure: str, breakdown: str | None = None) -> pd.DataFrame:
    out = pd.DataFrame({"area_code": frame["area_code"].to_numpy(), "month": _month_start(frame["m"].to_numpy()),
                        "measure": measure,
                        "breakdown": breakdown if breakdown is not None else frame["breakdown"].to_numpy(),
                        "count": frame["count"].to_numpy().astype(np.int64)})
    return out


def _neglect(texts: pd.Series) -> pd.Series:
    """'Y' -> 1.0, 'N' -> 0.0, blank -> NaN (so max() is 'true if any row says so', NaN if none says)."""
    return texts.map({"Y": 1.0, "N": 0.0}).astype(float)


def _pandas_referrals(dataset: Dataset) -> list[pd.DataFrame]:
    raw = _read_pandas(dataset, "annex_a_list3", ["Child Unique ID", "Date of Referral", "Neglect identified"])
    raw = pd.DataFrame({"area_code": raw["area_code"], "child": raw["Child Unique ID"],
                        "date": _to_date(raw["Date of Referral"]), "neglect": _neglect(raw["Neglect identified"])})
    raw = raw.dropna(subset=["child", "date"])
    recorded = set(raw.loc[raw["neglect"].notna(), "area_code"])
    # one referral per child and day; neglect true if any of its rows says so
    referrals = raw.groupby(["area_code", "child", "date"], sort=True, as_index=False)["neglect"].max()
    previous = referrals.groupby(["area_code", "child"], sort=False)["date"].shift()
    referrals["rereferral"] = previous >= referrals["date"] - pd.DateOffset(months=12)
    referrals["m"] = _month_index(referrals["date"])
    referrals["is_neglect"] = referrals["neglect"] == 1.0
    counts = referrals.groupby(["area_code", "m"], as_index=False).agg(
        referrals=("rereferral", "size"), rereferrals=("rereferral", "sum"), neglect=("is_neglect", "sum"))
    spans = referrals.groupby("area_code", as_index=False)["m"].agg(first="min", last="max")
    monthly = _grid(spans).merge(counts, on=["area_code", "m"], how="left").fillna(0)
    monthly = monthly.merge(spans, on="area_code")
    out = [_output(monthly.assign(count=monthly["referrals"]), "referrals", "All referrals")]
    later = monthly[monthly["m"] >= monthly["first"] + 12]
    out.append(_output(later.assign(count=later["rereferrals"]), "rereferrals", "All referrals"))
    with_neglect = monthly[monthly["area_code"].isin(recorded)]
    out.append(_output(with_neglect.assign(count=with_neglect["neglect"]), "referrals_neglect", "All referrals"))
    return out


def _pandas_plans(dataset: Dataset) -> list[pd.DataFrame]:
    columns = ["Child Unique ID", "Child Protection Plan Start Date", "Child Protection Plan End Date",
               "Initial Category of Abuse", "Latest Category of Abuse", "Number of Previous Child Protection Plans"]
    raw = _read_pandas(dataset, "annex_a_list7", columns)
    raw = pd.DataFrame({
        "area_code": raw["area_code"], "child": raw["Child Unique ID"],
        "start": _to_date(raw["Child Protection Plan Start Date"]),
        "end": _to_date(raw["Child Protection Plan End Date"]),
        "initial": raw["Initial Category of Abuse"], "latest": raw["Latest Category of Abuse"],
        "previous": pd.to_numeric(raw["Number of Previous Child Protection Plans"]),
    }).dropna(subset=["child", "start"])
    # One plan per child and start date: the latest end, the largest initial category and
    # previous plans, the latest category of the row with the latest end.
    # (ties on the end: the row that gives a latest category, the first in alphabetical order;
    # then the first initial category)
    ordered = raw.sort_values(["area_code", "child", "start", "end", "latest", "initial"],
                              ascending=[True, True, True, False, True, True], na_position="last", kind="stable")
    ordered["latest"] = ordered["latest"].fillna(ordered["initial"])
    keys = ["area_code", "child", "start"]
    plans = ordered.groupby(keys, sort=False, as_index=False).agg(
        end=("end", "max"), initial=("initial", "max"), previous=("previous", "max"))
    plans["latest"] = ordered.groupby(keys, sort=False)["latest"].nth(0).to_numpy()
    plans = plans.sort_values(keys, ignore_index=True)
    earlier = plans.groupby(["area_code", "child"], sort=False)["start"].shift().notna()
    plans["subsequent"] = (plans["previous"] >= 1).fillna(False).astype(bool) | earlier
    plans["m"] = _month_index(plans["start"])
    plans["end_m"] = _month_index(plans["end"])
    has_end = plans["end"].notna()

    # months: from the month of the earliest end (else the latest date) to the latest date
    spans = plans.assign(last_date=plans[["start", "end"]].max(axis=1)).groupby("area_code", as_index=False).agg(
        min_end=("end", "min"), last_date=("last_date", "max"))
    spans["last"] = _month_index(spans["last_date"])
    spans["first"] = np.where(spans["min_end"].notna(), _month_index(spans["min_end"]), spans["last"])
    grid = _grid(spans)

    def by_category(frame: pd.DataFrame, category: str, measure: str) -> pd.DataFrame:
        counts = frame.groupby(["area_code", "m", category], as_index=False).size().rename(
            columns={category: "breakdown", "size": "count"})
        full = grid.merge(pd.DataFrame({"breakdown": CATEGORIES}), how="cross")
        full = full.merge(counts, on=["area_code", "m", "breakdown"], how="left").fillna({"count": 0})
        return _output(full, measure)

    out = [by_category(plans, "initial", "cpp_started")]

    # open at a month end: start on or before it (start month <= m), no end or an end after it
    # (end month > m); one per child, the plan that started last
    plans = plans.merge(spans[["area_code", "first", "last"]], on="area_code")
    open_from = np.maximum(plans["m"].to_numpy(), plans["first"].to_numpy())
    open_to = np.where(has_end.to_numpy(), np.minimum(plans["end_m"].to_numpy() - 1, plans["last"].to_numpy()),
                       plans["last"].to_numpy())
    lengths = np.clip(open_to - open_from + 1, 0, None)
    rows = np.repeat(np.arange(len(plans)), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    open_months = pd.DataFrame({
        "area_code": plans["area_code"].to_numpy()[rows], "child": plans["child"].to_numpy()[rows],
        "m": open_from[rows] + offsets, "start": plans["start"].to_numpy()[rows],
        "latest": plans["latest"].to_numpy()[rows]})
    open_months = open_months.sort_values("start", ascending=False).drop_duplicates(["area_code", "child", "m"])
    out.append(by_category(open_months, "latest", "cpp_open"))

    for group, chosen in (("All categories", plans), ("Neglect", plans[plans["initial"] == "Neglect"])):
        counts = chosen.groupby(["area_code", "m"], as_index=False).agg(
            started=("subsequent", "size"), subsequent=("subsequent", "sum"))
        full = grid.merge(counts, on=["area_code", "m"], how="left").fillna(0)
        out.append(_output(full.assign(count=full["started"]), "cpp_repeat_started", group))
        out.append(_output(full.assign(count=full["subsequent"]), "cpp_repeat_subsequent", group))
    return out


def _pandas_assessments(dataset: Dataset) -> list[pd.DataFrame]:
    raw = _read_pandas(dataset, "annex_a_list2", ["Child Unique ID", "Assessment start date",
                                                  "Organisation completing assessment", "Neglect identified"])
    raw = pd.DataFrame({"area_code": raw["area_code"], "child": raw["Child Unique ID"],
                        "start": _to_date(raw["Assessment start date"]),
                        "agency": raw["Organisation completing assessment"].map(ORGANISATIONS),
                        "neglect": _neglect(raw["Neglect identified"])}).dropna(subset=["child", "start"])
    recorded = set(raw.loc[raw["neglect"].notna(), "area_code"])
    assessments = raw.groupby(["area_code", "child", "start"], as_index=False).agg(
        agency=("agency", "min"), neglect=("neglect", "max"))
    assessments["agency"] = assessments["agency"].fillna("Other")
    assessments["m"] = _month_index(assessments["start"])
    assessments["is_neglect"] = assessments["neglect"] == 1.0
    counts = assessments.groupby(["area_code", "m", "agency"], as_index=False).agg(
        started=("is_neglect", "size"), neglect=("is_neglect", "sum"))
    spans = assessments.groupby("area_code", as_index=False)["m"].agg(first="min", last="max")
    agencies = assessments[["area_code", "agency"]].drop_duplicates()
    full = _grid(spans).merge(agencies, on="area_code").merge(counts, on=["area_code", "m", "agency"], how="left")
    full = full.fillna({"started": 0, "neglect": 0}).rename(columns={"agency": "breakdown"})
    out = [_output(full.assign(count=full["started"]), "eha_started")]
    with_neglect = full[full["area_code"].isin(recorded)]
    out.append(_output(with_neglect.assign(count=with_neglect["neglect"]), "eha_started_neglect"))
    return out


def pandas_(dataset: Dataset) -> pl.DataFrame:
    parts = [*_pandas_referrals(dataset), *_pandas_plans(dataset), *_pandas_assessments(dataset)]
    frame = pd.concat(parts, ignore_index=True)
    return canonical(pl.DataFrame({
        "area_code": frame["area_code"].astype(str).to_numpy(),
        "month": pl.Series(frame["month"].to_numpy().astype("datetime64[D]").astype(np.int32)).cast(pl.Date),
        "measure": frame["measure"].astype(str).to_numpy(), "breakdown": frame["breakdown"].astype(str).to_numpy(),
        "count": frame["count"].to_numpy()}))


IMPLEMENTATIONS = {"project": project, "duckdb": bare_duckdb, "pandas": pandas_}


def differences(a: pl.DataFrame, b: pl.DataFrame, limit: int = 5) -> str | None:
    """None when the two give identical figures, else a short description of how they differ."""
    if a.equals(b):
        return None
    keys = ["area_code", "month", "measure", "breakdown"]
    joined = a.join(b, on=keys, how="full", suffix="_b", coalesce=True, nulls_equal=True)
    diff = joined.filter(pl.col("count").ne_missing(pl.col("count_b")))
    by_measure = diff.group_by("measure").len().sort("measure")
    return (f"{a.height} vs {b.height} rows, {diff.height} differ; by measure: "
            f"{dict(by_measure.iter_rows())}; e.g. {diff.head(limit).to_dicts()}")
