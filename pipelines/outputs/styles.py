"""The look of every edustat workbook: named styles built once and registered per workbook, and a
maker of styled write-only cells (text always as text, never a formula)."""

from __future__ import annotations

import math
import numbers
from copy import copy
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side

from pipelines.catalog import Form

LINE_HEIGHT = 15.0  # points per text line in Times New Roman 11
NUMBER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0#"
NO_PROBLEMS = "Không có lỗi / No problems"
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}

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


def add_styles(wb: Workbook, form: Form | None = None) -> None:
    """Register the named styles in a new workbook (a NamedStyle binds to one workbook), and the
    style of a form's scaled numbers (see _scaled_style)."""
    for name, spec in _STYLE_SPECS.items():
        wb.add_named_style(NamedStyle(name=name, **spec))
    if form is not None and form.display_scale != 1:
        spec = {**_STYLE_SPECS["es_num"], "number_format": scaled_format(form.display_decimals)}
        wb.add_named_style(NamedStyle(name=scaled_style(form), **spec))


def scaled_format(decimals: int) -> str:
    return NUMBER_FORMAT + ("." + "0" * decimals if decimals else "")


def scaled_style(form: Form) -> str:
    """The style of a scaled form's value cells: a fixed number of decimals (e.g. triệu đồng, 3)."""
    return f"es_num_scaled{form.display_decimals}"


def printed_value(form: Form, value: float | int) -> str:
    """A stored cell value as the workbook prints it (a scaled form divides it, exactly)."""
    if form.display_scale == 1:
        return str(value)
    return format(Decimal(int(value)) / form.display_scale, "f")


def printable(value: object) -> str:
    """Printable text: control characters removed (openpyxl rejects them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


class Cells:
    """Makes styled write-only cells for one worksheet."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._arrays: dict[str, Any] = {}  # style name -> the cell style array it sets

    def __call__(self, value: object = None, style: str | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws)
        if isinstance(value, str):
            # Set the text directly: openpyxl takes a leading "=" (bad source data) for a formula.
            cell._value = printable(value)
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


def put(row: list[Any], col: int, cell: Any) -> None:
    """Place a cell at a 1-based column in a row being built (rows are appended whole)."""
    while len(row) < col:
        row.append(None)
    row[col - 1] = cell


def number_cell(value: object) -> tuple[float | int, str]:
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
