"""How a sheet goes on paper: the paper, orientation and scale that keep every font at 8 pt or more,
and, where even A3 would shrink the text below that, a split of the columns over pages.

Widths are estimated as Excel lays them out (a column of width w is 7w + 5 pixels at 96 dpi with the
workbook's 11 pt font); the rendering tests (tests/outputs/test_rendering.py) check the result in
LibreOffice: the smallest font on every page and the number of pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.outputs.xlsx import PageSetup, hf_text

MIN_FONT_PT = 8.0
# Our width estimate and LibreOffice's differ by a few per cent: fit to width only where the
# estimated scale leaves this much room above the smallest allowed.
HEADROOM = 1.06
PAPER_MM = {"A4": (210, 297), "A3": (297, 420)}
# Tried in order, each at 100 % and then scaled (A4 portrait only at 100 %): A4 before A3.
CHOICES = (
    ("A4", False, False),
    ("A4", True, False),
    ("A4", True, True),
    ("A3", True, False),
    ("A3", True, True),
)


def column_points(width: float) -> float:
    """Printed width of a column of `width` characters (Excel's 7w + 5 pixels, 0.75 pt a pixel)."""
    return 0.0 if width <= 0 else (int(width * 7 + 5)) * 0.75


def printable_points(paper: str, landscape: bool, page: PageSetup | None = None) -> float:
    short, long = PAPER_MM[paper]
    left, right = (page or PageSetup()).margins[:2]
    return (long if landscape else short) / 25.4 * 72 - (left + right) * 72


@dataclass(frozen=True)
class Plan:
    paper: str
    landscape: bool
    fit_width: bool
    scale: int  # % (with fit_width, the scale we expect the printer to choose)
    col_breaks: tuple[int, ...] = ()


def plan(widths: Sequence[float], smallest_font: float, groups: Sequence[tuple[int, int]] = (),
         repeat_cols: int = 0, hidden: frozenset[int] = frozenset()) -> Plan:  # fmt: skip
    """Paper, orientation and scale for a sheet whose columns are `widths` (characters, from A) and
    whose smallest font is `smallest_font` pt. `groups` are runs of columns (first, last) that
    should stay on one page if the columns must be split; the first `repeat_cols` columns are then
    printed on every page."""
    points = [0.0 if i in hidden else column_points(w) for i, w in enumerate(widths, start=1)]
    total = sum(points)
    min_scale = MIN_FONT_PT / smallest_font
    for paper, landscape, scaled in CHOICES:
        scale = printable_points(paper, landscape) / total
        if scale >= 1:
            return Plan(paper, landscape, False, 100)
        if scaled and scale >= min_scale * HEADROOM:
            return Plan(paper, landscape, True, int(scale * 100))
    # Split the columns: A3 landscape at the smallest scale, the fixed columns on every page, the
    # groups packed page by page.
    scale = min(1.0, min_scale * HEADROOM)
    room = printable_points("A3", True) / scale - sum(points[:repeat_cols])
    breaks, used = [], 0.0
    for first, last in groups or [(c, c) for c in range(repeat_cols + 1, len(points) + 1)]:
        width = sum(points[first - 1 : last])
        if used and used + width > room:
            breaks.append(first - 1)
            used = 0.0
        used += width
    return Plan("A3", True, False, int(scale * 100) + 1, tuple(breaks))


def page_setup(p: Plan, header: str, print_rows: tuple[int, int] | None, repeat_cols: int = 0) -> PageSetup:
    return PageSetup(
        paper=p.paper,
        landscape=p.landscape,
        fit_width=p.fit_width,
        scale=p.scale,
        print_rows=print_rows,
        print_cols=(1, repeat_cols) if p.col_breaks and repeat_cols else None,
        col_breaks=p.col_breaks,
        header=header,
        footer='&C&10&"Times New Roman,Regular"Trang &P / &N',
    )


def header(left: str, centre: str, right: str, size: int = 10) -> str:
    """Header codes: three parts in Times New Roman `size` pt (texts escaped for header codes). The
    size goes before the font name: a text that starts with a digit ("2024-2025") right after "&10"
    would read as part of the size."""
    font = f'&{size}&"Times New Roman,Regular"'
    return "".join(
        f"&{pos}{font}{hf_text(text)}" for pos, text in (("L", left), ("C", centre), ("R", right)) if text
    )
