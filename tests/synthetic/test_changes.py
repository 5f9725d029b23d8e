"""Changes during the year: dated in the year and coded by semester, dropouts with a reason, counted;
arrivals placed in a class of their grade with codes of their school, in the file's style."""

from __future__ import annotations

import copy
import datetime as dt
import random

from pipelines.synthetic.changes import draw_arrivals, draw_changes
from pipelines.synthetic.learners import read_code, read_date

START, END = dt.date(2023, 9, 30), dt.date(2024, 5, 31)
SEMESTER_2 = dt.date(2024, 1, 16)


def _pupils(n, grade, status=1, prefix="p"):
    return [{"ClientId": f"{prefix}{i}", "MaHocSinh": f"66{i:08d}", "KhoiHoc": grade, "TrangThai": status,
             "MaLopHocDn": f"c-{grade}-{i % 3}", "NgaySinh": "2016-01-01", "MaDanToc": "01", "GioiTinh": 1}
            for i in range(n)]  # fmt: skip


def test_changes_are_dated_in_the_year_coded_by_semester_and_counted():
    arrived = {"KhoiHoc": 7, "TrangThai": 2, "NgayTrangThai": "2023-10-02T00:00:00.0"}
    pupils = _pupils(4000, 7) + [arrived, {"KhoiHoc": "x", "TrangThai": 1}]
    before = copy.deepcopy(pupils)
    counts = draw_changes(random.Random(3), pupils, START, END)
    assert pupils[-2:] == before[-2:]  # only learners of a known level studying since the start change
    out = dropouts = summer = 0
    for p, b in zip(pupils, before, strict=True):
        if p == b:
            continue
        status, day = read_code(p["TrangThai"]), read_date(p["NgayTrangThai"])
        assert isinstance(p["TrangThai"], int)  # the file's style
        if status in ("04", "05", "08", "09"):
            assert START < day <= END
            assert status in (("04", "05") if day < SEMESTER_2 else ("08", "09"))
            out += status in ("04", "08")
            dropouts += status in ("05", "09")
        else:
            assert status in ("11", "12") and END + dt.timedelta(days=5) <= day <= dt.date(2024, 8, 15)
            summer += 1
        assert ("MaLyDoThoiHoc" in p) == (status in ("05", "09", "12"))
    assert counts == {"out": out, "dropout": dropouts}
    assert out and dropouts and summer


def test_arrivals_join_a_class_of_their_grade_with_codes_of_their_school():
    children = [p | {"KiemTraSucKhoeDinhDuong": "1"} for p in _pupils(1000, "16", status="01", prefix="m")]
    pupils = _pupils(3000, 3) + children
    before = copy.deepcopy(pupils)
    new = draw_arrivals(random.Random(4), pupils, START, END, "66643001")
    assert pupils == before
    assert any(q["KhoiHoc"] == 3 for q in new) and any(q["KhoiHoc"] == "16" for q in new)
    codes = [q["MaHocSinh"] for q in new]
    assert len(set(codes)) == len(codes) and not set(codes) & {p["MaHocSinh"] for p in pupils}
    assert all(c.startswith("66643001") and len(c) == 16 for c in codes)
    assert len({q["ClientId"] for q in new} | {p["ClientId"] for p in pupils}) == len(new) + len(pupils)
    classes = {(p["KhoiHoc"], p["MaLopHocDn"]) for p in pupils}
    for q in new:
        assert (q["KhoiHoc"], q["MaLopHocDn"]) in classes
        day = read_date(q["NgayTrangThai"])
        assert START < day <= END
        assert read_code(q["TrangThai"]) == ("02" if day < SEMESTER_2 else "06")
        if q["KhoiHoc"] == 3:  # integer statuses in the file: integers
            assert isinstance(q["TrangThai"], int) and q["LoaiNhapHoc"] == 1
        else:
            assert isinstance(q["TrangThai"], str) and q["LoaiNhapHoc"] == "1"
            assert q["KiemTraSucKhoeDinhDuong"] == "1" and q["TinhTrangDinhDuong"] in (
                "00",
                "01",
                "02",
                "03",
                "04",
            )
