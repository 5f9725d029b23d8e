"""ingest/places.py: a school's commune on the 2025 map (issue 16) and the level group its registry
CAP_HOC names. Codes are those of schemas/hierarchy (GSO 1027/CTK-CSCL and the dvhcvn crosswalk):
old Phường Phúc Xá (00001) went whole into Phường Hồng Hà (00097); old Phường Cống Vị (00007) was
split between Phường Ngọc Hà (00008) and Phường Giảng Võ (00025); all in Hà Nội (01)."""

from __future__ import annotations

import pytest

from pipelines.catalog import hierarchy
from pipelines.ingest import places
from pipelines.ingest.registry import RegisteredSchool


def school(levels: str, commune: str | None, new_so: str | None = "01") -> RegisteredSchool:
    return RegisteredSchool("01001001", "Trường thử", levels, "01", "001", "001", 5, "01", new_so, commune)


def test_the_official_list_has_3321_communes_in_34_provinces():
    communes = hierarchy.communes()
    assert len(communes) == 3321
    assert len({c["province_code"] for c in communes.values()}) == 34
    assert communes["00097"]["name_vi"] == "Phường Hồng Hà"


def test_a_primary_school_with_a_new_commune_code_is_placed_by_the_registry():
    p = places.place(school("1", "00097"), "2025", hierarchy.read_crosswalk())
    assert (p.commune, p.rule, p.needs_review) == ("00097", "registry", False)


def test_an_old_commune_code_goes_through_the_crosswalk():
    # On a 2024 registry MA_XA_PHUONG is an old code: Phúc Xá → Hồng Hà.
    p = places.place(school("12", "00001"), "2024", hierarchy.read_crosswalk())
    assert (p.commune, p.rule) == ("00097", "crosswalk")


def test_a_school_of_a_split_commune_is_placed_in_none_and_listed_for_review():
    p = places.place(school("1", "00007"), "2024", hierarchy.read_crosswalk())
    assert (p.commune, p.rule, p.candidates, p.needs_review) == (None, "split", ("00008", "00025"), True)


def test_the_users_crosswalk_settles_a_split_commune(tmp_path):
    path = tmp_path / places.CROSSWALK_FILE
    path.write_text("code,new_commune_code\n00007,00025\n", encoding="utf-8")
    p = places.place(school("1", "00007"), "2024", hierarchy.read_crosswalk(path))
    assert (p.commune, p.rule) == ("00025", "crosswalk")


@pytest.mark.parametrize("levels", ["3", "123", "6"])
def test_upper_secondary_and_gdtx_report_straight_to_the_so(levels):
    p = places.place(school(levels, "00097"), "2025", hierarchy.read_crosswalk())
    assert (p.commune, p.rule) == (None, "not_managed")


def test_a_commune_of_another_province_is_listed_for_review():
    # Hồng Hà is in Hà Nội (01); a school of another new province (79) cannot report through it.
    p = places.place(school("1", "00097", new_so="79"), "2025", hierarchy.read_crosswalk())
    assert (p.commune, p.rule, p.needs_review) == (None, "other_province", True)


def test_a_commune_managed_school_reports_through_its_commune_on_2025_only():
    s = school("12", "00097")
    found = {s.school_code: places.CommunePlace("00097", "registry", "00097")}
    assert places.parent_on(s, "2025", found) == ("commune", "00097")
    assert places.parent_on(s, "2024", found) == ("phong", "001")


@pytest.mark.parametrize(
    "cap_hoc, group",
    [
        ("1", "06"),
        ("12", "09"),
        ("23", "10"),
        ("123", "11"),
        ("45", "01"),
        ("451", "16"),
        ("6", None),
        (None, None),
    ],
)
def test_the_level_group_a_registry_cap_hoc_names(cap_hoc, group):
    assert places.level_group_of(cap_hoc) == group
