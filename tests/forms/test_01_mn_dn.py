"""01-MN-ĐN cells worked out by hand for a public mầm non school and a Dân lập nhà trẻ, their
rollup to Phòng and Sở, and a golden dump of the school's workbook.

School M (66643101, Phòng 643): public trường mầm non (MaNhomCapHoc 01), delta (MaVung 02).
School D (66644101, Phòng 644): Dân lập nhà trẻ (MaNhomCapHoc 03, LoaiHinhDaoTao 03), mountain.
As-of date 30/9/2024. Nursery age in months = 12 × (2024 − birth year) + 9 − birth month;
kindergarten age in years = 2024 − birth year.

Groups/classes of M: NT1 nhóm trẻ 13-24 months (band 02), 2 sessions, semi-boarding;
  MG5 lớp 5-6 tuổi (band 06), 1 session; MG3 lớp 3-4 tuổi (band 04), mixed 2 ages, 2 sessions,
  semi-boarding.
Children of M:
  m1 girl Kinh  2023-05 → 16 months, NT1, checked, normal
  m2 boy  Tày   2023-10 → 11 months, NT1, checked, underweight (01)
  m3 girl Tày   2021-08 → 37 months (> 36), NT1, not checked
  m4 boy  Kinh  2019-02 → 5 years, MG5, checked, stunted (02), lunch support, tuition exempt
  m5 girl Kinh  2018-12 → 6 years, MG5, disabled (inclusive), not checked
  m6 boy  Kinh  2021-01 → 3 years, MG3, lunch support
  m7 girl Kinh  2020-06, MG3, transferred out on 15/9/2024 → NOT counted
Staff of M: principal (woman, VC 07, ĐHSP); vice-principal (woman, Tày, VC 08, CĐSP); nursery
  teacher (DayNhomLop 02, woman, 07, TCSP, born 1995 → 29); kindergarten teacher (DayNhomLop 01,
  woman, labour contract 03, "other" qualification 06, born 1984 → 40); cook (ChucVu 20, woman, 04);
  a primary teacher (CapHoc 02) → NOT in 01-MN-ĐN.
  Managers and support staff of a mầm non school are in the mẫu giáo/mầm non block.
Rooms of M: 2 solid classrooms (KhoiHoc 17), 1 semi-solid classroom (KhoiHoc 16), 1 solid kitchen
  (no block → the school's kind: mẫu giáo/mầm non block).
School D: group N1 (band 03, 1 session); d1 boy Thái 2022-01 → 32 months; d2 girl Kinh 2022-09 →
  24 months; principal (woman, contract 03, CĐSP), a teacher without DayNhomLop (ĐHSP) and an
  accountant (15): all in the nhà trẻ block (the school is a nhà trẻ); 1 semi-solid classroom.
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

M, D = "66643101", "66644101"
FORM = "01-MN-DN"
GOLDEN = Path(__file__).parent.parent / "golden" / "01-MN-DN_school.json"


def group(code: str, grade: int, band: str, sessions: int, boarding: int = 0, mixed: int = 0) -> dict:
    c = klass(code, grade, sessions=sessions)
    c.update(LopBanTru=boarding, MaNhomTuoiMn=band, LopGhepDoTuoi=mixed)
    return c


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("preschool")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": M, "TEN_TRUONG_HOC": "Trường Mầm non Hoa Sen", "CAP_HOC": "45", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": D, "TEN_TRUONG_HOC": "Trường Nhà trẻ dân lập Sơn Ca", "CAP_HOC": 4, "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "644", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 644},
    ])  # fmt: skip
    school_m = payload(
        M,
        school_info(M, TenTruongHoc="Trường Mầm non Hoa Sen", MaNhomCapHoc="01", MaLoaiTruong="13"),
        [
            group("NT1", 16, "02", 4, boarding=1),
            group("MG5", 17, "06", 1),
            group("MG3", 17, "04", 4, 1, mixed=2),
        ],
        [
            pupil("m1", "NT1", 16, 2, "01", "2023-05-10", KiemTraSucKhoeDinhDuong=1, TinhTrangDinhDuong="00"),
            pupil("m2", "NT1", 16, 1, "02", "2023-10-01", KiemTraSucKhoeDinhDuong=1, TinhTrangDinhDuong="01"),
            pupil("m3", "NT1", 16, 2, "02", "2021-08-30", KiemTraSucKhoeDinhDuong=0),
            pupil(
                "m4",
                "MG5",
                17,
                1,
                "01",
                "2019-02-14",
                KiemTraSucKhoeDinhDuong=1,
                TinhTrangDinhDuong="02",
                IsHoTroAnTrua=1,
                HtHoTro=2,
            ),
            pupil("m5", "MG5", 17, 2, "01", "2018-12-01", KhuyetTat=1, MaLoaiKhuyetTat="05"),
            pupil("m6", "MG3", 17, 1, "01", "2021-01-05", IsHoTroAnTrua=1),
            pupil("m7", "MG3", 17, 2, "01", "2020-06-06", status=4, NgayTrangThai="2024-09-15"),
        ],  # fmt: skip
        [
            staff_member("ms1", "01", "01", "07", "16", 2, "1975-04-04"),
            staff_member("ms2", "01", "02", "08", "17", 2, "1980-05-05", ethnicity="02"),
            staff_member("ms3", "03", None, "07", "18", 2, "1995-01-01", DayNhomLop="02"),
            staff_member("ms4", "03", None, "03", "06", 2, "1984-02-02", DayNhomLop="01"),
            staff_member("ms5", "02", "20", "04", "05", 2, "1990-03-03"),
            staff_member("ms6", "03", None, "07", "16", 2, "1992-03-03", CapHoc="02"),
        ],
        rooms=[
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "01", "SoLuong": 2, "KhoiHoc": "17"},
            {"MaLoaiPhong": "01", "LoaiCongTrinh": "02", "SoLuong": 1, "KhoiHoc": 16},
            {"MaLoaiPhong": "16", "LoaiCongTrinh": "01", "SoLuong": 1},
        ],
    )
    school_d = payload(
        D,
        school_info(D, MaNhomCapHoc="03", LoaiHinhDaoTao=3, MaVung="04", MaLoaiTruong="13"),
        [group("N1", 16, "03", 1)],
        [pupil("d1", "N1", 16, 1, "03", "2022-01-20"), pupil("d2", "N1", 16, 2, "01", "2022-09-09")],
        [
            staff_member("ds1", "01", "01", "03", "17", 2, "1970-02-02"),
            staff_member("ds2", "03", None, "04", "16", 2, "1999-03-03"),
            staff_member("ds3", "02", "15", "03", "05", 2, "1988-08-08"),
        ],
        rooms=[{"MaLoaiPhong": "01", "LoaiCongTrinh": "02", "SoLuong": 1}],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{M}.json": school_m, f"{D}.json": school_d})
    return run_through_aggregate(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def cells(settings):
    found, others = form_cells(settings, FORM)
    assert others == []  # preschools are in no other form
    return found


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row)}


def kids(group: str, all_: int, female: int = 0, ethnic: int = 0, ethnic_female: int = 0) -> dict[str, int]:
    """Non-zero cells of a children's (or staff) row for one ownership group, with the T columns."""
    values = {"all": all_, "female": female, "ethnic": ethnic, "ethnic_female": ethnic_female}
    out = {f"{g}.{k}": v for g in ("T", group) for k, v in values.items() if v}
    return out


def test_no_relation_is_broken(settings, cells):
    with warehouse.connect(settings.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "CL": 1}),  # one school: a trường mầm non
        (33, {"T": 1, "CL": 1}),
        (34, {"T": 1, "CL": 1}),  # delta
        (35, {"T": 1, "CL": 1}),  # 3 groups/classes: under 9
        (54, {}),  # no satellite site
        (55, {"T": 3, "CL": 3}),
        (56, {"T": 1, "CL": 1}),
        (57, {"T": 1, "CL": 1}),
        (63, {"T": 1, "CL": 1}),  # NT1: band 02 (13-24 months), 3 children < 20
        (69, {"T": 2, "CL": 2}),
        (70, {"T": 1, "CL": 1}),  # MG5 is a 5-year-old class
        (71, {"T": 1, "CL": 1}),  # MG3 two sessions
        (73, {"T": 1, "CL": 1}),  # MG5 has one disabled child
        (75, {"T": 1, "CL": 1}),  # MG3: band 04, 1 child enrolled (m7 left) < 25
        (79, {"T": 1, "CL": 1}),
        (81, {"T": 1, "CL": 1}),  # MG3 mixes 2 ages
        (83, kids("CL", 6, 3, 2, 1)),  # m1-m6
        (84, kids("CL", 3, 2, 2, 1)),  # m1 m2 m3
        (85, kids("CL", 3, 2, 2, 1)),
        (88, kids("CL", 3, 2, 2, 1)),  # NT1 is semi-boarding
        (90, kids("CL", 3, 1)),  # m4 m5 m6
        (95, kids("CL", 1, 1)),  # m5
        (97, kids("CL", 1, 0, 1)),  # m2: 11 months
        (98, kids("CL", 1, 1)),  # m1: 16 months
        (99, {}),
        (100, kids("CL", 1, 1, 1, 1)),  # m3: 37 months
        (103, kids("CL", 1)),  # m6
        (104, {}),  # m7 left before 30/9
        (105, kids("CL", 1)),  # m4
        (106, kids("CL", 1, 1)),  # m5
        (107, kids("CL", 2, 1, 1)),  # m1 m2 checked
        (108, kids("CL", 1, 0, 1)),  # m2 underweight
        (112, kids("CL", 1)),  # m4
        (114, kids("CL", 1)),  # m4 stunted
        (117, kids("CL", 1)),  # m4 tuition exempt
        (121, kids("CL", 1)),  # m4: 5 years, lunch support
        (122, kids("CL", 1)),  # m6: 3 years, lunch support
        (123, {**kids("CL", 2, 2, 1, 1), "CL.vc_indefinite": 1, "CL.vc_fixed_term": 1}),
        (124, {}),
        (140, {**kids("CL", 1, 1), "CL.vc_indefinite": 1}),
        (143, {**kids("CL", 1, 1), "CL.vc_indefinite": 1}),  # ĐHSP
        (148, {**kids("CL", 1, 1, 1, 1), "CL.vc_fixed_term": 1}),  # VP, delta
        (151, {**kids("CL", 1, 1, 1, 1), "CL.vc_fixed_term": 1}),  # VP, CĐSP
        (165, {**kids("CL", 1, 1), "CL.labour_contract": 1}),  # cook
        (167, {**kids("CL", 2, 2), "CL.vc_indefinite": 1, "CL.labour_contract": 1}),  # not ms6
        (169, {**kids("CL", 1, 1), "CL.vc_indefinite": 1}),  # nursery teacher, TCSP
        (175, {**kids("CL", 1, 1), "CL.vc_indefinite": 1}),  # aged 29
        (187, {**kids("CL", 1, 1), "CL.labour_contract": 1}),  # "Chưa qua đào tạo": other qualification
        (190, {**kids("CL", 1, 1), "CL.labour_contract": 1}),  # aged 40
        (194, {"T.all": 1, "T.semi_solid": 1, "CL.all": 1, "CL.semi_solid": 1}),
        (203, {"T.all": 2, "T.solid": 2, "CL.all": 2, "CL.solid": 2}),
        (211, {"T.all": 1, "T.solid": 1, "CL.all": 1, "CL.solid": 1}),  # kitchen: mẫu giáo block
    ],
)
def test_public_preschool_by_hand(cells, row, expected):
    assert _row(cells, "school", M, row) == expected
    assert _row(cells, "phong", "643", row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (1, {"T": 1, "DL": 1}),
        (2, {"T": 1, "DL": 1}),  # nhà trẻ
        (6, {"T": 1, "DL": 1}),  # mountain
        (7, {"T": 1, "DL": 1}),  # one group: under 6
        (33, {}),
        (84, kids("DL", 2, 1, 1)),
        (86, kids("DL", 2, 1, 1)),
        (98, kids("DL", 1, 1)),  # d2: 24 months
        (99, kids("DL", 1, 0, 1)),  # d1: 32 months
        (124, kids("DL", 1, 1)),  # principal of a nhà trẻ: nursery block
        (127, kids("DL", 1, 1)),  # CĐSP
        (168, kids("DL", 1, 1)),  # teacher without DayNhomLop in a nhà trẻ
        (158, kids("DL", 1, 1)),  # accountant
        (194, {"T.all": 1, "T.semi_solid": 1, "DL.all": 1, "DL.semi_solid": 1}),
    ],
)
def test_dan_lap_nursery_by_hand(cells, row, expected):
    assert _row(cells, "school", D, row) == expected
    assert _row(cells, "phong", "644", row) == expected


@pytest.mark.parametrize(
    ("row", "col", "value"),
    [
        (1, "T", 2), (1, "CL", 1), (1, "DL", 1), (2, "T", 1), (33, "T", 1), (55, "T", 4), (56, "T", 2),
        (69, "T", 2), (83, "T.all", 8), (83, "DL.all", 2), (84, "T.all", 5), (84, "T.ethnic", 3),
        (90, "T.all", 3), (98, "T.all", 2), (98, "T.female", 2), (99, "T.all", 1), (123, "T.all", 3),
        (124, "DL.all", 1), (139, "CL.all", 2), (156, "T.all", 2), (167, "T.all", 3),
        (194, "T.all", 2), (194, "T.semi_solid", 2), (194, "DL.semi_solid", 1),
    ],
)  # fmt: skip
def test_so_is_the_sum(cells, row, col, value):
    assert cells.get(("so", "66", row, col), 0) == value


def test_golden_workbook(cells, tmp_path):
    """The school's 01-MN-ĐN workbook. Regenerate with EDUSTAT_UPDATE_GOLDEN=1 and review by eye."""
    form = catalog.form("tt24", FORM)
    values = {(row, col): v for (level, unit, row, col), v in cells.items() if (level, unit) == ("school", M)}
    header = UnitHeader("school", M, "Trường Mầm non Hoa Sen", "Phòng GDĐT Thành phố Buôn Ma Thuột")
    path = tmp_path / "school.xlsx"
    write_form_workbook(path, form, header, values, [], 2024)
    dump = dump_workbook(path)
    assert [s["title"] for s in dump["sheets"]] == ["Trường-Lớp", "Học sinh", "Cán bộ", "Phòng học", "Errors"]
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_row_100_counted_but_printed_blank_as_the_export(cells, tmp_path):
    """m3 (37 months) is in row 100 of the cells, but the real export leaves row 100 blank: the
    workbook prints its cells empty, never 0 or 1. Row 96 (m1, m2, m3: 3) = r97 + … + r100 prints 3
    as a number, not as a formula: its printed parts add up to 2."""
    from openpyxl import load_workbook

    assert cells[("school", M, 100, "CL.all")] == 1 and cells[("school", M, 96, "CL.all")] == 3
    values = {(row, col): v for (level, unit, row, col), v in cells.items() if (level, unit) == ("school", M)}
    header = UnitHeader("school", M, "Trường Mầm non Hoa Sen", "Phòng GDĐT Thành phố Buôn Ma Thuột")
    path = tmp_path / "school.xlsx"
    write_form_workbook(path, catalog.form("tt24", FORM), header, values, [], 2024)
    ws = load_workbook(path)["Học sinh"]
    row = {ws.cell(r, 4).value: r for r in range(1, ws.max_row + 1)}
    assert all(ws.cell(row[100], c).value is None for c in range(5, 21))
    cl_all = 9  # I: Công lập - Tổng số
    assert ws.cell(row[96], cl_all).value == 3
    assert [ws.cell(row[r], cl_all).value for r in (97, 98, 99)] == [1, 1, 0]


def test_preschool_indicators_sum_their_rows(settings, cells):
    """1104 (nursery managers, teachers and staff) = r124 + r157 + r168; 1201 = r15 + r33."""
    from pipelines import warehouse

    def so(row, col):
        return sum(v for (lv, _, r, c), v in cells.items() if lv == "so" and r == row and c == col)

    with warehouse.connect(settings.warehouse) as con:
        got = dict(
            con.execute(
                "SELECT indicator_id, numerator FROM indicators WHERE level = 'so' AND indicator_id IN ('1104', '1201')"
            ).fetchall()
        )
    assert got["1104"] == so(124, "T.all") + so(157, "T.all") + so(168, "T.all") > 0
    assert got["1201"] == so(15, "T") + so(33, "T") > 0
