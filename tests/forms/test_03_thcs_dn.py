"""03-THCS-ĐN cells worked out by hand for two small lower-secondary (THCS) schools, at school,
Phòng and Sở level.

School T (66643201, Phòng 643): public THCS (MaNhomCapHoc 07), delta (MaVung 02), two sessions a
day (Hoc2BuoiNgay). School U (66644201, Phòng 644): private (Tư thục, LoaiHinhDaoTao 09) THCS,
mountain (MaVung 04). Sở 66. As-of date 30/9/2024; age = 2024 − birth year; ethnic minority = not
Kinh (01); new entrant = LoaiNhapHoc 0 or 2; repeater = LoaiNhapHoc 3.

Classes of T: 6A (grade 6, BuoiHoc 4 = two sessions, Tin học 32), 7A (grade 7, one session),
  8A (grade 8, one session), 9A (grade 9, two sessions, Tin học).
Pupils of T:
  t1 girl Kinh, 6A, born 2013 → 11, new entrant (LoaiNhapHoc 0)
  t2 boy Tày, 6A, born 2012 → 12 (a year over age), new entrant (LoaiNhapHoc 2)
  t3 girl Tày, 7A, born 2012 → 12, repeater (LoaiNhapHoc 3)
  t4 boy Kinh, 8A, born 2011 → 13, disabled (KhuyetTat, vận động 01), inclusive
  t5 girl Thái, 9A, born 2008 → 16 (over-age: "trên 14 tuổi")
  t6 boy Kinh, 9A, born 2010 → 14
  t7 girl Kinh, 9A, transferred out on 20/9/2024 (before 30/9)         → NOT counted
Staff of T (no CapHoc: counted in the school's level, THCS):
  s1 principal (01/01), woman Kinh, viên chức 07, ĐHSP (16), born 1975
  s2 vice-principal (01/02), man Tày, viên chức 08, CĐSP (17), born 1980
  s3 teacher (03), woman Kinh, 07, ĐHSP (16), born 1990 → 34
  s4 teacher (03), man Thái, labour contract 03, TCSP (18), born 1966 → 58
  s5 teacher (03) and Tổng phụ trách Đội (ChuyenTrachDoi), woman Kinh, 07, Đại học (03)
  s6 accountant (02, ChucVu 15), woman Kinh, contract 04 (labour), Trung cấp (05)
Rooms of T: 3 solid and 1 semi-solid classrooms.
School U: class 6B (grade 6, one session); u1 girl Tày born 2013 → 11, new entrant (0);
  u2 boy Kinh born 2013 → 11, transferred from another school (LoaiNhapHoc 1: not a new entrant);
  one teacher (man Kinh, contract 03, ĐHSP, born 1985).
"""

from __future__ import annotations

import pytest

from pipelines import warehouse
from tests.conftest import (
    form_cells,
    klass,
    payload,
    pupil,
    run_through_aggregate,
    school_info,
    staff_member,
    write_inbox,
    write_registry,
)

pytestmark = pytest.mark.slow

T, U = "66643201", "66644201"
FORM = "03-THCS-DN"


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("thcs")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": T, "TEN_TRUONG_HOC": "Trường THCS Lê Lợi", "CAP_HOC": "2", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": U, "TEN_TRUONG_HOC": "Trường THCS tư thục Hòa Bình", "CAP_HOC": "2", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "644", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 644},
    ])  # fmt: skip
    school_t = payload(
        T,
        school_info(T, TenTruongHoc="Trường THCS Lê Lợi", MaNhomCapHoc="07", Hoc2BuoiNgay=1),
        [
            klass("6A", 6, sessions=4, subjects=("15", "32")),
            klass("7A", 7, sessions=1, subjects=("15",)),
            klass("8A", 8, sessions=1, subjects=("15",)),
            klass("9A", 9, sessions=4, subjects=("15", "32")),
        ],
        [
            pupil("t1", "6A", 6, 2, "01", "2013-03-02", LoaiNhapHoc=0),
            pupil("t2", "6A", 6, 1, "02", "2012-07-07", LoaiNhapHoc=2),
            pupil("t3", "7A", 7, 2, "02", "2012-01-15", LoaiNhapHoc=3),
            pupil("t4", "8A", 8, 1, "01", "2011-05-05", KhuyetTat=1, MaLoaiKhuyetTat="01"),
            pupil("t5", "9A", 9, 2, "03", "2008-11-11"),
            pupil("t6", "9A", 9, 1, "01", "2010-02-02"),
            pupil("t7", "9A", 9, 2, "01", "2010-06-06", status=4, NgayTrangThai="2024-09-20"),
        ],
        [
            staff_member("s1", "01", "01", "07", "16", 2, "1975-04-04"),
            staff_member("s2", "01", "02", "08", "17", 1, "1980-05-05", ethnicity="02"),
            staff_member("s3", "03", None, "07", "16", 2, "1990-01-01"),
            staff_member("s4", "03", None, "03", "18", 1, "1966-06-06", ethnicity="03"),
            staff_member("s5", "03", None, "07", "03", 2, "1995-09-09", ChuyenTrachDoi=1),
            staff_member("s6", "02", "15", "04", "05", 2, "1988-08-08"),
        ],
        rooms=[
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "01", "SoLuong": 3},
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "02", "SoLuong": 1},
        ],
    )
    school_u = payload(
        U,
        school_info(
            U, TenTruongHoc="Trường THCS tư thục Hòa Bình", MaNhomCapHoc="07", LoaiHinhDaoTao=9, MaVung="04"
        ),  # fmt: skip
        [klass("6B", 6, sessions=1, subjects=("15",))],
        [
            pupil("u1", "6B", 6, 2, "02", "2013-04-04", LoaiNhapHoc=0),
            pupil("u2", "6B", 6, 1, "01", "2013-08-08", LoaiNhapHoc=1),
        ],
        [staff_member("us1", "03", None, "03", "16", 1, "1985-03-03")],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{T}.json": school_t, f"{U}.json": school_u})
    return run_through_aggregate(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def cells(settings):
    found, others = form_cells(settings, FORM)
    assert others == []  # THCS schools only: no other form
    return found


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row)}


def pupils(cl=(0, 0, 0, 0), tt=(0, 0, 0, 0)) -> dict[str, int]:
    """Non-zero cells of a learner row: (all, female, ethnic, ethnic female) of the public (CL)
    and private (TT) schools; the T columns are their sums."""
    keys = ("all", "female", "ethnic", "ethnic_female")
    out = {}
    for group, values in (("T", tuple(a + b for a, b in zip(cl, tt, strict=True))), ("CL", cl), ("TT", tt)):
        out.update({f"{group}.{k}": v for k, v in zip(keys, values, strict=True) if v})
    return out


def test_no_relation_is_broken_and_nothing_quarantined(settings, cells):
    with warehouse.connect(settings.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "CL": 1}),  # one public school
        (2, {"T": 1, "CL": 1}),  # delta
        (3, {}),
        (6, {"T": 1, "CL": 1}),  # Hoc2BuoiNgay
        (23, {}),  # no satellite site
        (24, {"T": 4, "CL": 4}),  # 6A 7A 8A 9A
        (25, {"T": 1, "CL": 1}),
        (26, {"T": 1, "CL": 1}),
        (27, {"T": 1, "CL": 1}),
        (28, {"T": 1, "CL": 1}),
        (29, {"T": 2, "CL": 2}),  # 6A and 9A: BuoiHoc 4
        (32, {}),  # no multigrade class
        # Learners: t1-t6 (t7 left before 30/9). Female t1 t3 t5; ethnic t2 t3 t5; both t3 t5.
        (33, pupils((6, 3, 3, 2))),
        (34, pupils((6, 3, 3, 2))),  # delta
        (35, {}),
        (36, pupils((2, 1, 1, 0))),  # grade 6: t1 t2
        (37, pupils((1, 1, 1, 1))),  # grade 7: t3
        (38, pupils((1, 0, 0, 0))),  # grade 8: t4
        (39, pupils((2, 1, 1, 1))),  # grade 9: t5 t6 (not t7)
        (40, {}),  # under 11: none
        (41, pupils((1, 1, 0, 0))),  # 11: t1
        (42, pupils((2, 1, 2, 1))),  # 12: t2 t3
        (43, pupils((1, 0, 0, 0))),  # 13: t4
        (44, pupils((1, 0, 0, 0))),  # 14: t6
        (45, pupils((1, 1, 1, 1))),  # over 14: t5 (16)
        (46, pupils((1, 1, 0, 0))),  # 11 in grade 6: t1 (t2 is 12)
        (47, pupils((1, 1, 1, 1))),  # 12 in grade 7: t3
        (48, pupils((1, 0, 0, 0))),  # 13 in grade 8: t4
        (49, pupils((1, 0, 0, 0))),  # 14 in grade 9: t6 (t5 is 16)
        (50, pupils((2, 1, 1, 0))),  # new entrants of grade 6: t1 (0), t2 (2)
        (51, pupils((1, 1, 1, 1))),  # repeater: t3
        (52, pupils((4, 2, 2, 1))),  # two-session classes 6A, 9A: t1 t2 t5 t6
        (54, pupils((1, 0, 0, 0))),  # disabled, inclusive: t4
        (58, pupils((1, 0, 0, 0))),  # of whom vận động (01): t4
        (55, {}),
        (60, {}),  # no specialised school
        (66, pupils((4, 2, 2, 1))),  # Tin học (32) in 6A and 9A: t1 t2 t5 t6
        # Staff: s1-s6. Female s1 s3 s5 s6; ethnic s2 s4. Viên chức 07: s1 s3 s5; 08: s2;
        # labour contract: s4 (03), s6 (04).
        (71, {"T.all": 6, "T.female": 4, "T.ethnic": 2, "CL.all": 6, "CL.vc_indefinite": 3,
              "CL.vc_fixed_term": 1, "CL.labour_contract": 2, "CL.female": 4, "CL.ethnic": 2}),
        (72, {"T.all": 2, "T.female": 1, "T.ethnic": 1, "CL.all": 2, "CL.vc_indefinite": 1,
              "CL.vc_fixed_term": 1, "CL.female": 1, "CL.ethnic": 1}),  # s1 s2
        (73, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.vc_indefinite": 1, "CL.female": 1}),  # s1
        (76, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.vc_indefinite": 1, "CL.female": 1}),  # ĐHSP
        (80, {"T.all": 1, "T.ethnic": 1, "CL.all": 1, "CL.vc_fixed_term": 1, "CL.ethnic": 1}),  # s2
        (81, {"T.all": 1, "T.ethnic": 1, "CL.all": 1, "CL.vc_fixed_term": 1, "CL.ethnic": 1}),  # delta
        (84, {"T.all": 1, "T.ethnic": 1, "CL.all": 1, "CL.vc_fixed_term": 1, "CL.ethnic": 1}),  # CĐSP
        (89, {"T.all": 2, "T.female": 1, "T.ethnic": 1, "CL.all": 2, "CL.vc_indefinite": 1,
              "CL.labour_contract": 1, "CL.female": 1, "CL.ethnic": 1}),  # s3 s4, not s5 (Đội)
        (90, {"T.all": 1, "T.ethnic": 1, "CL.all": 1, "CL.labour_contract": 1, "CL.ethnic": 1}),  # s4 TCSP
        (92, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.vc_indefinite": 1, "CL.female": 1}),  # s3 ĐHSP
        (97, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.vc_indefinite": 1, "CL.female": 1}),  # s3 34
        (100, {"T.all": 1, "T.ethnic": 1, "CL.all": 1, "CL.labour_contract": 1, "CL.ethnic": 1}),  # s4 58
        (102, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.vc_indefinite": 1, "CL.female": 1}),  # s5
        (103, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.labour_contract": 1, "CL.female": 1}),  # s6
        (107, {"T.all": 1, "T.female": 1, "CL.all": 1, "CL.labour_contract": 1, "CL.female": 1}),  # kế toán
        (114, {"T.all": 4, "T.solid": 3, "T.semi_solid": 1, "CL.all": 4, "CL.solid": 3, "CL.semi_solid": 1}),
    ],
)  # fmt: skip
def test_public_school_by_hand(cells, row, expected):
    assert _row(cells, "school", T, row) == expected
    assert _row(cells, "phong", "643", row) == expected  # the Phòng has this one school


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "TT": 1}),
        (3, {"T": 1, "TT": 1}),  # mountain
        (6, {}),  # one session
        (24, {"T": 1, "TT": 1}),
        (25, {"T": 1, "TT": 1}),
        (33, pupils(tt=(2, 1, 1, 1))),  # u1 u2
        (35, pupils(tt=(2, 1, 1, 1))),
        (36, pupils(tt=(2, 1, 1, 1))),
        (41, pupils(tt=(2, 1, 1, 1))),
        (46, pupils(tt=(2, 1, 1, 1))),
        (50, pupils(tt=(1, 1, 1, 1))),  # u1 only: u2 transferred in (LoaiNhapHoc 1)
        (52, {}),
        (71, {"T.all": 1, "TT.all": 1}),
        (89, {"T.all": 1, "TT.all": 1}),
        (92, {"T.all": 1, "TT.all": 1}),
        (97, {"T.all": 1, "TT.all": 1}),  # 39
    ],
)
def test_private_school_by_hand(cells, row, expected):
    assert _row(cells, "school", U, row) == expected
    assert _row(cells, "phong", "644", row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 2, "CL": 1, "TT": 1}),
        (2, {"T": 1, "CL": 1}),
        (3, {"T": 1, "TT": 1}),
        (24, {"T": 5, "CL": 4, "TT": 1}),
        (25, {"T": 2, "CL": 1, "TT": 1}),  # 6A, 6B
        (29, {"T": 2, "CL": 2}),
        (33, pupils((6, 3, 3, 2), (2, 1, 1, 1))),
        (36, pupils((2, 1, 1, 0), (2, 1, 1, 1))),  # t1 t2 u1 u2
        (41, pupils((1, 1, 0, 0), (2, 1, 1, 1))),  # t1 u1 u2
        (45, pupils((1, 1, 1, 1))),  # t5
        (50, pupils((2, 1, 1, 0), (1, 1, 1, 1))),  # t1 t2 u1
        (51, pupils((1, 1, 1, 1))),
        (54, pupils((1, 0, 0, 0))),
        (71, {"T.all": 7, "T.female": 4, "T.ethnic": 2, "CL.all": 6, "CL.vc_indefinite": 3,
              "CL.vc_fixed_term": 1, "CL.labour_contract": 2, "CL.female": 4, "CL.ethnic": 2, "TT.all": 1}),
        (89, {"T.all": 3, "T.female": 1, "T.ethnic": 1, "CL.all": 2, "CL.vc_indefinite": 1,
              "CL.labour_contract": 1, "CL.female": 1, "CL.ethnic": 1, "TT.all": 1}),
        (114, {"T.all": 4, "T.solid": 3, "T.semi_solid": 1, "CL.all": 4, "CL.solid": 3, "CL.semi_solid": 1}),
    ],
)  # fmt: skip
def test_so_is_the_sum_of_both_schools(cells, row, expected):
    assert _row(cells, "so", "66", row) == expected
