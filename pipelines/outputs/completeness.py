"""The completeness outputs: OUT/completeness.xlsx and the CSV files.

The workbook: "Phòng, Sở" (per unit: schools expected, received, on time, late, missing, pending,
each unit's row coloured by its worst status), "Trường" (per school, its status coloured) and
"Chậm, chưa nộp" (the late and missing schools with their Phòng, deadline, days late and last
version received: who to call). Each sheet has a frozen heading row with filters and prints on A4
with the heading repeated and "Trang N / M".
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.outputs import printing, xlsx
from pipelines.outputs.csvsafe import write_csv
from pipelines.outputs.lists import Column, list_sheet
from pipelines.window.completeness import SCHOOL_COLUMNS, STATUS_VI, UNIT_COLUMNS, plain

# Status colours (the spreadsheet convention: green good, yellow late, red missing, grey not yet due).
COLOURS = {"on_time": "C6EFCE", "late": "FFEB9C", "missing": "FFC7CE", "pending": "EDEDED"}
WIDTHS = {"unit_name": 30, "school_name": 30, "level": 7, "school_year": 10, "period": 6, "unit_code": 10,
          "school_code": 11, "phong_code": 9, "so_code": 8, "status": 14, "state": 12, "unit_state": 12,
          "unit_timeliness": 11, "versions": 8}  # fmt: skip
LATE_SHEET = "Chậm, chưa nộp"
LATE_COLUMNS = (
    Column("Mã trường / school code", "", 11),
    Column("Tên trường / school name", "", 32),
    Column("Phòng GDĐT / Phòng", "", 28),
    Column("Tình trạng / status", "", 14),
    Column("Hạn nộp / deadline", "", 11),
    Column("Số ngày chậm / days late", "", 9),
    Column("Phiên bản cuối đã nhận / last version received", "", 18),
    Column("Số phiên bản / versions", "", 9),
)


def _columns(spec: tuple[tuple[str, str, str], ...]) -> list[Column]:
    return [Column(head, "", WIDTHS.get(name, 11.0)) for name, _, head in spec]


def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None


def late_and_missing(rows: list[dict], schools: list[dict]) -> list[tuple]:
    """The schools late or missing: code, name, Phòng (code and name), status, deadline, days late
    (to the first version for a late school, to the evaluation for a missing one), the last
    version received and how many; the longest overdue first."""
    names = {r["unit_code"]: r["unit_name"] for r in rows if r["level"] == "phong"}
    out = []
    for r in schools:
        if r["status"] not in ("late", "missing"):
            continue
        deadline = _day(r["deadline"])
        until = _day(r["first_arrived_at"] if r["status"] == "late" else r["evaluated_at"])
        days = (until - deadline).days if deadline and until else None
        phong = (
            f"{r['phong_code']} — {names.get(r['phong_code'], '')}".rstrip(" —") if r["phong_code"] else None
        )
        out.append((r["school_code"], r["school_name"], phong, STATUS_VI[r["status"]], plain(r["deadline"]), days,
                    plain(r["current_arrived_at"]), r["versions"]))  # fmt: skip
    return sorted(out, key=lambda t: (t[3] != STATUS_VI["missing"], -(t[5] or 0), t[0]))


def _unit_colour(r: dict) -> str | None:
    if r.get("missing"):
        return COLOURS["missing"]
    if r.get("late"):
        return COLOURS["late"]
    if r.get("pending"):
        return COLOURS["pending"]
    return COLOURS["on_time"] if r.get("expected") else None


def write_completeness(out: Path, rows: list[dict], schools: list[dict]) -> list[Path]:
    """OUT/completeness.xlsx (sheets "Phòng, Sở", "Trường", "Chậm, chưa nộp") and completeness.csv /
    completeness_schools.csv (UTF-8 with a BOM for Excel, every field safe to open)."""
    out.mkdir(parents=True, exist_ok=True)
    period = f"{rows[0]['school_year']} {rows[0]['period']}" if rows else ""
    book = xlsx.StyleSheet()
    unit_rows = [[plain(r[c]) for c, _, _ in UNIT_COLUMNS] for r in rows]
    colour_of = {id(row): _unit_colour(r) for row, r in zip(unit_rows, rows, strict=True)}
    school_rows = [[STATUS_VI.get(r[c], r[c]) if c == "status" else plain(r[c]) for c, _, _ in SCHOOL_COLUMNS]
                   for r in schools]  # fmt: skip
    status = {id(row): COLOURS.get(r["status"]) for row, r in zip(school_rows, schools, strict=True)}
    late = late_and_missing(rows, schools)
    sheets = [
        list_sheet(book, "Phòng, Sở", [], _columns(UNIT_COLUMNS), unit_rows, fill=lambda r: colour_of[id(r)],
                   header=printing.header("Tiến độ nộp báo cáo — Phòng, Sở", "", period)),
        list_sheet(book, "Trường", [], _columns(SCHOOL_COLUMNS), school_rows, fill=lambda r: status[id(r)],
                   header=printing.header("Tiến độ nộp báo cáo — Trường", "", period)),
        list_sheet(book, LATE_SHEET, [], LATE_COLUMNS, late, empty="Không có trường chậm hoặc chưa nộp / none",
                   fill=lambda r: COLOURS["missing"] if r[3] == STATUS_VI["missing"] else COLOURS["late"],
                   header=printing.header("Trường chậm, chưa nộp báo cáo", "", period)),
    ]  # fmt: skip
    paths = [out / "completeness.xlsx", out / "completeness.csv", out / "completeness_schools.csv"]
    xlsx.write_workbook(paths[0], sheets, book, "Tiến độ nộp báo cáo / completeness")
    for path, columns, data in ((paths[1], UNIT_COLUMNS, rows), (paths[2], SCHOOL_COLUMNS, schools)):
        write_csv(
            path, [c for c, _, _ in columns], ([plain(r[c]) for c, _, _ in columns] for r in data), none=None
        )
    return paths
