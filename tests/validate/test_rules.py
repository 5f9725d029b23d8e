"""The rule kinds of issue 4 on hand-made staging tables: each with a failing and a passing case.

Two runs: a start-of-year (DN) warehouse holding every kind but the year balance, and an
end-of-year (CN) warehouse for the year balance. History rows (earlier runs' figures) are written
by hand, as aggregate.record_history would have written them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines import catalog, validate, warehouse
from pipelines.ingest import normalise
from pipelines.validate import rules as validation_rules
from tests.validate.test_check import add, query

STAFF = {"ClientId": "cb", "TenCanBo": "t", "LoaiCanBo": "03", "LoaiHopDong": "07",
         "TrinhDoChuyenMonNvCaoNhat": "16", "GioiTinh": "02", "NgaySinh": "1990-01", "TrangThai": "01"}  # fmt: skip
S1, S2 = "66000001", "66000002"  # MN-TH schools (group 16: levels 01 and 02)
OUTLIER = "66000111"  # one of eleven TH schools, with 80 pupils in its only class


def staff(con, row_id: int, school: str, **fields: str | None) -> None:
    add(con, "staff", row_id, school, row_id, **{**STAFF, "MaCanBo": f"cb{row_id}", **fields})


def build_dn(path: Path) -> Path:
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    # S1 declares 99 pupils but lists fewer; S2 declares its 5 exactly.
    add(con, "school", 1, S1, MaNhomCapHoc="16", TongSoHocSinh="99", TongSoLopHoc="2")
    add(con, "school", 2, S2, MaNhomCapHoc="16", TongSoHocSinh="5", TongSoLopHoc="1")
    add(con, "school", 3, "66-00003", MaNhomCapHoc="16")  # not a MOET school code
    add(con, "class", 11, S1, 0, MaLopHoc="1A", KhoiHoc="01", TenLopHoc="Lớp 1A")
    add(con, "class", 12, S1, 1, MaLopHoc="6A", KhoiHoc="06", TenLopHoc="Lớp 6A\ufffd")  # grade 6: THCS
    add(con, "class", 13, S2, 0, MaLopHoc="2A", KhoiHoc="02", TenLopHoc="Lớp 2A")
    pupils = [  # (row_id, school, fields)
        (101, S1, {}),  # born 2017: aged 7 in grade 1 (official 6): passes
        (102, S1, {"KhoiHoc": "06", "MaLopHocDn": "6A", "NgaySinh": "2013-05"}),  # grade 6 at an MN-TH school
        (103, S1, {"NgaySinh": "2015-01"}),  # aged 9 in grade 1: 3 above, the limit: passes
        (104, S1, {"NgaySinh": "2014-01"}),  # aged 10: 4 above
        (105, S1, {"NgaySinh": "2019-01"}),  # aged 5: 1 below, the limit: passes
        (106, S1, {"NgaySinh": "2020-01"}),  # aged 4: 2 below
        (107, S1, {"TrangThai": "04", "NgayTrangThai": "2024-05-20"}),  # moved out before the school year
        (108, S1, {"TrangThai": "04", "NgayTrangThai": "2024-06-01"}),  # first day of the summer: passes
        (109, S1, {"MaHocSinh": "X1"}),  # X1 is enrolled in S2 too
        (110, S1, {"MaHocSinh": "X2"}),  # X2 left S2 before 30/9: a transfer, passes
        (111, S1, {"HoTen": "trung", "NgaySinh": "2017-03"}),
        (112, S1, {"HoTen": "trung", "NgaySinh": "2017-03"}),  # same name, month and sex as 111
        (113, S1, {"HoTen": "trung", "NgaySinh": "2017-04"}),  # another month: passes
        (114, S1, {"pre_hash_problems": "MaHocSinh:length,HoTen:text"}),  # as ingest flags them
        (201, S2, {"MaHocSinh": "X1", "KhoiHoc": "02", "MaLopHocDn": "2A", "NgaySinh": "2016-02"}),
        (
            202,
            S2,
            {
                "MaHocSinh": "X2",
                "KhoiHoc": "02",
                "MaLopHocDn": "2A",
                "NgaySinh": "2016-02",
                "TrangThai": "04",
                "NgayTrangThai": "2024-09-10",
            },
        ),  # fmt: skip
        *((203 + i, S2, {"KhoiHoc": "02", "MaLopHocDn": "2A", "NgaySinh": "2016-02"}) for i in range(3)),
    ]
    for i, (row_id, school, fields) in enumerate(pupils):
        add(con, "learner", row_id, school, i, **fields)
    staff(con, 301, S1, NgaySinh="2010-01")  # aged 14
    staff(con, 302, S1, NgaySinh="2006-01")  # 18: passes
    staff(con, 303, S1, NgaySinh="1959-01")  # 65: passes
    staff(con, 304, S1, NgaySinh="1958-01")  # 66
    staff(con, 305, S1, ChucVu="01")  # a teacher (group 03) holding a principal's post (group 01)
    staff(con, 306, S1, ChucVu="03")  # head of subject group (group 03): passes
    staff(con, 307, S1, TrinhDoChuyenMonNvCaoNhat="07")  # a teacher with a medical specialist degree
    staff(con, 308, S2, LoaiCanBo="02", ChucVu="11", TrinhDoChuyenMonNvCaoNhat="07")  # health officer: passes
    staff(con, 309, S2)
    # Eleven TH schools: 20, 21, …, 29 pupils and 80 pupils, one class and one teacher each.
    # Median 25; absolute deviations 5,4,3,2,1,0,1,2,3,4,55 → MAD 3; z(80) = 55 / (1.4826 × 3) = 12.4;
    # z(20) = 5 / 4.45 = 1.1.
    row = 1000
    for k, n in enumerate([*range(20, 30), 80]):
        code = f"661001{k:02d}" if n != 80 else OUTLIER
        add(con, "school", 10 + k, code, MaNhomCapHoc="06", TongSoHocSinh=str(n), TongSoLopHoc="1")
        add(con, "class", 100 + k, code, MaLopHoc="1A", KhoiHoc="01", TenLopHoc="Lớp 1A")
        staff(con, 400 + k, code)
        for i in range(n):
            add(con, "learner", row, code, i, HoTen=f"ten{row}")
            row += 1
    # Last year: S1 had 100 pupils and 40 staff (now 14 listed, 12 enrolled; 7 staff); S2 had 5
    # and 2 (now 4 enrolled, 2 staff). Last year's end: S1 promoted 20 from grade 1 and kept 1
    # back in grade 2, so about 21 are expected in grade 2 (none now); S2 promoted 3 from grade 1
    # and kept none back: 3 expected in grade 2, 4 enrolled now.
    con.execute(
        f"""INSERT INTO school_history VALUES
            ('2023-2024', 'DN', '{S1}', 100, 2, 40, 30), ('2023-2024', 'DN', '{S2}', 5, 1, 2, 1)"""
    )
    con.execute(
        f"""INSERT INTO school_grade_history VALUES
            ('2023-2024', 'CN', '{S1}', '01', 21, 20, 1), ('2023-2024', 'CN', '{S1}', '02', 30, 29, 1),
            ('2023-2024', 'CN', '{S2}', '01', 3, 3, 0), ('2023-2024', 'CN', '{S2}', '02', 0, 0, 0)"""
    )
    con.close()
    return path


@pytest.fixture(scope="module")
def dn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = build_dn(tmp_path_factory.mktemp("rules") / "warehouse.duckdb")
    validate.validate_warehouse(path, "dn", "2024-2025", "DN", 2024)
    return path


def failing(path: Path, rule_id: str) -> list[tuple]:
    return query(
        path, "SELECT row_id, severity FROM validation_results WHERE rule_id = ? ORDER BY row_id", [rule_id]
    )


@pytest.mark.parametrize(
    ("rule_id", "expected"),
    [
        # field rules: identifier format and text
        ("school.MaTruongHoc.pattern", [(3, "error")]),
        ("class.TenLopHoc.text", [(12, "error")]),
        ("learner.MaHocSinh.length", [(114, "error")]),
        ("learner.HoTen.text", [(114, "error")]),
        # cross-field
        ("learner.age_for_grade", [(104, "warning"), (106, "warning")]),
        ("learner.status_date_outside_year", [(107, "warning")]),
        ("staff.age_implausible", [(301, "warning"), (304, "warning")]),
        ("staff.position_not_in_group", [(305, "warning")]),
        ("staff.qualification_implausible", [(307, "warning")]),
        # cross-entity
        ("learner.grade_not_in_school_levels", [(102, "error")]),
        ("class.grade_not_in_school_levels", [(12, "error")]),
        ("school.learner_total_differs", [(1, "warning")]),
        ("school.class_total_differs", []),  # S1 declares its 2 classes, S2 its 1
        # identity
        ("learner.enrolled_in_two_schools", [(109, "warning"), (201, "warning")]),
        ("learner.likely_duplicate", [(112, "warning")]),
        # cross-period
        ("school.enrolment_change", [(1, "warning")]),  # 100 → 13
        ("school.staff_change", [(1, "warning")]),  # 40 → 7
        ("school.cohort_flow", [(1, "warning")]),
        # outliers
        ("school.pupils_per_class_outlier", [(20, "warning")]),  # row 10 + k, k = 10
        ("school.pupils_per_teacher_outlier", [(20, "warning")]),
    ],
)
@pytest.mark.slow
def test_rule_finds_the_failing_case_and_passes_the_others(dn, rule_id, expected):
    assert failing(dn, rule_id) == expected


@pytest.mark.slow
def test_year_balance_on_the_end_of_year(tmp_path):
    """S1's autumn report had 11 pupils; since then 1 arrived and 3 left: 9 expected on 31/5 and
    9 enrolled (passes). S2 reported 20 in the autumn and lists 5 enrolled, no moves (fails)."""
    path = tmp_path / "cn.duckdb"
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    for row_id, code in ((1, S1), (2, S2)):
        add(con, "school", row_id, code, MaNhomCapHoc="06", NamHoc="2024")
        add(con, "class", 10 + row_id, code, MaLopHoc="1A")
    moves = [{}] * 8 + [
        {"TrangThai": "02", "NgayTrangThai": "2025-01-10"},
        {"TrangThai": "04", "NgayTrangThai": "2024-11-01"},
        {"TrangThai": "04", "NgayTrangThai": "2024-11-01"},
        {"TrangThai": "05", "NgayTrangThai": "2025-02-01", "MaLyDoThoiHoc": "01"},
    ]
    for i, fields in enumerate(moves):
        add(con, "learner", 100 + i, S1, i, **fields)
    for i in range(5):
        add(con, "learner", 200 + i, S2, i)
    con.execute(f"INSERT INTO school_history VALUES ('2024-2025', 'DN', '{S1}', 11, 1, 0, 0), "
                f"('2024-2025', 'DN', '{S2}', 20, 1, 0, 0)")  # fmt: skip
    con.close()
    validate.validate_warehouse(path, "cn", "2024-2025", "CN", 2024)
    assert failing(path, "school.year_balance") == [(2, "warning")]


def test_ingest_judges_pseudonymised_fields_before_hashing():
    learner = next(s for s in catalog.sources() if s.entity == "learner")
    values = {"ClientId": "c-1", "MaHocSinh": "1" * 21, "HoTen": "Nguyễn\x07 An"}
    assert normalise.pre_hash_problems(learner, values) == "MaHocSinh:length,HoTen:text"
    assert (
        normalise.pre_hash_problems(learner, {"ClientId": "c-1", "MaHocSinh": "1" * 20, "HoTen": "An"})
        is None
    )


def test_rule_parameters_must_be_known():
    with pytest.raises(catalog.CatalogError, match=r"\$nowhere"):
        validation_rules.substitute(
            "SELECT $start_year, $nowhere", validate.run_parameters(2024, "DN"), "test"
        )


@pytest.mark.slow
def test_one_query_per_table_counts_the_rows_each_rule_lists(tmp_path):
    """GX counts every rule of a table in one query (rules.counts_sql); problems are listed by each
    rule's own query (rules.rows_sql). On the hand-made province, plus rooms entered twice with and
    without the optional preschool block, both give every rule the same number of rows."""
    con = warehouse.connect(build_dn(tmp_path / "warehouse.duckdb"))
    try:
        add(con, "rooms", 401, S1, 0, MaLoaiPhong="01", LoaiCongTrinh="1", SoLuong="2")
        add(con, "rooms", 402, S1, 1, MaLoaiPhong="01", LoaiCongTrinh="1", SoLuong="3")  # twice, no block
        add(con, "rooms", 403, S1, 2, MaLoaiPhong="01", LoaiCongTrinh="1", SoLuong="1", KhoiHoc="16")
        add(con, "rooms", 404, S2, 0, MaLoaiPhong="01", LoaiCongTrinh="1", SoLuong="1", KhoiHoc="16")
        add(con, "rooms", 405, S2, 1, MaLoaiPhong="01", LoaiCongTrinh="1", SoLuong="1", KhoiHoc="16")  # twice
        rules = validate.compile_rules(2024)
        warehouse.load_codelists(con, {n for r in rules for n in re.findall(r"\bcl_(\w+)", r.sql or "")})
        tables = dict.fromkeys(r.table for r in rules)
        listed_duplicates = 0
        for table in tables:
            of_table = [r for r in rules if r.table == table]
            batch = validation_rules.quoted(table)
            counts = con.execute(validation_rules.counts_sql(of_table).format(batch=batch)).fetchone()
            assert len(counts) == len(of_table) + 1
            for rule, count in zip(of_table, counts[1:], strict=True):
                listing = validation_rules.rows_sql(rule).format(batch=batch)
                listed = con.execute(f"SELECT count(*) FROM ({listing}) AS l").fetchone()[0]
                assert count == listed, rule.id
                if rule.id == "rooms.duplicate_entry":
                    listed_duplicates = listed
        assert listed_duplicates == 2  # 402 and 405
    finally:
        con.close()


def test_the_rows_written_for_each_rule_are_the_rows_it_lists(tmp_path):
    """validation_results takes each rule's failing rows from rules.failing_rows (a rule checked row
    by row filters its table once; the others pick the rows their listing gives): the same rows as
    the listing, each once, on the hand-made province."""
    con = warehouse.connect(build_dn(tmp_path / "warehouse.duckdb"))
    try:
        rules = validate.compile_rules(2024)
        warehouse.load_codelists(con, {n for r in rules for n in re.findall(r"\bcl_(\w+)", r.sql or "")})
        found = 0
        for rule in rules:
            listing = validation_rules.rows_sql(rule).format(batch=validation_rules.quoted(rule.table))
            listed = sorted(
                r[0] for r in con.execute(f"SELECT DISTINCT row_id FROM ({listing}) AS l").fetchall()
            )
            written = sorted(
                r[0]
                for r in con.execute(
                    f"SELECT row_id FROM {validation_rules.failing_rows(rule)} AS f"
                ).fetchall()
            )
            assert written == listed, rule.id
            found += bool(listed)
        assert found >= 10  # the province fails many rules, not just a few
    finally:
        con.close()
