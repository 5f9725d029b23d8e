"""The units of both boundary versions (schemas/hierarchy/)."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.catalog import CatalogError, hierarchy
from tests.catalog.conftest import Schemas

PRE = "code,name_vi,name_en,source\n01,Hà Nội,Hanoi,t\n02,Hà Giang,Ha Giang,t\n08,Tuyên Quang,Tuyen Quang,t\n"
NEW = "code,name_vi,name_en,source,pre2025_codes\n01,Hà Nội,Hanoi,t,01\n08,Tuyên Quang,Tuyen Quang,t,02;08\n"
UNITS = "code,name_vi,parent_code,source\n1,Sở Giáo dục và Đào tạo Hà Nội,,t\n101,Phòng Giáo dục và Đào tạo Ba Đình,1,t\n"


def write_units(schemas: Schemas, new: str = NEW) -> Schemas:
    schemas.write("hierarchy/provinces_pre2025.csv", PRE)
    schemas.write("hierarchy/provinces_2025.csv", new)
    schemas.write("hierarchy/education_units_pre2025.csv", UNITS)
    return schemas


@pytest.fixture
def units(schemas):
    return write_units(schemas)


def test_units_of_both_boundary_versions(units):
    old = hierarchy.units("2024", units.root)
    assert set(old) == {("so", "1"), ("phong", "101")} and old[("phong", "101")]["parent_code"] == "1"
    new = hierarchy.units("2025", units.root)
    assert new[("so", "08")] == {
        "code": "08",
        "name_vi": "Sở Giáo dục và Đào tạo Tuyên Quang",
        "parent_code": "",
    }


def test_the_crosswalk_and_its_checks(units, tmp_path):
    assert hierarchy.province_crosswalk(units.root) == {"01": "01", "02": "08", "08": "08"}
    twice = write_units(Schemas(tmp_path / "twice" / "schemas"), NEW.replace("t,01\n", "t,01;02\n"))
    with pytest.raises(CatalogError, match="province 02 is merged into both 01 and 08"):
        hierarchy.province_crosswalk(twice.root)
    lost = write_units(Schemas(tmp_path / "lost" / "schemas"), NEW.replace("02;08", "08"))
    with pytest.raises(CatalogError, match=r"does not place the old provinces \['02'\]"):
        hierarchy.province_crosswalk(lost.root)


def test_the_real_units():
    assert hierarchy.new_province("1") == "01" and hierarchy.new_province(None) is None
    assert hierarchy.old_so_unit("01") == "1"
    assert hierarchy.unit_name("bo", "BO") == hierarchy.MINISTRY_VI
    assert hierarchy.unit_name("phong", "nowhere") == "Phòng GDĐT mã nowhere"
    rows = hierarchy.reference_units()
    assert {r[0] for r in rows} == {"2024", "2025"}
    assert next(r for r in rows if r[0] == "2024")[7] == date(2025, 6, 30)
