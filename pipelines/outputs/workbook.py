"""Render any catalog Form as an Excel workbook laid out like the national database's export.

One generic writer: the grid (sheets, rows, multi-row column heads) comes entirely from the Form
(outputs.layout), so a new form needs a YAML file, not code. As the real export of 02-TH-ĐN and
01-MN-ĐN (reference forms/NOTES.md §2.1): one sheet per section, named as the section, the forms
printed in this one (`printed_in`: the budget tab of 01-MN-ĐN) as further sheets, then `Errors`
(Sheet | Cell | Error | Detail, as the real export) and, for a Phòng or the Sở, `Chỉ tiêu` (the
national indicators the form feeds). Each sheet prints on A4 (A3 where its columns need it) at 8 pt
or more (outputs.printing) with its heads repeated on every page, the form code, unit and period in
the page header, "Trang N / M" in the footer, and a signature block under the rows. Totals that
the form's `=` relations define are formulas with their value cached, where the unit's figures
satisfy the relation (a formula never changes a printed value).

Speed: a province run writes about 1,500 workbooks. Everything that is the same for every unit of a
level (styles, heads, labels, print set-up, which cells may be formulas) is rendered once per form
and level into a template (XML text with a slot per value cell); a unit's workbook fills in its
values, names and problems (a few milliseconds) and is written by a process pool (pipelines.processes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import catalog
from pipelines.catalog import Form
from pipelines.outputs import printing, styles, xlsx
from pipelines.outputs.dump import dump_workbook  # noqa: F401 - imported from here by the golden tests
from pipelines.outputs.layout import (
    FIXED_HEADS,
    FIXED_LETTERS,
    LINE_HEIGHT,
    SIGNATURE,
    SheetLayout,
    col_widths,
    layouts,
)
from pipelines.outputs.lists import Column, list_sheet
from pipelines.outputs.problems import HIDDEN, pii_fields
from pipelines.processes import worker_pool
from pipelines.warehouse import Problem

PROVISIONAL_NOTE = (
    "Mẫu biểu tạm thời (suy luận), chưa phải mẫu chính thức / "
    "Provisional layout (inferred), not the official form"
)
ERRORS_SHEET = "Errors"
# As the real export's Errors sheet: Sheet | Cell | Error | Detail.
ERROR_COLUMNS = (
    Column("Sheet", "", 9),
    Column("Cell", "", 7),
    Column("Error", "", 55),
    Column("Detail", "", 62),
)
INDICATORS_SHEET = "Chỉ tiêu"
INDICATOR_COLUMNS = (Column("Mã\n(Code)", "", 10), Column("Chỉ tiêu", "", 44), Column("Indicator", "", 36),
                     Column("Tử số\n(Numerator)", "", 12), Column("Mẫu số\n(Denominator)", "", 13),
                     Column("Giá trị\n(Value)", "", 10), Column("Trạng thái\n(Status)", "", 12))  # fmt: skip
UNITS_NOTE = ("Lỗi dữ liệu của các trường: errors/summary_{level}_{code}.xlsx / the schools' problems: "
              "errors/summary_{level}_{code}.xlsx")  # fmt: skip
MIN_JOBS_FOR_POOL = 8  # below this many jobs a process pool costs more than it saves
_REPORTING, _RECEIVING = "{{REPORTING_UNIT}}", "{{RECEIVING_UNIT}}"
_REPORTING_HF = "{{REPORTING_UNIT_HEADER}}"


@dataclass(frozen=True)
class UnitHeader:
    """Who reports (the unit the workbook is about) and to whom."""

    level: str  # "school" | "phong" | "so"
    unit_code: str
    reporting_unit_vi: str  # e.g. "Trường Tiểu học Số 1"
    receiving_unit_vi: str  # school -> its Phòng; Phòng -> Sở; Sở -> "Bộ Giáo dục và Đào tạo"


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
    errors: tuple[Problem, ...] = ()
    start_year: int = 0
    indicators: tuple[IndicatorLine, ...] = ()
    # Forms printed in this one's workbook (printed_in), each with the unit's values (None: no figures).
    printed: tuple[tuple[Form, Mapping[tuple[int, str], float] | None], ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # A Form is a large object graph; a catalog form travels as its (regime, name) and is
        # looked up again (cached) in the worker, so a thousand jobs do not pickle it 1,000 times.
        printed = tuple((_form_ref(f), None if v is None else dict(v)) for f, v in self.printed)
        return (_rebuild_job, (self.path, _form_ref(self.form), self.header, dict(self.values), tuple(self.errors),
                               self.start_year, tuple(self.indicators), printed))  # fmt: skip


def _form_ref(form: Form) -> Form | tuple[str, str]:
    try:
        if catalog.form(form.regime, form.form) is form:
            return (form.regime, form.form)
    except (catalog.CatalogError, OSError):
        pass
    return form


def _rebuild_job(path: Path, form_ref: Form | tuple[str, str], header: UnitHeader, values: dict,
                 errors: tuple[Problem, ...], start_year: int, indicators: tuple[IndicatorLine, ...] = (),
                 printed: tuple = ()) -> WorkbookJob:  # fmt: skip
    def back(ref: Form | tuple[str, str]) -> Form:
        return catalog.form(*ref) if isinstance(ref, tuple) else ref

    return WorkbookJob(path, back(form_ref), header, values, errors, start_year, indicators,
                       tuple((back(f), v) for f, v in printed))  # fmt: skip


# ------------------------------------------------------------------------------ templates


@dataclass(frozen=True)
class _Slot:
    """A value cell of a template: its XML up to the style, and the formula it may hold."""

    key: str
    pre: str  # '<c r="E9" s="'
    ref: str  # "E9"
    formula: str | None = None
    parts: tuple[tuple[int, str], ...] = ()


@dataclass
class _SheetTemplate:
    """A sheet's XML as pieces: static text, and each value cell as for an absent figure; a unit's
    sheet renders again only its figures' cells and their totals (work per figure, not per cell)."""

    form: Form
    meta: xlsx.Sheet  # name, print set-up (for workbook.xml)
    zero: list[str]  # every value cell as for an absent figure
    empty: list[str]  # every value cell left empty (the form has no figures for the unit)
    slots: dict[int, tuple[tuple[int | None, str], _Slot]]  # piece index → (row code, key), slot
    at: dict[tuple[int | None, str], tuple[int, ...]]  # (row code, key) → its cells and the totals it is in
    named: tuple[int, ...]  # pieces holding a unit's names (placeholders)


@dataclass
class _Template:
    book: xlsx.StyleSheet
    sheets: list[_SheetTemplate]
    ids: dict[str, int]  # style name -> index
    parts: dict[tuple[int, str], xlsx.Part] = field(default_factory=dict)  # (sheets, name) → compressed part
    styles_xml: str = ""
    n_styles: int = 0

    def styles(self) -> str:
        """styles.xml (rendered again if a list sheet added a style)."""
        if len(self.book) != self.n_styles:
            self.styles_xml, self.n_styles = self.book.xml(), len(self.book)
            self.parts = {k: v for k, v in self.parts.items() if k[1] != "xl/styles.xml"}
        return self.styles_xml

    def static(self, n_sheets: int, parts: dict[str, str]) -> dict[str, str | xlsx.Part]:
        """The parts of a workbook of n sheets, those that never change compressed once."""
        out: dict[str, str | xlsx.Part] = {}
        for name, xml in parts.items():
            if name == "xl/workbook.xml" or name.startswith("xl/worksheets/"):
                out[name] = xml
            else:
                key = (n_sheets, name)
                found = self.parts.get(key)
                if found is None:
                    found = self.parts[key] = xlsx.part(name, xml)
                out[name] = found
        return out


_TEMPLATES: dict[tuple, _Template] = {}


def _template(forms: tuple[Form, ...], level: str, start_year: int) -> _Template:
    """The workbook of `forms` (a form and those printed in it) for every unit of a level, cached."""
    key = (tuple(id(f) for f in forms), level, start_year)
    hit = _TEMPLATES.get(key)
    if hit is None or any(all(s.form is not f for f in forms) for s in hit.sheets):
        sheet_styles = xlsx.StyleSheet()
        ids = {name: sheet_styles(st) for name, st in _named_styles(forms).items()}
        sheets = [
            _sheet_template(f, lay, level, start_year, ids) for f in forms for lay in layouts(f).values()
        ]
        hit = _TEMPLATES[key] = _Template(sheet_styles, sheets, ids)
    return hit


def _named_styles(forms: Sequence[Form]) -> dict[str, xlsx.Style]:
    out = {name: getattr(styles, name) for name in ("TITLE", "TEXT", "TEXT_ITALIC", "TEXT_BOLD", "NOTE", "CODE",
                                                     "HEADING", "HEAD", "COLNO", "TT", "TT_BOLD", "CENTER", "CELL",
                                                     "NUM", "NUM_DEC", "SIGN_PLACE", "SIGN_TITLE", "SIGN_NOTE",
                                                     "LIST", "LIST_NUM")}  # fmt: skip
    out.update({f"label_{k}": v for k, v in styles.LABELS.items()})
    for f in forms:
        if f.display_scale != 1:
            whole, frac = styles.money_formats(f.display_decimals)
            out[f"money_{f.form}"] = xlsx.Style(border=True, h="right", v="center", num=whole)
            out[f"money_dec_{f.form}"] = xlsx.Style(border=True, h="right", v="center", num=frac)
    return out


def _formulas(form: Form, lay: SheetLayout) -> dict[tuple[int, str], tuple[str, tuple[tuple[int, str], ...]]]:
    """(row code, key) → (formula, parts) of the sheet's total cells: the first `=` column relation
    (Tổng = Công lập + …) of the cell, else its row's first `=` relation (a total of "Chia ra"
    rows), among the relations of the bases the form writes as formulas, whose parts all print on
    the sheet. Cells on a cycle (never expected) stay plain numbers."""
    cols = {key: col for col, key, _ in lay.value_cols}
    rows = {r.code: r for r in form.rows if r.code in lay.code_rows}
    # Cells printed without a figure ("#", or empty/"?" as the real export): never a formula's part.
    figureless = {code: {*r.not_applicable, *dict(r.printed_as)} for code, r in rows.items()}
    by_key: dict[str, tuple[str, ...]] = {}  # column key → the parts of its first column relation
    for rel in form.column_relations.get(form.sheet_of(lay.name).column_set, ()):
        if rel.op == "=" and rel.basis in form.formulas and len(rel.lhs) == 1 and rel.lhs[0] in cols:
            if all(k in cols for k in rel.rhs):
                by_key.setdefault(rel.lhs[0], rel.rhs)
    out: dict[tuple[int, str], tuple[str, tuple[tuple[int, str], ...]]] = {}
    for code, row in rows.items():
        na = figureless[code]
        row_parts = [[int(t[1:]) for t in r.rhs] for r in row.relations
                     if r.op == "=" and r.basis in form.formulas and r.lhs == (f"r{code}",)]  # fmt: skip
        row_parts = [codes for codes in row_parts if all(c in rows for c in codes)]
        for key in cols:
            if key in na:
                continue
            parts: tuple[tuple[int, str], ...] = ()
            rhs = by_key.get(key)
            if rhs is not None and na.isdisjoint(rhs):
                parts = tuple((code, k) for k in rhs)
            else:
                for codes in row_parts:
                    if all(key not in figureless[c] for c in codes):
                        parts = tuple((c, key) for c in codes)
                        break
            if parts:
                text = "+".join(f"{xlsx.col_letter(cols[k])}{lay.code_rows[c]}" for c, k in parts)
                out[(code, key)] = (text, parts)
    # Drop the cells on a cycle of formulas (depth-first search).
    state: dict[tuple[int, str], int] = {}

    def visit(cell: tuple[int, str]) -> bool:
        if state.get(cell) == 1:
            return False
        if state.get(cell) == 2 or cell not in out:
            return True
        state[cell] = 1
        ok = all(visit(p) for p in out[cell][1])
        state[cell] = 2
        return ok

    for cell in list(out):
        if not visit(cell):
            out.pop(cell, None)
    return out


def _sheet_template(
    form: Form, lay: SheetLayout, level: str, start_year: int, ids: dict[str, int]
) -> _SheetTemplate:
    R = xlsx.row_xml  # noqa: N806
    txt, num, blank = xlsx.text_cell, xlsx.number_cell, xlsx.blank_cell
    rows: list[str] = []
    merges = list(lay.merges)
    if lay.title_block:
        as_of = form.as_of_vi.format(start_year=start_year, end_year=start_year + 1)
        note = PROVISIONAL_NOTE if form.status != "official" else None
        top = [(form.title_vi, "TITLE", "- Đơn vị báo cáo:", "TEXT"), (form.period_vi, "TEXT", _REPORTING, "TEXT_BOLD"),
               (as_of, "TEXT_ITALIC", "- Đơn vị nhận báo cáo:", "TEXT"), (note, "NOTE", _RECEIVING, "TEXT_BOLD")]  # fmt: skip
        for r, (b, b_style, d, d_style) in enumerate(top, start=1):
            cells = [txt(r, 1, ids["CODE"], f"Biểu số\n{form.code_printed}")] if r == 1 else []
            cells += [txt(r, 2, ids[b_style], b)] if b is not None else []
            cells.append(txt(r, 4, ids[d_style], d))
            two_lines = (b_style == "NOTE" and b) or d_style == "TEXT_BOLD"  # a unit's name may wrap
            rows.append(R(r, cells, 2 * LINE_HEIGHT + 2 if two_lines else None))
        merges.append(xlsx.rng(1, 1, 4, 1))
        merges += [xlsx.rng(r, 4, r, lay.last_col) for r in (2, 4) if lay.last_col > 4]  # the unit names
        rows.append(R(lay.heading_row, [txt(lay.heading_row, 2, ids["HEADING"], lay.heading_vi)]))
    for level_i, texts in enumerate(lay.head_grid):
        r = lay.head_start + level_i
        rows.append(R(r, [txt(r, c, ids["HEAD"], t) if t else blank(r, c, ids["HEAD"])
                          for c, t in enumerate(texts, start=1)], lay.head_heights[level_i]))  # fmt: skip
    r = lay.number_row
    numbers = {col: n for col, _, n in lay.value_cols}
    letters = [txt(r, c, ids["COLNO"], FIXED_LETTERS[c - 1]) if c <= len(FIXED_LETTERS) and FIXED_LETTERS[c - 1]
               else num(r, c, ids["COLNO"], numbers[c]) if c in numbers else blank(r, c, ids["COLNO"])
               for c in range(1, lay.last_col + 1)]  # fmt: skip
    rows.append(R(r, letters))
    head = "".join(rows)

    formulas = _formulas(form, lay)
    body: list[tuple[str, int | None, tuple[_Slot, ...]]] = []
    cols = {col: key for col, key, _ in lay.value_cols}
    for i, row in enumerate(lay.rows):
        r = lay.data_start + i
        ht = f' ht="{row.height:g}" customHeight="1"' if row.height else ""
        bold = row.style in ("section", "bold")
        cells = [txt(r, 1, ids["TT_BOLD" if bold else "TT"], row.tt) if row.tt else blank(r, 1, ids["TT"]),
                 txt(r, 2, ids[f"label_{row.style}"], row.label),
                 txt(r, 3, ids["CENTER"], row.unit) if row.unit and row.code is not None else blank(r, 3, ids["CENTER"]),
                 num(r, 4, ids["CENTER"], row.code) if row.code is not None else blank(r, 4, ids["CENTER"])]  # fmt: skip
        cells += [blank(r, c, ids["CELL"]) for c in sorted(lay.gap_cols)]
        slots: list[_Slot] = []
        prefix = f'<row r="{r}"{ht}>' + "".join(cells)
        for c in range(max([len(FIXED_HEADS), *lay.gap_cols]) + 1, lay.last_col + 1):
            key = cols.get(c)
            if row.code is None or key is None:
                cell = blank(r, c, ids["CELL"])
            elif key in row.not_applicable:
                cell = txt(r, c, ids["CENTER"], "#")
            elif key in row.printed_as:  # as the real export: no figure (the warehouse keeps it)
                text = row.printed_as[key]
                cell = txt(r, c, ids["CENTER"], text) if text else blank(r, c, ids["CELL"])
            else:
                f = formulas.get((row.code, key))
                a1 = f"{xlsx.col_letter(c)}{r}"
                slots.append(_Slot(key, f'<c r="{a1}" s="', a1, *(f or (None, ()))))
                continue
            if slots:  # a static cell after a slot: keep the order of the cells
                body.append((prefix, row.code, tuple(slots)))
                prefix, slots = "", []
            prefix += cell
        body.append((prefix, row.code, tuple(slots)))
        body.append(("</row>", None, ()))

    tail_rows: list[str] = []
    if lay.footer_row:
        tail_rows.append(R(lay.footer_row, [txt(lay.footer_row, 2, ids["TEXT_ITALIC"], lay.footer_vi)]))
    widths = col_widths(lay, form, level)
    plan = printing.plan(
        widths, styles.SMALLEST_FONT, lay.groups, repeat_cols=len(FIXED_HEADS), hidden=lay.gap_cols
    )
    # The head of the unit signs under the last columns, on the last page of a sheet split by columns.
    first_value = max([min(c for c, _, _ in lay.value_cols), *(b + 1 for b in plan.col_breaks)])
    right = (max(first_value, lay.last_col - 4), lay.last_col)
    for k, (left_text, right_text) in enumerate(SIGNATURE):
        r = lay.signature_row + k
        style = ("SIGN_PLACE", "SIGN_TITLE", "SIGN_NOTE")[k]
        if k == 0:
            left_text, right_text = None, left_text
        cells = [txt(r, 2, ids[style], left_text)] if left_text else []
        cells.append(txt(r, right[0], ids[style], right_text))
        tail_rows.append(R(r, cells))
        if right[1] > right[0]:
            merges.append(xlsx.rng(r, right[0], r, right[1]))
    code = f"Biểu số {form.code_printed}" + ("" if form.status == "official" else " (tạm thời)")
    period = f"{form.period_vi} {start_year}-{start_year + 1}"
    hf = printing.header(f"{code}\n{lay.heading_vi}", _REPORTING_HF, period)
    meta = xlsx.Sheet(
        name=lay.name, widths=widths, hidden_cols=lay.gap_cols, merges=merges, freeze=(lay.number_row, len(FIXED_HEADS)),
        page=printing.page_setup(plan, hf, (lay.head_start, lay.number_row), len(FIXED_HEADS)),
        last=(lay.signature_row + len(SIGNATURE) - 1, lay.last_col),
    )  # fmt: skip
    tail = "".join(tail_rows) + xlsx.sheet_tail(meta)
    return _pieces(form, meta, xlsx.sheet_head(meta) + head, body, tail, ids)


def _pieces(form: Form, meta: xlsx.Sheet, head: str, body: list[tuple[str, int | None, tuple[_Slot, ...]]],
            tail: str, ids: dict[str, int]) -> _SheetTemplate:  # fmt: skip
    """The template's pieces (see _SheetTemplate): what _cell prints for an absent figure at every
    value cell, and where each figure's cell and the totals it is part of are."""
    whole = ids[f"money_{form.form}"] if form.display_scale != 1 else ids["NUM"]
    zero, empty = [head], [head]
    slots: dict[int, tuple[tuple[int | None, str], _Slot]] = {}
    at: dict[tuple[int | None, str], list[int]] = {}
    for prefix, code, row_slots in body:
        zero.append(prefix)
        empty.append(prefix)
        for s in row_slots:
            i = len(zero)
            slots[i] = ((code, s.key), s)
            zero.append(_cell(s, code, form, ids, {}))
            empty.append(f'{s.pre}{whole}"/>')
            at.setdefault((code, s.key), []).append(i)
            for part in s.parts:
                at.setdefault(part, []).append(i)
    zero.append(tail)
    empty.append(tail)
    named = tuple(
        i for i, x in enumerate(zero) if any(p in x for p in (_REPORTING, _RECEIVING, _REPORTING_HF))
    )
    return _SheetTemplate(form, meta, zero, empty, slots, {k: tuple(v) for k, v in at.items()}, named)


def _cell(
    s: _Slot, code: int | None, form: Form, ids: dict[str, int], values: Mapping[tuple[int, str], float]
) -> str:
    """A value cell's XML: the unit's figure (absent: 0) in the form's number style, as a formula
    over its parts with the figure cached where the parts add up to it."""
    scale = form.display_scale
    if scale != 1:
        whole, frac = ids[f"money_{form.form}"], ids[f"money_dec_{form.form}"]
    else:
        whole, frac = ids["NUM"], ids["NUM_DEC"]
    get = values.get
    v = get((code, s.key))
    if type(v) is not int:
        v = styles.plain_number(v)
    if scale != 1:
        shown = v / scale
        style = whole if shown.is_integer() else frac
        text = xlsx.num(shown)
    elif type(v) is int:
        style, text = whole, str(v)
    else:
        style, text = frac, xlsx.num(v)
    if s.formula is not None:
        total = 0
        for part in s.parts:
            p = get(part)
            if p is not None and p == p:  # NaN is not equal to itself
                total += p
        if total == v:
            return f'{s.pre}{style}"><f>{s.formula}</f><v>{text}</v></c>'
    return f'{s.pre}{style}"><v>{text}</v></c>'


def _fill(t: _SheetTemplate, ids: dict[str, int], values: Mapping[tuple[int, str], float] | None,
          names: Mapping[str, str]) -> str:  # fmt: skip
    """A template's sheet with the unit's values (None: the form has no figures: cells left empty)
    and names: only the cells of the unit's figures, and the totals they are part of, are rendered
    (every other cell prints as for an absent figure: the template's piece)."""
    if values is None:
        pieces = t.empty.copy()
    else:
        pieces = t.zero.copy()
        at = t.at
        todo: set[int] = set()
        for cell in values:
            hit = at.get(cell)
            if hit is not None:
                todo.update(hit)
        form, slots = t.form, t.slots
        for i in todo:
            (code, _), s = slots[i]
            pieces[i] = _cell(s, code, form, ids, values)
    for i in t.named:
        text = pieces[i]
        for placeholder, name in names.items():
            text = text.replace(placeholder, name)
        pieces[i] = text
    return "".join(pieces)


# ------------------------------------------------------------------------------ Errors, Chỉ tiêu


def _error_rows(errors: Sequence[Problem], header: UnitHeader) -> list[tuple[Any, ...]]:
    """Sheet, Cell, Error, Detail of each problem (a personal value is never printed)."""
    out = []
    for p in errors:
        value = p.value
        if p.kind == "record" and p.field in pii_fields().get(p.entity, ()):
            value = HIDDEN if value is not None else None
        where = []
        if p.file:
            where.append(f"Tệp {p.file}")
        if p.list_name and p.position is not None:
            where.append(f"{p.list_name} số {p.position}")
        elif p.list_name:
            where.append(p.list_name)
        if p.class_code:
            where.append(f"lớp {p.class_code}")
        if p.field:
            where.append(f"{p.field} = {value if value is not None else '(trống)'}")
        elif value is not None:
            where.append(str(value))
        where.append(f"{styles.SEVERITY_VI.get(p.severity, p.severity)}, quy tắc {p.rule_id}")
        out.append((p.sheet, p.cell, p.message_vi, "; ".join(where)))
    if header.level != "school":
        out.append((None, None, UNITS_NOTE.format(level=header.level, code=header.unit_code), None))
    return out


def _indicator_rows(indicators: Sequence[IndicatorLine]) -> list[tuple[Any, ...]]:
    # A ratio over a zero denominator has no value: the cell stays empty, never 0.
    return [(i.indicator_id, i.name_vi, i.name_en, styles.plain_number(i.numerator),
             None if i.denominator is None else styles.plain_number(i.denominator),
             None if i.value is None else styles.plain_number(i.value),
             "suy luận / inferred" if i.status == "inferred" else "") for i in indicators]  # fmt: skip


def write_form_workbook(path: Path, form: Form, header: UnitHeader, values: Mapping[tuple[int, str], float],
                        errors: Sequence[Problem], start_year: int, indicators: Sequence[IndicatorLine] = (),
                        printed: Sequence[tuple[Form, Mapping[tuple[int, str], float] | None]] = ()) -> None:  # fmt: skip
    """Write one unit's form as an .xlsx: a sheet per form section, the sheets of the forms printed
    in it (`printed`: each with the unit's values, None if it has none), Errors, and the unit's
    indicators (if any, on a "Chỉ tiêu" sheet).

    `values` maps (row code, column key) to a number; a missing key prints 0, and a column in a
    row's `not_applicable` prints "#", one in its `printed_as` what that says (empty or "?").
    """
    forms = (form, *(f for f, _ in printed))
    t = _template(forms, header.level, start_year)
    by_form: dict[int, Mapping | None] = {id(form): values, **{id(f): v for f, v in printed}}
    names = {
        _REPORTING: xlsx.esc(header.reporting_unit_vi),
        _RECEIVING: xlsx.esc(header.receiving_unit_vi),
        _REPORTING_HF: xlsx.esc(xlsx.hf_text(header.reporting_unit_vi)),
    }
    metas, xmls = [], []
    for st in t.sheets:
        metas.append(st.meta)
        xmls.append(_fill(st, t.ids, by_form[id(st.form)], names))
    hf = printing.header(f"Biểu số {form.code_printed}", header.reporting_unit_vi, f"{form.period_vi} "
                         f"{start_year}-{start_year + 1}")  # fmt: skip
    extra = [list_sheet(t.book, ERRORS_SHEET, [], ERROR_COLUMNS, _error_rows(errors, header), header=hf)]
    if indicators:
        extra.append(
            list_sheet(
                t.book, INDICATORS_SHEET, [], INDICATOR_COLUMNS, _indicator_rows(indicators), header=hf
            )
        )
    metas += extra
    xmls += [sh.xml() for sh in extra]
    parts = xlsx.package(metas, xmls, t.styles(), f"{form.code_printed} {form.title_vi}")
    xlsx.save(path, t.static(len(metas), parts), small_enough=xlsx.SMALL_ENOUGH)


def _run_job(job: WorkbookJob) -> None:
    write_form_workbook(job.path, job.form, job.header, job.values, job.errors, job.start_year, job.indicators,
                        job.printed)  # fmt: skip


def _run_chunk(jobs: Sequence[WorkbookJob]) -> int:
    for job in jobs:
        _run_job(job)
    return len(jobs)


def forks_pool(jobs: int, processes: int) -> bool:
    """Whether write_workbooks writes this many jobs in a process pool (forked: no other thread of
    this process may be inside DuckDB then) rather than one after the other here."""
    return processes > 1 and jobs >= MIN_JOBS_FOR_POOL


def write_workbooks(
    jobs: Sequence[WorkbookJob], processes: int = 2, meanwhile: Callable[[], None] | None = None
) -> None:
    """Write many workbooks, in a process pool whose workers die with this process (pipelines.processes),
    running `meanwhile` here as they write; a few (forks_pool) here, then `meanwhile`. Jobs go in
    chunks of one form: a form's template once per level."""
    if not forks_pool(len(jobs), processes):
        for job in jobs:
            _run_job(job)
        if meanwhile is not None:
            meanwhile()
        return
    ordered = sorted(jobs, key=lambda j: (j.form.form, j.header.level))
    size = max(1, math.ceil(len(ordered) / (processes * 4)))
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    with worker_pool(processes) as executor:
        done = executor.map(_run_chunk, chunks)  # every chunk submitted now
        if meanwhile is not None:
            meanwhile()
        for _ in done:
            pass
