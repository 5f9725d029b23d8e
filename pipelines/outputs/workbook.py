"""Render any catalog Form as an Excel workbook laid out like the national database's export.

One generic writer: the grid (sheets, rows, multi-row column heads) comes entirely from the Form,
so a new form needs a YAML file, not code. Layout follows the real export of 02-TH-ĐN (reference
forms/NOTES.md §2.1): one sheet per section, named as the section (I, III, IV, V), a title block,
merged column heads, a column-number row (A, B, C, 1…N), the data rows, and an `Errors` sheet
last.

Speed: a province run writes about a thousand school workbooks, so the layout of each (form, sheet)
is computed once and cached (outputs.layout), workbooks are written in openpyxl's streaming
(write-only) mode, and every cell gets its look from a handful of named styles (outputs.styles).
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from pipelines import catalog, warehouse
from pipelines.catalog import Form
from pipelines.outputs.layout import SheetLayout, col_width, layouts
from pipelines.outputs.styles import (
    LINE_HEIGHT,
    NO_PROBLEMS,
    SEVERITY_VI,
    Cells,
    add_styles,
    number_cell,
    put,
    scaled_style,
)
from pipelines.warehouse import Problem

PROVISIONAL_NOTE = (
    "Mẫu biểu tạm thời (suy luận), chưa phải mẫu chính thức / "
    "Provisional layout (inferred), not the official form"
)
ERRORS_SHEET = "Errors"
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
    errors: tuple[Problem, ...],
    start_year: int,
    indicators: tuple[IndicatorLine, ...] = (),
) -> WorkbookJob:
    form = catalog.form(*form_ref) if isinstance(form_ref, tuple) else form_ref
    return WorkbookJob(path, form, header, values, errors, start_year, indicators)


def _write_sheet(
    wb: Workbook,
    form: Form,
    lay: SheetLayout,
    header: UnitHeader,
    values: Mapping[tuple[int, str], float],
    start_year: int,
) -> None:
    ws = wb.create_sheet(lay.name)
    cell = Cells(ws)
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = f"{lay.head_start}:{lay.number_row}"
    ws.freeze_panes = f"E{lay.data_start}"
    for col in range(1, lay.last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = col_width(col)

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
            put(out, 2, cell(b_text, b_style))
        if d_text is not None:
            put(out, 4, cell(d_text, d_style))
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
        put(numbers, col, cell(number, "es_colno"))
    ws.append([c if c is not None else cell(None, "es_colno") for c in numbers])

    # Data rows.
    scale, scaled = form.display_scale, scaled_style(form)
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
                    value, _ = number_cell(values.get((row.code, key), 0))
                    out[col - 1] = cell(value / scale, scaled)
                else:
                    value, style = number_cell(values.get((row.code, key), 0))
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
    cell = Cells(ws)
    for col, width in enumerate(INDICATOR_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 2 * LINE_HEIGHT + 4
    ws.append([cell(h, "es_head") for h in INDICATOR_HEADS])
    for i in indicators:
        # A ratio over a zero denominator has no value: the cell stays empty, never 0.
        numbers = [
            None if v is None else cell(*number_cell(v)) for v in (i.numerator, i.denominator, i.value)
        ]
        ws.append([cell(i.indicator_id, "es_err"), cell(i.name_vi, "es_err"), cell(i.name_en, "es_err"), *numbers,
                   cell("suy luận / inferred" if i.status == "inferred" else "", "es_err")])  # fmt: skip


def _write_errors(wb: Workbook, errors: Sequence[Problem]) -> None:
    ws = wb.create_sheet(ERRORS_SHEET)
    cell = Cells(ws)
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
    errors: Sequence[Problem],
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
    add_styles(wb, form)
    sheet_layouts = layouts(form)
    for sheet in form.sheets:
        _write_sheet(wb, form, sheet_layouts[sheet.name], header, values, start_year)
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


# Each workbook's input digest (the warehouse's change store), so a re-run rewrites only the workbooks
# whose inputs changed (after one school resubmits: its own, its Phòng's and the Sở's).


def job_digest(job: WorkbookJob, code: str) -> str:
    """sha256 of everything a workbook is made from: the code and schemas (`code`), the form, the
    unit, its cells, problems and indicators. Equal digests mean equal workbook contents."""
    inputs = (job.form.regime, job.form.form, job.header, sorted(job.values.items()), job.errors,
              job.start_year, job.indicators)  # fmt: skip
    return hashlib.sha256(f"{code}\0{inputs!r}".encode()).hexdigest()


def write_changed_workbooks(
    con: duckdb.DuckDBPyConnection, jobs: Sequence[WorkbookJob], folder: Path, processes: int = 2
) -> int:
    """Write the jobs whose workbook is missing or was made from other inputs (by job_digest, kept in
    the warehouse's change store under the folder); return how many were written."""
    if not jobs:
        return 0
    code = warehouse.code_digest()
    index = warehouse.output_digests(con, folder)
    digests = {job.path.relative_to(folder).as_posix(): job_digest(job, code) for job in jobs}
    todo = [(rel, job) for rel, job in zip(digests, jobs, strict=True)
            if index.get(rel) != digests[rel] or not job.path.exists()]  # fmt: skip
    # Forget the digests of the workbooks about to be rewritten first: a run killed half-way must
    # not leave a new workbook under an old digest.
    warehouse.forget_outputs(con, folder, [rel for rel, _ in todo])
    folder.mkdir(parents=True, exist_ok=True)
    write_workbooks([job for _, job in todo], processes)
    warehouse.save_output_digests(con, folder, {rel: digests[rel] for rel, _ in todo})
    return len(todo)


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
