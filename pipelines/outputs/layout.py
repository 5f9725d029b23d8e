"""The layout of one (form, sheet), computed once: the title block, the merged multi-row column
heads, the column-number row and the data rows, and where each cell of the form is printed."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from pipelines.catalog import Form, Row, Sheet
from pipelines.outputs.styles import LINE_HEIGHT

FIXED_HEADS = ("TT", "Chỉ tiêu", "Đơn vị tính", "Mã số")  # columns A–D
FIXED_WIDTHS = (10, 55, 9, 7)
VALUE_WIDTH = 11
CHARS_PER_WIDTH = 1.4


@dataclass(frozen=True)
class DataRow:
    tt: str | None
    label: str
    unit: str | None
    code: int | None  # None: a label row, no cells
    not_applicable: frozenset[str]
    height: float | None


@dataclass(frozen=True)
class SheetLayout:
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
    rows: tuple[DataRow, ...]
    code_rows: Mapping[int, int] = field(hash=False)  # row code -> worksheet row number


# id(form) -> (form, {sheet name: layout}); the form is kept so its id cannot be reused.
_LAYOUTS: dict[int, tuple[Form, dict[str, SheetLayout]]] = {}


def layouts(form: Form) -> dict[str, SheetLayout]:
    """Layouts of every sheet of a form, cached by form identity (forms are frozen)."""
    hit = _LAYOUTS.get(id(form))
    if hit is None or hit[0] is not form:
        by_sheet: dict[str, list[Row]] = {s.name: [] for s in form.sheets}
        for row in form.rows:
            by_sheet[row.sheet].append(row)
        layouts = {s.name: sheet_layout(form, s, by_sheet[s.name]) for s in form.sheets}
        hit = _LAYOUTS[id(form)] = (form, layouts)
    return hit[1]


def text_lines(text: str, width: float) -> int:
    """Printed lines of wrapped text in a cell `width` units wide (an estimate).

    A width unit is one digit of the default font; Times New Roman 11 fits about 1.4 average
    Vietnamese characters in it (measured on a LibreOffice rendering).
    """
    chars = max(int(width * CHARS_PER_WIDTH) - 2, 1)
    return sum(max(len(textwrap.wrap(part, chars)), 1) for part in text.split("\n"))


def col_width(col: int) -> float:
    return FIXED_WIDTHS[col - 1] if col <= len(FIXED_WIDTHS) else VALUE_WIDTH


def title_rows(title_block: bool) -> int:
    # Full block: B1 title, B2 period, B3 as-of date, B4 note; D1–D4 the units. Short block:
    # B1 title, B2 period and date, B3 note; D1–D2 the units. A blank row, then the heading.
    return 5 if title_block else 3


def sheet_layout(form: Form, sheet: Sheet, rows: list[Row]) -> SheetLayout:
    columns = form.column_sets[sheet.column_set].columns
    value_cols = tuple((column_index_from_string(c.excel_col), c.key, c.number) for c in columns)
    last_col = max([len(FIXED_HEADS), *(i for i, _, _ in value_cols)])
    paths = {
        i: tuple(p.strip() for p in c.header_vi.split(" / "))
        for (i, _, _), c in zip(value_cols, columns, strict=True)
    }
    depth = max(len(p) for p in paths.values())
    heading_row = title_rows(sheet.title_block) + 1
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
        needs.append((0, depth - 1, text_lines(text, col_width(col))))

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
            width = sum(col_width(c) for c in range(col, c2 + 1))
            needs.append((level, bottom, text_lines(path[level], width)))
            k = end + 1

    heights = [LINE_HEIGHT] * depth
    for first, last, lines in sorted(needs, key=lambda n: n[1] - n[0]):
        # Single-row cells first; a merged cell taller than its rows adds the rest to its last row.
        need = lines * LINE_HEIGHT + 4
        have = sum(heights[first : last + 1])
        if need > have:
            heights[last] += need - have

    label_width = col_width(2)
    data_rows = []
    for row in rows:
        label = row.label_vi
        lines = text_lines(label, label_width)
        data_rows.append(
            DataRow(
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
    return SheetLayout(
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
    for name, lay in layouts(form).items():
        if code in lay.code_rows:
            for col, k, _ in lay.value_cols:
                if k == key:
                    return name, f"{get_column_letter(col)}{lay.code_rows[code]}"
            raise KeyError(f"column {key!r} is not on sheet {name}")
    raise KeyError(f"row code {code} is not in form {form.form}")
