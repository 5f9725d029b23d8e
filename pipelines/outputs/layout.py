"""The layout of one (form, sheet), computed once: where every text and cell of the form is printed.

As the real export of the national database (reference forms/NOTES.md §2.1; the reference's source
rows give each printed row's worksheet row): the first sheet carries the title block (B1 title, B2
period, B3 as-of date, D1-D4 the reporting and receiving units), its heading on row 6, column heads
from row 7, the column-number row under them (row 8) and its rows from row 9; every other sheet
starts with its column heads on row 1. Column heads are multi-row merged cells: a head such as
"Tổng số / Dân tộc thiểu số - Nữ" is three head rows ("Tổng số" over "Dân tộc thiểu số" over
"Nữ"; " / " and " - " both separate levels, as the reference writes them). The column-number row
prints A, B, C under Chỉ tiêu, Đơn vị tính and Mã số and 1…N under the value columns. Under the
rows: the sheet's note (if any) and a signature block, as ministry forms have.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from pipelines.catalog import Form, Row, Sheet
from pipelines.outputs.xlsx import col_letter, rng

FIXED_HEADS = ("TT", "Chỉ tiêu", "Đơn vị tính", "Mã số")  # columns A–D
FIXED_LETTERS = (None, "A", "B", "C")  # the column-number row under A–D
FIXED_WIDTHS = (9.0, 42.0, 8.0, 6.0)
# Value columns, in characters, by the unit's level (a Sở's totals have more digits than a school's);
# a money form's (display_scale) are wider.
VALUE_WIDTHS = {"school": 8.0, "phong": 9.0, "so": 10.0}
MONEY_WIDTH = 13.0
CHARS_PER_WIDTH = 1.2  # Vietnamese characters of Times New Roman 11 per width unit (measured in LibreOffice)
LINE_HEIGHT = 15.0  # points per text line in Times New Roman 11
TITLE_ROWS = 4  # B1-B4 and D1-D4 on the first sheet; a blank row, then its heading
SIGNATURE = (
    ("…, ngày … tháng … năm …", None),
    ("Người lập biểu", "Thủ trưởng đơn vị"),
    ("(Ký, họ tên)", "(Ký tên, đóng dấu)"),
)
SIGNATURE_SPACE = 4  # empty rows left for the signatures and the stamp
_ROMAN = re.compile(r"^[IVX]+\.?$")
INDENTS = {"indent": 1, "indent2": 2}
BOLD = (
    0.9  # bold text is about a tenth wider  # indent levels of the row styles (a level is about 2 characters)
)


@dataclass(frozen=True)
class DataRow:
    tt: str | None
    label: str
    unit: str | None
    code: int | None  # None: a label row, no cells
    not_applicable: frozenset[str]
    height: float | None
    style: str  # catalog.ROW_STYLES
    printed_as: Mapping[str, str] = field(default_factory=dict, hash=False)  # key → "" or "?" (no figure)


@dataclass(frozen=True)
class SheetLayout:
    name: str
    title_block: bool
    heading_vi: str
    footer_vi: str | None
    last_col: int
    value_cols: tuple[tuple[int, str, int], ...]  # (column index, key, printed number)
    gap_cols: frozenset[int]  # between Mã số and the first value column (hidden, empty)
    heading_row: int | None  # the sheet's heading (first sheet only)
    head_start: int
    depth: int
    head_grid: tuple[tuple[str | None, ...], ...]  # depth rows × last_col texts (None: covered)
    head_heights: tuple[float, ...]
    merges: tuple[str, ...]  # head merges, e.g. "I7:O7"
    groups: tuple[tuple[int, int], ...]  # the top head's runs of columns (kept on one page)
    number_row: int
    data_start: int
    rows: tuple[DataRow, ...]
    code_rows: Mapping[int, int] = field(hash=False)  # row code -> worksheet row number
    footer_row: int | None = None
    signature_row: int = 0  # first row of the signature block

    @property
    def last_row(self) -> int:
        return self.signature_row + len(SIGNATURE) + SIGNATURE_SPACE - 1


# id(form) -> (form, {sheet name: layout}); the form is kept so its id cannot be reused.
_LAYOUTS: dict[int, tuple[Form, dict[str, SheetLayout]]] = {}


def layouts(form: Form) -> dict[str, SheetLayout]:
    """Layouts of every sheet of a form, cached by form identity (forms are frozen)."""
    hit = _LAYOUTS.get(id(form))
    if hit is None or hit[0] is not form:
        by_sheet: dict[str, list[Row]] = {s.name: [] for s in form.sheets}
        for row in form.rows:
            by_sheet[row.sheet].append(row)
        found = {s.name: sheet_layout(form, s, by_sheet[s.name]) for s in form.sheets}
        hit = _LAYOUTS[id(form)] = (form, found)
    return hit[1]


@lru_cache(maxsize=1 << 16)
def text_lines(text: str, width: float) -> int:
    """Printed lines of wrapped text in a cell `width` units wide (an estimate, Times New Roman 11;
    remembered: lists repeat the same messages thousands of times)."""
    chars = max(int(width * CHARS_PER_WIDTH) - 1, 1)
    return sum(max(len(textwrap.wrap(part, chars)), 1) for part in text.split("\n"))


def column_index(letters: str) -> int:
    """A → 1, AA → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def head_levels(header_vi: str) -> tuple[str, ...]:
    """The printed levels of a column head: "Tổng số / Dân tộc thiểu số - Nữ" → three."""
    return tuple(p.strip() for level in header_vi.split(" / ") for p in level.split(" - "))


def row_style(row: Row) -> str:
    """How a row prints, unless its YAML says (`style`): roman TT a section, "- " and "+ " parts
    indented, other numbered rows and unnumbered totals bold, rows without cells a label."""
    if row.style:
        return row.style
    label = row.label_vi.lstrip()
    if row.tt and _ROMAN.match(row.tt.strip()):
        return "section"
    if label.startswith("- "):
        return "indent"
    if label.startswith("+ "):
        return "indent2"
    if row.tt:
        return "bold"
    return "label" if row.code is None else "bold"


def value_width(form: Form, level: str) -> float:
    return MONEY_WIDTH if form.display_scale != 1 else VALUE_WIDTHS.get(level, VALUE_WIDTHS["so"])


def col_widths(lay: SheetLayout, form: Form, level: str) -> tuple[float, ...]:
    """Every column's width (A first): the fixed columns (Đơn vị tính as wide as its longest unit),
    gap columns 0, value columns by level."""
    width = value_width(form, level)
    unit = max(
        [FIXED_WIDTHS[2], *(len(r.unit) * 0.95 + 1 for r in lay.rows if r.unit and r.code is not None)]
    )
    fixed = (FIXED_WIDTHS[0], FIXED_WIDTHS[1], round(unit, 1), FIXED_WIDTHS[3])
    return tuple(
        fixed[c - 1] if c <= len(fixed) else 0.0 if c in lay.gap_cols else width
        for c in range(1, lay.last_col + 1)
    )


def sheet_layout(form: Form, sheet: Sheet, rows: list[Row]) -> SheetLayout:
    columns = form.column_sets[sheet.column_set].columns
    value_cols = tuple((column_index(c.excel_col), c.key, c.number) for c in columns)
    last_col = max([len(FIXED_HEADS), *(i for i, _, _ in value_cols)])
    gaps = frozenset(range(len(FIXED_HEADS) + 1, min(i for i, _, _ in value_cols)))
    paths = {i: head_levels(c.header_vi) for (i, _, _), c in zip(value_cols, columns, strict=True)}
    depth = max(len(p) for p in paths.values())
    heading_row = TITLE_ROWS + 2 if sheet.title_block else None
    head_start = (heading_row + 1) if heading_row else 1
    last_head = head_start + depth - 1
    width = value_width(form, "school")  # the narrowest: heads tall enough at every level

    grid: list[list[str | None]] = [[None] * last_col for _ in range(depth)]
    merges: list[str] = []
    needs: list[tuple[int, int, int]] = []  # (first row offset, last row offset, lines) per head cell

    def merge(c1: int, r1: int, c2: int, r2: int) -> None:
        if (c1, r1) != (c2, r2):
            merges.append(rng(r1, c1, r2, c2))

    for col in (*range(1, len(FIXED_HEADS) + 1), *sorted(gaps)):
        text = FIXED_HEADS[col - 1] if col <= len(FIXED_HEADS) else None
        grid[0][col - 1] = text
        merge(col, head_start, col, last_head)
        if text:
            needs.append((0, depth - 1, text_lines(text, FIXED_WIDTHS[col - 1] * BOLD)))

    ordered = sorted(paths)
    groups: list[tuple[int, int]] = []
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
            if level == 0:
                groups.append((col, c2))
            needs.append((level, bottom, text_lines(path[level], width * (c2 - col + 1) * BOLD)))
            k = end + 1

    heights = [LINE_HEIGHT] * depth
    for first, last, lines in sorted(needs, key=lambda n: n[1] - n[0]):
        # Single-row cells first; a merged cell taller than its rows adds the rest to its last row.
        need = lines * LINE_HEIGHT + 4
        have = sum(heights[first : last + 1])
        if need > have:
            heights[last] += need - have

    data_rows = []
    for row in rows:
        style = row_style(row)
        lines = text_lines(row.label_vi, FIXED_WIDTHS[1] - 1 - INDENTS.get(style, 0))
        data_rows.append(DataRow(tt=row.tt, label=row.label_vi, unit=row.unit, code=row.code,
                                 not_applicable=frozenset(row.not_applicable),
                                 height=lines * LINE_HEIGHT + 2 if lines > 1 else None, style=style,
                                 printed_as=dict(row.printed_as)))  # fmt: skip

    number_row = last_head + 1
    data_start = number_row + 1
    code_rows = {r.code: data_start + i for i, r in enumerate(data_rows) if r.code is not None}
    after = data_start + len(data_rows)  # a blank row, then the note, then the signature block
    footer_row = after + 1 if sheet.footer_vi else None
    return SheetLayout(
        name=sheet.name,
        title_block=sheet.title_block,
        heading_vi=sheet.heading_vi,
        footer_vi=sheet.footer_vi,
        last_col=last_col,
        value_cols=value_cols,
        gap_cols=gaps,
        heading_row=heading_row,
        head_start=head_start,
        depth=depth,
        head_grid=tuple(tuple(r) for r in grid),
        head_heights=tuple(heights),
        merges=tuple(merges),
        groups=tuple(groups),
        number_row=number_row,
        data_start=data_start,
        rows=tuple(data_rows),
        code_rows=code_rows,
        footer_row=footer_row,
        signature_row=(footer_row or after) + 2,
    )


def cell_ref(form: Form, code: int, key: str) -> tuple[str, str]:
    """(sheet name, cell such as "E12") where a form's cell (row code, column key) is printed.

    For the Errors sheet: relation problems on cells point at the printed cell.
    """
    for name, lay in layouts(form).items():
        if code in lay.code_rows:
            for col, k, _ in lay.value_cols:
                if k == key:
                    return name, f"{col_letter(col)}{lay.code_rows[code]}"
            raise KeyError(f"column {key!r} is not on sheet {name}")
    raise KeyError(f"row code {code} is not in form {form.form}")
