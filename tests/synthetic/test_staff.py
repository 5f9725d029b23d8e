"""Staff: one record in the school's style, and whom a general school, a preschool and a GDTX centre
employ (counts of managers and teachers worked out from the class counts)."""

from __future__ import annotations

import random
from collections import Counter

from pipelines.synthetic.staff import gdtx_staff, preschool_staff, school_staff, staff_record
from pipelines.synthetic.values import Styles
from tests.synthetic.conftest import plan_of

STYLE = Styles(grade="str", gender="str2", status="str", staff_codes="str", flag="int", staff_date="iso")


def _positions(staff, group):
    return Counter(s.get("ChucVu") for s in staff if s["LoaiCanBo"] == group)


def test_staff_record_in_the_schools_style_and_retired_only_at_retirement_age():
    s = staff_record(random.Random(1), Styles("int", "int", "int", "int", "int", "dmy"), "66643001", 7, "03", None,
                     "07", "16", 2, False, "01", 40, 2024, "02")  # fmt: skip
    assert (s["MaCanBo"], s["LoaiCanBo"], s["LoaiHopDong"], s["GioiTinh"], s["CapHoc"]) == (
        "CB66643001007",
        3,
        7,
        2,
        "02",
    )
    assert s["NgaySinh"].endswith("/1984") and "ChucVu" not in s
    young = {staff_record(random.Random(i), STYLE, "66643001", 1, "03", None, "07", "16", 1, False, "01", 57, 2024,
                          None)["TrangThai"] for i in range(300)}  # fmt: skip
    old = {staff_record(random.Random(i), STYLE, "66643001", 1, "03", None, "07", "16", 1, False, "01", 58, 2024,
                        None)["TrangThai"] for i in range(300)}  # fmt: skip
    assert "04" not in young and "04" in old


def test_a_primary_school_of_15_classes_has_a_principal_two_deputies_and_18_to_23_teachers():
    for seed in range(20):
        staff = school_staff(
            random.Random(seed), plan_of("TH"), STYLE, dict.fromkeys(range(1, 6), 3), 2024, 0.0
        )
        managers = _positions(staff, "03"), _positions(staff, "01")
        assert managers[1] == {"01": 1, "02": 2}
        # round(15 × 1.2..1.5) class teachers, and a Đội teacher in most public schools.
        assert 18 <= sum(managers[0].values()) <= 23
        assert [s["MaCanBo"] for s in staff] == [f"CB66643001{n:03d}" for n in range(1, len(staff) + 1)]
        assert {s["CapHoc"] for s in staff if "CapHoc" in s} <= {"02"}


def test_preschool_teachers_by_block_and_gdtx_centre_managers():
    specs = [("01", 10, 0), ("04", 20, 0), ("05", 25, 0)]  # a nursery group, two kindergarten classes
    for seed in range(20):
        staff = preschool_staff(random.Random(seed), plan_of("MN", category="13"), STYLE, specs, 2024, 0.0)
        assert _positions(staff, "01") == {"01": 1, "02": 1}
        teaching = Counter(s["DayNhomLop"] for s in staff if s["LoaiCanBo"] == "03")
        assert 2 <= teaching["02"] <= 3 and 2 <= teaching["01"] <= 4 and set(teaching) == {"01", "02"}
        centre = gdtx_staff(random.Random(seed), plan_of("GDTXH", category="16"), STYLE, 14, 2024, 0.0)
        assert _positions(centre, "01") == {"05": 1, "06": 2}
        assert 18 <= sum(_positions(centre, "03").values()) <= 25  # round(14 × 1.3..1.8)
        assert {s.get("CapHoc") for s in centre} <= {None, "05"}
