"""The CIN census return (XML) read like an Annex A: hand-worked counts, successive returns
de-duplicated with the later one winning, the generator's schema versions, no personal data out,
and hostile files refused with a plain message while the rest builds."""

from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

from assets.core.tables import record_level_measures
from assets.raw.partner_returns import extract_files
from assets.raw.record_level import record_level
from pipelines.resources import ScorecardPaths
from scorecard.ingest.cin_census import CIN_KINDS, read_cin_census
from scorecard.ingest.file_references import file_reference
from scorecard.ingest.inventory import recognitions
from scorecard.ingest.record_level import (
    PseudonymKeyMissing,
    pseudonymise,
    read_record_level,
    read_record_levels,
    recognise_record_level,
)
from scorecard.load.record_level import load_raw
from scorecard.sample_cin import cin_census_xml, synthetic_children, write_cin_census
from scorecard.transform.record_level_measures import monthly_measures

KEY = "a-test-key-that-is-not-a-secret"
AREA = "E06000057"
CHILD_IDS = ["HW-CHILD-0001", "HW-CHILD-0002", "HW-CHILD-0003", "HW-CHILD-0004"]
UPN = "A123456789012"
BIRTH_DATE = "2014-07-19"
NAME = "Amelia Thornberry"
POSTCODE = "NE61 9QQ"


def child(number: int, episodes: str, sex: str = "<GenderCurrent>2</GenderCurrent>") -> str:
    # (a name and a postcode are not in the schema: planted to prove that nothing but the listed elements is read)
    return f"""
    <Child>
      <ChildIdentifiers>
        <LAchildID>{CHILD_IDS[number - 1]}</LAchildID><UPN>{UPN}</UPN><PersonBirthDate>{BIRTH_DATE}</PersonBirthDate>
        {sex}<PersonName>{NAME}</PersonName><Postcode>{POSTCODE}</Postcode>
      </ChildIdentifiers>
      <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
      {episodes}
    </Child>"""


def cin_return(reference_date: str, children: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>{reference_date[:4]}</Year>
      <ReferenceDate>{reference_date}</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>929</LEA></Source>
  </Header>
  <Children>{children}
  </Children>
</Message>
"""


def plan(start: str, end: str | None, initial: str, latest: str, previous: int) -> str:
    ended = f"<CPPendDate>{end}</CPPendDate>" if end else ""
    return (f"<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>{ended}"
            f"<InitialCategoryOfAbuse>{initial}</InitialCategoryOfAbuse>"
            f"<LatestCategoryOfAbuse>{latest}</LatestCategoryOfAbuse>"
            f"<NumberOfPreviousCPP>{previous}</NumberOfPreviousCPP></ChildProtectionPlans>")


def assessment(start: str, authorised: str | None, *factors: str) -> str:
    done = f"<AssessmentAuthorisationDate>{authorised}</AssessmentAuthorisationDate>" if authorised else ""
    listed = ("<FactorsIdentifiedAtAssessment>" + "".join(f"<AssessmentFactors>{f}</AssessmentFactors>"
                                                          for f in factors) + "</FactorsIdentifiedAtAssessment>"
              if factors else "")
    return f"<Assessments><AssessmentActualStartDate>{start}</AssessmentActualStartDate>{done}{listed}</Assessments>"


def episode(referral: str, nfa: str, *parts: str) -> str:
    assessments = "".join(p for p in parts if p.startswith("<Assessments>"))
    plans = "".join(p for p in parts if p.startswith("<ChildProtectionPlans>"))
    return (f"<CINdetails><CINreferralDate>{referral}</CINreferralDate><ReferralSource>6</ReferralSource>"
            f"{assessments}<ReferralNFA>{nfa}</ReferralNFA>{plans}</CINdetails>")


# Two successive returns of one authority, worked by hand.
#
# Return 2023 (collection year 1 April 2022 - 31 March 2023, the 2023 schema: GenderCurrent):
#   child 1: referred 5/4/2022; assessment authorised 28/4/2022, factors 16A (neglect) and 3B;
#            plan from 10/5/2022, open, neglect / neglect, no previous plan.
#   child 2: referred 15/6/2022, no further action, no assessment.
#   child 3: referred 1/11/2021 (an episode open across years: before this year, so not counted
#            here); assessment authorised 30/11/2021 (before the year: not counted); plan
#            1/12/2021 - 20/4/2022, emotional abuse, one previous plan (open in the year: kept).
# Return 2024 (1 April 2023 - 31 March 2024, written with the 2025 schema's Sex):
#   child 1: the same episode again (referral and assessment before this year: not counted
#            again); the same plan, still open, its latest category now sexual abuse.
#   child 2: referred 20/5/2023 (within 12 months of 15/6/2022: a re-referral); assessment
#            authorised 10/6/2023, factor 16A; plan from 20/6/2023, neglect, one previous plan.
#   child 3: referred 1/9/2023 (no referral of theirs within 12 months in the data); assessment
#            authorised 29/9/2023, factors 2B and 4B (no neglect); plan 5/10/2023 - 15/2/2024,
#            physical abuse, one previous plan; an older plan (1/6/2021 - 30/9/2021, ended
#            before either collection year) is listed by mistake and is not kept.
#   child 4: referred 10/3/2024; assessment started 12/3/2024, not yet authorised (neglect unknown).
#
# So, for the authority:
#   referrals:   2022-04: 1, 2022-06: 1, 2023-05: 1, 2023-09: 1, 2024-03: 1 (other months 0);
#                2022/23: 2, 2023/24: 3.
#   rereferrals (given from 2023-04, 12 months after the first month): 2023-05: 1; 2023/24: 1.
#   referrals_neglect: 2022-04: 1 (child 1), 2023-05: 1 (child 2); child 3 false, child 4 unknown.
#   plans: child 1's (once, though in both returns), child 3's old one, child 2's, child 3's new one.
#   cpp_started (months from April 2022: the 2023 return's collection year): Neglect 2022-05: 1
#                and 2023-06: 1; Physical abuse 2023-10: 1.
#   cpp_open at 31 March 2024: Sexual abuse 1 (child 1: the later return's latest category
#                wins, though an earlier one sorts first), Neglect 1 (child 2); child 3's plan ended
#                15/2/2024. At 31 March 2023: Sexual abuse 1 (child 1, the later return's category:
#                a plan has one latest category); child 3's old plan ended 20/4/2022, so it is open
#                at no month end counted.
#   repeat plans: 2022-05: 1 started, 0 subsequent; 2023-06: 1 started, 1 subsequent (previous
#                plans 1); 2023-10: 1 started, 1 subsequent. 2023/24: 2 started, 2 subsequent;
#                neglect 2023/24: 1 started, 1 subsequent.
#   assessments completed (by authorisation month): 2022-04: 1, 2023-06: 1, 2023-09: 1;
#                with factor Neglect: 2022-04: 1, 2023-06: 1; Domestic abuse (parent) (3B): 2022-04: 1;
#                Drug misuse (parent) (2B) and Mental health (parent) (4B): 2023-09: 1 each.
RETURN_2023 = cin_return("2023-03-31", "".join([
    child(1, episode("2022-04-05", "false", assessment("2022-04-06", "2022-04-28", "16A", "3B"),
                     plan("2022-05-10", None, "NEG", "NEG", 0))),
    child(2, episode("2022-06-15", "true")),
    child(3, episode("2021-11-01", "false", assessment("2021-11-02", "2021-11-30", "4B"),
                     plan("2021-12-01", "2022-04-20", "EMO", "EMO", 1))),
]))
SEX = "<Sex>F</Sex>"
RETURN_2024 = cin_return("2024-03-31", "".join([
    child(1, episode("2022-04-05", "0", assessment("2022-04-06", "2022-04-28", "16A", "3B"),
                     plan("2022-05-10", None, "NEG", "SAB", 0)), SEX),
    child(2, episode("2023-05-20", "0", assessment("2023-05-21", "2023-06-10", "16A"),
                     plan("2023-06-20", None, "NEG", "NEG", 1)), SEX),
    child(3, episode("2023-09-01", "0", assessment("2023-09-02", "2023-09-29", "2B", "4B"),
                     plan("2021-06-01", "2021-09-30", "EMO", "EMO", 0),
                     plan("2023-10-05", "2024-02-15", "PHY", "PHY", 1)), SEX),
    child(4, episode("2024-03-10", "0", assessment("2024-03-12", None)), SEX),
]))


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / AREA / name
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def series(measures: pl.DataFrame, measure: str, breakdown: str) -> dict[str, int]:
    rows = measures.filter(pl.col("area_code") == AREA, pl.col("measure") == measure, pl.col("breakdown") == breakdown)
    return {month.strftime("%Y-%m"): count for month, count in rows.select("month", "count").iter_rows() if count}


def year_total(measures: pl.DataFrame, measure: str, breakdown: str, year_end: int) -> int:
    return sum(count for month, count in series(measures, measure, breakdown).items()
               if f"{year_end - 1}-04" <= month <= f"{year_end}-03")


def month_end(measures: pl.DataFrame, measure: str, breakdown: str, month: str) -> int:
    rows = measures.filter(pl.col("area_code") == AREA, pl.col("measure") == measure,
                           pl.col("breakdown") == breakdown, pl.col("month") == date.fromisoformat(month + "-01"))
    return rows["count"].sum()


def measures_of(paths: list[Path]) -> pl.DataFrame:
    """What the asset computes (raw tables -> core.record_level_measures), minus Dagster."""
    tables = [t for file_tables in read_record_levels([(p, AREA) for p in paths], KEY) for t in file_tables]
    assert [p.message() for t in tables for p in t.problems] == []
    with duckdb.connect() as conn:
        load_raw(conn, tables)
        return monthly_measures(conn)


@pytest.fixture(scope="module")
def hand_worked(tmp_path_factory) -> pl.DataFrame:
    folder = tmp_path_factory.mktemp("cin")
    return measures_of([write(folder, "cin_2023.xml", RETURN_2023), write(folder, "cin_2024.xml", RETURN_2024)])


def test_referrals_and_re_referrals_are_counted_as_worked_by_hand(hand_worked):
    assert series(hand_worked, "referrals", "All referrals") == {
        "2022-04": 1, "2022-06": 1, "2023-05": 1, "2023-09": 1, "2024-03": 1}
    assert (year_total(hand_worked, "referrals", "All referrals", 2023),
            year_total(hand_worked, "referrals", "All referrals", 2024)) == (2, 3)
    assert series(hand_worked, "rereferrals", "All referrals") == {"2023-05": 1}
    assert series(hand_worked, "referrals_neglect", "All referrals") == {"2022-04": 1, "2023-05": 1}


def test_plans_started_by_initial_category_and_open_by_latest_category_as_worked_by_hand(hand_worked):
    assert series(hand_worked, "cpp_started", "Neglect") == {"2022-05": 1, "2023-06": 1}
    assert series(hand_worked, "cpp_started", "Physical abuse") == {"2023-10": 1}
    assert series(hand_worked, "cpp_started", "Emotional abuse") == {}  # child 3's old plan began before the window
    # Open at 31 March 2024: child 1 under the later return's latest category, child 2 under neglect.
    assert {category: month_end(hand_worked, "cpp_open", category, "2024-03")
            for category in ("Neglect", "Emotional abuse", "Physical abuse", "Sexual abuse", "Multiple")} == {
        "Neglect": 1, "Emotional abuse": 0, "Physical abuse": 0, "Sexual abuse": 1, "Multiple": 0}
    assert month_end(hand_worked, "cpp_open", "Sexual abuse", "2023-03") == 1
    assert month_end(hand_worked, "cpp_open", "Emotional abuse", "2022-04") == 0
    assert month_end(hand_worked, "cpp_open", "Neglect", "2023-03") == 0
    assert month_end(hand_worked, "cpp_open", "Physical abuse", "2024-01") == 1
    # The months run over both collection years, April 2022 to March 2024.
    months = hand_worked.filter(pl.col("measure") == "cpp_open")["month"]
    assert (months.min(), months.max()) == (date(2022, 4, 1), date(2024, 3, 1))


def test_repeat_plans_as_worked_by_hand(hand_worked):
    assert series(hand_worked, "cpp_repeat_started", "All categories") == {"2022-05": 1, "2023-06": 1, "2023-10": 1}
    assert series(hand_worked, "cpp_repeat_subsequent", "All categories") == {"2023-06": 1, "2023-10": 1}
    assert (year_total(hand_worked, "cpp_repeat_started", "Neglect", 2024),
            year_total(hand_worked, "cpp_repeat_subsequent", "Neglect", 2024)) == (1, 1)


def test_factors_at_assessment_as_worked_by_hand(hand_worked):
    assert series(hand_worked, "cin_assessments_completed", "All assessments") == {
        "2022-04": 1, "2023-06": 1, "2023-09": 1}
    assert series(hand_worked, "cin_assessments_with_factor", "Neglect") == {"2022-04": 1, "2023-06": 1}
    assert series(hand_worked, "cin_assessments_with_factor", "Domestic abuse (parent)") == {"2022-04": 1}
    assert series(hand_worked, "cin_assessments_with_factor", "Drug misuse (parent)") == {"2023-09": 1}
    assert series(hand_worked, "cin_assessments_with_factor", "Mental health (parent)") == {"2023-09": 1}


def test_the_later_return_wins_whichever_order_the_returns_are_read_in(tmp_path):
    later_first = measures_of([write(tmp_path, "b.xml", RETURN_2024), write(tmp_path, "a.xml", RETURN_2023)])
    assert month_end(later_first, "cpp_open", "Sexual abuse", "2024-03") == 1
    assert month_end(later_first, "cpp_open", "Neglect", "2024-03") == 1
    assert series(later_first, "cpp_repeat_started", "All categories") == {"2022-05": 1, "2023-06": 1, "2023-10": 1}


def test_a_return_gives_the_annex_a_frames_pseudonymised_as_annex_a_is(tmp_path):
    tables = read_record_level(write(tmp_path, "cin.xml", RETURN_2024), KEY, AREA)
    assert [t.kind for t in tables] == list(CIN_KINDS)
    referrals = tables[0].frame
    # The same keyed hash of the same identifier as an Annex A "Child Unique ID" gets.
    assert set(referrals["child_key"]) == set(pseudonymise(pl.Series(CHILD_IDS[1:]), KEY))
    assert referrals.columns == ["area_code", "child_key", "referral_date", "referral_nfa", "neglect", "source_row"]
    assert referrals.sort("source_row")["source_row"].to_list() == [2, 3, 4]  # the number of each Child element
    assert tables[1].frame["return_reference_date"].unique().to_list() == [date(2024, 3, 31)]


def test_no_identifier_upn_birth_date_name_or_postcode_reaches_a_frame_or_a_problem(tmp_path):
    broken = RETURN_2024.replace("<CINreferralDate>2023-09-01", f"<CINreferralDate>{NAME}").replace(
        "<InitialCategoryOfAbuse>PHY", f"<InitialCategoryOfAbuse>{BIRTH_DATE}")
    for text in (RETURN_2024, broken):
        tables = read_record_level(write(tmp_path, "cin.xml", text), KEY, AREA)
        # (frames as CSV: dates written yyyy-mm-dd, as the birth date is)
        shown = " ".join([t.frame.write_csv() for t in tables] + [p.message() for t in tables for p in t.problems]
                         + [str(p.as_dict()) for t in tables for p in t.problems])
        for secret in (*CHILD_IDS, UPN, BIRTH_DATE, NAME, POSTCODE):
            assert secret not in shown
    messages = sorted({p.message() for p in tables[0].problems})
    assert messages == sorted([
        f"{tmp_path / AREA / 'cin.xml'}, row 3, column 'CINreferralDate': the cell is refused because it must be a "
        "date written yyyy-mm-dd, as the CIN census schema has it (its content is not shown: it is about a child).",
        f"{tmp_path / AREA / 'cin.xml'}, row 3, column 'InitialCategoryOfAbuse': the cell is refused because it must "
        "be a category of abuse: NEG, PHY, SAB, EMO or MUL (its content is not shown: it is about a child)."])


def test_a_return_without_a_key_is_refused_before_anything_is_returned(tmp_path):
    with pytest.raises(PseudonymKeyMissing):
        read_record_level(write(tmp_path, "cin.xml", RETURN_2024), None, AREA)


@pytest.mark.parametrize("version", [2017, 2023, 2025, 2026])
def test_the_generator_writes_returns_of_each_schema_version_that_read_without_problems(tmp_path, version):
    reference = date(version, 3, 31)
    children = synthetic_children(count=40, seed=7, first_referral=date(version - 2, 4, 1), last_referral=reference)
    xml = cin_census_xml(children, reference, schema_version=version)
    assert xml == cin_census_xml(children, reference, schema_version=version)  # deterministic
    assert (b"<Sex>" in xml) == (version >= 2025) and (b"<GenderCurrent>" in xml) == (version < 2025)
    path = write(tmp_path, f"cin_{version}.xml", xml)
    assert recognise_record_level(path) == [(kind, None) for kind in CIN_KINDS]
    tables = read_record_level(path, KEY, AREA)
    assert [p.message() for t in tables for p in t.problems] == []
    referrals, plans, assessments = (t.frame for t in tables)
    assert referrals.height and plans.height and assessments.height
    assert referrals["referral_date"].is_between(date(version - 1, 4, 1), reference).all()
    shown = " ".join(t.frame.write_csv() for t in tables)
    assert not any(c.child_id in shown or c.upn in shown or c.birth_date.isoformat() in shown for c in children)


def test_generated_successive_returns_count_each_plan_once(tmp_path):
    children = synthetic_children(count=80, seed=11)
    paths = [write_cin_census(tmp_path / AREA / f"cin_{year}.xml", date(year, 3, 31), children=children)
             for year in (2022, 2023, 2024)]
    measures = measures_of(paths)
    # Every plan the generator made that starts in the months counted, counted once.
    made = [(c.child_id, p.start) for c in children for e in c.episodes for p in e.plans
            if date(2021, 4, 1) <= p.start <= date(2024, 3, 31)]
    started = measures.filter(pl.col("measure") == "cpp_started")["count"].sum()
    assert started == len(made)
    referrals = [(c.child_id, e.referral_date) for c in children for e in c.episodes
                 if date(2021, 4, 1) <= e.referral_date <= date(2024, 3, 31)]
    assert measures.filter(pl.col("measure") == "referrals")["count"].sum() == len(set(referrals))


def test_a_large_return_is_read_in_bounded_memory(tmp_path):
    children = synthetic_children(count=6000, seed=3, first_referral=date(2022, 4, 1), last_referral=date(2024, 3, 31))
    path = write(tmp_path, "big.xml", cin_census_xml(children, date(2024, 3, 31)))
    tracemalloc.start()
    try:
        tables = read_cin_census(path, AREA, KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert tables[0].frame.height > 3000
    # The parsed tree of the whole file would hold several times its size; streaming holds one child.
    assert peak < path.stat().st_size, (peak, path.stat().st_size)


BILLION_LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";" if i > 1 else "&lol;") * 10}">'
                            for i in range(1, 10))
                  + ']>\n<Message><Children><Child><ChildIdentifiers><LAchildID>&lol9;</LAchildID>'
                    '</ChildIdentifiers></Child></Children></Message>\n')
EXTERNAL_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE Message [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
                   '<Message><Children><Child><ChildIdentifiers><LAchildID>&secret;</LAchildID></ChildIdentifiers>'
                   '</Child></Children></Message>\n')
HOSTILE = {
    "entity_bomb.xml": (BILLION_LAUGHS, "it declares a DTD"),
    "external_entity.xml": (EXTERNAL_ENTITY, "it declares a DTD"),
    "dtd_only.xml": ('<?xml version="1.0"?>\n<!DOCTYPE Message SYSTEM "http://example.invalid/cin.dtd">\n'
                     + RETURN_2024.split("\n", 1)[1], "it declares a DTD"),
    "truncated.xml": (RETURN_2024[: len(RETURN_2024) // 2], "it is not well-formed XML"),
    "not_xml.xml": (f"LAchildID,UPN\n{CHILD_IDS[0]},{UPN}\n", "it is not well-formed XML"),
    "empty.xml": ("", "the file is empty"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_a_plain_message_that_quotes_nothing(tmp_path, name):
    text, reason = HOSTILE[name]
    path = write(tmp_path, name, text)
    # An unreadable .xml file is taken for a damaged return: reading it says why (and, in a build,
    # its last good version stays in use), rather than it being forgotten.
    assert recognise_record_level(path) == [(kind, None) for kind in CIN_KINDS]
    tables = read_record_level(path, KEY, AREA)
    assert all(t.frame.is_empty() for t in tables)
    [message] = {p.message() for t in tables for p in t.problems}
    assert message.startswith(f"{path}: refused because {reason}")
    for secret in ("lol", "passwd", CHILD_IDS[0], UPN, "example.invalid", "Children"):
        assert secret not in message


def test_xml_of_another_kind_is_listed_as_not_loaded_and_never_read_as_a_table(tmp_path):
    other = write(tmp_path, "school_census.xml", cin_return("2024-01-18", "").replace(
        "<Collection>CIN</Collection>", "<Collection>SCHOOL CENSUS</Collection>"))
    feed = write(tmp_path, "feed.xml", '<?xml version="1.0"?><rss><channel/></rss>')
    for path in (other, feed):
        assert recognise_record_level(path) == []
        [line] = recognitions(path)
        assert line["layout"] is None and "CIN census" in line["recognition"]


def test_through_the_build_a_hostile_return_is_quarantined_and_the_rest_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("SCORECARD_PSEUDONYM_KEY", KEY)
    raw, out, db = tmp_path / "raw", tmp_path / "out", tmp_path / "t.duckdb"
    write(raw, "cin_2023.xml", RETURN_2023)
    write(raw, "cin_2024.xml", RETURN_2024)
    write(raw, "entity_bomb.xml", BILLION_LAUGHS)
    resources = {"paths": ScorecardPaths(raw_dir=str(raw), db_path=str(tmp_path / "w.duckdb"), out_dir=str(out)),
                 "duckdb": DuckDBResource(database=str(db))}

    def build() -> dg.ExecuteInProcessResult:
        result = dg.materialize([extract_files, record_level, record_level_measures], resources=resources,
                                raise_on_error=False)
        assert result.success
        return result

    def measures() -> pl.DataFrame:
        with duckdb.connect(str(db), read_only=True) as conn:
            return conn.execute("select * from core.record_level_measures").pl()

    result = build()
    bomb = file_reference(f"{AREA}/entity_bomb.xml", KEY)
    checks = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    for kind in CIN_KINDS:
        assert not checks[f"raw/{kind}"].passed
        [message] = checks[f"raw/{kind}"].metadata["messages"].value
        assert message.startswith(f"{bomb}: refused because it declares a DTD") and "lol" not in message
    assert month_end(measures(), "cpp_open", "Sexual abuse", "2024-03") == 1
    assert series(measures(), "cin_assessments_with_factor", "Neglect") == {"2022-04": 1, "2023-06": 1}

    # A damaged new version of the 2024 return: refused, its last good version stays in use.
    write(raw, "cin_2024.xml", RETURN_2024[:-200])
    build()
    with duckdb.connect(str(db), read_only=True) as conn:
        statuses = conn.execute("select layout, status from raw.load_ledger where path = ? "
                                "qualify row_number() over (partition by layout order by recorded_at desc) = 1",
                                [file_reference(f"{AREA}/cin_2024.xml", KEY)]).fetchall()
        names = conn.execute("select string_agg(path, ' ') from raw.extract_files").fetchone()[0]
    assert sorted(statuses) == [(kind, "quarantined") for kind in sorted(CIN_KINDS)]
    assert "cin_2024" not in names and "entity_bomb" not in names  # record-level files named by reference
    assert month_end(measures(), "cpp_open", "Sexual abuse", "2024-03") == 1
    assert series(measures(), "referrals", "All referrals")["2024-03"] == 1


def test_a_namespaced_return_with_plans_nested_in_child_protection_plan_reads_the_same(tmp_path):
    plain = read_record_level(write(tmp_path, "plain.xml", RETURN_2024), KEY, AREA)
    nested = (RETURN_2024.replace("<Message>", '<Message xmlns="urn:example:cin">')
              .replace("<ChildProtectionPlans><CPPstartDate>",
                       "<ChildProtectionPlans><ChildProtectionPlan><CPPstartDate>")
              .replace("</NumberOfPreviousCPP></ChildProtectionPlans>",
                       "</NumberOfPreviousCPP></ChildProtectionPlan></ChildProtectionPlans>"))
    assert "urn:example:cin" in nested and "<ChildProtectionPlan>" in nested
    tables = read_record_level(write(tmp_path, "nested.xml", nested), KEY, AREA)
    for before, after in zip(plain, tables, strict=True):
        assert after.problems == [] and after.frame.equals(before.frame)


def test_a_child_without_an_identifier_and_a_return_without_a_year_are_named_not_quoted(tmp_path):
    no_id = RETURN_2024.replace(f"<LAchildID>{CHILD_IDS[2]}</LAchildID>", "<LAchildID> </LAchildID>")
    tables = read_record_level(write(tmp_path, "no_id.xml", no_id), KEY, AREA)
    assert {p.message() for t in tables for p in t.problems} == {
        f"{tmp_path / AREA / 'no_id.xml'}, row 3, column 'LAchildID': a blank cell is refused because this element "
        "must be filled in: the child's episodes cannot be counted without it."}
    assert tables[0].frame.height == 2  # child 3's referral is not counted
    no_year = RETURN_2024.replace("<Year>2024</Year>", "").replace("<ReferenceDate>2024-03-31</ReferenceDate>", "")
    tables = read_record_level(write(tmp_path, "no_year.xml", no_year), KEY, AREA)
    [message] = {p.message() for t in tables for p in t.problems}
    assert "gives no collection year" in message and all(t.frame.is_empty() for t in tables)


def test_a_corrected_initial_category_and_previous_plans_follow_the_later_return(tmp_path):
    # The 2024 return corrects the plan's initial category (neglect -> emotional abuse: the largest,
    # neglect, would win without the return dates) and its previous plans (2 -> 0).
    earlier = cin_return("2023-03-31", child(1, episode("2022-09-01", "0", plan("2022-10-03", None, "NEG", "NEG", 2))))
    later = cin_return("2024-03-31", child(1, episode("2022-09-01", "0", plan("2022-10-03", None, "EMO", "EMO", 0)),
                                           SEX))
    measures = measures_of([write(tmp_path, "a.xml", later), write(tmp_path, "b.xml", earlier)])
    assert series(measures, "cpp_started", "Emotional abuse") == {"2022-10": 1}
    assert series(measures, "cpp_started", "Neglect") == {}
    assert series(measures, "cpp_repeat_subsequent", "All categories") == {}
