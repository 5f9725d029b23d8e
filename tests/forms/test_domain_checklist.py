"""The issue-16 corrections as a statistician's checklist: one tiny hand-worked province (Sở 66,
Phòng 643), run from the files to the cells, and for each correction the cell a Sở statistician
would check first.

The province at the start of 2024-2025:

- Trường Tiểu học Hòa Bình (66643401, Phòng 643, group 06): one grade-1 class; pupil p1 boards
  (NoiTru), p2 is a semi-boarder (BanTru); teachers t1 with a bachelor and the pedagogy certificate
  (DM_TRINH_DO_CHUYEN_MON 13), t2 with a cao đẳng sư phạm (17), t3 with a bachelor without pedagogy (03).
- Trường PTCS Tân Lập (66643402, Phòng 643, group 09 TH + THCS): one grade-1 and one grade-6 class.
- Trường THPT Năng khiếu Nghệ thuật (66000403, straight to the Sở, group 08, category 05 arts):
  teacher t4 is the school's Tổng phụ trách Đoàn (concurrent duty 10).
- Trung tâm học tập cộng đồng xã Hòa Thắng (66000404, straight to the Sở): no level group, centre
  type 04, combined with the commune's culture house, 250 learners in the year.

Four institutions: the Sở's school totals across the forms must add up to 4.
"""

from __future__ import annotations

import pytest

from pipelines import run as pipeline
from pipelines import settings as settings_mod
from pipelines import warehouse
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

pytestmark = pytest.mark.slow  # runs the pipeline on three hand-worked provinces

TH, PTCS, THPT, CLC = "66643401", "66643402", "66000403", "66000404"


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("domain_checklist")
    registry = write_registry(tmp / "registry.xlsx", [
        {"MA_TRUONG": TH, "TEN_TRUONG_HOC": "Trường Tiểu học Hòa Bình", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": PTCS, "TEN_TRUONG_HOC": "Trường PTCS Tân Lập", "CAP_HOC": "12", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": THPT, "TEN_TRUONG_HOC": "Trường THPT Năng khiếu Nghệ thuật", "CAP_HOC": "3",
         "TRANG_THAI": 1, "ID_SO": "66"},
        {"MA_TRUONG": CLC, "TEN_TRUONG_HOC": "Trung tâm học tập cộng đồng xã Hòa Thắng", "CAP_HOC": "6",
         "TRANG_THAI": 1, "ID_SO": "66"},
    ])  # fmt: skip
    th = payload(
        TH,
        school_info(TH, TenTruongHoc="Trường Tiểu học Hòa Bình"),
        [klass("1A", 1)],
        [
            pupil("p1", "1A", 1, 2, "01", "2018-02-02", NoiTru=1),
            pupil("p2", "1A", 1, 1, "01", "2018-03-03", BanTru=1),
        ],
        [
            staff_member("t1", "03", None, "07", "13", 2, "1990-01-01"),
            staff_member("t2", "03", None, "07", "17", 2, "1988-01-01"),
            staff_member("t3", "03", None, "07", "03", 1, "1992-01-01"),
        ],
    )
    ptcs = payload(
        PTCS,
        school_info(PTCS, TenTruongHoc="Trường PTCS Tân Lập", MaNhomCapHoc="09"),
        [klass("1A", 1), klass("6A", 6)],
        [pupil("q1", "1A", 1, 2, "01", "2018-01-01"), pupil("q2", "6A", 6, 1, "01", "2013-01-01")],
    )
    thpt = payload(
        THPT,
        school_info(
            THPT, TenTruongHoc="Trường THPT Năng khiếu Nghệ thuật", MaNhomCapHoc="08", MaLoaiTruong="05"
        ),
        [klass("10A", 10)],
        [pupil("r1", "10A", 10, 2, "01", "2009-01-01")],
        [staff_member("t4", "03", None, "07", "16", 1, "1985-01-01", LstNhiemVuKiemNhiem=["10"])],
    )
    info = school_info(CLC, TenTruongHoc="Trung tâm học tập cộng đồng xã Hòa Thắng", MaLoaiTrungTam="04",
                       TtHtcdKhNhaVanHoa=1, SoLuotNguoiHoc=250, MaLoaiTruong=None)  # fmt: skip
    del info["MaNhomCapHoc"]
    clc = payload(CLC, info, [], [])
    inbox = write_inbox(
        tmp / "inbox", {f"{c}.json": p for c, p in ((TH, th), (PTCS, ptcs), (THPT, thpt), (CLC, clc))}
    )
    s = run_through_aggregate(tmp, registry, inbox)
    with warehouse.connect(s.warehouse) as con:
        cells = {
            (form, level, unit, row): value
            for form, level, unit, row, value in con.execute(
                "SELECT form, level, unit_code, row_code, value FROM cells WHERE col_key IN ('T', 'T.all')"
            ).fetchall()
        }
        checks = {
            (level, unit): (counted, schools)
            for level, unit, counted, schools in con.execute(
                "SELECT level, unit_code, counted, schools FROM school_count_check"
            ).fetchall()
        }
    return cells, checks


def test_each_school_is_counted_once_in_the_so_totals(province):
    cells, checks = province
    so = lambda form, row: cells.get((form, "so", "66", row))  # noqa: E731
    # The PTCS school is a school of 03-THCS-ĐN only; 02-TH-ĐN shows it in its multi-level row.
    assert so("02-TH-DN", 1) == 1  # Hòa Bình only
    assert so("02-TH-DN", 135) == 1  # Tân Lập, counted in THCS
    assert so("03-THCS-DN", 1) == 1
    assert so("04-THPT-DN", 1) == 1
    assert so("05-GDTX-DN", 1) == 1
    # 1 + 1 + 1 + 1 schools across the forms = 4 distinct institutions.
    assert checks[("so", "66")] == (4, 4)
    assert checks[("phong", "643")] == (2, 2)


def test_qualifications_13_and_03_are_counted_as_a_bachelor(province):
    cells, _ = province
    # 02-TH-ĐN r99 (Đại học): t1 (13) and t3 (03); r98 (Cao đẳng): t2; r102 (Khác): nobody.
    th = {row: cells.get(("02-TH-DN", "school", TH, row)) for row in (98, 99, 102)}
    assert th == {98: 1, 99: 2, 102: None}


def test_primary_teachers_by_the_training_standard(province):
    cells, _ = province
    # Education Law 2019 Art. 72, primary: a bachelor in teacher training, or a bachelor with the
    # pedagogy certificate. t1 (13) is at the standard; t2 (cao đẳng sư phạm) and t3 (no pedagogy) below.
    th = {row: cells.get(("02-TH-DN", "school", TH, row)) for row in (138, 139, 140)}
    assert th == {138: 2, 139: 1, 140: None}


def test_boarding_and_semi_boarding_pupils(province):
    cells, _ = province
    assert cells.get(("02-TH-DN", "school", TH, 141)) == 1  # p1, nội trú
    assert cells.get(("02-TH-DN", "school", TH, 142)) == 1  # p2, bán trú


def test_upper_secondary_counts_youth_union_work_and_arts_gifted_schools(province):
    cells, _ = province
    assert cells.get(("04-THPT-DN", "so", "66", 99)) == 1  # t4, Tổng phụ trách Đoàn
    assert cells.get(("04-THPT-DN", "so", "66", 128)) == 1  # năng khiếu nghệ thuật


def test_a_community_learning_centre_reports_in_05_gdtx(province):
    cells, _ = province
    gdtx = {row: cells.get(("05-GDTX-DN", "so", "66", row)) for row in (1, 94, 95, 100, 102)}
    assert gdtx == {1: 1, 94: None, 95: 1, 100: 1, 102: 250}


# The end of 2024-2025 (CN, as of 31/5/2025): Trường Tiểu học Hòa Bình with three grade-3 pupils,
# e1 absent 50 days and Học sinh Xuất sắc, e2 absent 4 days and Học sinh Tiêu biểu, e3 absent 0 days
# with no title; the THPT school with two grade-12 pupils, g1 recognised as a THPT graduate, g2 not.
@pytest.fixture(scope="module")
def end_of_year(tmp_path_factory):
    from tests.forms.test_end_of_year import eoy_payload, result, run_end_of_year

    tmp = tmp_path_factory.mktemp("domain_checklist_cn")
    registry = write_registry(tmp / "registry.xlsx", [
        {"MA_TRUONG": TH, "TEN_TRUONG_HOC": "Trường Tiểu học Hòa Bình", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643"},
        {"MA_TRUONG": THPT, "TEN_TRUONG_HOC": "Trường THPT Năng khiếu Nghệ thuật", "CAP_HOC": "3",
         "TRANG_THAI": 1, "ID_SO": "66"},
    ])  # fmt: skip
    th = eoy_payload(
        TH,
        school_info(TH),
        [klass("3A", 3)],
        [pupil(p, "3A", 3, 2, "01", "2016-01-01") for p in ("e1", "e2", "e3")],
        [
            result("e1", "HTXS", 1, SoNgayNghi=50, MaDanhHieu="HSXS"),
            result("e2", "HTT", 1, SoNgayNghi=4, MaDanhHieu="HSTB"),
            result("e3", "HT", 1, SoNgayNghi=0),
        ],
    )
    thpt = eoy_payload(
        THPT,
        school_info(THPT, MaNhomCapHoc="08", MaLoaiTruong="05"),
        [klass("12A", 12)],
        [pupil(p, "12A", 12, 1, "01", "2007-01-01") for p in ("g1", "g2")],
        [result("g1", "1", 1, RenLuyen="1", TotNghiep=1), result("g2", "3", 1, RenLuyen="2", TotNghiep=0)],
    )
    s = run_end_of_year(tmp, registry, write_inbox(tmp / "inbox", {f"{TH}.json": th, f"{THPT}.json": thpt}))
    with warehouse.connect(s.warehouse) as con:
        return {
            (form, level, row): value
            for form, level, row, value in con.execute(
                "SELECT form, level, row_code, value FROM cells WHERE col_key IN ('T', 'T.all')"
            ).fetchall()
        }


def test_days_absent_and_titles_at_the_end_of_the_year(end_of_year):
    th = {row: end_of_year.get(("02-TH-CN", "school", row)) for row in (82, 83, 84, 85)}
    # HSXS: e1; HSTB: e2; days absent 50 + 4 + 0 = 54; absent more than 45 days: e1.
    assert th == {82: 1, 83: 1, 84: 54, 85: 1}


def test_thpt_graduates_at_the_end_of_the_year(end_of_year):
    # 2 grade-12 pupils assessed (r42), 1 recognised as a THPT graduate (r75).
    assert end_of_year.get(("04-THPT-CN", "so", 42)) == 2
    assert end_of_year.get(("04-THPT-CN", "so", 75)) == 1


# Communes on the 2025 map: the start of 2024-2025 re-aggregated on the 2025 boundaries. The registry
# (of 2024) gives old commune codes of Đắk Lắk: Hòa Bình's old Phường Tân Lập (24118) went whole into
# the new Phường Tân Lập (24121); Tân Lập PTCS's old Xã Ea D'Rơng (24292) was split between Xã Cuôr
# Đăng (24301) and Xã Ea Drông (24328); the THPT school (old Phường Tân An, 24124) is not the
# commune's to manage.
@pytest.fixture(scope="module")
def on_2025_map(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("domain_checklist_2025")
    registry = write_registry(tmp / "registry.xlsx", [
        {"MA_TRUONG": TH, "TEN_TRUONG_HOC": "Trường Tiểu học Hòa Bình", "CAP_HOC": "1", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24118"},
        {"MA_TRUONG": PTCS, "TEN_TRUONG_HOC": "Trường PTCS Tân Lập", "CAP_HOC": "12", "TRANG_THAI": 1,
         "ID_SO": "66", "ID_PHONG": "643", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24292"},
        {"MA_TRUONG": THPT, "TEN_TRUONG_HOC": "Trường THPT Năng khiếu Nghệ thuật", "CAP_HOC": "3",
         "TRANG_THAI": 1, "ID_SO": "66", "MA_TINH_THANH": "66", "MA_XA_PHUONG": "24124"},
    ])  # fmt: skip
    inbox = write_inbox(tmp / "inbox", {
        f"{TH}.json": payload(TH, school_info(TH), [klass("1A", 1)], [pupil("p1", "1A", 1, 2, "01", "2018-02-02")]),
        f"{PTCS}.json": payload(PTCS, school_info(PTCS, MaNhomCapHoc="09"), [klass("6A", 6)],
                                [pupil("q2", "6A", 6, 1, "01", "2013-01-01")]),
        f"{THPT}.json": payload(THPT, school_info(THPT, MaNhomCapHoc="08"), [klass("10A", 10)],
                                [pupil("r1", "10A", 10, 2, "01", "2009-01-01")]),
    })  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings_mod.KEY_ENV, "test-key-not-secret")
        s = settings_mod.resolve("2024-2025", "DN", registry, inbox, tmp / "warehouse.duckdb", tmp / "out",
                                 run_id="test-run", processes=1, boundaries="2025")  # fmt: skip
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step,
                 pipeline.export_step):  # fmt: skip
        step(s)
    with warehouse.connect(s.warehouse) as con:
        cells = {
            (form, level, unit, row): value
            for form, level, unit, row, value in con.execute(
                "SELECT form, level, unit_code, row_code, value FROM cells WHERE col_key IN ('T', 'T.all')"
            ).fetchall()
        }
        parents = dict(
            con.execute(
                "SELECT unit_code, parent_level || ' ' || parent_code FROM units WHERE level = 'school'"
            ).fetchall()
        )
        review = con.execute("SELECT school_code, outcome FROM registry_problems ORDER BY ALL").fetchall()
        placement = con.execute(
            "SELECT school_code, commune_code, so_code FROM schools ORDER BY ALL"
        ).fetchall()
        checks = dict(
            ((level, unit), ok)
            for level, unit, ok in con.execute(
                "SELECT level, unit_code, ok FROM school_count_check"
            ).fetchall()
        )
    workbooks = sorted(str(p.relative_to(s.out / "forms")) for p in (s.out / "forms").rglob("*.xlsx"))
    return cells, parents, review, checks, workbooks, placement


def test_on_the_2025_map_commune_schools_roll_up_through_their_commune(on_2025_map):
    cells, parents, review, checks, workbooks, placement = on_2025_map
    assert parents == {TH: "commune 24121", PTCS: "so 66", THPT: "so 66"}
    assert cells.get(("02-TH-DN", "commune", "24121", 1)) == 1
    assert cells.get(("02-TH-DN", "so", "66", 1)) == 1
    assert cells.get(("03-THCS-DN", "so", "66", 1)) == 1  # the PTCS school, straight to the Sở meanwhile
    assert cells.get(("04-THPT-DN", "so", "66", 1)) == 1
    # The split commune's school is listed for review; the others are not.
    assert review == [(PTCS, "commune_split")]
    assert checks[("commune", "24121")] and checks[("so", "66")]
    # The commune gets its own workbook of the form its schools fill.
    assert "commune/24121/02-TH-DN.xlsx" in workbooks
    # The analysts' view of the schools names the commune, and the Sở above it.
    assert placement == sorted([(TH, "24121", "66"), (PTCS, None, "66"), (THPT, None, "66")])
