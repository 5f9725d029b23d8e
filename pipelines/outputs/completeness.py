"""The completeness outputs: OUT/completeness.xlsx and the CSV files."""

from __future__ import annotations

import csv
from pathlib import Path

from pipelines.window.completeness import SCHOOL_COLUMNS, STATUS_VI, UNIT_COLUMNS, plain


def write_completeness(out: Path, rows: list[dict], schools: list[dict]) -> list[Path]:
    """OUT/completeness.xlsx (sheets "Phòng, Sở" and "Trường") and completeness.csv /
    completeness_schools.csv (UTF-8 with a BOM for Excel)."""
    import openpyxl
    from openpyxl.styles import Font

    out.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    for ws, columns, data in ((wb.active, UNIT_COLUMNS, rows), (wb.create_sheet(), SCHOOL_COLUMNS, schools)):
        ws.title = "Phòng, Sở" if columns is UNIT_COLUMNS else "Trường"
        ws.append([h for _, _, h in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in data:
            ws.append([STATUS_VI.get(r[c], r[c]) if c == "status" else plain(r[c]) for c, _, _ in columns])
        ws.freeze_panes = "A2"
    paths = [out / "completeness.xlsx", out / "completeness.csv", out / "completeness_schools.csv"]
    wb.save(paths[0])
    for path, columns, data in ((paths[1], UNIT_COLUMNS, rows), (paths[2], SCHOOL_COLUMNS, schools)):
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([c for c, _, _ in columns])
            w.writerows([plain(r[c]) for c, _, _ in columns] for r in data)
    return paths
