"""A workbook normalised for golden tests (outputs/workbook.py's files, read back with openpyxl)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def dump_workbook(path: Path) -> dict[str, Any]:
    """Sheets in order with merged ranges, non-empty cells (a formula with its cached value) and
    freeze panes, print set-up (no save times)."""
    from openpyxl import load_workbook  # noqa: PLC0415 - tests only

    wb, cached = load_workbook(path), load_workbook(path, data_only=True)
    sheets = []
    for ws in wb.worksheets:
        values = cached[ws.title]
        cells: dict[str, dict[str, Any]] = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None or c.value == "":
                    continue
                entry: dict[str, Any] = {"value": values[c.coordinate].value}
                if isinstance(c.value, str) and c.data_type == "f":
                    entry["formula"] = c.value
                if isinstance(entry["value"], int | float) and not isinstance(entry["value"], bool):
                    entry["number_format"] = c.number_format
                cells[c.coordinate] = entry
        sheets.append({
            "title": ws.title,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "freeze_panes": ws.freeze_panes,
            "print": {"paper": ws.page_setup.paperSize, "orientation": ws.page_setup.orientation,
                      "fit_to_width": ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
                      "titles": ws.print_title_rows},
            "cells": cells,
        })  # fmt: skip
    return {"creator": wb.properties.creator, "sheets": sheets}
