"""Lists people act on (a school's problems, a Phòng's summary, completeness) as printable sheets:
title lines, a note, a Vietnamese heading row with the English under it (both frozen, filtered and
repeated on every printed page), then the rows, wrapped; on A4 (landscape when wide) at 8 pt or
more, with the list's title in the page header and "Trang N / M" in the footer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipelines.outputs import printing, styles, xlsx
from pipelines.outputs.layout import LINE_HEIGHT, text_lines


@dataclass(frozen=True)
class Column:
    vi: str
    en: str
    width: float


def list_sheet(
    book: xlsx.StyleSheet,
    name: str,
    lines: Sequence[str],
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    empty: str = styles.NO_PROBLEMS,
    fill: Callable[[Sequence[Any]], str | None] | None = None,
    header: str = "",
) -> xlsx.Sheet:
    """One sheet: `lines` (the first as title, the last as an italic note) and a blank row if any,
    the heading rows (Vietnamese, and English where a column has it), the rows (`fill(row)`: a
    background colour for the row, or None)."""
    ids = {name: book(st) for name, st in (("title", styles.TITLE), ("text", styles.TEXT_WRAP),
                                           ("note", styles.TEXT_ITALIC_WRAP), ("head", styles.HEAD),
                                           ("en", styles.LIST_HEAD_EN))}  # fmt: skip
    widths = [c.width for c in columns]
    total = sum(widths)
    body = []
    r = 0
    for i, line in enumerate(lines):
        r += 1
        style = (
            ids["title"] if i == 0 else ids["note"] if i == len(lines) - 1 and len(lines) > 1 else ids["text"]
        )
        lines_needed = text_lines(line, total) if i else 1
        body.append(xlsx.row_xml(r, [xlsx.text_cell(r, 1, style, line)],
                                 lines_needed * LINE_HEIGHT + 2 if lines_needed > 1 else None))  # fmt: skip
    merges = [xlsx.rng(k, 1, k, len(columns)) for k in range(1, r + 1)] if len(columns) > 1 else []
    vi_row = r + 2 if lines else 1
    head_lines = max(text_lines(c.vi, c.width) for c in columns)
    body.append(xlsx.row_xml(vi_row, [xlsx.text_cell(vi_row, k, ids["head"], c.vi) for k, c in enumerate(columns, 1)],
                             head_lines * LINE_HEIGHT + 4))  # fmt: skip
    last_head = vi_row
    if any(c.en for c in columns):
        last_head += 1
        en_lines = max(text_lines(c.en, c.width) for c in columns)
        body.append(xlsx.row_xml(last_head, [xlsx.text_cell(last_head, k, ids["en"], c.en)
                                             for k, c in enumerate(columns, 1)], en_lines * 13 + 4))  # fmt: skip
    plain = {(False, None): book(styles.LIST), (True, None): book(styles.LIST_NUM)}
    r = last_head
    for row in rows:
        r += 1
        colour = fill(row) if fill else None
        cells = []
        for k, v in enumerate(row, 1):
            is_num = isinstance(v, int | float) and not isinstance(v, bool)
            s = plain.get((is_num, colour))
            if s is None:
                base = styles.LIST_NUM if is_num else styles.LIST
                s = plain[(is_num, colour)] = book(replace(base, fill=colour))
            cells.append(xlsx.cell(r, k, s, v))
        height = max((text_lines(str(v), c.width) for v, c in zip(row, columns, strict=False) if isinstance(v, str)),
                     default=1)  # fmt: skip
        body.append(xlsx.row_xml(r, cells, height * LINE_HEIGHT + 2 if height > 1 else None))
    if not rows:
        r += 1
        body.append(xlsx.row_xml(r, [xlsx.text_cell(r, 1, ids["text"], empty)]))
    plan = printing.plan(widths, styles.SMALLEST_FONT)
    return xlsx.Sheet(
        name=name,
        rows=body,
        widths=widths,
        merges=merges,
        freeze=(last_head, 0),
        auto_filter=xlsx.rng(last_head, 1, r, len(columns)) if rows else None,
        page=printing.page_setup(
            plan, header or printing.header(lines[0] if lines else name, "", ""), (vi_row, last_head)
        ),
        last=(r, len(columns)),
    )


def sheet_name(text: str) -> str:
    """A valid worksheet name: at most 31 characters, none of : \\ / ? * [ ]."""
    for ch in ":\\/?*[]":
        text = text.replace(ch, "-")
    return text[:31]
