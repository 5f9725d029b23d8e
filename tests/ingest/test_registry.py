"""The registry as real ones arrive: floats, lost zeros, missing ID_PHONG, duplicates, test schools."""

from __future__ import annotations

import pytest

from pipelines import ingest, warehouse
from tests.conftest import write_registry

SO = "66"  # Sở GDĐT Đắk Lắk; Phòng 643 (Buôn Ma Thuột) and 644 (Buôn Hồ) are under it.


@pytest.fixture
def registry(tmp_path):
    rows = [
        {"MA_TRUONG": "66643001", "TEN_TRUONG_HOC": "TH float codes", "CAP_HOC": 1.0, "TRANG_THAI": 1.0,
         "ID_SO": 66.0, "ID_PHONG": 643.0, "MA_QUAN_HUYEN": 643},
        {"MA_TRUONG": "66644001", "TEN_TRUONG_HOC": "TH no Phòng", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": "644"},
        {"MA_TRUONG": "66000001", "TEN_TRUONG_HOC": "THPT run by the Sở", "CAP_HOC": "3", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": "643"},
        {"MA_TRUONG": "66643002", "TEN_TRUONG_HOC": "TH unknown Phòng", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "19"},
        {"MA_TRUONG": "66643001", "TEN_TRUONG_HOC": "TH listed twice", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "644"},
        {"MA_TRUONG": "66643999", "TEN_TRUONG_HOC": "Trường TEST nhập liệu", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": "01001001", "TEN_TRUONG_HOC": "TH lost zero", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "MA_QUAN_HUYEN": 43},
    ]  # fmt: skip
    return ingest.read_registry(write_registry(tmp_path / "registry.xlsx", rows))


def test_float_cells_become_codes(registry):
    school = registry.schools["66643001"]
    assert (school.levels, school.so_code, school.phong_code) == ("1", SO, "643")


def test_a_school_without_id_phong_is_placed_by_its_district_and_reported(registry):
    assert registry.schools["66644001"].phong_code == "644"
    outcomes = {p.school_code: p.outcome for p in registry.problems}
    assert outcomes["66644001"] == "placed_by_district"


def test_an_upper_secondary_school_reports_to_the_so_without_a_problem(registry):
    assert registry.schools["66000001"].phong_code is None
    assert "66000001" not in {p.school_code for p in registry.problems}


def test_a_phong_of_another_so_sends_the_school_to_its_so(registry):
    # Code 19 is a Phòng of Hà Nội (and the Sở of Thái Nguyên), not a Phòng of Sở 66.
    assert registry.schools["66643002"].phong_code is None
    assert {p.outcome for p in registry.problems if p.school_code == "66643002"} == {"placed_under_so"}


def test_duplicates_test_schools_and_lost_zeros(registry):
    outcomes = [(p.school_code, p.outcome) for p in registry.problems]
    assert ("66643001", "duplicate_ignored") in outcomes
    assert ("66643999", "skipped") in outcomes
    assert "66643999" not in registry.schools
    assert registry.schools["66643001"].name == "TH float codes"  # the first row is kept
    assert registry.schools["01001001"].district_code == "043"
    # District 043 has no Phòng under Sở 66: the school reports straight to the Sở.
    assert registry.schools["01001001"].phong_code is None


def test_unit_tree_names_units_by_type(registry, tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        ingest.load_units(con, registry)
        units = {
            (lv, code): (name, plv, pcode)
            for lv, code, name, plv, pcode in con.execute("SELECT * FROM units").fetchall()
        }
    assert units[("so", SO)] == ("Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "bo", "BO")
    assert units[("phong", "643")][1:] == ("so", SO)
    assert units[("school", "66643001")][1:] == ("phong", "643")
    assert units[("school", "66000001")][1:] == ("so", SO)


def test_an_unreadable_registry_is_a_clear_error(tmp_path):
    bad = tmp_path / "registry.xlsx"
    bad.write_text("not a workbook", encoding="utf-8")
    with pytest.raises(ingest.RegistryError, match="registry"):
        ingest.read_registry(bad)
