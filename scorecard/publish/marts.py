"""The marts the charts and reports are drawn from, read once into plain dataclasses.

``read_marts(conn)`` reads every table the published outputs need: the indicator catalogue,
each partnership area's values (headline series and months, with numerators and denominators
so disclosure control can be applied), targets, benchmarks, SPC points, the scorecard, the
partnerships' names and the contributory factors. Tables or columns an older warehouse lacks
read as empty or None, so an older warehouse still publishes.

Nothing here applies disclosure control (``scorecard.publish.disclosure`` does, as each output
is written), and nothing here is about a child: the marts hold aggregate figures only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from datetime import date

import duckdb

from scorecard.model.spc_charts import spc_points

Key = tuple[str, str]  # (indicator_id, area_code)


@dataclass(frozen=True)
class IndicatorInfo:
    indicator_id: str
    name: str
    unit: str
    polarity: str
    headline_period_type: str
    # The partnerships it is kept for (its indicator file's partnerships); None: every one.
    partnerships: tuple[str, ...] | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.polarity == "lower_is_better"

    def shown_for(self, partnership: str | None) -> bool:
        return self.partnerships is None or partnership in self.partnerships


@dataclass(frozen=True)
class Point:
    """One period's value, with the counts it was made from and its 95% confidence limits
    (each None when the warehouse has none)."""
    label: str
    end: date
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class AreaSeries:
    """An indicator's values for one partnership area."""
    indicator_id: str
    area_code: str
    area_name: str
    partnership: str
    points: tuple[Point, ...]  # the headline series, oldest first
    months: dict[str, Point] = field(default_factory=dict)  # monthly points by period label


@dataclass(frozen=True)
class Target:
    baseline_period: str | None
    baseline_date: date | None
    baseline_value: float | None
    target_value: float | None
    target_date: date | None
    illustrative: bool
    note: str | None

    @property
    def complete(self) -> bool:
        """A target that can be drawn: both ends of the trajectory are known."""
        return None not in (self.baseline_date, self.baseline_value, self.target_date,
                            self.target_value)


@dataclass(frozen=True)
class BenchmarkPoint:
    label: str
    end: date
    england: float | None
    neighbours: float | None


@dataclass(frozen=True)
class SpcPoint:
    label: str
    end: date
    value: float | None
    mean: float | None
    lower: float | None
    upper: float | None
    trial: bool
    special_cause: bool
    rules: str | None
    direction: str | None  # improvement, concern or neither
    # The same on every point of a chart (None from a warehouse built before they existed):
    chart: str | None = None  # xmr or run
    series: str | None = None  # what the points are, in words
    target_value: float | None = None  # the target on the charted series' scale
    target_basis: str | None = None  # how it was put on that scale, when it was
    value_unit: str | None = None  # the indicator's unit, or "count" for a measure's monthly counts


@dataclass(frozen=True)
class Score:
    """A row of marts.scorecard (columns an older warehouse lacks are None)."""
    partnership: str
    area_code: str
    area_name: str
    indicator_id: str
    period_label: str | None = None
    period_end: date | None = None
    value: float | None = None
    source: str | None = None
    previous_period_label: str | None = None
    previous_value: float | None = None
    change: float | None = None
    direction_of_travel: str | None = None
    baseline_period: str | None = None
    baseline_value: float | None = None
    target_value: float | None = None
    target_date: date | None = None
    trajectory_value: float | None = None
    target_illustrative: bool | None = None
    rag: str | None = None
    note: str | None = None
    stale_reason: str | None = None
    variation: str | None = None
    assurance: str | None = None
    england_value: float | None = None
    vs_england: str | None = None
    neighbours_median: float | None = None
    vs_neighbours: str | None = None


SCORE_COLUMNS = tuple(f.name for f in fields(Score))


@dataclass(frozen=True)
class Factor:
    factor: str
    episodes: float | None
    episodes_with_factors: float | None
    pct: float | None


@dataclass(frozen=True)
class PartnershipName:
    name: str | None
    strategy: str | None


@dataclass(frozen=True)
class Marts:
    indicators: dict[str, IndicatorInfo]
    series: dict[Key, AreaSeries]  # partnership areas only (benchmark areas get no output)
    targets: dict[Key, Target]
    benchmarks: dict[Key, tuple[BenchmarkPoint, ...]]
    spc: dict[Key, tuple[SpcPoint, ...]]  # pairs with at least one value
    scorecard: tuple[Score, ...]  # partnership areas, by partnership, area name, indicator
    partnership_names: dict[str, PartnershipName]
    # area_code -> [(period_label, factors)], latest period first; England under "england".
    factors: dict[str, list[tuple[str, list[Factor]]]]

    def month_counts(self, key: Key, label: str) -> tuple[float | None, float | None]:
        """(numerator, denominator) of the area's month ``label`` (an SPC point's counts)."""
        values = self.series.get(key)
        point = values.months.get(label) if values is not None else None
        return (point.numerator, point.denominator) if point is not None else (None, None)


def read_marts(conn: duckdb.DuckDBPyConnection, with_scorecard: bool = True, as_at: date | None = None) -> Marts:
    """Every mart the outputs show; without ``marts.scorecard`` when ``with_scorecard`` is False
    (chart figures do not show it, and may be drawn before its checks have run). With ``as_at``,
    cut at that date (``cut_at``) when the warehouse has later periods."""
    marts = Marts(read_indicators(conn), read_series(conn), read_targets(conn),
                  read_benchmarks(conn), read_spc(conn), read_scorecard(conn) if with_scorecard else (),
                  read_partnership_names(conn), read_factors(conn))
    if as_at is None or not ends_after(marts, as_at):
        return marts
    return cut_at(marts, as_at, read_spc_as_at(conn, as_at))


def data_end(marts: Marts) -> date | None:
    """The end of the latest period the charts show (a headline or SPC point)."""
    ends = [p.end for values in marts.series.values() for p in values.points]
    ends += [p.end for points in marts.spc.values() for p in points]
    return max(ends, default=None)


def ends_after(marts: Marts, as_at: date) -> bool:
    """Do the charts show a period ending after ``as_at`` (so a report as at it needs its own)?"""
    end = data_end(marts)
    return end is not None and end > as_at


def cut_at(marts: Marts, as_at: date, spc: dict[Key, tuple[SpcPoint, ...]]) -> Marts:
    """The marts as they stood at ``as_at``, the one place they are cut at a date: each series'
    periods and benchmarks ending on or before it, and ``spc`` (``read_spc_as_at``: the SPC charts
    computed on those points alone) in place of marts.spc, whose limits, special causes and
    assurance rest on later data. Targets are kept (a strategy's path is set in advance); the
    scorecard rows are kept (the report's committee figures are as at the date already)."""
    series = {}
    for key, values in marts.series.items():
        points = tuple(p for p in values.points if p.end <= as_at)
        if points:
            series[key] = replace(values, points=points,
                                  months={label: p for label, p in values.months.items() if p.end <= as_at})
    benchmarks = {key: cut for key, points in marts.benchmarks.items()
                  if (cut := tuple(b for b in points if b.end <= as_at))}
    return replace(marts, series=series, benchmarks=benchmarks,
                   spc={key: points for key, points in spc.items() if all(p.end <= as_at for p in points)})


# --- helpers for tables an older warehouse lacks ---------------------------------------------


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    """The table's columns; empty when it does not exist (an older or partial warehouse)."""
    rows = conn.execute(
        "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
        [schema, table]).fetchall()
    return {row[0] for row in rows}


def select_list(columns: set[str], wanted: tuple[str, ...], alias: str) -> str:
    """``alias.column`` for each wanted column the table has, else ``null as column``."""
    return ", ".join(f"{alias}.{c}" if c in columns else f"null as {c}" for c in wanted)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = conn.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- the tables --------------------------------------------------------------------------------


def read_indicators(conn: duckdb.DuckDBPyConnection) -> dict[str, IndicatorInfo]:
    kept_for = "partnerships" if "partnerships" in table_columns(conn, "marts", "indicators") else "null"
    rows = conn.execute(
        f"select indicator_id, name, unit, polarity, headline_period_type, {kept_for} from marts.indicators"
    ).fetchall()
    return {row[0]: IndicatorInfo(*row[:5], None if row[5] is None else tuple(row[5])) for row in rows}


VALUE_COLUMNS = ("indicator_id", "area_code", "area_name", "partnership", "period_type",
                 "period_label", "period_end", "value", "numerator", "denominator", "ci95_low",
                 "ci95_high")


def read_series(conn: duckdb.DuckDBPyConnection) -> dict[Key, AreaSeries]:
    """Each partnership area's headline series and monthly points, per (indicator, area)."""
    columns = table_columns(conn, "marts", "indicator_values")
    rows = _rows(conn, f"""
        select {select_list(columns, VALUE_COLUMNS, "v")}, i.headline_period_type
        from marts.indicator_values as v
        inner join marts.indicators as i on i.indicator_id = v.indicator_id
        where v.partnership is not null
          and (v.period_type = i.headline_period_type or v.period_type = 'month')
        order by v.indicator_id, v.area_code, v.period_end
    """)
    grouped: dict[Key, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["indicator_id"], row["area_code"])].append(row)
    series = {}
    for key, group in grouped.items():
        points = [(row, Point(row["period_label"], row["period_end"], row["value"], row["numerator"],
                              row["denominator"], row["ci95_low"], row["ci95_high"])) for row in group]
        series[key] = AreaSeries(
            key[0], key[1], group[0]["area_name"], group[0]["partnership"],
            tuple(p for row, p in points if row["period_type"] == row["headline_period_type"]),
            {p.label: p for row, p in points if row["period_type"] == "month"})
    return series


def read_targets(conn: duckdb.DuckDBPyConnection) -> dict[Key, Target]:
    rows = conn.execute("""
        select indicator_id, area_code, baseline_period, baseline_date, baseline_value,
               target_value, target_date, coalesce(illustrative, false), note
        from marts.targets
        order by partnership
    """).fetchall()
    targets: dict[Key, Target] = {}
    for indicator_id, area_code, *values in rows:
        # An area belongs to one partnership; should two claim it, the first is kept.
        targets.setdefault((indicator_id, area_code), Target(*values))
    return targets


def read_benchmarks(conn: duckdb.DuckDBPyConnection) -> dict[Key, tuple[BenchmarkPoint, ...]]:
    """England's value and the neighbours' median per period, from marts.benchmarks if built."""
    columns = table_columns(conn, "marts", "benchmarks")
    if not {"indicator_id", "area_code", "period_label", "period_end"} <= columns:
        return {}
    rows = conn.execute(f"""
        select {select_list(columns, ("indicator_id", "area_code", "period_label", "period_end",
                                      "england_value", "neighbours_median"), "v")}
        from marts.benchmarks as v
        where v.period_end is not null
        order by v.indicator_id, v.area_code, v.period_end
    """).fetchall()
    grouped: dict[Key, list[BenchmarkPoint]] = defaultdict(list)
    for indicator_id, area_code, label, end, england, neighbours in rows:
        if england is None and neighbours is None:
            continue
        points = grouped[(indicator_id, area_code)]
        if points and points[-1].end == end:
            continue  # one row per period (should two partnerships claim an area)
        points.append(BenchmarkPoint(label, end, england, neighbours))
    return {key: tuple(points) for key, points in grouped.items()}


SPC_COLUMNS = ("indicator_id", "area_code", "period_label", "period_end", "value", "mean",
               "lower_limit", "upper_limit", "trial_limits", "special_cause",
               "special_cause_rules", "special_cause_direction", "chart", "series", "target_value",
               "target_basis", "value_unit")


def read_spc(conn: duckdb.DuckDBPyConnection) -> dict[Key, tuple[SpcPoint, ...]]:
    """The XmR points per (indicator, area), from marts.spc if built."""
    columns = table_columns(conn, "marts", "spc")
    if not set(SPC_COLUMNS[:8]) <= columns:
        return {}
    rows = conn.execute(f"""
        select {select_list(columns, SPC_COLUMNS, "s")}
        from marts.spc as s
        where s.period_end is not null
        order by s.indicator_id, s.area_code, s.period_end
    """).fetchall()
    return _spc_points(rows)


def read_spc_as_at(conn: duckdb.DuckDBPyConnection, as_at: date) -> dict[Key, tuple[SpcPoint, ...]]:
    """The SPC charts as the build would have drawn them from the points up to ``as_at``: the same
    series and methods as marts.spc (scorecard.model.spc_charts), never its limits, which later
    points moved. Empty from a warehouse without the tables those series are read from."""
    read = (("marts", "indicator_values"), ("marts", "indicators"), ("marts", "targets"),
            ("core", "observation_periods"), ("core", "areas"), ("core", "sources"))
    if not all(table_columns(conn, schema, table) for schema, table in read):
        return {}
    frame, _ = spc_points(conn, as_at)
    if frame.is_empty():
        return {}
    rows = frame.filter(frame["period_end"].is_not_null()).sort("indicator_id", "area_code", "period_end")
    return _spc_points(rows.select(SPC_COLUMNS).rows())


def _spc_points(rows) -> dict[Key, tuple[SpcPoint, ...]]:
    """SpcPoints per (indicator, area) from rows of SPC_COLUMNS in (indicator, area, period end) order."""
    grouped: dict[Key, list[SpcPoint]] = defaultdict(list)
    for indicator_id, area_code, label, end, value, mean, lower, upper, trial, special, rules, \
            direction, chart, series, target_value, target_basis, value_unit in rows:
        points = grouped[(indicator_id, area_code)]
        if points and points[-1].end == end:
            continue
        if isinstance(rules, (list, tuple)):
            rules = ", ".join(str(rule) for rule in rules)
        points.append(SpcPoint(label, end, value, mean, lower, upper, bool(trial), bool(special),
                               rules, direction, chart, series, target_value, target_basis, value_unit))
    return {key: tuple(points) for key, points in grouped.items()
            if any(point.value is not None for point in points)}


def read_scorecard(conn: duckdb.DuckDBPyConnection) -> tuple[Score, ...]:
    columns = table_columns(conn, "marts", "scorecard")
    return tuple(Score(**row) for row in _rows(conn, f"""
        select {select_list(columns, SCORE_COLUMNS, "s")}
        from marts.scorecard as s
        where s.partnership is not null
        order by s.partnership, s.area_name, s.indicator_id
    """))


def read_partnership_names(conn: duckdb.DuckDBPyConnection) -> dict[str, PartnershipName]:
    """Each partnership's name and strategy, from core.partnership_areas if built."""
    columns = table_columns(conn, "core", "partnership_areas")
    if not {"partnership", "partnership_name"} <= columns:
        return {}
    strategy = "strategy" if "strategy" in columns else "null"
    rows = conn.execute(f"""
        select partnership, max(partnership_name), max({strategy})
        from core.partnership_areas group by partnership
    """).fetchall()
    return {partnership: PartnershipName(name, strategy) for partnership, name, strategy in rows}


FACTOR_COLUMNS = ("area_code", "area_name", "partnership", "period_label", "factor", "episodes",
                  "episodes_with_factors", "pct")


def read_factors(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, list[Factor]]]]:
    """Contributory factors per partnership area and England, latest period first."""
    columns = table_columns(conn, "marts", "contributory_factors")
    if not {"area_code", "period_label", "factor", "pct"} <= columns:
        return {}
    grouped: dict[str, dict[str, list[Factor]]] = defaultdict(lambda: defaultdict(list))
    for row in _rows(conn, f"""
        select {select_list(columns, FACTOR_COLUMNS, "f")}
        from marts.contributory_factors as f
        order by f.area_code, f.period_label desc, f.factor
    """):
        key = row["area_code"] if row["partnership"] is not None else _england_key(row)
        if key is None:
            continue
        grouped[key][row["period_label"]].append(Factor(
            row["factor"], row["episodes"], row["episodes_with_factors"], row["pct"]))
    # One mart writes its periods one way: "2019/20" sorts as text.
    return {key: sorted(periods.items(), key=lambda item: item[0] or "", reverse=True)
            for key, periods in grouped.items()}


def _england_key(row: dict) -> str | None:
    """England's rows (the benchmark); other non-partnership areas are not used."""
    code, name = row["area_code"] or "", (row["area_name"] or "").lower()
    return "england" if code.startswith("E92") or name == "england" else None


# --- the committee's periods (scorecard.publish.committee) ---------------------------------------


@dataclass(frozen=True)
class PeriodValue:
    """A partnership area's value for one period of any type (quarter, year to date, ...)."""
    partnership: str
    area_code: str
    area_name: str
    indicator_id: str
    period_type: str
    period_label: str
    period_end: date
    value: float | None
    numerator: float | None
    denominator: float | None


def read_period_values(conn: duckdb.DuckDBPyConnection, periods: list[tuple[str, str]]) -> list[PeriodValue]:
    """Every partnership area's values for the (period_type, period_label) pairs asked for."""
    if not periods:
        return []
    conn.execute("create or replace temp table wanted_periods (period_type varchar, period_label varchar)")
    conn.executemany("insert into wanted_periods values (?, ?)", periods)
    rows = conn.execute("""
        select v.partnership, v.area_code, v.area_name, v.indicator_id, v.period_type, v.period_label,
            v.period_end, v.value, v.numerator, v.denominator
        from marts.indicator_values as v
        inner join wanted_periods as w on w.period_type = v.period_type and w.period_label = v.period_label
        where v.partnership is not null
        order by v.partnership, v.area_code, v.indicator_id, v.period_end
    """).fetchall()
    return [PeriodValue(*row) for row in rows]


def latest_quarter_end(conn: duckdb.DuckDBPyConnection) -> date | None:
    """The end of the latest quarter with a value for a partnership area."""
    if "period_type" not in table_columns(conn, "marts", "indicator_values"):
        return None
    return conn.execute("select max(period_end) from marts.indicator_values where period_type = 'quarter' "
                        "and partnership is not null and value is not null").fetchone()[0]


@dataclass(frozen=True)
class Trajectory:
    points: tuple[tuple[date, float], ...]  # (due, value): baseline, milestones, target
    amber_tolerance_pct: float

    def value_at(self, day: date) -> float | None:
        """Where the strategy's straight-line path stands on ``day`` (as marts.scorecard reads it)."""
        before = [p for p in self.points if p[0] <= day]
        after = [p for p in self.points if p[0] > day]
        if not before:
            return after[0][1] if after else None
        if not after:
            return before[-1][1]
        (d0, v0), (d1, v1) = before[-1], after[0]
        return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days


def read_trajectories(conn: duckdb.DuckDBPyConnection) -> dict[Key, Trajectory]:
    if not table_columns(conn, "marts", "trajectories"):
        return {}
    rows = conn.execute("""
        select t.indicator_id, t.area_code, t.due, t.value, targets.amber_tolerance_pct
        from marts.trajectories as t
        inner join marts.targets as targets using (partnership, area_code, indicator_id)
        order by t.indicator_id, t.area_code, t.due
    """).fetchall()
    grouped: dict[Key, list] = defaultdict(list)
    tolerance: dict[Key, float] = {}
    for indicator_id, area_code, due, value, amber in rows:
        grouped[(indicator_id, area_code)].append((due, float(value)))
        tolerance[(indicator_id, area_code)] = float(amber)
    return {key: Trajectory(tuple(points), tolerance[key]) for key, points in grouped.items()}


@dataclass(frozen=True)
class Revision:
    """A figure a committee report showed that has changed since (marts.revisions)."""
    indicator_id: str
    area_code: str
    period_label: str
    as_at: date
    reported_value: float | None
    current_value: float | None
    numerator: float | None  # the current value's counts, for disclosure control
    denominator: float | None


def read_revisions(conn: duckdb.DuckDBPyConnection, partnership: str) -> list[Revision]:
    """The partnership's revised figures, from marts.revisions if built."""
    if not table_columns(conn, "marts", "revisions"):
        return []
    rows = conn.execute("""
        select r.indicator_id, r.area_code, r.period_label, r.as_at, r.reported_value, r.current_value,
            v.numerator, v.denominator
        from marts.revisions as r
        left join marts.indicator_values as v
            on v.indicator_id = r.indicator_id and v.area_code = r.area_code
            and v.period_type = r.period_type and v.period_label = r.period_label
        where r.partnership = ?
        order by r.area_code, r.indicator_id, r.period_label
    """, [partnership]).fetchall()
    return [Revision(*row) for row in rows]


@dataclass(frozen=True)
class Milestone:
    """A milestone a strategy sets on a named period, judged on it (marts.milestones)."""
    indicator_id: str
    area_code: str
    period_label: str
    period_end: date
    milestone_value: float
    value: float | None
    status: str  # met, missed or no data


def read_milestones(conn: duckdb.DuckDBPyConnection, partnership: str) -> list[Milestone]:
    if not table_columns(conn, "marts", "milestones"):
        return []
    rows = conn.execute("""
        select indicator_id, area_code, period_label, period_end, milestone_value, value, status
        from marts.milestones where partnership = ? order by area_code, indicator_id, period_end
    """, [partnership]).fetchall()
    return [Milestone(*row) for row in rows]
