"""05-GDTX-ĐN (status: inferred) cells worked out by hand for two continuing-education centres,
their rollup to the Sở (GDTX centres are Sở-run: no Phòng), and a golden dump of one workbook.

Centre P (66000001): provincial TT GDTX (MaNhomCapHoc 12, MaLoaiTruong 15), public, delta
(MaVung 02), career guidance (TtGdtxHuongNghiep), computers for teaching.
Centre H (66000002): district TT GDNN-GDTX (MaNhomCapHoc 13, MaLoaiTruong 16), public, mountain
(MaVung 04), grid electricity.
As-of date 30/9/2024; age = 2024 − birth year.

Classes of P: P10A lớp 10 GDTX (KhoiHoc 13), study mode 01 (học tập trung định kỳ);
  P12A lớp 12 GDTX (KhoiHoc 15), study mode 02 (vừa làm vừa học).
Learners of P:
  p1 boy   Kinh 2009 → 15, P10A, new entrant (LoaiNhapHoc 0), own study mode 01
  p2 girl  Tày  2000 → 24, P10A, new entrant (LoaiNhapHoc 2), no study mode → the class's 01
  p3 man   Kinh 1990 → 34 (over 25), P12A, no study mode → the class's 02
  p4 girl  Kinh 2007 → 17, P12A, own study mode 03 (overrides the class's), disabled
  p5 boy   Kinh 2006, P12A, transferred out on 15/9/2024 → NOT counted
Staff of P: Giám đốc (ChucVu 05, man, VC 07, ThS); Phó giám đốc (06, woman, Tày, VC 08, ĐHSP);
  teacher (woman, 07, ĐHSP, born 1995 → 29); teacher (man, labour contract 03, "other"
  qualification 06, born 1964 → 60); accountant (ChucVu 15, woman, 04); a teacher who moved
  away (TrangThai 02) → NOT counted. None has CapHoc: the centre's level 05 applies.
Rooms of P: 2 solid and 1 semi-solid classrooms, a solid library and a solid computer room.
Classes of H: H11 lớp 11 GDTX (KhoiHoc 14), mode 02; HX xóa mù chữ (KhoiHoc 18), mode 02.
Learners of H: h1 girl Kinh 2008 → 16, H11; h2 woman Ê-đê 1980 → 44, HX, policy group 11;
  h3 man Tày 1975 → 49, HX. None has a study mode: the class's 02.
Staff of H: Giám đốc (man, 07, ĐHSP, no CapHoc); teacher (woman, 07, CĐSP, born 1985 → 39,
  CapHoc 05). Rooms of H: 1 temporary classroom.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines import catalog, warehouse
from pipelines.outputs.workbook import UnitHeader, dump_workbook, write_form_workbook
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

P, H = "66000001", "66000002"
FORM = "05-GDTX-DN"
GOLDEN = Path(__file__).parent.parent / "golden" / "05-GDTX-DN_school.json"
DISABLED = {"KhuyetTat": 1, "MaLoaiKhuyetTat": "01"}  # physical disability


def gdtx_class(code: str, grade: int, mode: str, sessions: int = 1) -> dict:
    c = klass(code, grade, sessions=sessions, subjects=("53", "57"))
    c.update(MaHinhThucDaoTaoHocTap=mode, MaKieuLop="01" if grade in (18, 19) else "03")
    return c


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("gdtx")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": P, "TEN_TRUONG_HOC": "Trung tâm GDTX tỉnh Đắk Lắk", "CAP_HOC": "6", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66},
        {"MA_TRUONG": H, "TEN_TRUONG_HOC": "Trung tâm GDNN - GDTX Krông Bông", "CAP_HOC": 6, "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "655", "MA_TINH_THANH": "66", "ID_SO": 66},
    ])  # fmt: skip
    centre_p = payload(
        P,
        school_info(
            P,
            TenTruongHoc="Trung tâm GDTX tỉnh Đắk Lắk",
            MaNhomCapHoc="12",
            MaLoaiTruong="15",
            TtGdtxHuongNghiep=1,
            SuDungMayTinhDayHoc=1,
        ),
        [gdtx_class("P10A", 13, "01"), gdtx_class("P12A", 15, "02", sessions=3)],
        [
            pupil("p1", "P10A", 13, 1, "01", "2009-04-04", LoaiNhapHoc=0, MaHinhThucHocTap="01"),
            pupil("p2", "P10A", 13, 2, "02", "2000-05-05", LoaiNhapHoc=2),
            pupil("p3", "P12A", 15, 1, "01", "1990-06-06"),
            pupil("p4", "P12A", 15, 2, "01", "2007-07-07", MaHinhThucHocTap="03", **DISABLED),
            pupil("p5", "P12A", 15, 1, "01", "2006-08-08", status=4, NgayTrangThai="2024-09-15"),
        ],
        [
            staff_member("ps1", "01", "05", "07", "02", 1, "1970-01-01"),
            staff_member("ps2", "01", "06", "08", "16", 2, "1980-02-02", ethnicity="02"),
            staff_member("ps3", "03", None, "07", "16", 2, "1995-03-03"),
            staff_member("ps4", "03", None, "03", "06", 1, "1964-04-04"),
            staff_member("ps5", "02", "15", "04", "05", 2, "1985-05-05"),
            staff_member("ps6", "03", None, "07", "16", 2, "1990-06-06", TrangThai="02"),
        ],
        rooms=[
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "01", "SoLuong": 2},
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "02", "SoLuong": 1},
            {"MaLoaiPhong": "03", "LoaiCongTrinh": "01", "SoLuong": 1},
            {"MaLoaiPhong": "05", "LoaiCongTrinh": "01", "SoLuong": 1},
        ],
    )
    centre_h = payload(
        H,
        school_info(
            H,
            TenTruongHoc="Trung tâm GDNN - GDTX Krông Bông",
            MaNhomCapHoc="13",
            MaLoaiTruong="16",
            MaVung="04",
            DienLuoi=1,
        ),
        [gdtx_class("H11", 14, "02", sessions=3), gdtx_class("HX", 18, "02", sessions=3)],
        [
            pupil("h1", "H11", 14, 2, "01", "2008-09-09"),
            pupil("h2", "HX", 18, 2, "12", "1980-10-10", LoaiNhapHoc=0, MaDtuongCsach="11"),
            pupil("h3", "HX", 18, 1, "02", "1975-11-11", LoaiNhapHoc=0),
        ],
        [
            staff_member("hs1", "01", "05", "07", "16", 1, "1975-01-01"),
            staff_member("hs2", "03", None, "07", "17", 2, "1985-02-02", CapHoc="05"),
        ],
        rooms=[{"MaLoaiPhong": "01", "LoaiCongTrinh": "03", "SoLuong": 1}],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{P}.json": centre_p, f"{H}.json": centre_h})
    return run_through_aggregate(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def cells(settings):
    found, others = form_cells(settings, FORM)
    assert others == []  # GDTX centres and their GDTX grades are in no other form
    return found


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row)}


def people(
    all_: int, female: int = 0, ethnic: int = 0, ethnic_female: int = 0, **contracts: int
) -> dict[str, int]:
    """Non-zero cells of a learner or staff row of a public centre (T and CL columns)."""
    values = {"all": all_, "female": female, "ethnic": ethnic, "ethnic_female": ethnic_female}
    out = {f"{g}.{k}": v for g in ("T", "CL") for k, v in values.items() if v}
    out.update({f"CL.{k}": v for k, v in contracts.items()})
    return out


def test_no_relation_is_broken_and_no_validation_problem(settings, cells):
    with warehouse.connect(settings.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0


def test_centres_report_straight_to_the_so(settings, cells):
    assert {level for level, _, _, _ in cells} == {"school", "so"}
    with warehouse.connect(settings.warehouse) as con:
        parents = con.execute(
            "SELECT unit_code, parent_level, parent_code FROM units WHERE level = 'school' ORDER BY unit_code"
        ).fetchall()
    assert parents == [(P, "so", "66"), (H, "so", "66")]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "CL": 1}),
        (2, {"T": 1, "CL": 1}),  # delta
        (3, {}),
        (4, {"T": 1, "CL": 1}),  # provincial (MaNhomCapHoc 12)
        (5, {}),
        (7, {"T": 1, "CL": 1}),  # TT GDTX (MaLoaiTruong 15)
        (8, {}),
        (10, {"T": 1, "CL": 1}),  # career guidance
        (11, {"T": 1, "CL": 1}),  # computers
        (13, {}),
        (17, {}),  # no teaching site
        (18, {"T": 2, "CL": 2}),
        (19, {"T": 2, "CL": 2}),
        (20, {"T": 1, "CL": 1}),
        (21, {}),
        (22, {"T": 1, "CL": 1}),
        (28, {}),
        (32, {"T": 1, "CL": 1}),  # P10A: mode 01
        (33, {"T": 1, "CL": 1}),  # P12A: mode 02
        (34, {}),
        (35, people(4, 2, 1, 1)),  # p1-p4; p5 left before 30/9
        (36, people(4, 2, 1, 1)),
        (37, {}),
        (38, people(4, 2, 1, 1)),
        (39, people(2, 1, 1, 1)),  # p1 p2
        (40, {}),
        (41, people(2, 1)),  # p3 p4
        (47, {}),
        (51, people(2, 1)),  # p1 (15), p4 (17)
        (52, people(1, 1, 1, 1)),  # p2 (24)
        (53, people(1)),  # p3 (34)
        (54, people(2, 1)),  # p1 p4: upper-secondary programme aged 15-17
        (55, people(2, 1, 1, 1)),  # p1 p2: new entrants to lớp 10 GDTX
        (56, {}),
        (57, people(2, 1, 1, 1)),  # p1 (own mode), p2 (class's mode)
        (58, people(1)),  # p3 (class's mode)
        (59, people(1, 1)),  # p4 (own mode 03 over the class's 02)
        (60, people(1, 1)),  # p4
        (61, {}),
        (62, people(5, 3, 1, 1, vc_indefinite=2, vc_fixed_term=1, labour_contract=2)),  # not ps6
        (63, people(2, 1, 1, 1, vc_indefinite=1, vc_fixed_term=1)),
        (64, people(1, vc_indefinite=1)),  # Giám đốc
        (65, people(1, 1, 1, 1, vc_fixed_term=1)),  # Phó giám đốc
        (66, people(2, 1, vc_indefinite=1, labour_contract=1)),
        (69, people(1, 1, vc_indefinite=1)),  # ĐHSP
        (70, {}),  # the Thạc sĩ is the Giám đốc, not a teacher
        (72, people(1, labour_contract=1)),  # qualification 06: other
        (73, people(1, 1, vc_indefinite=1)),  # aged 29
        (77, people(1, labour_contract=1)),  # aged 60
        (78, people(1, 1, labour_contract=1)),
        (81, people(1, 1, labour_contract=1)),  # accountant
        (86, {"T.all": 3, "T.solid": 2, "T.semi_solid": 1, "CL.all": 3, "CL.solid": 2, "CL.semi_solid": 1}),
        (88, {"T.all": 2, "T.solid": 2, "CL.all": 2, "CL.solid": 2}),
        (89, {"T.all": 1, "T.solid": 1, "CL.all": 1, "CL.solid": 1}),
        (91, {"T.all": 1, "T.solid": 1, "CL.all": 1, "CL.solid": 1}),
    ],
)
def test_provincial_centre_by_hand(cells, row, expected):
    assert _row(cells, "school", P, row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "CL": 1}),
        (3, {"T": 1, "CL": 1}),  # mountain
        (5, {"T": 1, "CL": 1}),  # district (MaNhomCapHoc 13)
        (8, {"T": 1, "CL": 1}),  # TT GDNN-GDTX (MaLoaiTruong 16)
        (10, {}),
        (13, {"T": 1, "CL": 1}),
        (18, {"T": 2, "CL": 2}),
        (19, {"T": 1, "CL": 1}),
        (21, {"T": 1, "CL": 1}),
        (28, {"T": 1, "CL": 1}),
        (29, {"T": 1, "CL": 1}),  # xóa mù chữ
        (33, {"T": 2, "CL": 2}),
        (35, people(3, 2, 2, 1)),
        (37, people(3, 2, 2, 1)),
        (38, people(1, 1)),  # h1
        (40, people(1, 1)),
        (47, people(2, 1, 2, 1)),  # h2 h3
        (48, people(2, 1, 2, 1)),
        (51, people(1, 1)),  # h1 (16)
        (53, people(2, 1, 2, 1)),  # h2 (44), h3 (49)
        (54, people(1, 1)),
        (55, {}),  # literacy intake is not lớp 10
        (58, people(3, 2, 2, 1)),  # every learner: the class's mode 02
        (61, people(1, 1, 1, 1)),  # h2: the ethnic-minority woman, policy group 11
        (62, people(2, 1, vc_indefinite=2)),
        (64, people(1, vc_indefinite=1)),
        (68, people(1, 1, vc_indefinite=1)),  # CĐSP
        (74, people(1, 1, vc_indefinite=1)),  # aged 39
        (86, {"T.all": 1, "T.temporary": 1, "CL.all": 1, "CL.temporary": 1}),
    ],
)
def test_district_centre_by_hand(cells, row, expected):
    assert _row(cells, "school", H, row) == expected


@pytest.mark.parametrize(
    ("row", "col", "value"),
    [
        (1, "T", 2), (2, "T", 1), (3, "T", 1), (4, "T", 1), (5, "T", 1), (6, "T", 0), (7, "T", 1),
        (8, "T", 1), (18, "T", 4), (19, "T", 3), (20, "T", 1), (21, "T", 1), (22, "T", 1), (28, "T", 1),
        (33, "T", 3), (35, "T.all", 7), (35, "T.female", 4), (35, "T.ethnic", 3), (35, "T.ethnic_female", 2),
        (38, "T.all", 5), (47, "T.all", 2), (51, "T.all", 3), (52, "T.all", 1), (53, "T.all", 3),
        (53, "T.ethnic", 2), (54, "T.all", 3), (55, "T.all", 2), (58, "T.all", 4), (61, "T.ethnic_female", 1),
        (62, "T.all", 7), (62, "CL.vc_indefinite", 4), (63, "T.all", 3), (64, "T.all", 2), (66, "T.all", 3),
        (86, "T.all", 4), (86, "T.temporary", 1),
    ],
)  # fmt: skip
def test_so_is_the_sum(cells, row, col, value):
    assert cells.get(("so", "66", row, col), 0) == value


def test_golden_workbook(cells, tmp_path):
    """The provincial centre's 05-GDTX-ĐN workbook. Regenerate with EDUSTAT_UPDATE_GOLDEN=1 and
    review by eye."""
    form = catalog.form("tt24", FORM)
    values = {(row, col): v for (level, unit, row, col), v in cells.items() if (level, unit) == ("school", P)}
    header = UnitHeader("school", P, "Trung tâm GDTX tỉnh Đắk Lắk", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk")
    path = tmp_path / "school.xlsx"
    write_form_workbook(path, form, header, values, [], 2024)
    dump = dump_workbook(path)
    assert [s["title"] for s in dump["sheets"]] == ["I", "III", "IV", "V", "Errors"]
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(GOLDEN.read_text(encoding="utf-8"))
