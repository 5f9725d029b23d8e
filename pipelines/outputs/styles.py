"""The look of every edustat workbook: the styles of the forms, lists and summaries (Times New Roman
as the national database's exports; no font under 10 pt, so a sheet scaled to 80 % still prints at
8 pt or more), number formats, and how a stored value prints."""

from __future__ import annotations

import math
import numbers
from decimal import Decimal

from pipelines.catalog import Form
from pipelines.outputs.xlsx import Style

NUMBER_FORMAT = "#,##0"  # counts: thousands separated, no decimals
DECIMAL_FORMAT = "#,##0.0#"
NO_PROBLEMS = "Không có lỗi / No problems"
SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
SMALLEST_FONT = 10.0  # the smallest font any sheet uses (printing.plan keeps it at 8 pt or more)

TITLE = Style(size=13, bold=True)
TEXT = Style()
TEXT_ITALIC = Style(italic=True)
# Unit names, top-aligned beside a two-line provisional note; wrapped in their merged cells (D to the
# last column): text running past the table would print on a page of its own.
TEXT_BOLD = Style(bold=True, v="top", wrap=True)
TEXT_WRAP = Style(v="top", wrap=True)
TEXT_ITALIC_WRAP = Style(
    italic=True, v="top", wrap=True
)  # a list's note (unwrapped, it widens the print range)
NOTE = Style(bold=True, color="C00000", v="top", wrap=True)
CODE = Style(bold=True, h="center", v="top", wrap=True)
HEADING = Style(size=12, bold=True)
HEAD = Style(bold=True, border=True, h="center", v="center", wrap=True)
COLNO = Style(size=10, italic=True, border=True, h="center", v="center")
TT = Style(border=True, h="left", v="center")
TT_BOLD = Style(bold=True, border=True, h="left", v="center")
LABELS = {  # catalog.ROW_STYLES
    "section": Style(bold=True, border=True, v="center", wrap=True),
    "bold": Style(bold=True, border=True, v="center", wrap=True),
    "plain": Style(border=True, v="center", wrap=True),
    "label": Style(italic=True, border=True, v="center", wrap=True),
    "indent": Style(border=True, h="left", v="center", wrap=True, indent=1),
    "indent2": Style(border=True, h="left", v="center", wrap=True, indent=2),
}
CENTER = Style(border=True, h="center", v="center")
CELL = Style(border=True)
NUM = Style(border=True, h="right", v="center", num=NUMBER_FORMAT)
NUM_DEC = Style(border=True, h="right", v="center", num=DECIMAL_FORMAT)
SIGN_PLACE = Style(italic=True, h="center")
SIGN_TITLE = Style(bold=True, h="center")
SIGN_NOTE = Style(italic=True, h="center")
LIST = Style(border=True, v="top", wrap=True)  # a cell of an error list or summary
LIST_NUM = Style(border=True, v="top", h="right", num=NUMBER_FORMAT)
LIST_HEAD_EN = Style(size=10, italic=True, border=True, h="center", v="center", wrap=True)


def money_formats(decimals: int) -> tuple[str, str]:
    """(whole, fractional) number formats of a money form's cells: a whole number of the printed unit
    prints without decimals; a fraction with as many as it has, up to `decimals`."""
    return NUMBER_FORMAT, NUMBER_FORMAT + ("." + "0" + "#" * (decimals - 1) if decimals else "")


def printed_value(form: Form, value: float | int) -> str:
    """A stored cell value as the workbook prints it (a scaled form divides it, exactly)."""
    if form.display_scale == 1:
        return str(value)
    return format(Decimal(int(value)) / form.display_scale, "f")


def plain_number(value: object) -> float | int:
    """A cell value as a number: integral numbers (also numpy's) as int; None and NaN are 0."""
    if value is None:
        return 0
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return 0
    return int(number) if number.is_integer() else number
