"""The printed grids of 02-TH-ĐN and 01-MN-ĐN against the real exports, cell by cell.

The reference (../shared/reference/forms/, copied into tests/reference/) gives, for every printed
row, its sheet and worksheet row in the real export (`source`: "sheet 'III' row 7"), its TT, label,
unit and Mã số; for every value column its Excel column, printed number and head ("Tổng số / Dân tộc
thiểu số - Nữ": the head's levels, top to bottom); and the sheets in order (NOTES.md §2.1). The
merged head cells are not listed by the reference: they are the runs of adjacent columns that share
a head level, as the export prints them, and TT, Chỉ tiêu, Đơn vị tính and Mã số over all head rows.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from pipelines import catalog
from pipelines.outputs.workbook import UnitHeader, write_form_workbook

REFERENCE = Path(__file__).parent.parent / "reference"  # copies of ../shared/reference/forms (its README)
COLUMN_RELATIONS = REFERENCE / "column_relations.csv"
HEADER = UnitHeader("so", "66", "Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk", "Bộ Giáo dục và Đào tạo")
# NOTES.md §2.1: the sheets of each export, in order.
SHEETS = {
    "02-TH-ĐN": ["I", "III", "IV", "V", "Errors"],
    "01-MN-ĐN": ["Trường-Lớp", "Học sinh", "Cán bộ", "Phòng học", "Ngân sách", "Errors"],
}
FORMS = {"02-TH-ĐN": "02-TH-DN", "01-MN-ĐN": "01-MN-DN"}


def _reference_rows(code: str) -> list[dict[str, str]]:
    with (REFERENCE / f"{FORMS[code]}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _reference_columns(code: str) -> list[dict[str, str]]:
    with COLUMN_RELATIONS.open(encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r["form_code"] == code]


def _source_row(row: dict[str, str]) -> tuple[str, int]:
    m = re.search(r"sheet '([^']+)' row (\d+)$", row["source"])
    assert m, row["source"]
    return m.group(1), int(m.group(2))


@pytest.fixture(scope="module", params=sorted(FORMS))
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    code = request.param
    form = catalog.form("tt24", FORMS[code])
    printed = [(f, None) for f in catalog.forms_for("tt24", "DN") if f.printed_in == form.form]
    path = tmp_path_factory.mktemp("grid") / f"{FORMS[code]}.xlsx"
    write_form_workbook(path, form, HEADER, {}, [], 2020, printed=printed)
    return code, load_workbook(path)


def test_sheets_in_the_exports_order(book) -> None:
    code, wb = book
    assert wb.sheetnames == SHEETS[code]


def test_title_block_where_the_export_has_it(book) -> None:
    code, wb = book
    ws = wb[SHEETS[code][0]]
    title = {
        "02-TH-ĐN": "BÁO CÁO THỐNG KÊ GIÁO DỤC TIỂU HỌC",
        "01-MN-ĐN": "BÁO CÁO THỐNG KÊ GIÁO DỤC MẦM NON",
    }
    assert (ws["B1"].value, ws["B2"].value, ws["B3"].value) == (title[code], "Kỳ đầu năm học",
                                                                "(có đến 30 tháng 9 năm 2020)")  # fmt: skip
    assert (ws["D1"].value, ws["D2"].value) == ("- Đơn vị báo cáo:", HEADER.reporting_unit_vi)
    assert (ws["D3"].value, ws["D4"].value) == ("- Đơn vị nhận báo cáo:", HEADER.receiving_unit_vi)


def test_every_row_label_and_code_on_the_exports_row(book) -> None:
    code, wb = book
    rows = _reference_rows(code)
    assert len(rows) > 100
    for r in rows:
        sheet, n = _source_row(r)
        ws = wb[sheet]
        mã_số = int(r["row_code"].removeprefix("NS.")) if r["row_code"] else None
        where = (sheet, n, r["indicator_vi"])
        assert ws.cell(n, 4).value == mã_số, where
        assert ws.cell(n, 2).value == r["indicator_vi"], where
        assert ws.cell(n, 1).value == (r["row_no"] or None), where
        assert ws.cell(n, 3).value == ((r["unit"] or None) if mã_số is not None else None), where


def test_every_column_head_number_and_merged_range(book) -> None:
    code, wb = book
    first_row: dict[str, int] = {}
    for r in _reference_rows(code):
        sheet, n = _source_row(r)
        first_row[sheet] = min(n, first_row.get(sheet, n))
    by_sheet: dict[str, list[dict[str, str]]] = {}
    for c in _reference_columns(code):
        by_sheet.setdefault(c["sheet"], []).append(c)
    assert set(by_sheet) == set(SHEETS[code]) - {"Errors"}
    for sheet, columns in by_sheet.items():
        ws = wb[sheet]
        number_row = first_row[sheet] - 1  # the column-number row sits right above the first row
        head_top = 7 if sheet == SHEETS[code][0] else 1  # under the title block on the first sheet
        depth = number_row - head_top
        merged = {str(m) for m in ws.merged_cells.ranges}
        paths: dict[int, list[str]] = {column_index_from_string(c["excel_col"]): [p.strip() for lv in c["header_vi"].split(" / ")
                                                            for p in lv.split(" - ")] for c in columns}  # fmt: skip
        assert max(len(p) for p in paths.values()) == depth, sheet
        assert [ws.cell(number_row, k).value for k in range(1, 5)] == [None, "A", "B", "C"], sheet
        # TT, Chỉ tiêu, Đơn vị tính, Mã số over every head row, and so the columns between Mã số and
        # the first value column (the budget tab's E: empty and hidden, what the real tab prints there
        # is not known).
        gap = range(5, min(paths))
        expected = {f"{get_column_letter(k)}{head_top}:{get_column_letter(k)}{number_row - 1}"
                    for k in (*range(1, 5), *gap) if depth > 1}  # fmt: skip
        assert [ws.cell(head_top, k).value for k in range(1, 5)] == ["TT", "Chỉ tiêu", "Đơn vị tính", "Mã số"]
        for c in columns:
            col = column_index_from_string(c["excel_col"])
            assert ws.cell(number_row, col).value == int(c["col_no"]), (sheet, c["excel_col"])
        for level in range(depth):
            cols = sorted(k for k, p in paths.items() if len(p) > level)
            k = 0
            while k < len(cols):
                end = k
                while (end + 1 < len(cols) and cols[end + 1] == cols[end] + 1
                       and paths[cols[end + 1]][: level + 1] == paths[cols[k]][: level + 1]):  # fmt: skip
                    end += 1
                first, last = cols[k], cols[end]
                path = paths[first]
                bottom = head_top + (depth - 1 if first == last and len(path) == level + 1 else level)
                assert ws.cell(head_top + level, first).value == path[level], (sheet, first, level)
                if (first, head_top + level) != (last, bottom):
                    expected.add(
                        f"{get_column_letter(first)}{head_top + level}:{get_column_letter(last)}{bottom}"
                    )
                k = end + 1
        heads = {m for m in merged if head_top <= int(re.sub(r"[A-Z]+", "", m.split(":")[0])) < number_row}
        assert heads == expected, sheet


def _printed_as_in_the_export(row: dict[str, str], key: str) -> str | None:
    """What the real export prints in a value cell instead of a figure, as the reference notes it
    (README "Warnings", NOTES.md §2.1 markers): None where it prints the figure."""
    note = row["relation"]
    if "leaves row blank" in note:
        return ""
    if "shows '?'" in note:
        return "?"
    if "ethnic columns not applicable ('#')" in note and "ethnic" in key:
        return "#"
    return None


@pytest.mark.parametrize("code", sorted(FORMS))
def test_empty_and_marked_cells_as_the_export_prints_them(code: str, tmp_path: Path) -> None:
    """Every cell at 7: the rows the export leaves blank print nothing (not 0, not 7), 02-TH-ĐN's
    row 25 "?", row 76's ethnic-minority columns "#"; every other cell of the reference's rows 7."""
    rows = _reference_rows(code)
    form = catalog.form("tt24", FORMS[code])
    values = {(r.code, c.key): 7 for r in form.cell_rows for c in form.columns_for(r)}
    path = tmp_path / "seven.xlsx"
    write_form_workbook(path, form, HEADER, values, [], 2020)
    wb = load_workbook(path, data_only=True)
    special = 0
    for r in rows:
        if not r["row_code"] or r["row_code"].startswith("NS."):
            continue
        sheet, n = _source_row(r)
        columns = {c["excel_col"]: c["column_key"] for c in _reference_columns(code) if c["sheet"] == sheet}
        for col, key in columns.items():
            shown = _printed_as_in_the_export(r, key)
            special += shown is not None
            cell = wb[sheet][f"{col}{n}"].value
            assert cell == (7 if shown is None else shown or None), (sheet, n, col, r["row_code"])
    # 02-TH-ĐN: row 25 (3 cells) and row 76's six ethnic cells; 01-MN-ĐN: rows 32, 50 (4 cells each),
    # 100 and 120 (16 each).
    assert special == {"02-TH-ĐN": 3 + 6, "01-MN-ĐN": 4 + 4 + 16 + 16}[code]
