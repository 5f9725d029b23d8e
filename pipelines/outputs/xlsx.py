"""A small, fast writer of .xlsx files (SpreadsheetML): what edustat's workbooks need and no more.

A province run writes about 1,500 form workbooks; a general-purpose writer spends 30-90 ms on each
(every cell an object, every style looked up). Here a worksheet is XML text put together from
strings: the form writer (outputs.workbook) renders the parts that never change once per form and
only fills in each unit's values, so a workbook costs a few milliseconds.

What it writes: cells as numbers, text (always a string cell, never a formula: text is data) or a
formula with its value cached (a tool that does not compute still reads the value); named styles
(font, bold, italic, colour, fill, thin borders, alignment, wrap, indent, number format); column
widths and hidden columns; row heights; merged ranges; frozen panes; an auto filter; print set-up
(paper, orientation, fit to width or a fixed scale, margins, centred, print titles, header and
footer, column breaks). Files are deterministic: no timestamps, fixed zip dates.
"""

from __future__ import annotations

import math
import os
import re
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from isal import isal_zlib

FONT = "Times New Roman"
EXCEL_MAX_TEXT = 32_767  # characters in one cell
PAPER = {"A4": 9, "A3": 8}
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1/1/1980, the zip format's first day
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def esc(text: object) -> str:
    """Text as XML character data: control characters dropped, cut at Excel's cell limit."""
    s = _ILLEGAL.sub("", str(text))[:EXCEL_MAX_TEXT]
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@cache
def col_letter(col: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def ref(row: int, col: int) -> str:
    return f"{col_letter(col)}{row}"


def rng(r1: int, c1: int, r2: int, c2: int) -> str:
    return f"{ref(r1, c1)}:{ref(r2, c2)}"


# ------------------------------------------------------------------------------ cells


def text_cell(row: int, col: int, s: int, text: object) -> str:
    """A string cell (inline string): whatever the text starts with, it is never a formula."""
    return f'<c r="{col_letter(col)}{row}" s="{s}" t="inlineStr"><is><t xml:space="preserve">{esc(text)}</t></is></c>'


def number_cell(row: int, col: int, s: int, value: float | int) -> str:
    return f'<c r="{col_letter(col)}{row}" s="{s}"><v>{num(value)}</v></c>'


def formula_cell(row: int, col: int, s: int, formula: str, cached: float | int) -> str:
    """A formula (without "=") and its value, cached for tools that do not compute."""
    return f'<c r="{col_letter(col)}{row}" s="{s}"><f>{esc(formula)}</f><v>{num(cached)}</v></c>'


def blank_cell(row: int, col: int, s: int) -> str:
    return f'<c r="{col_letter(col)}{row}" s="{s}"/>'


def cell(row: int, col: int, s: int, value: object) -> str:
    """A cell of any plain value: None blank, a number a number, anything else text."""
    if value is None:
        return blank_cell(row, col, s)
    if isinstance(value, bool):
        return text_cell(row, col, s, "Có" if value else "Không")
    if isinstance(value, int | float) and math.isfinite(value):
        return number_cell(row, col, s, value)
    return text_cell(row, col, s, value)


def num(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def row_xml(row: int, cells: Iterable[str], height: float | None = None) -> str:
    ht = f' ht="{height:g}" customHeight="1"' if height else ""
    return f'<row r="{row}"{ht}>{"".join(cells)}</row>'


# ------------------------------------------------------------------------------ styles


@dataclass(frozen=True)
class Style:
    size: float = 11
    bold: bool = False
    italic: bool = False
    color: str | None = None  # RRGGBB
    fill: str | None = None  # RRGGBB background
    border: bool = False  # thin on all sides
    h: str | None = None  # left | center | right
    v: str | None = None  # top | center | bottom
    wrap: bool = False
    indent: int = 0
    num: str | None = None  # number format code, e.g. "#,##0"


_BUILTIN_FORMATS = {None: 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "@": 49}


class StyleSheet:
    """The styles of one workbook: each Style gets an index (0 is the default style)."""

    def __init__(self, font: str = FONT, size: float = 11) -> None:
        self.font, self.size = font, size
        self._xfs: dict[Style, int] = {Style(size=size): 0}

    def __len__(self) -> int:
        return len(self._xfs)

    def __call__(self, style: Style) -> int:
        found = self._xfs.get(style)
        if found is None:
            found = self._xfs[style] = len(self._xfs)
        return found

    def xml(self) -> str:
        fonts: dict[tuple, int] = {}
        fills: dict[str | None, int] = {None: 0, "gray125": 1}
        borders = {False: 0, True: 1}
        formats: dict[str, int] = {}
        xfs = []
        for st in self._xfs:
            font = fonts.setdefault((st.size, st.bold, st.italic, st.color), len(fonts))
            fill = fills.setdefault(st.fill, len(fills))
            fmt = _BUILTIN_FORMATS.get(st.num)
            if fmt is None:
                fmt = formats.setdefault(st.num, 164 + len(formats))  # type: ignore[arg-type]
            align = ""
            if st.h or st.v or st.wrap or st.indent:
                attrs = [f'horizontal="{st.h}"' if st.h else "", f'vertical="{st.v}"' if st.v else "",
                         'wrapText="1"' if st.wrap else "", f'indent="{st.indent}"' if st.indent else ""]  # fmt: skip
                align = f"<alignment {' '.join(a for a in attrs if a)}/>"
            applied = (
                ' applyNumberFormat="1"' * (fmt != 0)
                + ' applyFont="1"' * (font != 0)
                + (
                    ' applyFill="1"' * (fill != 0)
                    + ' applyBorder="1"' * st.border
                    + ' applyAlignment="1"' * bool(align)
                )
            )
            body = f">{align}</xf>" if align else "/>"
            xfs.append(f'<xf numFmtId="{fmt}" fontId="{font}" fillId="{fill}" borderId="{borders[st.border]}" '
                       f'xfId="0"{applied}{body}')  # fmt: skip
        out = [_XML, f'<styleSheet xmlns="{_MAIN}">']
        if formats:
            out.append(f'<numFmts count="{len(formats)}">')
            out += [f'<numFmt numFmtId="{i}" formatCode="{esc(code)}"/>' for code, i in formats.items()]
            out.append("</numFmts>")
        out.append(f'<fonts count="{len(fonts)}">')
        for size, bold, italic, color in fonts:
            col = f'<color rgb="FF{color}"/>' if color else ""
            out.append(f'<font>{"<b/>" if bold else ""}{"<i/>" if italic else ""}<sz val="{size:g}"/>{col}'
                       f'<name val="{esc(self.font)}"/><family val="1"/></font>')  # fmt: skip
        out.append(f'</fonts><fills count="{len(fills)}">')
        for fill in fills:
            if fill is None:
                out.append('<fill><patternFill patternType="none"/></fill>')
            elif fill == "gray125":
                out.append('<fill><patternFill patternType="gray125"/></fill>')
            else:
                out.append(f'<fill><patternFill patternType="solid"><fgColor rgb="FF{fill}"/>'
                           '<bgColor indexed="64"/></patternFill></fill>')  # fmt: skip
        thin = "".join(
            f'<{s} style="thin"><color auto="1"/></{s}>' for s in ("left", "right", "top", "bottom")
        )
        out.append('</fills><borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
                   f"<border>{thin}<diagonal/></border></borders>")  # fmt: skip
        out.append(
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        )
        out.append(f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>')
        out.append('<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                   '<dxfs count="0"/><tableStyles count="0"/></styleSheet>')  # fmt: skip
        return "".join(out)


# ------------------------------------------------------------------------------ sheets


@dataclass(frozen=True)
class PageSetup:
    """How a sheet prints. `fit_width`: scaled to one page wide (any number tall); else `scale` %."""

    paper: str = "A4"
    landscape: bool = True
    fit_width: bool = True
    scale: int = 100
    print_rows: tuple[int, int] | None = None  # rows repeated on every page
    print_cols: tuple[int, int] | None = None  # columns repeated on every page
    col_breaks: tuple[int, ...] = ()  # a page break after each of these columns
    row_breaks: tuple[int, ...] = ()  # a page break after each of these rows
    header: str = ""  # header/footer codes (&L &C &R &P &N); "&" in text doubled (hf_text)
    footer: str = "&C&10Trang &P / &N"
    margins: tuple[float, float, float, float, float, float] = (0.4, 0.4, 0.65, 0.6, 0.3, 0.3)  # inches


def hf_text(text: str) -> str:
    """Text for a header or footer: a literal "&" is "&&"."""
    return text.replace("&", "&&")


@dataclass
class Sheet:
    """One worksheet: its rows as XML (row_xml), and how it looks and prints."""

    name: str
    rows: list[str] = field(default_factory=list)
    widths: Sequence[float] = ()  # per column from A
    hidden_cols: frozenset[int] = frozenset()
    merges: Sequence[str] = ()
    freeze: tuple[int, int] | None = None  # (rows, columns) kept in view
    auto_filter: str | None = None  # e.g. "A5:K40"
    page: PageSetup = field(default_factory=PageSetup)
    last: tuple[int, int] = (1, 1)  # (last row, last column) used, for the dimension

    def xml(self) -> str:
        return "".join(sheet_parts(self, "".join(self.rows)))


def sheet_parts(sheet: Sheet, body: str) -> tuple[str, str, str]:
    """(head, rows, tail) of a worksheet's XML: a template renders head and tail once."""
    return sheet_head(sheet), body, sheet_tail(sheet)


def sheet_head(sheet: Sheet) -> str:
    p = sheet.page
    fit = '<pageSetUpPr fitToPage="1"/>' if p.fit_width else ""
    out = [_XML, f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">',
           f"<sheetPr>{fit}</sheetPr>" if fit else "",
           f'<dimension ref="A1:{ref(*sheet.last)}"/>', "<sheetViews><sheetView workbookViewId=\"0\">"]  # fmt: skip
    if sheet.freeze:
        rows, cols = sheet.freeze
        top = ref(rows + 1, cols + 1)
        pane = "bottomRight" if rows and cols else "bottomLeft" if rows else "topRight"
        split = (f' xSplit="{cols}"' if cols else "") + (f' ySplit="{rows}"' if rows else "")
        out.append(f'<pane{split} topLeftCell="{top}" activePane="{pane}" state="frozen"/>'
                   f'<selection pane="{pane}" activeCell="{top}" sqref="{top}"/>')  # fmt: skip
    out.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        out.append("<cols>")
        for i, w in enumerate(sheet.widths, start=1):
            hidden = ' hidden="1"' if i in sheet.hidden_cols else ""
            out.append(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"{hidden}/>')
        out.append("</cols>")
    out.append("<sheetData>")
    return "".join(out)


def sheet_tail(sheet: Sheet) -> str:
    p = sheet.page
    out = ["</sheetData>"]
    if sheet.auto_filter:
        out.append(f'<autoFilter ref="{sheet.auto_filter}"/>')
    if sheet.merges:
        out.append(f'<mergeCells count="{len(sheet.merges)}">')
        out += [f'<mergeCell ref="{m}"/>' for m in sheet.merges]
        out.append("</mergeCells>")
    left, right, top, bottom, head, foot = p.margins
    fit = ' fitToWidth="1" fitToHeight="0"' if p.fit_width else ""
    out.append('<printOptions horizontalCentered="1"/>'
               f'<pageMargins left="{left}" right="{right}" top="{top}" bottom="{bottom}" header="{head}" '
               f'footer="{foot}"/><pageSetup paperSize="{PAPER[p.paper]}" scale="{p.scale}"{fit} '
               f'orientation="{"landscape" if p.landscape else "portrait"}"/>'
               f'<headerFooter><oddHeader>{esc(p.header)}</oddHeader><oddFooter>{esc(p.footer)}</oddFooter>'
               "</headerFooter>")  # fmt: skip
    for tag, breaks, limit in (("rowBreaks", p.row_breaks, 16383), ("colBreaks", p.col_breaks, 1048575)):
        if breaks:
            out.append(f'<{tag} count="{len(breaks)}" manualBreakCount="{len(breaks)}">')
            out += [f'<brk id="{b}" max="{limit}" man="1"/>' for b in breaks]
            out.append(f"</{tag}>")
    out.append("</worksheet>")
    return "".join(out)


# ------------------------------------------------------------------------------ the package


def defined_names(sheets: Sequence[Sheet]) -> str:
    """Print titles and auto filter ranges of the sheets, as workbook.xml declares them."""
    names = []
    for i, sh in enumerate(sheets):
        quoted = "'" + esc(sh.name).replace("'", "''") + "'"
        if sh.auto_filter:
            a, b = sh.auto_filter.split(":")
            absolute = "$" + re.sub(r"(\d+)", r"$\1", a) + ":$" + re.sub(r"(\d+)", r"$\1", b)
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                         f"{quoted}!{absolute}</definedName>")  # fmt: skip
        p = sh.page
        titles = []
        if p.print_cols:
            titles.append(f"{quoted}!${col_letter(p.print_cols[0])}:${col_letter(p.print_cols[1])}")
        if p.print_rows:
            titles.append(f"{quoted}!${p.print_rows[0]}:${p.print_rows[1]}")
        if titles:
            names.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{",".join(titles)}</definedName>'
            )
    return f"<definedNames>{''.join(names)}</definedNames>" if names else ""


def package(sheets: Sequence[Sheet], sheet_xml: Sequence[str], styles_xml: str, title: str) -> dict[str, str]:
    """Every part of the workbook (path in the zip → XML)."""
    n = len(sheets)
    entries = "".join(
        f'<sheet name="{esc(sh.name)}" sheetId="{i}" r:id="rId{i}"/>' for i, sh in enumerate(sheets, 1)
    )
    parts = {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, n + 1)
            )  # fmt: skip
            + '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/core.xml": (
            f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{esc(title)}</dc:title><dc:creator>edustat</dc:creator></cp:coreProperties>"
        ),
        "docProps/app.xml": (
            f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>edustat</Application></Properties>"
        ),
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{entries}</sheets>{defined_names(sheets)}</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )  # fmt: skip
            + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/styles.xml": styles_xml,
    }
    for i, xml in enumerate(sheet_xml, 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    return parts


@dataclass(frozen=True)
class Part:
    """A part of the zip, compressed (raw deflate) once: a template reuses its unchanging parts."""

    name: str
    crc: int
    size: int
    data: bytes


FAST = 0  # `level` of part: ISA-L's level 1 (issue 17: about half zlib's level 1 time, 5 % smaller)


def part(name: str, xml: str, level: int = 9) -> Part:
    """The part deflated: at zlib's `level` (9: the smallest), or FAST with ISA-L (the same format)."""
    raw = xml.encode("utf-8")
    if level == FAST:
        deflate = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Part(name, zlib.crc32(raw), len(raw), deflate.compress(raw) + deflate.flush())


def zip_bytes(parts: Iterable[Part]) -> bytes:
    """A zip archive of the parts (deflated, dated 1/1/1980: the same parts give the same bytes)."""
    local, central, offset, n = [], [], 0, 0
    for p in parts:
        name = p.name.encode("utf-8")
        head = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, 8, 0, _DOS_DATE, p.crc, len(p.data), p.size,
                           len(name), 0)  # fmt: skip
        local += [head, name, p.data]
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, 8, 0, _DOS_DATE, p.crc,
                                   len(p.data), p.size, len(name), 0, 0, 0, 0, 0, offset) + name)  # fmt: skip
        offset += len(head) + len(name) + len(p.data)
        n += 1
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, len(directory), offset, 0)
    return b"".join([*local, directory, end])


# A file larger than this at the fast compression level is compressed again at the best one (issue 17:
# workbooks ≤ 50 KB; level 1 leaves about 1 in 120 form workbooks, the largest 01-MN-ĐN, just above).
SMALL_ENOUGH = 50_000  # bytes


def save(
    path: Path, parts: Mapping[str, str | Part], level: int = FAST, small_enough: int | None = None
) -> None:
    """Write the parts (XML, or already compressed) as a zip, through a temporary name (an interrupted
    run never leaves a torn file). A file over `small_enough` bytes (the form workbooks: SMALL_ENOUGH)
    is compressed again at the best level; lists and summaries, which may be any size, are not."""
    data = zip_bytes(p if isinstance(p, Part) else part(name, p, level) for name, p in parts.items())
    if small_enough is not None and len(data) > small_enough and level < 9:
        data = zip_bytes(p if isinstance(p, Part) else part(name, p, 9) for name, p in parts.items())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_workbook(path: Path, sheets: Sequence[Sheet], styles: StyleSheet, title: str) -> None:
    """A whole workbook from finished sheets (error lists, summaries, completeness)."""
    save(path, package(sheets, [sh.xml() for sh in sheets], styles.xml(), title))
