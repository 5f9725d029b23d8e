"""Render any catalog Form as an Excel workbook laid out like the national database's export.

One generic writer: the grid (sheets, rows, multi-row column heads) comes entirely from the Form,
so a new form needs a YAML file, not code. Layout follows the real export of 02-TH-ĐN (reference
forms/NOTES.md §2.1): one sheet per section, named as the section (I, III, IV, V), a title block,
merged column heads, a column-number row (A, B, C, 1…N), the data rows, and an `Errors` sheet
last.

Speed: a province run writes about a thousand school workbooks, so the layout of each (form, sheet)
is computed once and cached, workbooks are written in openpyxl's streaming (write-only) mode, and
every cell gets its look from a handful of named styles (a style lookup by name is a copy of a
prepared style array, where assigning Font/Border objects would hash them cell by cell).
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from pipelines import catalog, sdmx_export
from pipelines.aggregate import CELLS_COLUMNS, INDICATOR_COLUMNS
from pipelines.catalog import Form, Row, Sheet
from pipelines.settings import Settings

__all__ = [
    "ErrorLine",
    "UnitHeader",
    "WorkbookJob",
    "cell_ref",
    "dump_workbook",
    "write_form_workbook",
    "write_workbooks",
]

PROVISIONAL_NOTE = (
    "Mẫu biểu tạm thời (suy luận), chưa phải mẫu chính thức / "
    "Provisional layout (inferred), not the official form"
)
NO_PROBLEMS = "Không có lỗi / No problems"
ERRORS_SHEET = "Errors"
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
ERROR_HEADS = (
    "Trường\n(School)",
    "Tệp\n(File)",
    "Bản ghi\n(Record)",
    "Trường dữ liệu\n(Field)",
    "Giá trị\n(Value)",
    "Quy tắc\n(Rule)",
    "Mức độ\n(Severity)",
    "Nội dung lỗi\n(Message)",
    "Nội dung lỗi (tiếng Anh)\n(Error, EN)",
    "Biểu\n(Sheet)",
    "Ô\n(Cell)",
)
ERROR_WIDTHS = (12, 22, 18, 18, 16, 16, 10, 50, 50, 8, 8)
FIXED_HEADS = ("TT", "Chỉ tiêu", "Đơn vị tính", "Mã số")  # columns A–D
FIXED_WIDTHS = (10, 55, 9, 7)
VALUE_WIDTH = 11
CHARS_PER_WIDTH = 1.4
LINE_HEIGHT = 15.0  # points per text line in Times New Roman 11
NUMBER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0#"
# Below this many jobs a process pool costs more than it saves.
MIN_JOBS_FOR_POOL = 8


@dataclass(frozen=True)
class UnitHeader:
    """Who reports (the unit the workbook is about) and to whom."""

    level: str  # "school" | "phong" | "so"
    unit_code: str
    reporting_unit_vi: str  # e.g. "Trường Tiểu học Số 1"
    receiving_unit_vi: str  # school -> its Phòng; Phòng -> Sở; Sở -> "Bộ Giáo dục và Đào tạo"


@dataclass(frozen=True)
class ErrorLine:
    """One problem listed on the Errors sheet."""

    school_code: str | None
    file: str | None
    record: str | None  # e.g. "LstHocSinh[12]"
    field: str | None
    value: str | None
    rule_id: str
    severity: str  # "error" | "warning"
    message_vi: str
    message_en: str
    sheet: str | None = None  # relation problems on cells: sheet and cell (e.g. "III", "E12")
    cell: str | None = None


@dataclass(frozen=True)
class IndicatorLine:
    """One national indicator of the unit, listed on the "Chỉ tiêu" sheet."""

    indicator_id: str
    name_vi: str
    name_en: str
    numerator: float
    denominator: float | None
    value: float | None
    status: str


@dataclass(frozen=True)
class WorkbookJob:
    """The arguments of write_form_workbook, bundled for write_workbooks."""

    path: Path
    form: Form
    header: UnitHeader
    values: Mapping[tuple[int, str], float] = field(hash=False)
    errors: tuple[ErrorLine, ...] = ()
    start_year: int = 0
    indicators: tuple[IndicatorLine, ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A Form is a large object graph; a catalog form travels as its (regime, name) and is
        # looked up again (cached) in the worker, so a thousand jobs do not pickle it 1,000 times.
        return (
            _rebuild_job,
            (
                self.path,
                _form_ref(self.form),
                self.header,
                dict(self.values),
                tuple(self.errors),
                self.start_year,
                tuple(self.indicators),
            ),
        )


def _form_ref(form: Form) -> Form | tuple[str, str]:
    try:
        if catalog.form(form.regime, form.form) is form:
            return (form.regime, form.form)
    except (catalog.CatalogError, OSError):
        pass
    return form


def _rebuild_job(
    path: Path,
    form_ref: Form | tuple[str, str],
    header: UnitHeader,
    values: dict[tuple[int, str], float],
    errors: tuple[ErrorLine, ...],
    start_year: int,
    indicators: tuple[IndicatorLine, ...] = (),
) -> WorkbookJob:
    form = catalog.form(*form_ref) if isinstance(form_ref, tuple) else form_ref
    return WorkbookJob(path, form, header, values, errors, start_year, indicators)


# ---------------------------------------------------------------------------------------------
# Styles: the pieces are built once at module level; each workbook wraps them in named styles.

_FONT_NAME = "Times New Roman"
_THIN = Side(style="thin")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_NO_BORDER = Border()
_STYLE_SPECS: dict[str, dict[str, Any]] = {
    "es_code": dict(
        font=Font(name=_FONT_NAME, size=11, bold=True),
        alignment=Alignment(horizontal="center", vertical="top", wrap_text=True),
    ),
    "es_title": dict(font=Font(name=_FONT_NAME, size=13, bold=True)),
    "es_text": dict(font=Font(name=_FONT_NAME, size=11)),
    "es_text_italic": dict(font=Font(name=_FONT_NAME, size=11, italic=True)),
    "es_text_bold": dict(  # unit names; top-aligned beside a two-line provisional note
        font=Font(name=_FONT_NAME, size=11, bold=True), alignment=Alignment(vertical="top")
    ),
    "es_note": dict(
        font=Font(name=_FONT_NAME, size=11, bold=True, color="FFC00000"),
        alignment=Alignment(vertical="top", wrap_text=True),
    ),
    "es_heading": dict(font=Font(name=_FONT_NAME, size=12, bold=True)),
    "es_head": dict(
        font=Font(name=_FONT_NAME, size=11, bold=True),
        border=_BORDER,
        alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
    ),
    "es_colno": dict(
        font=Font(name=_FONT_NAME, size=10, italic=True),
        border=_BORDER,
        alignment=Alignment(horizontal="center", vertical="center"),
    ),
    "es_tt": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(horizontal="left", vertical="center", indent=1),
    ),
    "es_label": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(vertical="center", wrap_text=True),
    ),
    "es_label_italic": dict(
        font=Font(name=_FONT_NAME, size=11, italic=True),
        border=_BORDER,
        alignment=Alignment(vertical="center", wrap_text=True),
    ),
    "es_center": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(horizontal="center", vertical="center"),
    ),
    "es_cell": dict(font=Font(name=_FONT_NAME, size=11), border=_BORDER),
    "es_num": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(horizontal="right", vertical="center", indent=1),
        number_format=NUMBER_FORMAT,
    ),
    "es_num_dec": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(horizontal="right", vertical="center", indent=1),
        number_format=DECIMAL_FORMAT,
    ),
    "es_err": dict(
        font=Font(name=_FONT_NAME, size=11),
        border=_BORDER,
        alignment=Alignment(vertical="top", wrap_text=True),
    ),
}


def _add_styles(wb: Workbook, form: Form | None = None) -> None:
    """Register the named styles in a new workbook (a NamedStyle binds to one workbook), and the
    style of a form's scaled numbers (see _scaled_style)."""
    for name, spec in _STYLE_SPECS.items():
        wb.add_named_style(NamedStyle(name=name, **spec))
    if form is not None and form.display_scale != 1:
        spec = {**_STYLE_SPECS["es_num"], "number_format": _scaled_format(form.display_decimals)}
        wb.add_named_style(NamedStyle(name=_scaled_style(form), **spec))


def _scaled_format(decimals: int) -> str:
    return NUMBER_FORMAT + ("." + "0" * decimals if decimals else "")


def _scaled_style(form: Form) -> str:
    """The style of a scaled form's value cells: a fixed number of decimals (e.g. triệu đồng, 3)."""
    return f"es_num_scaled{form.display_decimals}"


def printed_value(form: Form, value: float | int) -> str:
    """A stored cell value as the workbook prints it (a scaled form divides it, exactly)."""
    if form.display_scale == 1:
        return str(value)
    return format(Decimal(int(value)) / form.display_scale, "f")


# ---------------------------------------------------------------------------------------------
# Layout of one (form, sheet), computed once.


@dataclass(frozen=True)
class _DataRow:
    tt: str | None
    label: str
    unit: str | None
    code: int | None  # None: a label row, no cells
    not_applicable: frozenset[str]
    height: float | None


@dataclass(frozen=True)
class _SheetLayout:
    name: str
    title_block: bool
    heading_vi: str
    footer_vi: str | None
    last_col: int
    value_cols: tuple[tuple[int, str, int], ...]  # (column index, key, printed number)
    heading_row: int
    head_start: int
    depth: int
    head_grid: tuple[tuple[str | None, ...], ...]  # depth rows × last_col texts (None: covered)
    head_heights: tuple[float, ...]
    merges: tuple[str, ...]  # head merges, e.g. "I7:O7"
    number_row: int
    data_start: int
    rows: tuple[_DataRow, ...]
    code_rows: Mapping[int, int] = field(hash=False)  # row code -> worksheet row number


# id(form) -> (form, {sheet name: layout}); the form is kept so its id cannot be reused.
_LAYOUTS: dict[int, tuple[Form, dict[str, _SheetLayout]]] = {}


def _layouts(form: Form) -> dict[str, _SheetLayout]:
    """Layouts of every sheet of a form, cached by form identity (forms are frozen)."""
    hit = _LAYOUTS.get(id(form))
    if hit is None or hit[0] is not form:
        by_sheet: dict[str, list[Row]] = {s.name: [] for s in form.sheets}
        for row in form.rows:
            by_sheet[row.sheet].append(row)
        layouts = {s.name: _sheet_layout(form, s, by_sheet[s.name]) for s in form.sheets}
        hit = _LAYOUTS[id(form)] = (form, layouts)
    return hit[1]


def _lines(text: str, width: float) -> int:
    """Printed lines of wrapped text in a cell `width` units wide (an estimate).

    A width unit is one digit of the default font; Times New Roman 11 fits about 1.4 average
    Vietnamese characters in it (measured on a LibreOffice rendering).
    """
    chars = max(int(width * CHARS_PER_WIDTH) - 2, 1)
    return sum(max(len(textwrap.wrap(part, chars)), 1) for part in text.split("\n"))


def _col_width(col: int) -> float:
    return FIXED_WIDTHS[col - 1] if col <= len(FIXED_WIDTHS) else VALUE_WIDTH


def _title_rows(title_block: bool) -> int:
    # Full block: B1 title, B2 period, B3 as-of date, B4 note; D1–D4 the units. Short block:
    # B1 title, B2 period and date, B3 note; D1–D2 the units. A blank row, then the heading.
    return 5 if title_block else 3


def _sheet_layout(form: Form, sheet: Sheet, rows: list[Row]) -> _SheetLayout:
    columns = form.column_sets[sheet.column_set].columns
    value_cols = tuple((column_index_from_string(c.excel_col), c.key, c.number) for c in columns)
    last_col = max([len(FIXED_HEADS), *(i for i, _, _ in value_cols)])
    paths = {
        i: tuple(p.strip() for p in c.header_vi.split(" / "))
        for (i, _, _), c in zip(value_cols, columns, strict=True)
    }
    depth = max(len(p) for p in paths.values())
    heading_row = _title_rows(sheet.title_block) + 1
    head_start = heading_row + 1
    last_head = head_start + depth - 1

    grid: list[list[str | None]] = [[None] * last_col for _ in range(depth)]
    merges: list[str] = []
    # (first row offset, last row offset, lines needed) per head cell, to size the head rows.
    needs: list[tuple[int, int, int]] = []

    def merge(c1: int, r1: int, c2: int, r2: int) -> None:
        if (c1, r1) != (c2, r2):
            merges.append(CellRange(min_col=c1, min_row=r1, max_col=c2, max_row=r2).coord)

    for col, text in enumerate(FIXED_HEADS, start=1):
        grid[0][col - 1] = text
        merge(col, head_start, col, last_head)
        needs.append((0, depth - 1, _lines(text, _col_width(col))))

    ordered = sorted(paths)
    for level in range(depth):
        k = 0
        while k < len(ordered):
            col = ordered[k]
            path = paths[col]
            if len(path) <= level:
                k += 1
                continue
            # A run of adjacent columns sharing the path prefix up to this level is one head cell.
            end = k
            while (
                end + 1 < len(ordered)
                and ordered[end + 1] == ordered[end] + 1
                and paths[ordered[end + 1]][: level + 1] == path[: level + 1]
            ):
                end += 1
            c2 = ordered[end]
            leaf = end == k and len(path) == level + 1
            bottom = depth - 1 if leaf else level  # a short path reaches down to the last head row
            grid[level][col - 1] = path[level]
            merge(col, head_start + level, c2, head_start + bottom)
            width = sum(_col_width(c) for c in range(col, c2 + 1))
            needs.append((level, bottom, _lines(path[level], width)))
            k = end + 1

    heights = [LINE_HEIGHT] * depth
    for first, last, lines in sorted(needs, key=lambda n: n[1] - n[0]):
        # Single-row cells first; a merged cell taller than its rows adds the rest to its last row.
        need = lines * LINE_HEIGHT + 4
        have = sum(heights[first : last + 1])
        if need > have:
            heights[last] += need - have

    label_width = _col_width(2)
    data_rows = []
    for row in rows:
        label = row.label_vi
        lines = _lines(label, label_width)
        data_rows.append(
            _DataRow(
                tt=row.tt,
                label=label,
                unit=row.unit,
                code=row.code,
                not_applicable=frozenset(row.not_applicable),
                height=lines * LINE_HEIGHT + 2 if lines > 1 else None,
            )
        )

    number_row = last_head + 1
    code_rows = {r.code: number_row + 1 + i for i, r in enumerate(data_rows) if r.code is not None}
    return _SheetLayout(
        name=sheet.name,
        title_block=sheet.title_block,
        heading_vi=sheet.heading_vi,
        footer_vi=sheet.footer_vi,
        last_col=last_col,
        value_cols=value_cols,
        heading_row=heading_row,
        head_start=head_start,
        depth=depth,
        head_grid=tuple(tuple(r) for r in grid),
        head_heights=tuple(heights),
        merges=tuple(merges),
        number_row=number_row,
        data_start=number_row + 1,
        rows=tuple(data_rows),
        code_rows=code_rows,
    )


def cell_ref(form: Form, code: int, key: str) -> tuple[str, str]:
    """(sheet name, cell such as "E12") where a form's cell (row code, column key) is printed.

    For the Errors sheet: relation problems on cells point at the printed cell.
    """
    for name, lay in _layouts(form).items():
        if code in lay.code_rows:
            for col, k, _ in lay.value_cols:
                if k == key:
                    return name, f"{get_column_letter(col)}{lay.code_rows[code]}"
            raise KeyError(f"column {key!r} is not on sheet {name}")
    raise KeyError(f"row code {code} is not in form {form.form}")


# ---------------------------------------------------------------------------------------------
# Writing


def _text(value: object) -> str:
    """Printable text: control characters removed (openpyxl rejects them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


class _Cells:
    """Makes styled write-only cells for one worksheet."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._arrays: dict[str, Any] = {}  # style name -> the cell style array it sets

    def __call__(self, value: object = None, style: str | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        if isinstance(value, str):
            # Set the text directly: openpyxl takes a leading "=" (bad source data) for a formula.
            cell._value = _text(value)
            cell.data_type = "s"
        elif value is not None:
            cell.value = value
        if style:
            array = self._arrays.get(style)
            if array is None:
                cell.style = style  # the public way, once per style
                self._arrays[style] = copy(cell._style)
            else:
                # What `cell.style = name` ends with, minus a lookup by name for every cell.
                cell._style = copy(array)
        return cell


def _put(row: list[Any], col: int, cell: Any) -> None:
    """Place a cell at a 1-based column in a row being built (rows are appended whole)."""
    while len(row) < col:
        row.append(None)
    row[col - 1] = cell


def _number(value: object) -> tuple[float | int, str]:
    """A cell value and its style: integral numbers (also numpy's) print as integers.

    None and NaN count as missing, i.e. 0, like an absent key.
    """
    if value is None:
        return 0, "es_num"
    if isinstance(value, numbers.Integral):
        return int(value), "es_num"
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return 0, "es_num"
    if number.is_integer():
        return int(number), "es_num"
    return number, "es_num_dec"


def _write_sheet(
    wb: Workbook,
    form: Form,
    lay: _SheetLayout,
    header: UnitHeader,
    values: Mapping[tuple[int, str], float],
    start_year: int,
) -> None:
    ws = wb.create_sheet(lay.name)
    cell = _Cells(ws)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{lay.head_start}:{lay.number_row}"
    ws.freeze_panes = f"E{lay.data_start}"
    for col in range(1, lay.last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = _col_width(col)

    # Title block.
    provisional = form.status != "official"
    as_of = form.as_of_vi.format(start_year=start_year, end_year=start_year + 1)
    code = f"Biểu số\n{form.code_printed}"  # two lines: column A is narrow
    if lay.title_block:
        top = [
            (form.title_vi, "es_title", "- Đơn vị báo cáo:"),
            (form.period_vi, "es_text", header.reporting_unit_vi),
            (as_of, "es_text_italic", "- Đơn vị nhận báo cáo:"),
            (PROVISIONAL_NOTE if provisional else None, "es_note", header.receiving_unit_vi),
        ]
        d_styles = ("es_text", "es_text_bold", "es_text", "es_text_bold")
    else:
        top = [
            (form.title_vi, "es_title", f"- Đơn vị báo cáo: {header.reporting_unit_vi}"),
            (
                f"{form.period_vi} {as_of}",
                "es_text_italic",
                f"- Đơn vị nhận báo cáo: {header.receiving_unit_vi}",
            ),
            (PROVISIONAL_NOTE if provisional else None, "es_note", None),
        ]
        d_styles = ("es_text", "es_text", "es_text")
    ws.merged_cells.add(CellRange(min_col=1, min_row=1, max_col=1, max_row=2 + 2 * lay.title_block))
    for r, ((b_text, b_style, d_text), d_style) in enumerate(zip(top, d_styles, strict=True), 1):
        out: list[Any] = [cell(code, "es_code") if r == 1 else None]
        if b_text is not None:
            _put(out, 2, cell(b_text, b_style))
        if d_text is not None:
            _put(out, 4, cell(d_text, d_style))
        if b_style == "es_note" and b_text is not None:
            ws.row_dimensions[r].height = 2 * LINE_HEIGHT + 2
        ws.append(out)
    for _ in range(lay.heading_row - 1 - len(top)):
        ws.append([])
    ws.append([None, cell(lay.heading_vi, "es_heading")])

    # Column heads, then the column-number row.
    for level, texts in enumerate(lay.head_grid):
        ws.row_dimensions[lay.head_start + level].height = lay.head_heights[level]
        ws.append([cell(t, "es_head") for t in texts])
    for ref in lay.merges:
        ws.merged_cells.add(CellRange(ref))
    # Column-number row: letters under TT / Chỉ tiêu / Đơn vị tính as in the real export ("A, B, C,
    # 1, 2, 3"); the Mã số cell stays empty because the export lists no letter for it.
    numbers: list[Any] = [cell(c, "es_colno") for c in ("A", "B", "C")]
    numbers.append(cell(None, "es_colno"))
    for col, _, number in lay.value_cols:
        _put(numbers, col, cell(number, "es_colno"))
    ws.append([c if c is not None else cell(None, "es_colno") for c in numbers])

    # Data rows.
    scale, scaled = form.display_scale, _scaled_style(form)
    blank = [None] * lay.last_col
    for i, row in enumerate(lay.rows):
        if row.height:
            ws.row_dimensions[lay.data_start + i].height = row.height
        out = list(blank)
        out[0] = cell(row.tt, "es_tt")
        if row.code is None:
            out[1] = cell(row.label, "es_label_italic")
            out[2] = cell(None, "es_cell")
            out[3] = cell(None, "es_cell")
            for col, _, _ in lay.value_cols:
                out[col - 1] = cell(None, "es_cell")
        else:
            out[1] = cell(row.label, "es_label")
            out[2] = cell(row.unit, "es_center")
            out[3] = cell(row.code, "es_center")
            for col, key, _ in lay.value_cols:
                if key in row.not_applicable:
                    out[col - 1] = cell("#", "es_center")
                elif scale != 1:
                    # Whole đồng (say) printed in a larger unit (triệu đồng) with fixed decimals.
                    value, _ = _number(values.get((row.code, key), 0))
                    out[col - 1] = cell(value / scale, scaled)
                else:
                    value, style = _number(values.get((row.code, key), 0))
                    out[col - 1] = cell(value, style)
        ws.append([c if c is not None else cell(None, "es_cell") for c in out])

    if lay.footer_vi:
        ws.append([])
        ws.append([None, cell(lay.footer_vi, "es_text_italic")])


INDICATORS_SHEET = "Chỉ tiêu"
INDICATOR_HEADS = ("Mã\n(Code)", "Chỉ tiêu", "Indicator", "Tử số\n(Numerator)", "Mẫu số\n(Denominator)",
                   "Giá trị\n(Value)", "Trạng thái\n(Status)")  # fmt: skip
INDICATOR_WIDTHS = (10, 50, 45, 14, 14, 12, 12)


def _write_indicators(wb: Workbook, indicators: Sequence[IndicatorLine]) -> None:
    """The national indicators the form feeds (schemas/indicators), with numerator and denominator."""
    ws = wb.create_sheet(INDICATORS_SHEET)
    cell = _Cells(ws)
    for col, width in enumerate(INDICATOR_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 2 * LINE_HEIGHT + 4
    ws.append([cell(h, "es_head") for h in INDICATOR_HEADS])
    for i in indicators:
        # A ratio over a zero denominator has no value: the cell stays empty, never 0.
        numbers = [None if v is None else cell(*_number(v)) for v in (i.numerator, i.denominator, i.value)]
        ws.append([cell(i.indicator_id, "es_err"), cell(i.name_vi, "es_err"), cell(i.name_en, "es_err"), *numbers,
                   cell("suy luận / inferred" if i.status == "inferred" else "", "es_err")])  # fmt: skip


def _write_errors(wb: Workbook, errors: Sequence[ErrorLine]) -> None:
    ws = wb.create_sheet(ERRORS_SHEET)
    cell = _Cells(ws)
    for col, width in enumerate(ERROR_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.row_dimensions[1].height = 2 * LINE_HEIGHT + 4
    ws.append([cell(h, "es_head") for h in ERROR_HEADS])
    if not errors:
        ws.append([cell(NO_PROBLEMS, "es_text")])
        return
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ERROR_HEADS))}{len(errors) + 1}"
    for e in errors:
        texts = (
            e.school_code,
            e.file,
            e.record,
            e.field,
            e.value,
            e.rule_id,
            SEVERITY_VI.get(e.severity, e.severity),
            e.message_vi,
            e.message_en,
            e.sheet,
            e.cell,
        )
        ws.append([cell(None if t is None else str(t), "es_err") for t in texts])


def write_form_workbook(
    path: Path,
    form: Form,
    header: UnitHeader,
    values: Mapping[tuple[int, str], float],
    errors: Sequence[ErrorLine],
    start_year: int,
    indicators: Sequence[IndicatorLine] = (),
) -> None:
    """Write one unit's form as an .xlsx: a sheet per form section, the unit's indicators (if
    any, on a "Chỉ tiêu" sheet), then the Errors sheet.

    `values` maps (row code, column key) to a number; a missing key prints 0, and a column in a
    row's `not_applicable` prints "#".
    """
    wb = Workbook(write_only=True)
    wb.properties.creator = "edustat"
    wb.properties.title = f"{form.code_printed} {form.title_vi}"
    _add_styles(wb, form)
    layouts = _layouts(form)
    for sheet in form.sheets:
        _write_sheet(wb, form, layouts[sheet.name], header, values, start_year)
    if indicators:
        _write_indicators(wb, indicators)
    _write_errors(wb, errors)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary name first so an interrupted run never leaves a truncated workbook.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _run_job(job: WorkbookJob) -> None:
    write_form_workbook(
        job.path, job.form, job.header, job.values, job.errors, job.start_year, job.indicators
    )


# Under OUT/forms: each workbook's input digest, so a re-run rewrites only the workbooks whose
# inputs changed (after one school resubmits: its own, its Phòng's and the Sở's).
DIGESTS = ".digests.json"


def job_digest(job: WorkbookJob, code: str) -> str:
    """sha256 of everything a workbook is made from: the code and schemas (`code`), the form, the
    unit, its cells, problems and indicators. Equal digests mean equal workbook contents."""
    inputs = (job.form.regime, job.form.form, job.header, sorted(job.values.items()), job.errors,
              job.start_year, job.indicators)  # fmt: skip
    return hashlib.sha256(f"{code}\0{inputs!r}".encode()).hexdigest()


def write_changed_workbooks(jobs: Sequence[WorkbookJob], folder: Path, processes: int = 2) -> int:
    """Write the jobs whose workbook is missing or was made from other inputs (by job_digest, kept
    in folder/DIGESTS); return how many were written."""
    from pipelines.release import code_digest

    if not jobs:
        return 0
    code = code_digest()
    index_path = folder / DIGESTS
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    digests = {job.path.relative_to(folder).as_posix(): job_digest(job, code) for job in jobs}
    todo = [(rel, job) for rel, job in zip(digests, jobs, strict=True)
            if index.get(rel) != digests[rel] or not job.path.exists()]  # fmt: skip
    # Forget the digests of the workbooks about to be rewritten first: a run killed half-way must
    # not leave a new workbook under an old digest.
    for rel, _ in todo:
        index.pop(rel, None)
    folder.mkdir(parents=True, exist_ok=True)
    _save_index(index_path, index)
    write_workbooks([job for _, job in todo], processes)
    _save_index(index_path, {**index, **digests})
    return len(todo)


def _save_index(path: Path, index: dict[str, str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(index, sort_keys=True, indent=0), encoding="utf-8")
    os.replace(tmp, path)


def write_workbooks(jobs: Sequence[WorkbookJob], processes: int = 2) -> None:
    """Write many workbooks, in a process pool (chunks of jobs per task) when it pays off."""
    if processes <= 1 or len(jobs) < MIN_JOBS_FOR_POOL:
        for job in jobs:
            _run_job(job)
        return
    # A few chunks per worker: large enough to amortise the pickling round trips, small enough
    # to balance the load at the end of the run.
    chunksize = max(1, math.ceil(len(jobs) / (processes * 4)))
    with ProcessPoolExecutor(max_workers=processes) as pool:
        for _ in pool.map(_run_job, jobs, chunksize=chunksize):
            pass


# ---------------------------------------------------------------------------------------------
# Normalised dump for golden tests


def dump_workbook(path: Path) -> dict[str, Any]:
    """Sheets in order with merged ranges, non-empty cells and freeze panes (no save times)."""
    wb = load_workbook(path)
    sheets = []
    for ws in wb.worksheets:
        cells: dict[str, dict[str, Any]] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None or c.value == "":
                    continue
                entry: dict[str, Any] = {"value": c.value}
                if isinstance(c.value, int | float) and not isinstance(c.value, bool):
                    entry["number_format"] = c.number_format
                cells[c.coordinate] = entry
        sheets.append(
            {
                "title": ws.title,
                "merged": sorted(str(r) for r in ws.merged_cells.ranges),
                "freeze_panes": ws.freeze_panes,
                "cells": cells,
            }
        )
    return {"creator": wb.properties.creator, "sheets": sheets}


# ---------------------------------------------------------------------------------------------
# One period's outputs: every unit's workbook, the tidy cells, the problem list, the summary

PROBLEM_COLUMNS = ("level", "unit_code", *ErrorLine.__dataclass_fields__)
_LEVEL_ORDER = "CASE level WHEN 'school' THEN 0 WHEN 'phong' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class ExportResult:
    workbooks: int
    summary_text: str
    workbooks_written: int = 0  # the others were unchanged since the last run (write_changed_workbooks)


def _record_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, ErrorLine]]:
    """Registry, file and record problems of a run, each tied to its school."""
    paths = {s.entity: s.json_path for s in catalog.sources()}
    out = []
    for row, code, outcome, vi, en in con.execute(
        "SELECT excel_row, school_code, outcome, message_vi, message_en FROM registry_problems ORDER BY excel_row"
    ).fetchall():
        line = ErrorLine(
            code,
            "registry.xlsx",
            f"dòng/row {row}",
            None,
            None,
            f"registry.{outcome}",
            "warning",
            vi,
            en,
        )
        out.append(("school", code, line))
    for file, code, reason, vi, en in con.execute(
        "SELECT file, school_code, reason, message_vi, message_en FROM files "
        "WHERE run_id = ? AND status = 'rejected' ORDER BY file",
        [run_id],
    ).fetchall():
        out.append(("school", code, ErrorLine(code, file, None, None, None, reason, "error", vi, en)))
    for code, file, entity, index, field_, value, rule, severity, vi, en in con.execute(
        "SELECT school_code, file, entity, record_index, field, value, rule_id, severity, message_vi, message_en "
        "FROM validation_results WHERE run_id = ? ORDER BY school_code, file, entity, record_index, rule_id",
        [run_id],
    ).fetchall():
        record = paths.get(entity, entity) + ("" if entity == "school" else f"[{index}]")
        out.append(("school", code, ErrorLine(code, file, record, field_, value, rule, severity, vi, en)))
    return out


def _relation_problems(
    con: duckdb.DuckDBPyConnection, run_id: str, forms: Sequence[Form]
) -> list[tuple[str, str, ErrorLine]]:
    """Broken form relations, each pointing at the printed cell of its unit's workbook."""
    by_name = {f.form: f for f in forms}
    out = []
    for form_name, level, unit, rel, check, basis, row, col, lhs, rhs in con.execute(
        "SELECT form, level, unit_code, relation_id, check_text, basis, row_code, col_key, lhs, rhs "
        "FROM relation_violations WHERE run_id = ? ORDER BY ALL",
        [run_id],
    ).fetchall():
        form = by_name[form_name]
        if form.display_scale != 1:  # in the unit the workbook prints (e.g. triệu đồng)
            money = next((r.unit for r in form.cell_rows if r.code == row), None) or ""
            lhs, rhs = (f"{printed_value(form, v)} {money}".strip() for v in (lhs, rhs))
        where_vi = f"Mã số {row}" + (f", cột {col}" if col else "")
        sheet = cell = None
        if col:
            sheet, cell = cell_ref(form, row, col)
        vi = (
            f"{form.code_printed}: quan hệ {check} không thỏa ({where_vi}: {lhs} so với {rhs}; cơ sở {basis})"
        )
        en = f"{form.code_printed}: relation {check} does not hold (row {row}{', column ' + col if col else ''}: {lhs} against {rhs}; basis {basis})"
        school = unit if level == "school" else None
        out.append(
            (
                level,
                unit,
                ErrorLine(school, None, None, None, f"{lhs} / {rhs}", rel, "warning", vi, en, sheet, cell),
            )
        )
    return out


def _write_problems_csv(path: Path, problems: list[tuple[str, str, ErrorLine]]) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PROBLEM_COLUMNS)
        for level, unit, line in problems:
            writer.writerow([level, unit, *(getattr(line, f) for f in ErrorLine.__dataclass_fields__)])


def export_period(
    con: duckdb.DuckDBPyConnection,
    s: Settings,
    forms: Sequence[Form],
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write every unit's workbooks, cells.csv/.parquet, problems.csv, summary.md and README.md."""
    s.out.mkdir(parents=True, exist_ok=True)
    # This run's units only: the warehouse may hold other provinces' cells of the same period.
    period_sql = (f"school_year = '{s.school_year}' AND period = '{s.period}' "
                  "AND (level, unit_code) IN (SELECT level, unit_code FROM units)")  # fmt: skip
    cells_sql = (f"SELECT {', '.join(CELLS_COLUMNS)} FROM cells WHERE {period_sql} "
                 f"ORDER BY form, {_LEVEL_ORDER}, unit_code, row_code, col_key")  # fmt: skip
    con.execute(f"COPY ({cells_sql}) TO '{s.out / 'cells.csv'}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY ({cells_sql}) TO '{s.out / 'cells.parquet'}' (FORMAT parquet)")
    # Indicators exist on both boundary versions; the run's outputs give those of its own.
    indicator_sql = f"{period_sql} AND boundaries = '{s.boundaries}'"
    indicators_sql = (f"SELECT {', '.join(INDICATOR_COLUMNS)} FROM indicators WHERE {indicator_sql} "
                      f"ORDER BY form, {_LEVEL_ORDER}, unit_code, indicator_id")  # fmt: skip
    con.execute(f"COPY ({indicators_sql}) TO '{s.out / 'indicators.csv'}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY ({indicators_sql}) TO '{s.out / 'indicators.parquet'}' (FORMAT parquet)")
    # The same cells and indicators for statistical-office systems: SDMX structure + SDMX-CSV.
    sdmx_export.export_sdmx(con, s.out / "sdmx", s.school_year, s.period, s.boundaries, forms)
    unit_indicators: dict[tuple[str, str, str], list[IndicatorLine]] = {}
    for form_name, level, unit, *line in con.execute(
        f"SELECT form, level, unit_code, indicator_id, name_vi, name_en, numerator, denominator, value, status "
        f"FROM indicators WHERE {indicator_sql} AND level IN ('phong', 'so') ORDER BY ALL"
    ).fetchall():
        unit_indicators.setdefault((form_name, level, unit), []).append(IndicatorLine(*line))

    problems = _record_problems(con, s.run_id) + _relation_problems(con, s.run_id, forms)
    _write_problems_csv(s.out / "problems.csv", problems)
    units = {
        (lv, code): (name, plv, pcode)
        for lv, code, name, plv, pcode in con.execute("SELECT * FROM units").fetchall()
    }
    # A unit's Errors sheet lists the problems of the schools below it and its own broken relations.
    by_unit: dict[tuple[str, str], list[ErrorLine]] = {}
    for level, unit, line in problems:
        by_unit.setdefault((level, unit), []).append(line)
        if level == "school":
            parent = units.get(("school", unit), (None, None, None))
            if parent[1] == "phong":
                by_unit.setdefault(("phong", parent[2]), []).append(line)
            by_unit.setdefault(("so", "*"), []).append(line)

    jobs = []
    for form in forms:
        values: dict[tuple[str, str], dict[tuple[int, str], float]] = {}
        for level, unit, row, col, value in con.execute(
            f"SELECT level, unit_code, row_code, col_key, value FROM cells WHERE {period_sql} AND form = ? AND value <> 0",
            [form.form],
        ).fetchall():
            values.setdefault((level, unit), {})[(row, col)] = value
        for level, unit in con.execute(
            f"SELECT DISTINCT level, unit_code FROM cells WHERE {period_sql} AND form = ? ORDER BY ALL",
            [form.form],
        ).fetchall():
            name, parent_level, parent_code = units[(level, unit)]
            header = UnitHeader(level, unit, name, units[(parent_level, parent_code)][0])
            errors = by_unit.get((level, unit), []) + (by_unit.get(("so", "*"), []) if level == "so" else [])
            path = s.out / "forms" / level / unit / f"{form.form}.xlsx"
            indicators = tuple(unit_indicators.get((form.form, level, unit), ()))
            jobs.append(
                WorkbookJob(
                    path, form, header, values.get((level, unit), {}), tuple(errors), s.start_year, indicators
                )
            )
    if progress:
        progress(f"export: {len(jobs)} sổ tính / workbooks …")
    if s.full:
        (s.out / "forms" / DIGESTS).unlink(missing_ok=True)
    written = write_changed_workbooks(jobs, s.out / "forms", processes=s.processes)
    from pipelines import workflow

    workflow.publish(con, s)  # the run's approval states; completeness table, .xlsx and .csv
    text = _summary(con, s, forms, jobs, problems)
    (s.out / "summary.md").write_text(text, encoding="utf-8")
    (s.out / "README.md").write_text(_OUTPUT_README.format(out=s.out), encoding="utf-8")
    from pipelines import quality  # imports this module's styles

    quality.write_reports(con, s)  # errors/ per school, Phòng and Sở; rules.md, rules.html
    return ExportResult(len(jobs), text, written)


def _summary(con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form], jobs: list[WorkbookJob],
             problems: list[tuple[str, str, ErrorLine]]) -> str:  # fmt: skip
    """The run's short report: what was produced, where, what was rejected and why."""
    files = con.execute(
        "SELECT status, count(*) FROM files WHERE run_id = ? GROUP BY status", [s.run_id]
    ).fetchall()
    counts = dict(files)
    staged = con.execute("SELECT count(*) FROM stg_learner").fetchall()[0][0]
    quarantined = con.execute(
        "SELECT entity, count(*) FROM quarantine WHERE run_id = ? GROUP BY entity ORDER BY entity",
        [s.run_id],
    ).fetchall()
    top = con.execute(
        "SELECT rule_id, severity, any_value(message_vi), any_value(message_en), count(*) AS n "
        "FROM validation_results WHERE run_id = ? GROUP BY rule_id, severity ORDER BY n DESC, rule_id LIMIT 10",
        [s.run_id],
    ).fetchall()
    by_level: dict[str, int] = {}
    for job in jobs:
        by_level[job.header.level] = by_level.get(job.header.level, 0) + 1
    relations = sum(1 for lv, _, line in problems if line.rule_id.startswith(tuple(f.form for f in forms)))
    lines = [
        f"# edustat {s.school_year} {s.period} — {', '.join(f.code_printed for f in forms)}",
        "",
        f"- Lượt chạy / run: `{s.run_id}`; đầu ra / outputs: `{s.out}`",
        f"- Tệp nhận / files received: {sum(counts.values())}; nạp / loaded: {counts.get('loaded', 0)}; "
        f"bị từ chối / rejected: {counts.get('rejected', 0)}",
        f"- Học sinh đã nạp / learner records staged: {staged}; bản ghi bị loại / records quarantined: "
        + (", ".join(f"{e} {n}" for e, n in quarantined) or "0"),
        f"- Sổ tính / workbooks: {len(jobs)} ({', '.join(f'{k} {v}' for k, v in sorted(by_level.items()))})",
        f"- Quan hệ biểu mẫu bị vi phạm / broken form relations: {relations}",
        f"- Danh sách vấn đề / problem list: `{s.out / 'problems.csv'}` ({len(problems)} dòng / lines)",
    ]
    rejected = [line for _, _, line in problems if line.rule_id.startswith("file.")]
    if rejected:
        lines += ["", "## Tệp bị từ chối / rejected files", ""]
        lines += [f"- `{r.file}` ({r.school_code or '?'}): {r.message_vi} / {r.message_en}" for r in rejected]
    if top:
        lines += ["", "## Lỗi dữ liệu thường gặp / top validation problems", ""]
        lines += [f"- `{rule}` ({sev}) × {n}: {vi} / {en}" for rule, sev, vi, en, n in top]
    from pipelines import workflow

    lines += workflow.summary_lines(workflow.completeness_rows(con, s))
    return "\n".join(lines) + "\n"


_OUTPUT_README = """# edustat outputs

Folder `{out}`: one reporting period of one province.

- `forms/<level>/<unit_code>/<form>.xlsx`: the form in the official layout for each school
  (`school`), Phòng GDĐT (`phong`) and the Sở (`so`); the `Errors` sheet lists the unit's problems.
- `cells.csv`, `cells.parquet`: the non-zero cells, long format
  (`school_year, period, regime, form, level, unit_code, row_code, col_key, value, boundaries`);
  a printed cell that is absent is 0. Money (the budget form 01-MN-DN-NS) is in whole đồng; its
  workbooks print triệu đồng.
- `indicators.csv`, `indicators.parquet`: the national indicators each unit's forms feed (pupils
  per class, per teacher, teachers per class, counts), each with its numerator and denominator;
  also on the "Chỉ tiêu" sheet of the Phòng and Sở workbooks.
- `sdmx/structure.xml`, `sdmx/cells.sdmx.csv`, `sdmx/indicators.sdmx.csv`: the same cells and
  indicators for statistical-office systems: an SDMX-ML 2.1 structure message (code lists, data
  structure definitions) and SDMX-CSV 2.0 data files; TIME_PERIOD is the period's as-of date.
- `problems.csv`: every problem of the run (registry rows, rejected files, invalid records, broken
  form relations), in Vietnamese and English, with school, file, record, field and value.
- `errors/<phong_or_so_code>/<school_code>.xlsx|.csv`: each school's problems, one row each, with
  the file, list, record position (from 1), class and grade to find the record (only schools with
  problems); `errors/summary_<level>_<code>.xlsx` (+ `_rules.csv`, `_schools.csv`): each Phòng's
  and the Sở's problems by rule and by school.
- `rules.md`, `rules.html`: every validation rule with its id, severity, meaning and source;
  `fields.md`: every input field with its type, code list and treatment of personal data.
- `data_docs/index.html`: Great Expectations' Data Docs of the run's validation.
- `completeness.xlsx`, `completeness.csv`, `completeness_schools.csv`: per Phòng and Sở, schools
  expected, received, on time, late, missing and pending against the period's deadlines, and each
  unit's approval state; per school, its status, versions and state.
- `summary.md`: the run's summary.
"""
