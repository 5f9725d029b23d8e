"""02-TH-ĐN cells worked out by hand for two small schools, and their rollup to Phòng and Sở.

School A (66643001, Phòng 643, public, delta) and school B (66644001, Phòng 644, private,
mountain), Sở 66 (Đắk Lắk). As-of date 30/9/2024; age = 2024 − birth year.

School A pupils (class 1A grade 1 two sessions; class 3A grade 3 one session, with informatics):
  a1 girl, Kinh, born 2018 (6), grade 1, new entrant                    → counted
  a2 boy, Tày, born 2017 (7), grade 1, repeater                         → counted
  a3 girl, Tày, born 2016 (8), grade 3, disabled (visual)               → counted
  a4 boy, Kinh, born 2016, grade 3, transferred out on 15/9/2024        → NOT counted (left before 30/9)
  a5 girl, Kinh, born 2015, grade 3, transferred in on 10/10/2024       → NOT counted (arrived after 30/9)
  a6 boy, Kinh, born 2016 (8), grade 3, transferred in on 10/9/2024,
     policy group 08 with study-cost support                            → counted
School B pupils (class 5A grade 5 two sessions):
  b1 girl, Kinh, born 2014 (10); b2 boy, Kinh, born 2012 (12); b3 girl, Chăm (17), born 2014 (10).
Staff A: principal (woman, Kinh, VC indefinite 07, ĐHSP); teacher (woman, Tày, VC fixed-term 08,
  CĐSP, born 1990); Pioneer leader (man, 07, ĐHSP); accountant (woman, labour contract 03, TC).
Staff B: principal (man, labour contract 03, Thạc sĩ); teacher (woman, Thái (03), contract 04, ĐHSP).
"""

from __future__ import annotations

import pytest

from pipelines import aggregate, warehouse
from tests.conftest import (
    klass,
    payload,
    pupil,
    run_through_aggregate,
    school_info,
    staff_member,
    write_inbox,
    write_registry,
)

A, B = "66643001", "66644001"


@pytest.fixture(scope="module")
def two_school_settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two_schools")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": A, "TEN_TRUONG_HOC": "Trường TH A", "CAP_HOC": "1", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": B, "TEN_TRUONG_HOC": "Trường TH B", "CAP_HOC": 1.0, "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "644", "MA_TINH_THANH": "66", "ID_SO": "66", "ID_PHONG": 644.0},
    ])  # fmt: skip
    school_a = payload(
        A,
        school_info(A),
        [klass("1A", 1, sessions=4), klass("3A", 3, sessions=1, subjects=("12",))],
        [
            pupil("a1", "1A", 1, 2, "01", "2018-03-01T00:00:00.0", LoaiNhapHoc=0),
            pupil("a2", "1A", 1, 1, "02", "2017-05-02", LoaiNhapHoc=3),
            pupil("a3", "3A", 3, 2, "02", "2016-01-20", KhuyetTat=1, MaLoaiKhuyetTat="03"),
            pupil("a4", "3A", 3, 1, "01", "2016-07-07", status=4, NgayTrangThai="2024-09-15"),
            pupil("a5", "3A", 3, 2, "01", "2015-02-02", status=2, NgayTrangThai="2024-10-10"),
            pupil(
                "a6",
                "3A",
                3,
                1,
                "01",
                "2016-11-11",
                status=2,
                NgayTrangThai="2024-09-10",
                MaDtuongCsach="08",
                IsHoTroChiPhiHocTap=1,
            ),
        ],
        [
            staff_member("sa1", "01", "01", "07", "16", 2, "1975-04-04"),
            staff_member("sa2", "03", None, "08", "17", 2, "1990-06-06", ethnicity="02"),
            staff_member("sa3", "03", None, "07", "16", 1, "1995-01-01", ChuyenTrachDoi=1),
            staff_member("sa4", "02", "15", "03", "05", 2, "1988-08-08"),
        ],
        rooms=[{"MaLoaiPhong": "01", "LoaiCongTrinh": "01", "SoLuong": 2}],
    )
    school_b = payload(
        B,
        school_info(B, LoaiHinhDaoTao="09", MaVung="04"),
        [klass("5A", 5, sessions=4)],
        [
            pupil("b1", "5A", 5, 2, "01", "2014-04-04"),
            pupil("b2", "5A", 5, 1, "01", "2012-12-12"),
            pupil("b3", "5A", 5, 2, "17", "2014-09-09"),
        ],
        [
            staff_member("sb1", "01", "01", "03", "02", 1, "1970-02-02"),
            staff_member("sb2", "03", None, "04", "16", 2, "1999-03-03", ethnicity="03"),
        ],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{A}.json": school_a, f"{B}.json": school_b})
    return run_through_aggregate(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def two_school_run(two_school_settings):
    """Every cell of the run: (level, unit, row, column) → value."""
    with warehouse.connect(two_school_settings.warehouse) as con:
        rows = con.execute("SELECT level, unit_code, row_code, col_key, value FROM cells").fetchall()
    return {(level, unit, row, col): value for level, unit, row, col, value in rows}


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row) and v != 0}


PUPIL_COLS = ("all", "female", "ethnic", "ethnic_female")


def pupils(cl=(0, 0, 0, 0), tt=(0, 0, 0, 0)) -> dict[str, int]:
    """Expected non-zero cells of a pupil row from the CL and TT quadruples (all, female, ethnic, ethnic female)."""
    out = {}
    for group, values in (("CL", cl), ("TT", tt)):
        out.update({f"{group}.{c}": v for c, v in zip(PUPIL_COLS, values, strict=True)})
    out.update({f"T.{c}": a + b for c, a, b in zip(PUPIL_COLS, cl, tt, strict=True)})
    return {k: v for k, v in out.items() if v}


# Hand-worked expected values, by school, for rows 37, 40-56, 61.
EXPECTED_PUPILS_A = {
    37: pupils(cl=(4, 2, 2, 1)),
    40: pupils(cl=(2, 1, 1, 0)),
    42: pupils(cl=(2, 1, 1, 1)),
    46: pupils(cl=(1, 1, 0, 0)),
    47: pupils(cl=(1, 0, 1, 0)),
    48: pupils(cl=(2, 1, 1, 1)),
    52: pupils(cl=(1, 1, 0, 0)),
    54: pupils(cl=(2, 1, 1, 1)),
    61: pupils(cl=(1, 1, 1, 1)),
}
EXPECTED_PUPILS_B = {
    37: pupils(tt=(3, 2, 1, 1)),
    44: pupils(tt=(3, 2, 1, 1)),
    50: pupils(tt=(2, 2, 1, 1)),
    51: pupils(tt=(1, 0, 0, 0)),
    56: pupils(tt=(2, 2, 1, 1)),
}
PUPIL_ROWS = [37, *range(40, 57), 61]


@pytest.mark.slow
@pytest.mark.parametrize("row", PUPIL_ROWS)
def test_pupil_rows_of_each_school_match_hand_count(two_school_run, row):
    assert _row(two_school_run, "school", A, row) == EXPECTED_PUPILS_A.get(row, {})
    assert _row(two_school_run, "school", B, row) == EXPECTED_PUPILS_B.get(row, {})


@pytest.mark.slow
@pytest.mark.parametrize("row", PUPIL_ROWS)
def test_pupil_rows_roll_up_to_phong_and_so(two_school_run, row):
    a, b = EXPECTED_PUPILS_A.get(row, {}), EXPECTED_PUPILS_B.get(row, {})
    assert _row(two_school_run, "phong", "643", row) == a
    assert _row(two_school_run, "phong", "644", row) == b
    so = {k: a.get(k, 0) + b.get(k, 0) for k in {*a, *b}}
    assert _row(two_school_run, "so", "66", row) == so


@pytest.mark.slow
def test_school_and_class_rows(two_school_run):
    assert _row(two_school_run, "school", A, 1) == {"T": 1, "CL": 1}
    assert _row(two_school_run, "school", B, 1) == {"T": 1, "TT": 1}
    assert _row(two_school_run, "so", "66", 1) == {"T": 2, "CL": 1, "TT": 1}
    assert _row(two_school_run, "so", "66", 27) == {"T": 3, "CL": 2, "TT": 1}
    assert _row(two_school_run, "so", "66", 28) == {"T": 1, "CL": 1}
    assert _row(two_school_run, "so", "66", 29) == {}
    assert _row(two_school_run, "so", "66", 30) == {"T": 1, "CL": 1}
    assert _row(two_school_run, "so", "66", 31) == {}
    assert _row(two_school_run, "so", "66", 32) == {"T": 1, "TT": 1}
    assert _row(two_school_run, "phong", "644", 27) == {"T": 1, "TT": 1}


@pytest.mark.slow
def test_staff_total_row_78(two_school_run):
    # A: 4 staff (3 women, 1 Tày woman); 07: principal + Pioneer leader, 08: teacher, 03: accountant.
    assert _row(two_school_run, "school", A, 78) == {
        "T.all": 4, "T.female": 3, "T.ethnic": 1, "T.ethnic_female": 1,
        "CL.all": 4, "CL.vc_indefinite": 2, "CL.vc_fixed_term": 1, "CL.labour_contract": 1,
        "CL.female": 3, "CL.ethnic": 1, "CL.ethnic_female": 1,
    }  # fmt: skip
    assert _row(two_school_run, "so", "66", 78) == {
        "T.all": 6, "T.female": 4, "T.ethnic": 2, "T.ethnic_female": 2,
        "CL.all": 4, "CL.vc_indefinite": 2, "CL.vc_fixed_term": 1, "CL.labour_contract": 1,
        "CL.female": 3, "CL.ethnic": 1, "CL.ethnic_female": 1,
        "TT.all": 2, "TT.female": 1, "TT.ethnic": 1, "TT.ethnic_female": 1,
    }  # fmt: skip


@pytest.mark.slow
def test_other_pupil_and_staff_rows(two_school_run):
    so = "66"
    assert _row(two_school_run, "so", so, 57) == pupils(cl=(1, 1, 0, 0))  # a1 new entrant
    assert _row(two_school_run, "so", so, 58) == pupils(cl=(1, 0, 1, 0))  # a2 repeater
    assert _row(two_school_run, "so", so, 59) == pupils(cl=(2, 1, 1, 0), tt=(3, 2, 1, 1))  # two sessions
    assert _row(two_school_run, "so", so, 62) == pupils(cl=(1, 1, 1, 1))  # a3 visual
    assert _row(two_school_run, "so", so, 73) == pupils(cl=(2, 1, 1, 1))  # class 3A learns informatics
    assert _row(two_school_run, "so", so, 74) == pupils(cl=(1, 0, 0, 0))  # a6
    assert _row(two_school_run, "so", so, 75) == pupils(cl=(1, 0, 0, 0))
    assert _row(two_school_run, "so", so, 79)["T.all"] == 2  # two principals
    assert _row(two_school_run, "so", so, 96)["T.all"] == 2  # teachers, Pioneer leader apart
    assert _row(two_school_run, "so", so, 109) == {"T.all": 1, "CL.all": 1, "CL.vc_indefinite": 1}
    assert _row(two_school_run, "so", so, 113) == {
        "T.all": 1, "T.female": 1, "CL.all": 1, "CL.labour_contract": 1, "CL.female": 1}  # fmt: skip
    assert _row(two_school_run, "so", so, 120) == {
        "T.all": 2,
        "T.solid": 2,
        "CL.all": 2,
        "CL.solid": 2,
    }


@pytest.mark.slow
def test_no_relation_is_broken_on_consistent_schools(two_school_settings):
    with warehouse.connect(two_school_settings.warehouse) as con:
        broken = con.execute(
            "SELECT relation_id, level, unit_code, col_key, lhs, rhs FROM relation_violations"
        ).fetchall()
    assert broken == []


def test_a_broken_row_relation_is_reported_with_both_sides(tmp_path):
    """r1 = r2 + r5 (schools = delta + mountain): 3 schools but only 1 + 1 by region."""
    from datetime import date

    from pipelines import catalog

    form = catalog.form("tt24", "02-TH-DN")
    ctx = aggregate.RunContext("run-x", "2024-2025", 2024, "DN", date(2024, 9, 30))
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        # The warehouse's tables exist (schema.sql): the run's units, and cells.
        con.execute("INSERT INTO units (level, unit_code) VALUES ('phong', '643')")
        for row, value in ((1, 3), (2, 1), (5, 1)):
            con.execute(
                "INSERT INTO cells (school_year, period, regime, form, level, unit_code, row_code, col_key, value) "
                "VALUES ('2024-2025', 'DN', 'tt24', '02-TH-DN', 'phong', '643', ?, 'T', ?)",
                [row, value],
            )
        n = aggregate.check_relations(con, form, ctx)
        found = con.execute(
            "SELECT relation_id, row_code, col_key, lhs, rhs FROM relation_violations ORDER BY ALL"
        ).fetchall()
    # Absent cells are zero. Broken: r1 = r2 + r5 (3 vs 2), r2 = r3 + r4 (1 vs 0), r5 = r6 + r7
    # (1 vs 0) in column T, and T = CL + TT on rows 1, 2 and 5; every "<= r1" row holds (0 <= 3).
    assert found == [
        ("02-TH-DN.ownership.1", 1, None, 3, 0),
        ("02-TH-DN.ownership.1", 2, None, 1, 0),
        ("02-TH-DN.ownership.1", 5, None, 1, 0),
        ("02-TH-DN.r1.1", 1, "T", 3, 2),
        ("02-TH-DN.r2.1", 2, "T", 1, 0),
        ("02-TH-DN.r5.1", 5, "T", 1, 0),
    ]
    assert n == 6


@pytest.mark.slow
def test_a_multi_level_school_is_counted_in_the_form_of_each_level(tmp_path):
    """A PTCS school (primary + lower secondary): the school in both forms; each class, pupil and
    teacher in the form of its own level; the principal (no CapHoc) in the form of the school's
    highest level (THCS), so no one is counted twice."""
    code = "66643010"
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": code, "TEN_TRUONG_HOC": "Trường PTCS", "CAP_HOC": "12", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
    ])  # fmt: skip
    school = payload(
        code,
        school_info(code, MaNhomCapHoc="09"),
        [klass("1A", 1), klass("6A", 6)],
        [
            pupil("p1", "1A", 1, 2, "01", "2018-01-01"),
            pupil("p2", "6A", 6, 1, "01", "2013-01-01"),
            pupil("p3", "6A", 6, 2, "01", "2013-05-05"),
        ],
        [
            staff_member("s1", "01", "01", "07", "16", 2, "1975-01-01"),
            staff_member("s2", "03", None, "07", "16", 2, "1985-01-01", CapHoc="02"),
            staff_member("s3", "03", None, "07", "16", 1, "1986-01-01", CapHoc="03"),
        ],
    )
    s = run_through_aggregate(tmp_path, registry, write_inbox(tmp_path / "inbox", {f"{code}.json": school}))
    with warehouse.connect(s.warehouse) as con:
        cells = dict(
            ((form, row), value)
            for form, row, value in con.execute(
                "SELECT form, row_code, value FROM cells WHERE level = 'school' AND col_key IN ('T', 'T.all')"
            ).fetchall()
        )
    # 02-TH-ĐN: r1 schools, r27 classes, r37 pupils, r78 staff. 03-THCS-ĐN: r1, r24, r33, r71.
    assert [cells.get(("02-TH-DN", r)) for r in (1, 27, 37, 78)] == [1, 1, 1, 1]
    assert [cells.get(("03-THCS-DN", r)) for r in (1, 24, 33, 71)] == [1, 1, 2, 2]


@pytest.mark.slow
def test_an_upper_secondary_school_reports_straight_to_the_so(tmp_path):
    """A THPT school (no ID_PHONG) appears in 04-THPT-ĐN for itself and the Sở, in no Phòng."""
    code = "66000001"
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": code, "TEN_TRUONG_HOC": "Trường THPT", "CAP_HOC": "3", "TRANG_THAI": 1, "ID_SO": "66"},
    ])  # fmt: skip
    school = payload(
        code,
        school_info(code, MaNhomCapHoc="08", MaLoaiTruong="09"),
        [klass("10A", 10), klass("12A", 12)],
        [
            pupil("t1", "10A", 10, 2, "01", "2009-03-03"),  # 15 in grade 10: right age
            pupil("t2", "10A", 10, 1, "03", "2008-03-03"),  # 16 in grade 10
            pupil("t3", "12A", 12, 2, "01", "2007-03-03"),  # 17 in grade 12: right age
        ],
    )
    s = run_through_aggregate(tmp_path, registry, write_inbox(tmp_path / "inbox", {f"{code}.json": school}))
    with warehouse.connect(s.warehouse) as con:
        cells = {
            (form, level, row): value
            for form, level, row, value in con.execute(
                "SELECT form, level, row_code, value FROM cells WHERE col_key IN ('T', 'T.all')"
            ).fetchall()
        }
    # 04-THPT-ĐN rows: 1 schools, 9 specialised (chuyên) schools, 25 classes, 33 pupils,
    # 36 grade 10, 40 aged 15, 41 aged 16, 44 aged 15 in grade 10, 46 aged 17 in grade 12.
    for level in ("school", "so"):
        got = [cells.get(("04-THPT-DN", level, r)) for r in (1, 9, 25, 33, 36, 40, 41, 44, 46)]
        assert got == [1, 1, 2, 3, 2, 1, 1, 1, 1], level
    assert not [k for k in cells if k[1] == "phong"]
    assert not [k for k in cells if k[0] != "04-THPT-DN"]
    with warehouse.connect(s.warehouse) as con:
        per_teacher = con.execute(
            "SELECT boundaries, numerator, denominator, value FROM indicators WHERE level = 'so' "
            "AND indicator_id = 'THPT.6.1' ORDER BY ALL"
        ).fetchall()
    # No teacher: the ratio is not computable, not 0 (on both boundary versions: Sở 66 is a
    # province before and after 2025).
    assert per_teacher == [("2024", 3, 0, None), ("2025", 3, 0, None)]


@pytest.mark.slow
def test_indicators_keep_numerator_and_denominator(two_school_settings):
    """Sở: 7 pupils, 3 classes, 2 teachers (the Pioneer leader apart). Phòng 643: 4, 2, 1."""
    with warehouse.connect(two_school_settings.warehouse) as con:
        got = {
            (level, unit, ind): (num, den, value)
            for level, unit, ind, num, den, value in con.execute(
                "SELECT level, unit_code, indicator_id, numerator, denominator, value FROM indicators"
            ).fetchall()
        }
    assert got[("so", "66", "2106.1")] == (7, 2, 3.5)  # pupils per teacher
    assert got[("so", "66", "2106.2")] == (7, 3, 2.33)  # pupils per class
    assert got[("so", "66", "2106.3")] == (2, 3, 0.67)  # teachers per class
    assert got[("so", "66", "2105")] == (7, None, 7)  # a count: no denominator
    assert got[("phong", "643", "2106.2")] == (4, 2, 2.0)
    assert got[("school", B, "2106.1")] == (3, 1, 3.0)
    assert not [k for k in got if not k[2].startswith("21")]  # no THCS/THPT unit in this run
