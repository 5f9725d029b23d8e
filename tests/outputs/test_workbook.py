"""Tests for pipelines/export.py: layout of the 02-TH-ĐN workbook, golden dump, parallel export."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string

from pipelines import catalog
from pipelines.outputs.layout import cell_ref
from pipelines.outputs.styles import NO_PROBLEMS
from pipelines.outputs.workbook import (
    PROVISIONAL_NOTE,
    UnitHeader,
    WorkbookJob,
    dump_workbook,
    write_form_workbook,
    write_workbooks,
)
from pipelines.warehouse import Problem

GOLDEN = Path(__file__).parent.parent / "golden" / "02-TH-DN_school.json"
GOLDEN_THCS = Path(__file__).parent.parent / "golden" / "03-THCS-DN_phong.json"
# A copy of ../shared/reference/forms/column_relations.csv (the column layout of the real exports).
COLUMN_RELATIONS = Path(__file__).parent.parent / "reference" / "column_relations.csv"

HEADER = UnitHeader(
    level="school",
    unit_code="66000101",
    reporting_unit_vi="Trường Tiểu học Số 1",
    receiving_unit_vi="Phòng GDĐT Huyện Ea Súp",
)
VALUES = {
    (1, "T"): 2,
    (1, "CL"): 1,
    (1, "TT"): 1,
    (27, "T"): 12.0,  # floats with integral values print as integers
    (27, "CL"): 12.0,
    (37, "T.all"): 10,
    (37, "T.female"): 5,
    (37, "CL.all"): 10,
    (37, "CL.female"): 5,
    (76, "T.all"): 3,
    (78, "T.all"): 1234,
    (120, "T.all"): 8,
    (120, "T.solid"): 8,
}
ERROR = Problem(
    school_code="66000101",
    file="66000101_2024.json",
    record="LstHocSinh[12]",
    list_name="LstHocSinh",
    position=13,
    class_code="1A",
    field="NgaySinh",
    value="=2030-01-01",  # a leading "=" must stay text, never become a formula
    rule_id="learner.birth_date_range",
    severity="error",
    message_vi="Ngày sinh ngoài khoảng cho phép",
    message_en="Birth date out of range",
)
RELATION_ERROR = Problem(
    school_code="66000101",
    file=None,
    record=None,
    field=None,
    value="6 > 5",
    rule_id="02-TH-DN.r38",
    severity="warning",
    message_vi="Mã số 38 lớn hơn Mã số 37",
    message_en="Row 38 exceeds row 37",
    sheet="III",
    cell="E7",  # cell_ref(form, 38, "T.all"): row 7 of sheet III, as the real export (reference source row)
)


@pytest.fixture(scope="module")
def form() -> catalog.Form:
    return catalog.form("tt24", "02-TH-DN")


@pytest.fixture(scope="module")
def school_book(form: catalog.Form, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "school.xlsx"
    write_form_workbook(path, form, HEADER, VALUES, [ERROR, RELATION_ERROR], 2024)
    return path


def _row_with_code(ws, code: int) -> int:
    for (cell,) in ws.iter_rows(min_col=4, max_col=4):
        if cell.value == code:
            return cell.row
    raise AssertionError(f"no row with Mã số {code} on sheet {ws.title}")


def test_sheets_and_title_block(school_book: Path) -> None:
    wb = load_workbook(school_book)
    assert wb.sheetnames == ["I", "III", "IV", "V", "Errors"]
    assert wb.properties.creator == "edustat"
    ws = wb["I"]
    assert ws["B1"].value == "BÁO CÁO THỐNG KÊ GIÁO DỤC TIỂU HỌC"
    assert ws["B1"].font.b
    assert ws["B2"].value == "Kỳ đầu năm học"
    assert ws["B3"].value == "(có đến 30 tháng 9 năm 2024)"
    assert ws["D1"].value == "- Đơn vị báo cáo:"
    assert ws["D2"].value == "Trường Tiểu học Số 1"
    assert ws["D3"].value == "- Đơn vị nhận báo cáo:"
    assert ws["D4"].value == "Phòng GDĐT Huyện Ea Súp"
    assert "02-TH-ĐN" in ws["A1"].value
    assert ws["B4"].value is None  # official form: no provisional note
    # As in the real export: heads on row 7, column numbers on row 8, data from row 9.
    assert [ws.cell(7, c).value for c in range(1, 8)] == [
        "TT",
        "Chỉ tiêu",
        "Đơn vị tính",
        "Mã số",
        "Tổng số",
        "Công lập",
        "Tư thục",
    ]
    # The letters name Chỉ tiêu, Đơn vị tính and Mã số (TT has none); numbers the value columns.
    assert [ws.cell(8, c).value for c in range(1, 8)] == [None, "A", "B", "C", 1, 2, 3]
    assert ws.freeze_panes == "E9"
    # Other sheets start with their heads on row 1, as the real export; the page header names the
    # form, the unit and the period on every printed page, the footer the page number.
    iii = wb["III"]
    assert iii["A1"].value == "TT" and iii["E1"].value == "Tổng số"
    for sheet in (ws, iii):
        assert "Biểu số 02-TH-ĐN" in sheet.oddHeader.left.text
        assert sheet.oddHeader.center.text == "Trường Tiểu học Số 1"
        assert sheet.oddHeader.right.text == "Kỳ đầu năm học 2024-2025"
        assert sheet.oddFooter.center.text == "Trang &P / &N"
    assert ws.print_title_rows == "$7:$8" and iii.print_title_rows == "$1:$4"


def test_data_rows(school_book: Path) -> None:
    wb = load_workbook(school_book, data_only=True)  # formulas' cached values
    ws = wb["I"]
    r1 = _row_with_code(ws, 1)
    assert [ws.cell(r1, c).value for c in range(1, 8)] == [
        "1.1.",
        "Tổng số trường",
        "trường",
        1,
        2,
        1,
        1,
    ]
    assert ws.cell(r1, 5).number_format == "#,##0"
    # Tổng số = Công lập + Tư thục is a formula (its value cached above), as in the real export.
    assert load_workbook(school_book)["I"].cell(r1, 5).value == f"=F{r1}+G{r1}"
    # A section row prints TT and its label in bold; a label row ("Chia ra") in italics, no cells.
    assert ws.cell(r1 - 1, 1).value == "I" and ws.cell(r1 - 1, 2).value == "Trường"
    assert ws.cell(r1 - 1, 2).font.b and ws.cell(r1, 2).font.b
    assert ws.cell(r1 + 1, 2).value == "Chia ra theo vùng:" and ws.cell(r1 + 1, 2).font.i
    assert ws.cell(r1 + 1, 4).value is None and ws.cell(r1 + 1, 5).value is None
    # Indentation markers are kept.
    assert ws.cell(_row_with_code(ws, 2), 2).value.startswith("- ")
    assert ws.cell(_row_with_code(ws, 3), 2).value.startswith("+ ")
    r27 = _row_with_code(ws, 27)
    assert (ws.cell(r27, 5).value, ws.cell(r27, 7).value) == (12, 0)

    iii = wb["III"]
    r37 = _row_with_code(iii, 37)
    assert iii[f"E{r37}"].value == 10
    assert iii[f"F{r37}"].value == 5
    assert iii[f"G{r37}"].value == 0  # missing key prints 0
    r76 = _row_with_code(iii, 76)
    form = catalog.form("tt24", "02-TH-DN")
    row76 = next(r for r in form.rows if r.code == 76)
    ethnic = {c.excel_col for c in form.columns_for(row76) if "ethnic" in c.key}
    assert ethnic == {"G", "H", "K", "L", "O", "P"}
    for col in "EFGHIJKLMNOP":
        expected = "#" if col in ethnic else (3 if col == "E" else 0)
        assert iii[f"{col}{r76}"].value == expected, col
    assert wb["IV"][f"E{_row_with_code(wb['IV'], 78)}"].value == 1234


def test_number_types(form: catalog.Form, tmp_path: Path) -> None:
    import numpy as np

    values = {
        (37, "T.all"): np.int64(7),
        (37, "T.female"): np.float64(3.0),
        (37, "T.ethnic"): float("nan"),
        (37, "T.ethnic_female"): None,
        (37, "CL.all"): 2.5,
    }
    path = tmp_path / "n.xlsx"
    write_form_workbook(path, form, HEADER, values, [], 2024)  # type: ignore[arg-type]
    ws = load_workbook(path, data_only=True)["III"]
    r = _row_with_code(ws, 37)
    assert [ws.cell(r, c).value for c in range(5, 10)] == [7, 3, 0, 0, 2.5]
    assert ws.cell(r, 5).number_format == "#,##0"
    assert ws.cell(r, 9).number_format == "#,##0.0#"


def test_footer_two_rows_below_table(school_book: Path, form: catalog.Form) -> None:
    ws = load_workbook(school_book)["IV"]
    last_code = [r.code for r in form.rows if r.sheet == "IV" and r.code is not None][-1]
    last = _row_with_code(ws, last_code)
    assert ws.cell(last + 1, 2).value is None
    assert ws.cell(last + 2, 2).value == form.sheet_of("IV").footer_vi


def test_staff_heads_follow_column_relations(school_book: Path) -> None:
    ws = load_workbook(school_book)["IV"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    with COLUMN_RELATIONS.open(encoding="utf-8") as fh:
        ref = [r for r in csv.DictReader(fh) if r["form_code"] == "02-TH-ĐN" and r["sheet"] == "IV"]
    cl = sorted(r["excel_col"] for r in ref if r["column_key"].startswith("CL."))
    assert (cl[0], cl[-1]) == ("I", "O")
    head_row = next(c.row for (c,) in ws.iter_rows(min_col=1, max_col=1) if c.value == "TT")
    assert f"I{head_row}:O{head_row}" in merged
    assert ws[f"I{head_row}"].value == "Công lập"
    assert f"E{head_row}:H{head_row}" in merged and f"P{head_row}:S{head_row}" in merged
    # Four head rows (the deepest path has four levels): A–D merge over all of them.
    assert f"A{head_row}:A{head_row + 3}" in merged
    assert f"J{head_row + 1}:L{head_row + 1}" in merged  # Phân loại
    assert f"J{head_row + 2}:K{head_row + 2}" in merged  # Viên chức
    assert f"L{head_row + 2}:L{head_row + 3}" in merged  # Hợp đồng lao động, down to the last row
    assert f"M{head_row + 1}:M{head_row + 3}" in merged  # Nữ under Công lập
    assert ws[f"J{head_row + 3}"].value == "HĐLV không xác định thời hạn"
    numbers_row = head_row + 4
    assert [ws.cell(numbers_row, c).value for c in range(1, 5)] == [None, "A", "B", "C"]
    numbers = [ws.cell(numbers_row, c).value for c in range(5, 20)]
    assert numbers == list(range(1, 16))
    # Printed numbers match the reference column letters.
    for r in ref:
        col = column_index_from_string(r["excel_col"])
        assert ws.cell(numbers_row, col).value == int(r["col_no"])
    assert ws.freeze_panes == f"E{numbers_row + 1}"


def test_errors_sheet(school_book: Path) -> None:
    """As the real export: Sheet | Cell | Error | Detail; a record problem says where the record is as
    the school's software shows it (the 13th pupil, counted from 1), a relation problem its cell."""
    ws = load_workbook(school_book)["Errors"]
    assert [c.value for c in ws[1]] == ["Sheet", "Cell", "Error", "Detail"]
    assert [c.value for c in ws[2]] == [
        None,
        None,
        "Ngày sinh ngoài khoảng cho phép",
        "Tệp 66000101_2024.json; LstHocSinh số 13; lớp 1A; NgaySinh = =2030-01-01; Lỗi, quy tắc learner.birth_date_range",
    ]
    assert ws["D2"].data_type == "s"  # text, never a formula
    assert [c.value for c in ws[3]] == ["III", "E7", "Mã số 38 lớn hơn Mã số 37",
                                        "6 > 5; Cảnh báo, quy tắc 02-TH-DN.r38"]  # fmt: skip
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D3"


def test_cell_ref(form: catalog.Form, school_book: Path) -> None:
    assert cell_ref(form, 38, "T.all") == (RELATION_ERROR.sheet, RELATION_ERROR.cell)
    wb = load_workbook(school_book, data_only=True)
    for code, key, expected in [
        (37, "T.all", 10),
        (1, "TT", 1),
        (78, "T.all", 1234),
        (120, "T.solid", 8),
        (76, "T.ethnic", "#"),
    ]:
        sheet, ref = cell_ref(form, code, key)
        assert wb[sheet][ref].value == expected
        assert wb[sheet].cell(wb[sheet][ref].row, 4).value == code
    with pytest.raises(KeyError):
        cell_ref(form, 37, "T")
    with pytest.raises(KeyError):
        cell_ref(form, 999, "T.all")


def test_no_errors_and_provisional_note(form: catalog.Form, tmp_path: Path) -> None:
    provisional = dataclasses.replace(form, status="inferred")
    path = tmp_path / "p.xlsx"
    write_form_workbook(path, provisional, HEADER, {}, [], 2025)
    wb = load_workbook(path)
    assert wb["Errors"]["A2"].value == NO_PROBLEMS
    assert wb["Errors"].max_row == 2
    assert wb["I"]["B3"].value == "(có đến 30 tháng 9 năm 2025)"
    assert wb["I"]["B4"].value == PROVISIONAL_NOTE
    assert wb["I"]["B4"].font.color.rgb == "FFC00000"
    assert "(tạm thời)" in wb["III"].oddHeader.left.text  # a sheet without the title block says it on paper


def test_output_is_deterministic(form: catalog.Form, school_book: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.xlsx"
    write_form_workbook(again, form, HEADER, VALUES, [ERROR, RELATION_ERROR], 2024)
    assert dump_workbook(again) == dump_workbook(school_book)


def test_golden_dump(school_book: Path) -> None:
    """Regenerate with EDUSTAT_UPDATE_GOLDEN=1, then review the diff by eye."""
    dump = dump_workbook(school_book)
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_golden_dump_of_the_inferred_lower_secondary_form(tmp_path: Path) -> None:
    """03-THCS-ĐN for a Phòng: the provisional note shows, heads and values as reviewed."""
    form = catalog.form("tt24", "03-THCS-DN")
    header = UnitHeader("phong", "643", "Phòng Giáo dục và Đào tạo Thành phố Buôn Ma Thuột",
                        "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk")  # fmt: skip
    values = {(1, "T"): 3, (1, "CL"): 2, (1, "TT"): 1, (33, "T.all"): 120, (33, "T.female"): 61,
              (36, "T.all"): 30, (71, "T.all"): 15, (114, "T.all"): 9, (114, "T.solid"): 9}  # fmt: skip
    path = tmp_path / "phong.xlsx"
    write_form_workbook(path, form, header, values, [], 2024)
    dump = dump_workbook(path)
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        GOLDEN_THCS.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(GOLDEN_THCS.read_text(encoding="utf-8"))


def test_job_pickles_catalog_form_by_name(form: catalog.Form, tmp_path: Path) -> None:
    job = WorkbookJob(tmp_path / "a.xlsx", form, HEADER, VALUES, (ERROR,), 2024)
    data = pickle.dumps(job)
    assert len(data) < 5_000  # the form travels as (regime, name)
    back = pickle.loads(data)
    assert back.form is form and back.values == VALUES and back.errors == (ERROR,)
    # A form that is not the catalog's travels whole.
    other = dataclasses.replace(form, status="inferred")
    assert pickle.loads(pickle.dumps(dataclasses.replace(job, form=other))).form == other


@pytest.mark.parametrize("processes", [1, 2])
def test_write_workbooks(form: catalog.Form, school_book: Path, tmp_path: Path, processes: int) -> None:
    errors = (ERROR, RELATION_ERROR)
    jobs = [WorkbookJob(tmp_path / f"s{i:02d}.xlsx", form, HEADER, VALUES, errors, 2024) for i in range(10)]
    write_workbooks(jobs, processes=processes)
    expected = dump_workbook(school_book)
    for job in (jobs[0], jobs[-1]):
        assert dump_workbook(job.path) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"s{i:02d}.xlsx" for i in range(10)]


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_converts_to_pdf(school_book: Path, tmp_path: Path) -> None:
    profile = (tmp_path / "lo-profile").as_uri()  # own profile: runs in parallel do not clash
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(school_book),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = tmp_path / "school.pdf"
    assert pdf.exists() and pdf.stat().st_size > 10_000
    assert pdf.read_bytes().startswith(b"%PDF")


def test_phong_and_so_workbooks_list_indicators_with_numerator_and_denominator(
    form: catalog.Form, tmp_path: Path
):
    from pipelines.outputs.workbook import IndicatorLine

    lines = [
        IndicatorLine("2106.2", "Học sinh bình quân một lớp (tiểu học)", "Pupils per class (primary)", 7, 3, 2.33, "sourced"),
        IndicatorLine("THCS.6.1", "Học sinh bình quân một giáo viên (THCS)", "Pupils per teacher", 3, 0, None, "inferred"),
    ]  # fmt: skip
    path = tmp_path / "so.xlsx"
    write_form_workbook(path, form, HEADER, VALUES, [], 2024, lines)
    wb = load_workbook(path)
    assert wb.sheetnames == ["I", "III", "IV", "V", "Errors", "Chỉ tiêu"]
    rows = list(wb["Chỉ tiêu"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:6] == (
        "2106.2",
        "Học sinh bình quân một lớp (tiểu học)",
        "Pupils per class (primary)",
        7,
        3,
        2.33,
    )
    assert rows[1][3:6] == (3, 0, None)  # a ratio over zero stays empty


SO_HEADER = UnitHeader("so", "66", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "Bộ Giáo dục và Đào tạo")
# Forms with no golden above: a Sở workbook each, with hand-set values on the first rows.
GOLDEN_FORMS = {
    ("tt24", "04-THPT-DN"): {(1, "T"): 12, (1, "CL"): 11, (1, "TT"): 1, (33, "T.all"): 9876, (33, "T.female"): 5100},
    ("tt24", "02-TH-CN"): {(1, "T.all"): 520, (10, "T.all"): 4, (11, "T.all"): 521, (7, "T.all"): 9, (9, "T.all"): 4},
    ("tt24", "03-THCS-CN"): {(1, "T.all"): 300, (9, "T.all"): 6, (10, "T.all"): 294},
    ("tt24", "04-THPT-CN"): {(1, "T.all"): 200, (8, "T.all"): 3, (9, "T.all"): 197},
    ("tt25", "02.DN-TH"): {(1, "T"): 2, (1, "CL"): 2, (37, "T.all"): 10},
    ("tt24", "01-MN-CN"): {(1, "T.all"): 80, (1, "DL.all"): 5, (2, "T.all"): 3},
    ("tt24", "05-GDTX-CN"): {(1, "T.all"): 150, (2, "T.all"): 4, (3, "T.all"): 1},
}  # fmt: skip


@pytest.mark.parametrize(("regime", "name"), sorted(GOLDEN_FORMS))
def test_golden_dump_of_each_remaining_form(regime: str, name: str, tmp_path: Path) -> None:
    """One reviewed Sở workbook per form; regenerate with EDUSTAT_UPDATE_GOLDEN=1 and review."""
    golden = Path(__file__).parent.parent / "golden" / f"{regime}_{name}_so.json"
    path = tmp_path / "so.xlsx"
    write_form_workbook(path, catalog.form(regime, name), SO_HEADER, GOLDEN_FORMS[(regime, name)], [], 2024)
    dump = dump_workbook(path)
    if os.environ.get("EDUSTAT_UPDATE_GOLDEN") == "1":
        golden.write_text(json.dumps(dump, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert dump == json.loads(golden.read_text(encoding="utf-8"))


# Row 1: Tổng số trường (T) = Công lập (CL) + Tư thục (TT), printed as a formula where the figures add up.
@pytest.mark.parametrize(
    ("values", "formula", "total", "public"),
    [
        ({}, True, 0, 0),  # no figures: 0 = 0 + 0, the total stays a formula
        ({(1, "CL"): 1}, False, 0, 1),  # a part without its total: 0 ≠ 1 + 0
        ({(1, "T"): 2}, False, 2, 0),  # a total without its parts: 2 ≠ 0 + 0
        ({(1, "T"): 2, (1, "CL"): 1, (1, "TT"): 1}, True, 2, 1),
        ({(1, "T"): 3, (1, "CL"): 1, (1, "TT"): 1}, False, 3, 1),  # 3 ≠ 1 + 1: the figure as it is
    ],
)
def test_a_total_is_a_formula_only_where_its_parts_add_up(
    form: catalog.Form, tmp_path: Path, values: dict, formula: bool, total: int, public: int
) -> None:
    sheet, ref = cell_ref(form, 1, "T")
    _, ref_cl = cell_ref(form, 1, "CL")
    path = tmp_path / "total.xlsx"
    write_form_workbook(path, form, HEADER, values, [], 2024)
    cached = load_workbook(path, data_only=True)[sheet]
    assert (cached[ref].value, cached[ref_cl].value) == (total, public)
    assert str(load_workbook(path)[sheet][ref].value).startswith("=") is formula


def test_a_units_figures_never_reach_the_next_units_workbook(form: catalog.Form, tmp_path: Path) -> None:
    """Workbooks of one form share a template: a unit with no figures after a unit with many prints 0
    everywhere, and its own name."""
    write_form_workbook(tmp_path / "a.xlsx", form, HEADER, VALUES, [], 2024)
    other = UnitHeader("school", "66000102", "Trường Tiểu học Số 2", "Phòng GDĐT Huyện Ea Súp")
    write_form_workbook(tmp_path / "b.xlsx", form, other, {}, [], 2024)
    wb = load_workbook(tmp_path / "b.xlsx", data_only=True)
    for code, key in VALUES:
        sheet, ref = cell_ref(form, code, key)
        assert wb[sheet][ref].value == 0, (code, key)
    texts = {
        c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)
    }
    assert "Trường Tiểu học Số 2" in texts and "Trường Tiểu học Số 1" not in texts
