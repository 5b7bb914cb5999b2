"""Synthetic record-level extracts for the benchmark, in the Annex A CSV layouts the project reads.

One folder per local authority (named by its ONS code, as the build expects), each holding
list 3 (referrals), list 7 (child protection plans) and list 2 (early help assessments) as
CSV with the Annex A headers and the personal columns a real extract has (gender, ethnicity,
date of birth, age...), which the project must never read.

The structure is what the counting rules care about:

- children are referred repeatedly (1 + a geometric number of referrals, gaps of about ten
  months on average), with same-day duplicates and gaps of exactly 12 calendar months, 12
  months and a day and 12 months less a day (29 February included), so the "within 12 months"
  rule is exercised at its edge;
- children have several plans, some overlapping, some still open; a few plans and
  assessments appear twice (overlapping extracts);
- two authorities in three add a "Neglect identified" column; the rest record no neglect;
- identifiers are unique within an authority only (the same ID recurs in other authorities).

Deterministic (numpy PCG64 with a fixed seed), vectorised, written with polars. A folder that
was generated with the same parameters (``manifest.json``) is reused.

    .venv/bin/python -m bench.generate --sizes 100k,1M,10M [--out /tmp/neglect-bench]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

GENERATOR_VERSION = 3
DEFAULT_OUT = Path("/tmp/neglect-bench")
DEFAULT_AREAS = 150
FIRST_DAY, LAST_DAY = date(2010, 4, 1), date(2025, 3, 31)  # 15 financial years
EPOCH = date(1970, 1, 1)

FILES = {"annex_a_list3": "list3_referrals.csv", "annex_a_list7": "list7_child_protection.csv",
         "annex_a_list2": "list2_early_help.csv"}

CATEGORIES = ("Neglect", "Emotional abuse", "Physical abuse", "Sexual abuse", "Multiple")
CATEGORY_WEIGHTS = (0.50, 0.34, 0.07, 0.04, 0.05)
# As data teams write the organisation completing an early help assessment -> the warehouse's
# agency (what scorecard.ingest.record_level reads it as; tests/test_bench.py checks the two agree).
ORGANISATIONS: dict[str, str] = {
    "Early help service": "Early help service",
    "Family support": "Early help service",
    "5D: LA services - Early help": "Early help service",
    "School": "School",
    "a) 2A: Schools": "School",
    "Health visitor": "Health visiting",
    "c) 3B: Health services - Health visitor": "Health visiting",
    "School nurse": "School nursing",
    "GP": "GP and health",
    "Midwifery": "GP and health",
    "q) 6: Police": "Police",
    "Housing": "Housing",
    "Voluntary sector": "Voluntary sector",
    "Children's centre": "Children's centre",
    "Other": "Other",
    "Youth offending team": "Other",
}
ORGANISATION_WEIGHTS = (0.20, 0.05, 0.05, 0.15, 0.08, 0.06, 0.04, 0.04, 0.06, 0.02, 0.06, 0.03, 0.06, 0.04,
                        0.04, 0.02)
ETHNICITIES = ("WBRI", "WIRI", "WOTH", "MWBC", "MWBA", "MWAS", "AIND", "APKN", "ABAN", "BCRB", "BAFR", "CHNE",
               "OOTH", "REFU", "NOBT")
REFERRAL_SOURCES = ("1A", "1B", "1C", "2A", "2B", "3A", "3B", "3C", "3D", "4", "5A", "5B", "5C", "5D", "6", "8",
                    "9", "10")


def parse_size(text: str) -> int:
    """'100k' -> 100_000, '1M' -> 1_000_000, '2500' -> 2500."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def size_label(rows: int) -> str:
    for factor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if rows >= factor and rows % (factor // 10 or 1) == 0:
            value = rows / factor
            return f"{value:g}{suffix}"
    return str(rows)


@dataclass(frozen=True)
class Params:
    referrals: int
    plans: int
    assessments: int
    areas: int
    seed: int
    version: int = GENERATOR_VERSION

    @classmethod
    def for_size(cls, referrals: int, areas: int = DEFAULT_AREAS, seed: int = 20261101) -> Params:
        """At 10M referrals: 2M plans and 1M assessments; scaled down in proportion."""
        return cls(referrals, referrals // 5, referrals // 10, areas, seed)


@dataclass(frozen=True)
class Dataset:
    root: Path
    params: Params
    rows: dict[str, int]  # kind -> rows written
    areas: list[str]

    def files(self, kind: str) -> list[Path]:
        return sorted(self.root.glob(f"*/{FILES[kind]}"))

    def glob(self, kind: str) -> str:
        return str(self.root / "*" / FILES[kind])


def area_codes(n: int) -> list[str]:
    """``n`` ONS-style codes of English authorities (unitaries, metropolitan, London, counties)."""
    codes = ([f"E06{i:06d}" for i in range(1, 67)] + [f"E08{i:06d}" for i in range(1, 37)]
             + [f"E09{i:06d}" for i in range(1, 34)] + [f"E10{i:06d}" for i in range(2, 35)])
    if n > len(codes):
        raise ValueError(f"at most {len(codes)} areas")
    step = len(codes) / n
    return [codes[int(i * step)] for i in range(n)]


# ---------------------------------------------------------------------------------------------
# Vectorised dates (days since 1970-01-01)


def _day(d: date) -> int:
    return (d - EPOCH).days


def plus_12_months(days: np.ndarray, extra_days: int = 0) -> np.ndarray:
    """The same day 12 calendar months later (29 February -> 28 February), plus ``extra_days``."""
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    day_of_month = (d - months.astype("datetime64[D]")).astype(np.int64)  # 0-based
    month_index = months.astype(np.int64)  # months since 1970-01
    target = (month_index + 12).astype("datetime64[M]")
    length = ((month_index + 13).astype("datetime64[M]").astype("datetime64[D]")
              - target.astype("datetime64[D]")).astype(np.int64)
    clamped = np.minimum(day_of_month, length - 1)
    return (target.astype("datetime64[D]").astype(np.int64) + clamped + extra_days).astype(np.int64)


def _chains(rng: np.random.Generator, n_children: int, mean_extra: float) -> tuple[np.ndarray, np.ndarray]:
    """(child, position) of each event: children have 1 + geometric(mean_extra) events each."""
    per_child = rng.geometric(1.0 / (1.0 + mean_extra), n_children)
    child = np.repeat(np.arange(n_children), per_child)
    position = np.arange(child.size) - np.repeat(np.cumsum(per_child) - per_child, per_child)
    return child, position


def _by_position(position: np.ndarray):
    """Indices of the events at each position (0, 1, 2...); events of a child are contiguous."""
    order = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[order], np.arange(position.max() + 2))
    for j in range(position.max() + 1):
        yield j, order[bounds[j]:bounds[j + 1]]


def _children(rng: np.random.Generator, n_children: int, n_areas: int) -> dict[str, np.ndarray]:
    """Area, identifier number (unique within the area), date of birth offset, gender, ethnicity."""
    weights = rng.lognormal(0.0, 0.6, n_areas)
    area = rng.choice(n_areas, n_children, p=weights / weights.sum())
    order = np.argsort(area, kind="stable")
    counts = np.bincount(area, minlength=n_areas)
    rank = np.empty(n_children, np.int64)
    rank[order] = np.arange(n_children) - np.repeat(np.cumsum(counts) - counts, counts)
    return {
        "area": area,
        "number": 1_000_000 + rank * 7 + rng.integers(0, 7, n_children),  # unique within the area
        "age_days": rng.integers(0, 17 * 365, n_children),
        "gender": rng.choice(3, n_children, p=[0.51, 0.48, 0.01]),
        "ethnicity": rng.integers(0, len(ETHNICITIES), n_children),
    }


def _cut(keep: np.ndarray, target: int, what: str) -> np.ndarray:
    """Indices of the first ``target`` kept events (children in random order, so a random sample)."""
    index = np.flatnonzero(keep)
    if index.size < target:
        raise RuntimeError(f"generated {index.size} {what}, fewer than {target}: raise the oversampling")
    return index[:target]


def _with_duplicates(rng: np.random.Generator, index: np.ndarray, share: float) -> np.ndarray:
    """``index`` with a share of its rows appearing twice (the same record in overlapping extracts)."""
    n_dup = int(index.size * share)
    if n_dup == 0:
        return index
    return np.concatenate([index[: index.size - n_dup], rng.choice(index[: index.size - n_dup], n_dup)])


def _blank(values: np.ndarray | pl.Series, blank: np.ndarray) -> pl.Series:
    """``values`` as a polars series, null where ``blank``."""
    return pl.select(pl.when(pl.Series(blank)).then(None).otherwise(pl.Series(values))).to_series()


def _pick(rng: np.random.Generator, choices, n: int, p=None) -> pl.Series:
    """``n`` texts drawn from ``choices`` (gathered by index: much faster than numpy strings)."""
    weights = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return _texts(choices, rng.choice(len(choices), n, p=weights))


def _texts(choices, index: np.ndarray) -> pl.Series:
    return pl.Series(list(choices), dtype=pl.String).gather(pl.Series(index, dtype=pl.UInt32))


def _date_text(days: pl.Expr) -> pl.Expr:
    return days.cast(pl.Int32).cast(pl.Date).dt.to_string("%d/%m/%Y")


def _person_columns(kids: dict[str, np.ndarray], child: np.ndarray, event_day: np.ndarray,
                    areas: list[str]) -> dict[str, object]:
    dob = event_day - kids["age_days"][child]
    return {
        "area_code": _texts(areas, kids["area"][child]),
        "Child Unique ID": pl.Series(kids["number"][child]),
        "Gender": _texts(("a) Male", "b) Female", "c) Not stated"), kids["gender"][child]),
        "Ethnicity": _texts(ETHNICITIES, kids["ethnicity"][child]),
        "Date of Birth": pl.Series(dob),
        "Age": pl.Series((event_day - dob) // 365),
    }


def _finish(frame: pl.DataFrame, date_columns: list[str]) -> pl.DataFrame:
    return frame.with_columns(
        ("C" + pl.col("Child Unique ID").cast(pl.String)).alias("Child Unique ID"),
        *(_date_text(pl.col(c)).alias(c) for c in ["Date of Birth", *date_columns]),
    )


def referrals(rng: np.random.Generator, params: Params, areas: list[str]) -> pl.DataFrame:
    target = params.referrals
    n_children = int(target * 1.5 / 1.45) + 50
    kids = _children(rng, n_children, len(areas))
    child, position = _chains(rng, n_children, 0.45)
    first, last = _day(FIRST_DAY), _day(LAST_DAY)
    day = np.empty(child.size, np.int64)
    for j, at in _by_position(position):
        if j == 0:
            day[at] = rng.integers(first, last + 1, at.size)
            continue
        previous = day[at - 1]
        kind = rng.random(at.size)
        gap = 1 + rng.exponential(300.0, at.size).astype(np.int64)
        step = previous + gap
        step = np.where(kind < 0.010, previous, step)  # the same child twice on one day
        for low, high, extra in ((0.010, 0.030, 0), (0.030, 0.040, 1), (0.040, 0.050, -1)):
            edge = (kind >= low) & (kind < high)  # exactly 12 months, 12 months and a day, a day less
            step[edge] = plus_12_months(previous[edge], extra)
        day[at] = step
    rows = _cut(day <= last, target, "referrals")
    rows = rows[np.lexsort((day[rows], kids["area"][child[rows]]))]  # by area, then date
    child, day = child[rows], day[rows]
    n = rows.size
    records_neglect = (kids["area"][child] % 3) != 2
    neglect = _blank(_pick(rng, ("Y", "N"), n, (0.22, 0.78)), (rng.random(n) < 0.03) | ~records_neglect)
    frame = pl.DataFrame({
        **_person_columns(kids, child, day, areas),
        "Date of Referral": pl.Series(day),
        "Referral Source": _pick(rng, REFERRAL_SOURCES, n),
        "Referral NFA?": _pick(rng, ("a) Yes", "b) No"), n, (0.1, 0.9)),
        "Number of Referrals in Last 12 Months": pl.Series(rng.integers(0, 4, n)).cast(pl.String),
        "Neglect identified": neglect,
    })
    return _finish(frame, ["Date of Referral"])


def plans(rng: np.random.Generator, params: Params, areas: list[str]) -> pl.DataFrame:
    target = params.plans
    unique_target = target - int(target * 0.005)
    n_children = int(unique_target * 1.35 / 1.25) + 50
    kids = _children(rng, n_children, len(areas))
    child, position = _chains(rng, n_children, 0.25)
    first, last = _day(FIRST_DAY), _day(LAST_DAY)
    start = np.empty(child.size, np.int64)
    length = 1 + rng.exponential(300.0, child.size).astype(np.int64)
    for j, at in _by_position(position):
        if j == 0:
            start[at] = rng.integers(first, last + 1, at.size)
            continue
        overlap = rng.random(at.size) < 0.03  # a new plan before the last one ended
        after = start[at - 1] + length[at - 1] + 1 + rng.exponential(400.0, at.size).astype(np.int64)
        start[at] = np.where(overlap, start[at - 1] + np.maximum(1, length[at - 1] // 2), after)
    rows = _with_duplicates(rng, _cut(start <= last, unique_target, "plans"), 0.005)
    rows = rows[np.lexsort((start[rows], kids["area"][child[rows]]))]
    child, position, start, length = child[rows], position[rows], start[rows], length[rows]
    n = rows.size
    end = start + length
    initial = rng.choice(len(CATEGORIES), n, p=CATEGORY_WEIGHTS)
    latest = np.where(rng.random(n) < 0.1, rng.choice(len(CATEGORIES), n, p=CATEGORY_WEIGHTS), initial)
    latest = _blank(_texts(CATEGORIES, latest), rng.random(n) < 0.03)
    previous = _blank(position + (rng.random(n) < 0.1), rng.random(n) < 0.05)
    frame = pl.DataFrame({
        **_person_columns(kids, child, start, areas),
        "Child Protection Plan Start Date": pl.Series(start),
        "Initial Category of Abuse": _texts(CATEGORIES, initial),
        "Latest Category of Abuse": latest,
        "Child Protection Plan End Date": _blank(end, end > last),
        "Number of Previous Child Protection Plans": previous.cast(pl.String),
    })
    return _finish(frame, ["Child Protection Plan Start Date", "Child Protection Plan End Date"])


def assessments(rng: np.random.Generator, params: Params, areas: list[str]) -> pl.DataFrame:
    target = params.assessments
    unique_target = target - int(target * 0.005)
    n_children = int(unique_target * 1.3 / 1.3) + 50
    kids = _children(rng, n_children, len(areas))
    child, position = _chains(rng, n_children, 0.3)
    first, last = _day(FIRST_DAY), _day(LAST_DAY)
    start = np.empty(child.size, np.int64)
    for j, at in _by_position(position):
        gap = 1 + rng.exponential(500.0, at.size).astype(np.int64)
        start[at] = rng.integers(first, last + 1, at.size) if j == 0 else start[at - 1] + gap
    rows = _with_duplicates(rng, _cut(start <= last, unique_target, "assessments"), 0.005)
    rows = rows[np.lexsort((start[rows], kids["area"][child[rows]]))]
    child, start = child[rows], start[rows]
    n = rows.size
    completed = start + 1 + rng.exponential(35.0, n).astype(np.int64)
    completed = _blank(completed, (completed > last) | (rng.random(n) < 0.05))
    records_neglect = (kids["area"][child] % 3) != 2
    neglect = _blank(_pick(rng, ("Y", "N"), n, (0.3, 0.7)), (rng.random(n) < 0.03) | ~records_neglect)
    frame = pl.DataFrame({
        **_person_columns(kids, child, start, areas),
        "Assessment start date": pl.Series(start),
        "Assessment completion date": completed,
        "Organisation completing assessment": _pick(rng, list(ORGANISATIONS), n, ORGANISATION_WEIGHTS),
        "Neglect identified": neglect,
    })
    return _finish(frame, ["Assessment start date", "Assessment completion date"])


def _write(frame: pl.DataFrame, root: Path, kind: str, areas: list[str]) -> int:
    """One CSV per authority (``<root>/<ONS code>/<file>``), rows in date order; authorities
    that record no neglect have no neglect column at all."""
    parts = frame.partition_by("area_code", as_dict=True, include_key=False, maintain_order=True)
    for (code,), part in parts.items():
        folder = root / code
        folder.mkdir(parents=True, exist_ok=True)
        if "Neglect identified" in part.columns and areas.index(code) % 3 == 2:
            part = part.drop("Neglect identified")
        part.write_csv(folder / FILES[kind], null_value="")
    return frame.height


def generate(params: Params, out: Path = DEFAULT_OUT, quiet: bool = False,
             only_if_present: bool = False) -> Dataset | None:
    """The dataset for ``params`` under ``out`` (reused if it is already there; None if it is not
    and ``only_if_present``)."""
    name = (f"referrals-{size_label(params.referrals)}-areas{params.areas}-seed{params.seed}"
            f"-v{params.version}")
    root = out / name
    manifest = root / "manifest.json"
    if manifest.exists():
        saved = json.loads(manifest.read_text())
        if saved.get("params") == asdict(params):
            return Dataset(root, params, saved["rows"], saved["areas"])
    if only_if_present:
        return None
    if root.exists():
        for path in sorted(root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    areas = area_codes(params.areas)
    rows = {}
    for kind, build, salt in (("annex_a_list3", referrals, 3), ("annex_a_list7", plans, 7),
                              ("annex_a_list2", assessments, 2)):
        rng = np.random.Generator(np.random.PCG64([params.seed, salt]))
        rows[kind] = _write(build(rng, params, areas), root, kind, areas)
    manifest.write_text(json.dumps({"params": asdict(params), "rows": rows, "areas": areas}, indent=2))
    if not quiet:
        print(f"generated {root} in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{kind} {n:,}" for kind, n in rows.items()), flush=True)
    return Dataset(root, params, rows, areas)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1M,10M", help="referrals per dataset, comma-separated")
    parser.add_argument("--areas", type=int, default=DEFAULT_AREAS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for size in args.sizes.split(","):
        dataset = generate(Params.for_size(parse_size(size), args.areas), args.out)
        print(dataset.root)


if __name__ == "__main__":
    main()
