"""Statistical neighbours read as the DfE publishes them: both layouts, BOM, duplicate headers, mess."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from expectations.partner_returns import Problem
from scorecard.ingest.neighbours import (
    GROUPINGS_2021,
    MODEL_2025,
    NEIGHBOUR_COLUMNS,
    read_neighbours,
    recognise_neighbours,
)
from tests.conftest import shared_reference

MODEL_2025_FILE = "sn_model_2025_wide.csv"
GROUPINGS_2021_FILE = "New_Statistical_Neighbour_Groupings_April_2021.csv"
HEADER_2025 = ("old_la_code,la_name,region_ind,region_name,"
               + ",".join(f"SN_{k},SN_{k}P" for k in range(1, 11)))
HEADER_2021 = "LA num,LA Name,LA number,GOInd,GOReg," + ",".join(f"SN{k},SNP" for k in range(1, 11)) + ","


def neighbours_of(frame: pl.DataFrame, code: str) -> list[tuple[int, str, str]]:
    return frame.filter(pl.col("old_la_code") == code).sort("neighbour_rank").select(
        "neighbour_rank", "neighbour_old_la_code", "closeness").rows()


def write(path: Path, lines: list[str], bom: bool = True, newline: str = "\n") -> Path:
    path.write_bytes((("\ufeff" if bom else "") + newline.join(lines) + newline).encode("utf-8"))
    return path


# ---------------------------------------------------------------------------- the real files

@pytest.fixture(scope="module", params=[MODEL_2025_FILE, GROUPINGS_2021_FILE])
def real(request: pytest.FixtureRequest):
    path = shared_reference() / request.param
    return path, read_neighbours(path, request.param)


def test_real_files_are_recognised_and_read_without_problems(real) -> None:
    path, read = real
    assert recognise_neighbours(path)
    assert read.problems == []
    assert read.model == (MODEL_2025 if path.name == MODEL_2025_FILE else GROUPINGS_2021)
    assert read.frame.columns == list(NEIGHBOUR_COLUMNS)
    assert set(read.frame["model"]) == {read.model}
    assert read.frame["old_la_code"].str.contains(r"^\d{3}$").all()
    assert read.frame["neighbour_old_la_code"].str.contains(r"^\d{3}$").all()


def test_real_files_give_every_authority_ten_ranked_neighbours(real) -> None:
    _, read = real
    per_area = read.frame.group_by("old_la_code").agg(ranks=pl.col("neighbour_rank").sort(),
                                                      distinct=pl.col("neighbour_old_la_code").n_unique())
    assert per_area.height > 150
    assert all(ranks == list(range(1, 11)) for ranks in per_area["ranks"].to_list())
    assert (per_area["distinct"] == 10).all()
    # Closeness is trimmed ("Close " in the 2025 file) and never blank.
    closeness = read.frame["closeness"]
    assert closeness.null_count() == 0 and (closeness == closeness.str.strip_chars()).all()


def test_every_neighbour_is_an_authority_of_the_same_file(real) -> None:
    _, read = real
    known = set(read.frame["old_la_code"])
    assert set(read.frame["neighbour_old_la_code"]) <= known


def test_northumberland_in_the_2025_model() -> None:
    read = read_neighbours(shared_reference() / MODEL_2025_FILE)
    northumberland = neighbours_of(read.frame, "929")
    assert len(northumberland) == 10
    assert northumberland[0] == (1, "926", "Very close")  # Norfolk
    assert northumberland[2] == (3, "888", "Very close")  # Lancashire
    assert northumberland[9] == (10, "935", "Very close")  # Suffolk
    names = dict(read.frame.select("old_la_code", "la_name").unique().iter_rows())
    assert names["929"] == "Northumberland" and names["884"] == "Herefordshire, County of"
    hartlepool = neighbours_of(read.frame, "805")
    assert hartlepool[0] == (1, "807", "Very close") and hartlepool[4] == (5, "806", "Close")


def test_northumberland_in_the_2021_groupings() -> None:
    read = read_neighbours(shared_reference() / GROUPINGS_2021_FILE)
    northumberland = neighbours_of(read.frame, "929")
    assert len(northumberland) == 10
    assert northumberland[0] == (1, "811", "Very Close")  # East Riding of Yorkshire
    assert northumberland[9] == (10, "888", "Very Close")  # Lancashire
    assert neighbours_of(read.frame, "926")[0] == (1, "925", "Extremely Close")  # Norfolk: Lincolnshire
    # The authorities listed under the "Old SNs:" heading are read; the heading is not an authority.
    names = dict(read.frame.select("old_la_code", "la_name").unique().iter_rows())
    assert names["835"] == "Dorset (Pre LG)" and "Old SNs:" not in names.values()
    # The row numbers are the spreadsheet's: the header is row 1.
    first = read.frame.filter(pl.col("old_la_code") == "201").row(0, named=True)
    assert first["source_row"] == 2 and first["la_name"] == "City of London"


def test_other_published_files_are_not_neighbour_files() -> None:
    reference = shared_reference()
    assert not recognise_neighbours(reference / "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv")
    assert not recognise_neighbours(reference / "cla_number_and_rate_per_10k_children.csv")


# ---------------------------------------------------------------------------- small made-up files

def test_the_2025_layout_with_bom_spaces_and_quoted_names(tmp_path: Path) -> None:
    neighbours = ",".join(f"{n}, Close " for n in range(301, 311))
    path = write(tmp_path / "sn.csv", [
        HEADER_2025,
        f' 884 ,"Herefordshire, County of" ,8,West Midlands,{neighbours}',
    ], newline="\r\n")
    assert recognise_neighbours(path)
    read = read_neighbours(path, "dfe/sn.csv")
    assert read.problems == [] and read.model == MODEL_2025
    assert read.frame.height == 10
    assert read.frame.row(0) == ("884", "Herefordshire, County of", 1, "301", "Close", MODEL_2025, 2)
    assert read.frame["neighbour_old_la_code"].to_list() == [str(n) for n in range(301, 311)]


def test_the_2021_layout_pairs_each_snp_with_the_neighbour_before_it(tmp_path: Path) -> None:
    closeness = ["Extremely Close"] * 2 + ["Very Close"] * 3 + ["Close"] * 3 + ["Somewhat close", "Not Close"]
    cells = ",".join(f"{800 + k},{c}" for k, c in enumerate(closeness, start=1))
    path = write(tmp_path / "groupings.csv", [
        HEADER_2021,
        f"929,Northumberland,929,4,North East,{cells},",
        "," * 25,  # a blank row
        ",Old SNs:" + "," * 24,  # a section heading
        "," * 25,
        f"835,Dorset (Pre LG),835,7,South West,{cells},",
    ])
    assert recognise_neighbours(path)
    read = read_neighbours(path)
    assert read.problems == [] and read.model == GROUPINGS_2021
    assert neighbours_of(read.frame, "929")[0] == (1, "801", "Extremely Close")
    assert neighbours_of(read.frame, "929")[9] == (10, "810", "Not Close")
    assert read.frame.filter(pl.col("old_la_code") == "835")["source_row"].unique().to_list() == [6]


def test_unreadable_rows_are_problems_naming_the_cell(tmp_path: Path) -> None:
    good = ",".join(f"{n},Close" for n in range(301, 311))
    bad_neighbours = ",".join(["ABC,Close", ",Close", "929,Close", "304,Close", "304,Close"]
                              + [f"{n},Close" for n in range(306, 311)])
    path = write(tmp_path / "sn.csv", [
        HEADER_2025,
        f"92,Short code,4,North East,{good}",
        f"929,Northumberland,4,North East,{bad_neighbours}",
        f"929,Northumberland again,4,North East,{good}",
    ])
    read = read_neighbours(path, "dfe/sn.csv")
    assert read.problems == [
        Problem("dfe/sn.csv", None, 2, "old_la_code", "92",
                "an authority is named by its three-digit DfE code (929 Northumberland)"),
        Problem("dfe/sn.csv", None, 3, "SN_1", "ABC", "neighbour 1 must be a three-digit DfE code"),
        Problem("dfe/sn.csv", None, 3, "SN_2", None, "neighbour 2 must be a three-digit DfE code"),
        Problem("dfe/sn.csv", None, 3, "SN_3", "929", "neighbour 3 must be another authority, listed once"),
        Problem("dfe/sn.csv", None, 3, "SN_5", "304", "neighbour 5 must be another authority, listed once"),
        Problem("dfe/sn.csv", None, 4, "old_la_code", "929", "the authority is already listed in row 3"),
    ]
    # The readable neighbours of a row with problems are kept.
    assert [r[1] for r in neighbours_of(read.frame, "929")] == ["304", *map(str, range(306, 311))]
    assert "row 3, column 'SN_1'" in read.problems[1].message()


def test_a_file_of_another_kind_is_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "c1.csv", ["time_period,time_identifier,geographic_level,referral_count",
                                       "2015,Reporting year,National,635600"], bom=False)
    assert not recognise_neighbours(path)
    read = read_neighbours(path, "dfe/c1.csv")
    assert read.model is None and read.frame.is_empty() and read.frame.columns == list(NEIGHBOUR_COLUMNS)
    assert len(read.problems) == 1 and read.problems[0].row is None
    assert not recognise_neighbours(tmp_path / "missing.csv")
    assert not recognise_neighbours(write(tmp_path / "sn.xlsx", [HEADER_2025]))  # (a workbook's name: not text)
    assert recognise_neighbours(write(tmp_path / "sn.txt", [HEADER_2025]))  # as the one reader reads any text file


def test_a_header_missing_a_neighbour_is_not_recognised(tmp_path: Path) -> None:
    header = HEADER_2025.replace(",SN_10,SN_10P", "")
    assert not recognise_neighbours(write(tmp_path / "sn.csv", [header]))
    header_2021 = HEADER_2021.replace("SN3,SNP,", "SN3,")  # SN3's closeness column lost
    assert not recognise_neighbours(write(tmp_path / "groupings.csv", [header_2021]))
