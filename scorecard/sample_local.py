"""Sample files for the partnerships' local indicators: a local measures return and an OHID
Fingertips export, so a sample build draws them like the national ones.

- ``early_help/<partnership>_local_measures.csv``: early help assessments completed each month
  per agency (Northumberland's "number of 'open' EHAs completed per agency"), in the long
  layout any agency can fill (``expectations.layouts``, ``local_measures``).
- ``public_health/fingertips_child_health.csv``: Herefordshire's health proxies (dental decay at
  five, obesity in Reception and Year 6, children in low-income families) for every partnership
  area, its region and England, laid out as the Fingertips site downloads them (a byte order
  mark, every column, quoted names, value notes, persons totals beside deprivation deciles).
  Herefordshire's figures are pinned to those its strategy quotes; the rest are synthetic,
  scaled by each area's children and its own character.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scorecard.ingest.strategies import Area, Strategy
from scorecard.model.statistics import wilson_interval
from scorecard.sample import AUTHORITY_BY_CODE, REGIONS, AreaSample, Timeline

ENGLAND = ("E92000001", "England")
ENGLAND_CHILDREN = 12_183_000  # aged 0-17, ONS mid-2024 (the sum of REGIONS)


@dataclass(frozen=True)
class Proxy:
    fingertips_id: int
    name: str  # as Fingertips names it
    age: str
    england: dict[int, float]  # % by the year a period starts: England's level (roughly as published)
    pins: dict[str, dict[int, float]]  # area code -> {year: %}: figures a strategy quotes
    examined_share: float  # of an area's children aged 0-17: those in the denominator
    years: tuple[int, ...]  # the periods published (by start year)
    academic: bool  # published by academic year (else financial)


PROXIES = (
    Proxy(93563, "Percentage of 5 year olds with experience of visually obvious dental decay", "5 yrs",
          {2014: 24.7, 2016: 23.3, 2018: 23.4, 2021: 23.7, 2023: 22.4}, {"E06000019": {2018: 31.9}},
          0.012, (2014, 2016, 2018, 2021, 2023), academic=True),
    Proxy(90319, "Reception prevalence of obesity (including severe obesity)", "4-5 yrs",
          {2014: 9.1, 2016: 9.6, 2018: 9.7, 2019: 9.9, 2021: 10.1, 2023: 9.2}, {"E06000019": {2019: 10.1}},
          0.052, tuple(range(2014, 2024)), academic=True),
    Proxy(90323, "Year 6 prevalence of obesity (including severe obesity)", "10-11 yrs",
          {2014: 19.1, 2016: 20.0, 2018: 20.2, 2019: 21.0, 2021: 23.4, 2023: 22.1}, {"E06000019": {2019: 19.2}},
          0.053, tuple(range(2014, 2024)), academic=True),
    Proxy(93700, "Children in relative low income families (under 16s)", "<16 yrs",
          {2014: 16.8, 2016: 17.5, 2018: 18.4, 2020: 19.1, 2022: 20.1}, {"E06000019": {2018: 17.2}},
          0.89, tuple(range(2014, 2023)), academic=False),
)
HEADER = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type",
          "Sex", "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit",
          "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator", "Value note",
          "Recent Trend", "Compared to England value or percentiles", "Compared to Region value or percentiles",
          "Time period Sortable", "New data", "Compared to goal", "Time period range"]
DECILES = "LSOA11 deprivation deciles in England (IMD2019)"
# NCMP 2020/21 measured a sample of schools: Fingertips gives no local authority figure that year.
NOT_PUBLISHED = {(90319, 2020): "Value not published for data quality reasons",
                 (90323, 2020): "Value not published for data quality reasons"}
COMPLETION_RATE = 0.85  # of assessments started, completed (about two months later)


def _level(england: dict[int, float], year: int) -> float:
    """England's level in ``year``, between the years given."""
    known = sorted(england)
    return float(np.interp(year, known, [england[y] for y in known]))


def _row(proxy: Proxy, area: tuple[str, str, str], parent: tuple[str, str], year: int, count: int | None,
         denominator: int | None, note: str = "", category: tuple[str, str] = ("", "")) -> list[object]:
    label = f"{year}/{(year + 1) % 100:02d}"
    figures: list[object] = [""] * 7
    if count is not None and denominator:
        limits = [wilson_interval(np.array([count]), np.array([denominator]), level) for level in (0.95, 0.998)]
        figures = [repr(100 * count / denominator), *(repr(float(v[0]) * 100) for pair in limits for v in pair),
                   count, denominator]
    return [proxy.fingertips_id, proxy.name, *parent, *area, "Persons", proxy.age, *category, label, *figures, note,
            "", "", "", f"{year}0000", "", "", "1y"]


def _published_count(rng: random.Random, percent: float, denominator: int, pinned: bool) -> tuple[int, int]:
    """(count, denominator) near ``percent``; exactly the strategy's figure, to one decimal place,
    when ``pinned`` (the nearest denominator that gives it)."""
    if pinned:
        for candidate in range(denominator, denominator + 200):
            count = round(candidate * percent / 100)
            if round(100 * count / candidate, 1) == percent:
                return count, candidate
    return max(0, round(denominator * percent / 100 * (1 + rng.gauss(0, 0.03)))), denominator


def fingertips_text(areas: Sequence[tuple[str, str, str | None]]) -> str:
    """The export for ``areas`` ((code, name, region code)), their regions and England."""
    regions = sorted({region for _, _, region in areas if region in REGIONS})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for proxy in PROXIES:
        for year in proxy.years:
            level = _level(proxy.england, year)
            england_denominator = round(ENGLAND_CHILDREN * proxy.examined_share)
            writer.writerow(_row(proxy, (*ENGLAND, "England"), ("", ""), year,
                                 round(england_denominator * level / 100), england_denominator))
            for decile, factor in (("Most deprived decile (IMD2019)", 1.6), ("Least deprived decile (IMD2019)", 0.5)):
                denominator = england_denominator // 10
                writer.writerow(_row(proxy, (*ENGLAND, "England"), ("", ""), year,
                                     round(denominator * level * factor / 100), denominator,
                                     category=(DECILES, decile)))
            for code in regions:
                rng = random.Random(f"fingertips/{proxy.fingertips_id}/{code}")
                denominator = round(REGIONS[code].children * proxy.examined_share)
                percent = level * (1 + rng.gauss(0, 0.05))
                writer.writerow(_row(proxy, (code, f"{REGIONS[code].name} region (statistical)",
                                             "Regions (statistical)"), ENGLAND, year,
                                     *_published_count(rng, percent, denominator, False)))
            for code, name, region in areas:
                rng = random.Random(f"fingertips/{proxy.fingertips_id}/{code}/{year}")
                character = random.Random(f"fingertips/{proxy.fingertips_id}/{code}").uniform(0.8, 1.3)
                parent = (region, f"{REGIONS[region].name} region (statistical)") if region in REGIONS else ("", "")
                authority = AUTHORITY_BY_CODE.get(code)
                name = authority.name if authority else name  # (as Fingertips names it: "Herefordshire, County of")
                denominator = round((authority.children if authority else 40_000) * proxy.examined_share)
                pinned = proxy.pins.get(code, {}).get(year)
                if (proxy.fingertips_id, year) in NOT_PUBLISHED:
                    writer.writerow(_row(proxy, (code, name, "Counties & UAs (from Apr 2023)"), parent, year, None,
                                         None, note=NOT_PUBLISHED[proxy.fingertips_id, year]))
                    continue
                published = _published_count(rng, pinned if pinned is not None else level * character,
                                             denominator, pinned is not None)
                writer.writerow(_row(proxy, (code, name, "Counties & UAs (from Apr 2023)"), parent, year, *published))
    return "\ufeff" + out.getvalue()


def local_measures_rows(sample: AreaSample, timeline: Timeline) -> list[tuple]:
    """Early help assessments completed per agency and month: most of those started two months
    before (so the first two months complete none started in the sample)."""
    rows = []
    for agency, started in sample.eha_started.items():
        rng = random.Random(f"eha_completed/{sample.area.code}/{agency}")
        for i, label in enumerate(timeline.labels):
            begun = started[i - 2] if i >= 2 else 0
            completed = sum(rng.random() < COMPLETION_RATE for _ in range(begun))
            rows.append((sample.area.code, label, "eha_completed", agency, completed))
    return rows


def _region_of(area: Area) -> str | None:
    authority = AUTHORITY_BY_CODE.get(area.code)
    if authority is not None:
        return authority.region
    return next((code for code, region in REGIONS.items() if region.name == area.region), None)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path


def write_local_samples(raw_dir: Path, strategies: Sequence[Strategy],
                        simulate: Callable[[str, Area], AreaSample], timeline: Timeline) -> list[Path]:
    """Each partnership's local measures return, then one Fingertips export for all their areas."""
    written = []
    for strategy in strategies:
        rows = [row for area in strategy.areas for row in local_measures_rows(simulate(strategy.partnership, area),
                                                                                timeline)]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["area_code", "period", "measure", "breakdown", "count"])
        writer.writerows(rows)
        written.append(_write(raw_dir / "early_help" / f"{strategy.partnership}_local_measures.csv", out.getvalue()))
    areas = [(area.code, area.name, _region_of(area)) for strategy in strategies for area in strategy.areas]
    written.append(_write(raw_dir / "public_health" / "fingertips_child_health.csv", fingertips_text(areas)))
    return written
