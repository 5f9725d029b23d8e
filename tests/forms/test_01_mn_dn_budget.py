"""The budget tab of 01-MN-ĐN (form 01-MN-DN-NS, input NganSach): cells worked out by hand in whole
đồng, their rollup to Phòng and Sở, relation violations, validation errors, the workbook in triệu
đồng, and the generator's budget block.

Amounts are typed in triệu đồng; a cell holds round(amount × 1,000,000) đồng.
Columns: settled = QuyetToanNamTruoc (settled_prev_fy), estimate = DuToan (estimate_fy),
outturn = UocThucHien (expected_outturn_fy).

School A (66643101, Phòng 643), public mầm non:
  line        settled     estimate     outturn
  15         1013          1115         1090.001
  16         1000.5        1100         1090.001
  17          900.25       1000          990.001
  18           80.25        100          100
  19           20             -            -
  20          750.125       800          800.001
  21          200.375       250          290
  22           30            50            -
  23           20             -            -
  64           12.5          15            -
  65           12.5          15            -
  69           12.5          15            -
  Every relation holds: 16 = 17+18+19 = 20+…+23; 64 = 65 = 69; 15 = 16 + 64.
School B (66643102, Phòng 643), public mẫu giáo: 15 = 16 = 17 = 20 with settled 500 and estimate
  600.000001 (one đồng over 600 triệu), 21 settled 0 (typed as 0).
School C (66644101, Phòng 644), public mầm non, parts that do not sum: 15 = 16 = 20 settled 300;
  17 settled 200, 18 settled 50 (250 ≠ 300); a second line 17 (duplicate, quarantined), a line 21
  with a negative estimate (quarantined), a line "24" (not a line of the tab) and a line "NS.18"
  (the reference's prefix is not part of the code), both quarantined.
School D (66644102, Phòng 644), Dân lập mầm non: no budget block → no budget cells, no workbook.

Phòng 643: r16 settled = 1000.5 + 500 = 1500.5 triệu = 1,500,500,000 đồng;
  r16 estimate = 1100 + 600.000001 = 1,700,000,001 đồng; r17 estimate = 1,600,000,001 đồng.
Sở 66: r16 settled = 1000.5 + 500 + 300 = 1,800,500,000 đồng; r17 + r18 + r19 settled =
  1000.5 + 500 + 250 = 1,750,500,000 đồng → r16 = r17 + r18 + r19 broken at C, Phòng 644 and the Sở.
"""

from __future__ import annotations

import csv
import json
import os
import random
from pathlib import Path

import openpyxl
import pytest

from pipelines import catalog, warehouse
from pipelines import run as pipeline
from pipelines.outputs.workbook import UnitHeader, dump_workbook, write_form_workbook
from pipelines.synthetic import province as generate
from pipelines.synthetic.budget import split
from tests.conftest import (
    form_cells,
    payload,
    run_through_aggregate,
    school_info,
    write_inbox,
    write_registry,
)

A, B, C, D = "66643101", "66643102", "66644101", "66644102"
FORM = "01-MN-DN-NS"
MILLION = 1_000_000
GOLDEN = Path(__file__).parent.parent / "golden" / "01-MN-DN-NS_phong.json"


def line(code, settled=None, estimate=None, outturn=None) -> dict:
    entry = {"MaChiTieu": code}
    for name, value in (("QuyetToanNamTruoc", settled), ("DuToan", estimate), ("UocThucHien", outturn)):
        if value is not None:
            entry[name] = value
    return entry


BUDGET_A = [
    line("15", 1013, 1115, 1090.001),
    line(16, 1000.5, 1100, 1090.001),
    line("17", 900.25, 1000, 990.001),
    line("18", 80.25, 100, 100),
    line("19", 20),
    line("20", 750.125, 800, 800.001),
    line("21", 200.375, 250, 290),
    line("22", 30, 50),
    line("23", "20"),  # a number sent as text is read the same
    line("64", 12.5, 15),
    line("65", 12.5, 15),
    line("69", 12.5, 15),
]
BUDGET_B = [
    line("15", 500, 600.000001),
    line("16", 500, 600.000001),
    line("17", 500, 600.000001),
    line("20", 500, 600.000001),
    line("21", 0),
]
BUDGET_C = [
    line("15", 300),
    line("16", 300),
    line("17", 200),
    line("18", 50),
    line("20", 300),
    line("17", 999),  # record 5: duplicate of line 17
    line("21", 1, -5),  # record 6: negative estimate
    line("24", 7),  # record 7: no such line on the tab
    line("NS.18", 7),  # record 8: the reference's NS. prefix is not part of the code
    line("22"),  # record 9: no amount at all (warning; counts as 0)
]


def preschool(code: str, name: str, budget: list | None, **info) -> dict:
    info = {"TenTruongHoc": name, "MaNhomCapHoc": "01", "MaLoaiTruong": "13", **info}
    data = payload(code, school_info(code, **info), [], [])
    if budget is not None:
        data["NganSach"] = budget
    return data


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("budget")
    rows = []
    for code, name, phong in ((A, "Trường Mầm non Hoa Sen", 643), (B, "Trường Mẫu giáo Họa Mi", 643),
                              (C, "Trường Mầm non Vàng Anh", 644), (D, "Trường Mầm non dân lập Sơn Ca", 644)):  # fmt: skip
        rows.append({"MA_TRUONG": code, "TEN_TRUONG_HOC": name, "CAP_HOC": "45", "TRANG_THAI": 1,
                     "MA_QUAN_HUYEN": str(phong), "MA_TINH_THANH": "66", "ID_SO": 66, "ID_PHONG": phong})  # fmt: skip
    registry = write_registry(tmp_path / "registry.xlsx", rows)
    inbox = write_inbox(tmp_path / "inbox", {
        f"{A}.json": preschool(A, "Trường Mầm non Hoa Sen", BUDGET_A),
        f"{B}.json": preschool(B, "Trường Mẫu giáo Họa Mi", BUDGET_B, MaNhomCapHoc="02"),
        f"{C}.json": preschool(C, "Trường Mầm non Vàng Anh", BUDGET_C),
        f"{D}.json": preschool(D, "Trường Mầm non dân lập Sơn Ca", None, LoaiHinhDaoTao=3),
    })  # fmt: skip
    s = run_through_aggregate(tmp_path, registry, inbox)
    pipeline.export_step(s)
    return s


@pytest.fixture(scope="module")
def cells(settings):
    return form_cells(settings, FORM)[0]


def _row(cells, level, unit, row):
    return {col: v for (lv, u, r, col), v in cells.items() if (lv, u, r) == (level, unit, row)}


def dong(settled=None, estimate=None, outturn=None) -> dict[str, int]:
    """Non-zero cells of one row, in đồng, from exact triệu amounts given as strings or ints."""
    from decimal import Decimal

    out = {}
    for key, value in (
        ("settled_prev_fy", settled),
        ("estimate_fy", estimate),
        ("expected_outturn_fy", outturn),
    ):
        if value:
            out[key] = int(Decimal(str(value)) * MILLION)
    return out


def test_the_form_is_a_preschool_start_of_year_form_of_both_regimes():
    form = catalog.form("tt24", FORM)
    assert [r.code for r in form.cell_rows] == [*range(15, 24), *range(56, 72)]
    assert [c.key for c in form.column_sets["budget"].columns] == [
        "settled_prev_fy",
        "estimate_fy",
        "expected_outturn_fy",
    ]
    assert (form.display_scale, form.display_decimals) == (MILLION, 3)
    assert {r.unit for r in form.cell_rows} == {"triệu đồng"}
    assert FORM in {f.form for f in catalog.forms_for("tt24", "DN")}
    tt25 = catalog.form("tt25", "01.DN-MN-NS")
    assert tt25.base_form == FORM and tt25.period == "DN" and tt25.display_scale == MILLION
    assert tt25 in catalog.forms_for("tt25", "DN")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (15, dong(1013, 1115, "1090.001")),
        (16, dong("1000.5", 1100, "1090.001")),
        (17, dong("900.25", 1000, "990.001")),
        (18, dong("80.25", 100, 100)),
        (19, dong(20)),
        (
            20,
            {"settled_prev_fy": 750_125_000, "estimate_fy": 800_000_000, "expected_outturn_fy": 800_001_000},
        ),
        (21, dong("200.375", 250, 290)),
        (22, dong(30, 50)),
        (23, dong(20)),
        (56, {}),
        (64, dong("12.5", 15)),
        (65, dong("12.5", 15)),
        (66, {}),
        (69, {"settled_prev_fy": 12_500_000, "estimate_fy": 15_000_000}),
    ],
)
@pytest.mark.slow
def test_school_cells_are_exact_dong(cells, row, expected):
    assert _row(cells, "school", A, row) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            15,
            {
                "settled_prev_fy": 1_513_000_000,
                "estimate_fy": 1_715_000_001,
                "expected_outturn_fy": 1_090_001_000,
            },
        ),
        (
            16,
            {
                "settled_prev_fy": 1_500_500_000,
                "estimate_fy": 1_700_000_001,
                "expected_outturn_fy": 1_090_001_000,
            },
        ),
        (
            17,
            {
                "settled_prev_fy": 1_400_250_000,
                "estimate_fy": 1_600_000_001,
                "expected_outturn_fy": 990_001_000,
            },
        ),
        (
            20,
            {
                "settled_prev_fy": 1_250_125_000,
                "estimate_fy": 1_400_000_001,
                "expected_outturn_fy": 800_001_000,
            },
        ),
        (
            21,
            {"settled_prev_fy": 200_375_000, "estimate_fy": 250_000_000, "expected_outturn_fy": 290_000_000},
        ),
        (64, {"settled_prev_fy": 12_500_000, "estimate_fy": 15_000_000}),
    ],
)
@pytest.mark.slow
def test_phong_sums_two_schools(cells, row, expected):
    assert _row(cells, "phong", "643", row) == expected


@pytest.mark.slow
def test_so_sums_every_school_and_the_school_without_a_block_has_no_cells(cells):
    assert cells[("so", "66", 16, "settled_prev_fy")] == 1_800_500_000
    assert (
        cells[("so", "66", 17, "settled_prev_fy")] == 1_600_250_000
    )  # 900.25 + 500 + 200: not C's duplicate
    assert _row(cells, "school", C, 21) == {}  # the only line 21 of C was quarantined
    assert not [k for k in cells if k[1] == D]
    assert {u for (lv, u, _, _) in cells if lv == "school"} == {A, B, C}


@pytest.mark.slow
def test_relation_violations_when_parts_do_not_sum(settings):
    with warehouse.connect(settings.warehouse) as con:
        broken = con.execute(
            "SELECT level, unit_code, relation_id, col_key, lhs, rhs FROM relation_violations WHERE form = ? "
            "ORDER BY level, unit_code",
            [FORM],
        ).fetchall()
    assert broken == [
        ("phong", "644", f"{FORM}.r16.1", "settled_prev_fy", 300_000_000, 250_000_000),
        ("school", C, f"{FORM}.r16.1", "settled_prev_fy", 300_000_000, 250_000_000),
        ("so", "66", f"{FORM}.r16.1", "settled_prev_fy", 1_800_500_000, 1_750_500_000),
    ]


@pytest.mark.slow
def test_validation_errors_name_the_record(settings):
    with warehouse.connect(settings.warehouse) as con:
        found = con.execute(
            "SELECT record_index, field, value, rule_id, severity FROM validation_results "
            "WHERE entity = 'budget' ORDER BY record_index, rule_id"
        ).fetchall()
        quarantined = con.execute(
            "SELECT record_index FROM quarantine WHERE entity = 'budget' ORDER BY record_index"
        ).fetchall()
    assert found == [
        (5, "MaChiTieu", "17", "budget.duplicate_entry", "error"),
        (6, "DuToan", "-5", "budget.DuToan.range", "error"),
        (7, "MaChiTieu", "24", "budget.MaChiTieu.codelist", "error"),
        (8, "MaChiTieu", "NS.18", "budget.MaChiTieu.codelist", "error"),
        (9, "MaChiTieu", "22", "budget.no_amount", "warning"),
    ]
    assert quarantined == [(5,), (6,), (7,), (8,)]


@pytest.mark.slow
def test_workbooks_print_trieu_dong_for_school_phong_and_so(settings):
    forms = settings.out / "forms"
    for level, unit in (
        ("school", A),
        ("school", B),
        ("school", C),
        ("phong", "643"),
        ("phong", "644"),
        ("so", "66"),
    ):
        assert (forms / level / unit / f"{FORM}.xlsx").is_file(), (level, unit)
        assert (forms / level / unit / "01-MN-DN.xlsx").is_file(), (level, unit)
    assert not (forms / "school" / D / f"{FORM}.xlsx").exists()
    wb = openpyxl.load_workbook(forms / "phong" / "643" / f"{FORM}.xlsx")
    assert wb.sheetnames == ["Ngân sách", "Errors"]
    ws = wb["Ngân sách"]
    by_code = {
        ws.cell(r, 4).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 4).value, int)
    }
    r16 = by_code[16]
    assert ws.cell(r16, 2).value == "Giáo dục Mầm non" and ws.cell(r16, 3).value == "triệu đồng"
    assert [ws.cell(r16, c).value for c in (5, 6, 7)] == [1500.5, 1700.000001, 1090.001]
    assert {ws.cell(r16, c).number_format for c in (5, 6, 7)} == {"#,##0.000"}
    assert ws.cell(by_code[56], 5).value == 0 and ws.cell(by_code[56], 5).number_format == "#,##0.000"
    assert ws.cell(by_code[15], 1).value == "II"


@pytest.mark.slow
def test_problem_list_gives_broken_relations_in_trieu_dong(settings):
    with (settings.out / "problems.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["rule_id"] == f"{FORM}.r16.1"]
    so = next(r for r in rows if r["level"] == "so")
    assert so["value"] == "1800.5 triệu đồng / 1750.5 triệu đồng"
    assert "1800.5 triệu đồng so với 1750.5 triệu đồng" in so["message_vi"]
    assert (so["sheet"], so["cell"]) == ("Ngân sách", "E11")


@pytest.mark.slow
def test_golden_workbook(cells, tmp_path):
    """Phòng 643's budget workbook. Regenerate with EDUSTAT_UPDATE_GOLDEN=1 and review by eye."""
    form = catalog.form("tt24", FORM)
    values = {
        (row, col): v for (level, unit, row, col), v in cells.items() if (level, unit) == ("phong", "643")
    }
    header = UnitHeader("phong", "643", "Phòng GDĐT Thành phố Buôn Ma Thuột", "Sở GDĐT Tỉnh Đắk Lắk")
    path = tmp_path / "phong.xlsx"
    write_form_workbook(path, form, header, values, [], 2024)
    dump = dump_workbook(path)
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(GOLDEN.read_text(encoding="utf-8"))


# --- the generator ------------------------------------------------------------------------------


def test_split_parts_sum_exactly():
    rng = random.Random(3)
    for total in (0, 1, 7, 999_999, 12_345_678):
        parts = split(rng, total, (0.88, 0.08, 0.04))
        assert sum(parts) == total and min(parts) >= 0
        assert split(rng, total, (1, 0, 0))[1:] == [0, 0]


def test_generated_budget_blocks_sum_and_go_to_public_preschools(tmp_path):
    from decimal import Decimal

    gen = generate.generate_province("66", "2024-2025", "DN", 40, 5, tmp_path / "gen")
    public = private = with_block_private = 0
    for path in sorted(gen.inbox.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        info = data["TruongHocInfo"]
        preschool_school = info["MaNhomCapHoc"] in ("01", "02", "03", "04", "05")
        block = data.get("NganSach")
        if not preschool_school:
            assert block is None
            continue
        if str(info["LoaiHinhDaoTao"]).zfill(2) == "01":
            public += 1
            assert block, path.name
        else:
            private += 1
            with_block_private += bool(block)
        for field in ("QuyetToanNamTruoc", "DuToan", "UocThucHien"):
            amount = {int(e["MaChiTieu"]): Decimal(str(e[field])) for e in block or []}

            def total(*rows, amount=amount):
                return sum((amount.get(r, Decimal(0)) for r in rows), Decimal(0))

            for item in (16, 56, 64):
                assert total(item) == total(item + 1, item + 2, item + 3) == total(*range(item + 4, item + 8))
            assert total(15) == total(16, 56, 64)
            assert all(v >= 0 and v == v.quantize(Decimal("0.001")) for v in amount.values())
    assert public and private and with_block_private < private
