"""End of year (CN) for preschools and GDTX centres: 01-MN-CN and 05-GDTX-CN cells worked out by
hand for one preschool and one continuing-education centre, at school, Phòng and Sở level, and a
generated end-of-year province run through the pipeline without a broken relation.

Preschool M (66643001, Phòng 643, trường mầm non MaNhomCapHoc 01, public, delta) and centre G
(66000001, provincial TT GDTX, MaNhomCapHoc 12, public, Sở-run: no Phòng), Sở 66. School year
2024-2025, LoaiDongBo 2: start 30/9/2024, as-of date 31/5/2025. Age = 2024 - birth year.
Ethnic minority = not Kinh (01). The nutrition fields are those of the end-of-year payload.

Preschool M (groups NT1 nhà trẻ KhoiHoc 16, MG5 mẫu giáo KhoiHoc 17):
  m1 girl Kinh, 16, checked, now underweight (01; normal at the start) → start, end, checked, underweight
  m2 boy Tày, 16, transferred out 10/1/2025 (04)                       → start, transfer out
  m3 girl Tày, 16, transferred in 3/3/2025 (06), checked, normal        → transfer in, end, checked
  m4 boy Kinh, 17, born 2019 (5), checked, normal                        → start, end, completed, checked
  m5 girl Tày, 17, born 2019 (5), left 20/2/2025 (09), reason 01         → start, dropout
  m6 girl Kinh, 17, born 2020 (4), not checked                           → start, end
  m7 boy Kinh, 17, born 2019, transferred out 15/9/2024 (before 30/9)    → nowhere
  m8 girl Kinh, 17, born 2019 (5), leaves 15/6/2025 (12, after 31/5),
     checked, overweight (04)                                            → start, end, completed, checked
Centre G (classes G10 lớp 10 GDTX KhoiHoc 13, G9 lớp 9 GDTX KhoiHoc 23, GX xóa mù chữ KhoiHoc 18):
  g1 boy Kinh, 13; result Khá (2), conduct Tốt (1), lên lớp              → start, end, assessed, promoted
  g2 girl Tày, 13, dropped out 12/12/2024 (05), reason 08                → start, dropout
  g3 girl Kinh, 13; result "HTT" without conduct (primary scale)         → start, end; result quarantined
  g4 boy Tày, 13, transferred in 5/11/2024 (02); Chưa đạt (4), conduct
     Khá (2), summer re-assessment (LenLop 3)                            → transfer in, end, assessed
  g5 girl Kinh, 23; Đạt (3), conduct Tốt (1), lên lớp, TotNghiep         → start, end, THCS graduate
  g6 man Kinh, 18, transferred out 1/4/2025 (08)                         → start, transfer out
"""

from __future__ import annotations

import json

import pytest

from pipelines import catalog, warehouse
from pipelines import run as pipeline
from pipelines.synthetic import end_of_year as generate_eoy
from pipelines.synthetic import province as generate
from pipelines.synthetic.learners import read_code
from tests.conftest import klass, pupil, school_info, write_inbox, write_registry
from tests.forms.test_end_of_year import eoy_payload, result, run_end_of_year

M, G = "66643001", "66000001"
MN, GDTX = "01-MN-CN", "05-GDTX-CN"
COLS = ("all", "female", "ethnic", "ethnic_female")


def checked(status: str) -> dict:
    return {"KiemTraSucKhoeDinhDuong": 1, "TinhTrangDinhDuong": status}


@pytest.fixture(scope="module")
def hand_settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("eoy_mn_gdtx")
    registry = write_registry(tmp_path / "registry.xlsx", [
        {"MA_TRUONG": M, "TEN_TRUONG_HOC": "Trường Mầm non Hoa Sen", "CAP_HOC": "45", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": 643},
        {"MA_TRUONG": G, "TEN_TRUONG_HOC": "Trung tâm GDTX tỉnh", "CAP_HOC": "6", "TRANG_THAI": 1,
         "MA_QUAN_HUYEN": "643", "MA_TINH_THANH": "66", "ID_SO": 66},
    ])  # fmt: skip
    nt1, mg5 = klass("NT1", 16), klass("MG5", 17)
    nt1["MaNhomTuoiMn"], mg5["MaNhomTuoiMn"] = "02", "06"
    preschool = eoy_payload(
        M,
        school_info(M, TenTruongHoc="Trường Mầm non Hoa Sen", MaNhomCapHoc="01", MaLoaiTruong="13"),
        [nt1, mg5],
        [
            pupil("m1", "NT1", 16, 2, "01", "2023-05-10", **checked("01")),
            pupil(
                "m2", "NT1", 16, 1, "02", "2022-10-01", status=4, NgayTrangThai="2025-01-10", **checked("02")
            ),
            pupil(
                "m3",
                "NT1",
                16,
                2,
                "02",
                "2023-02-02",
                status=6,
                NgayTrangThai="2025-03-03",
                LoaiNhapHoc=1,
                **checked("00"),
            ),
            pupil("m4", "MG5", 17, 1, "01", "2019-03-03", **checked("00")),
            pupil(
                "m5",
                "MG5",
                17,
                2,
                "02",
                "2019-11-11",
                status=9,
                NgayTrangThai="2025-02-20",
                MaLyDoThoiHoc="01",
            ),
            pupil("m6", "MG5", 17, 2, "01", "2020-07-07", KiemTraSucKhoeDinhDuong=0),
            pupil("m7", "MG5", 17, 1, "01", "2019-06-06", status=4, NgayTrangThai="2024-09-15"),
            pupil(
                "m8",
                "MG5",
                17,
                2,
                "01",
                "2019-04-04",
                status=12,
                NgayTrangThai="2025-06-15",
                MaLyDoThoiHoc="06",
                **checked("04"),
            ),
        ],
        [],
    )
    g10, g9, gx = klass("G10", 13), klass("G9", 23), klass("GX", 18)
    centre = eoy_payload(
        G,
        school_info(G, TenTruongHoc="Trung tâm GDTX tỉnh", MaNhomCapHoc="12", MaLoaiTruong="15"),
        [g10, g9, gx],
        [
            pupil("g1", "G10", 13, 1, "01", "2009-01-01"),
            pupil(
                "g2",
                "G10",
                13,
                2,
                "02",
                "2008-02-02",
                status=5,
                NgayTrangThai="2024-12-12",
                MaLyDoThoiHoc="08",
            ),
            pupil("g3", "G10", 13, 2, "01", "2008-03-03"),
            pupil(
                "g4", "G10", 13, 1, "02", "2007-04-04", status=2, NgayTrangThai="2024-11-05", LoaiNhapHoc=1
            ),
            pupil("g5", "G9", 23, 2, "01", "2008-05-05"),
            pupil("g6", "GX", 18, 1, "01", "1980-06-06", status=8, NgayTrangThai="2025-04-01"),
        ],
        [
            result("g1", 2, 1, RenLuyen=1),
            result("g3", "HTT", 1),
            result("g4", "4", 3, RenLuyen="2"),
            result("g5", 3, 1, RenLuyen=1, TotNghiep=1),
        ],
    )
    inbox = write_inbox(tmp_path / "inbox", {f"{M}_2024_2.json": preschool, f"{G}_2024_2.json": centre})
    return run_end_of_year(tmp_path, registry, inbox)


@pytest.fixture(scope="module")
def hand_cells(hand_settings):
    with warehouse.connect(hand_settings.warehouse) as con:
        rows = con.execute(
            "SELECT form, level, unit_code, row_code, col_key, value FROM cells WHERE form IN (?, ?)",
            [MN, GDTX],
        ).fetchall()
    return {(form, level, unit, row, col): value for form, level, unit, row, col, value in rows}


def _row(cells, form, level, unit, row):
    return {
        col: v
        for (f, lv, u, r, col), v in cells.items()
        if (f, lv, u, r) == (form, level, unit, row) and v != 0
    }


def people(group: str, values: tuple[int, int, int, int]) -> dict[str, int]:
    """Non-zero cells of a row with everyone in one ownership column group (all, female, ethnic, ethnic female)."""
    out = {f"{g}.{c}": v for g in ("T", group) for c, v in zip(COLS, values, strict=True)}
    return {k: v for k, v in out.items() if v}


def kids(*values: int) -> dict[str, int]:
    return people("CL", values)


learners = kids  # the centre is public too

# Row codes of 01-MN-CN (schemas/forms/tt24/01-MN-CN.yaml).
EXPECTED_M = {
    1: kids(6, 4, 2, 1),  # start: m1 m2 m4 m5 m6 m8
    2: kids(1, 1, 1, 1),  # in: m3
    4: kids(1, 0, 1, 0),  # out: m2
    5: kids(1, 1, 1, 1),  # left: m5 (m8 leaves after 31/5)
    6: kids(5, 4, 1, 1),  # end: m1 m3 m4 m6 m8
    7: kids(2, 1, 1, 0),  # nursery start: m1 m2
    8: kids(1, 1, 1, 1),
    10: kids(1, 0, 1, 0),
    12: kids(2, 2, 1, 1),  # nursery end: m1 m3
    13: kids(4, 3, 1, 1),  # kindergarten start: m4 m5 m6 m8
    17: kids(1, 1, 1, 1),
    18: kids(3, 2, 0, 0),  # kindergarten end: m4 m6 m8
    19: kids(2, 1, 0, 0),  # 5-year-olds completing: m4 m8
    20: kids(3, 2, 1, 1),  # 5-year-olds at the start: m4 m5 m8 (m7 left before 30/9)
    21: kids(2, 2, 1, 1),  # nursery checked at the end: m1 m3 (m2 has left)
    22: kids(1, 1, 0, 0),  # underweight: m1
    26: kids(2, 1, 0, 0),  # kindergarten checked: m4 m8 (m6 not checked)
    30: kids(1, 1, 0, 0),  # overweight: m8
}
# Row codes of 05-GDTX-CN (schemas/forms/tt24/05-GDTX-CN.yaml).
EXPECTED_G = {
    1: learners(5, 3, 1, 1),  # start: g1 g2 g3 g5 g6
    2: learners(1, 0, 1, 0),  # in: g4
    4: learners(1, 0, 0, 0),  # out: g6
    5: learners(1, 1, 1, 1),  # dropout: g2
    6: learners(4, 2, 1, 0),  # end: g1 g3 g4 g5
    7: learners(3, 2, 1, 1),  # THPT programme start: g1 g2 g3
    8: learners(1, 0, 1, 0),
    11: learners(1, 1, 1, 1),
    12: learners(3, 1, 1, 0),  # THPT programme end: g1 g3 g4
    13: learners(1, 1, 0, 0),  # THCS programme start: g5
    18: learners(1, 1, 0, 0),
    19: learners(1, 0, 0, 0),  # literacy start: g6
    22: learners(1, 0, 0, 0),
    25: learners(3, 2, 1, 1),  # lớp 10 start
    28: learners(3, 1, 1, 0),  # lớp 10 end
    38: learners(1, 1, 1, 1),  # dropout reason 08: g2
    41: learners(2, 0, 1, 0),  # assessed: g1 g4
    42: learners(1, 1, 0, 0),  # not assessed: g3 (result quarantined)
    44: learners(1, 0, 0, 0),  # Khá: g1
    46: learners(1, 0, 1, 0),  # Chưa đạt: g4
    47: learners(2, 0, 1, 0),
    49: learners(1, 0, 0, 0),
    51: learners(1, 0, 1, 0),
    62: learners(1, 0, 0, 0),  # conduct Tốt: g1
    63: learners(1, 0, 1, 0),  # conduct Khá: g4
    66: learners(1, 0, 0, 0),  # promoted: g1
    68: learners(1, 0, 1, 0),  # summer: g4
    69: learners(1, 1, 0, 0),  # THCS graduate: g5
}
MN_ROWS = [r.code for r in catalog.form("tt24", MN).cell_rows]
GDTX_ROWS = [r.code for r in catalog.form("tt24", GDTX).cell_rows]


@pytest.mark.slow
@pytest.mark.parametrize("row", MN_ROWS)
def test_preschool_end_of_year_by_hand(hand_cells, row):
    expected = EXPECTED_M.get(row, {})
    assert _row(hand_cells, MN, "school", M, row) == expected
    assert _row(hand_cells, MN, "phong", "643", row) == expected
    assert _row(hand_cells, MN, "so", "66", row) == expected


@pytest.mark.slow
@pytest.mark.parametrize("row", GDTX_ROWS)
def test_gdtx_end_of_year_by_hand(hand_cells, row):
    expected = EXPECTED_G.get(row, {})
    assert _row(hand_cells, GDTX, "school", G, row) == expected
    assert _row(hand_cells, GDTX, "so", "66", row) == expected


@pytest.mark.slow
def test_hand_case_breaks_no_relation_and_quarantines_the_primary_scale_result(hand_settings, hand_cells):
    with warehouse.connect(hand_settings.warehouse) as con:
        violations = con.execute(
            "SELECT count(*) FROM relation_violations WHERE run_id = 'test-run'"
        ).fetchall()
        problems = con.execute(
            "SELECT rule_id, school_code, record_index FROM validation_results ORDER BY 1"
        ).fetchall()
    assert violations == [(0,)]
    assert problems == [("result.gdtx_conduct_missing", G, 1), ("result.gdtx_scheme_mismatch", G, 1)]
    # The centre has no Phòng: 05-GDTX-CN has school and Sở cells only.
    assert not any(f == GDTX and lv == "phong" for f, lv, *_ in hand_cells)


def test_tt25_versions_extend_the_tt24_grids():
    for code in (MN, GDTX):
        tt24, tt25 = catalog.form("tt24", code), catalog.form("tt25", code)
        assert tt25.period == "CN" and tt25.status == "provisional" and tt24.status == "inferred"
        assert [r.code for r in tt25.cell_rows] == [r.code for r in tt24.cell_rows]


# --- generated end-of-year province ----------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("generated_eoy_mn_gdtx")
    # 25 institutions: preschools and one GDTX centre (none below 20 institutions).
    generate.generate_province("66", "2024-2025", "DN", 25, 7, tmp_path / "DN", 0.0)
    summary = generate_eoy.generate_end_of_year(tmp_path / "DN", tmp_path / "CN", seed=3)
    s = run_end_of_year(tmp_path, tmp_path / "CN" / "registry.xlsx", tmp_path / "CN" / "inbox")
    return tmp_path, summary, s


def _so(con, form):
    return dict(
        con.execute(
            "SELECT row_code, value FROM cells WHERE form = ? AND level = 'so' AND col_key = 'T.all'", [form]
        ).fetchall()
    )


@pytest.mark.slow
def test_generated_province_runs_clean_across_all_end_of_year_forms(generated):
    _, _, s = generated
    with warehouse.connect(s.warehouse) as con:
        assert con.execute("SELECT count(*) FROM relation_violations").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]
        forms = {r[0] for r in con.execute("SELECT DISTINCT form FROM cells").fetchall()}
        mn, gdtx = _so(con, MN), _so(con, GDTX)
    assert {MN, GDTX} <= forms
    assert {f.form for f in catalog.forms_for("tt24", "CN")} >= forms
    # Preschool: children move and leave, 5-year-olds complete, the end-of-year check is there.
    assert mn[2] and mn[4] and mn[5] and 0 < mn[19] <= mn[18]
    assert 0 < mn[21] <= mn[12] and 0 < mn[26] <= mn[18]
    # GDTX: dropouts above the moves, results of the THPT programme on the TT 22 scale.
    assert gdtx[5] > gdtx[4] and gdtx[41] > 0 and gdtx[41] + gdtx.get(42, 0) == gdtx[12]


@pytest.mark.slow
def test_generated_payloads_recheck_nutrition_and_assess_gdtx_learners(generated, tmp_path):
    folder, summary, _ = generated
    changed = kinds = 0
    for path in sorted((folder / "CN" / "inbox").glob("*.json")):
        cn = json.loads(path.read_text(encoding="utf-8"))
        dn = json.loads(
            (folder / "DN" / "inbox" / path.name.replace("_2.json", "_1.json")).read_text(encoding="utf-8")
        )
        before = {p["ClientId"]: p.get("TinhTrangDinhDuong") for p in dn["LstHocSinh"]}
        codes = {p["ClientId"]: read_code(p["KhoiHoc"]) for p in cn["LstHocSinh"]}
        changed += sum(
            1
            for p in cn["LstHocSinh"]
            if codes[p["ClientId"]] in ("16", "17")
            and p["ClientId"] in before
            and p.get("TinhTrangDinhDuong") != before[p["ClientId"]]
        )
        graded = {codes[r["ClientId"]] for r in cn["LstKetQuaHocTap"]}
        assert not graded & {"16", "17", "18", "19"}  # no result for preschool or literacy learners
        kinds += bool(graded & {"13", "14", "15"})
    assert changed > 0 and kinds == 1
    again = generate_eoy.generate_end_of_year(folder / "DN", tmp_path / "CN", seed=3)
    assert again == generate_eoy.EndOfYearSummary(**{**summary.__dict__, "out": again.out,
                                                     "registry": again.registry, "inbox": again.inbox})  # fmt: skip
    for path in sorted((folder / "CN" / "inbox").glob("*.json")):
        assert path.read_bytes() == (tmp_path / "CN" / "inbox" / path.name).read_bytes()


@pytest.mark.slow
def test_export_writes_both_end_of_year_workbooks(hand_settings):
    import openpyxl

    pipeline.export_step(hand_settings)
    for form, sheet in ((MN, "I"), (GDTX, "I")):
        wb = openpyxl.load_workbook(
            hand_settings.out / "forms" / "so" / "66" / f"{form}.xlsx", read_only=True
        )
        texts = [
            v for row in wb[sheet].iter_rows(max_row=5, values_only=True) for v in row if isinstance(v, str)
        ]
        assert "Kỳ cuối năm học" in texts
        assert "(có đến 31 tháng 5 năm 2025)" in texts
