"""completeness.xlsx on a hand-made Phòng of three schools: one on time, one late, one missing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from pipelines.outputs.completeness import COLOURS, LATE_SHEET, late_and_missing, write_completeness

EVALUATED = datetime(2024, 10, 20, 8)
DEADLINE = date(2024, 10, 15)
PHONG = {"school_year": "2024-2025", "period": "DN", "level": "phong", "unit_code": "643",
         "unit_name": "Phòng GDĐT Thành phố Buôn Ma Thuột", "expected": 3, "received": 2, "on_time": 1, "late": 1,
         "missing": 1, "pending": 0, "resubmitted": 1, "approved": 0, "received_pct": 66.7,
         "school_deadline": DEADLINE, "unit_deadline": date(2024, 10, 25), "unit_state": "draft",
         "unit_approved_at": None, "unit_timeliness": None, "evaluated_at": EVALUATED}  # fmt: skip


def _school(code: str, status: str, first: datetime | None, current: datetime | None, versions: int) -> dict:
    return {"school_year": "2024-2025", "period": "DN", "school_code": code, "school_name": f"Trường Tiểu học {code}",
            "phong_code": "643", "so_code": "66", "deadline": DEADLINE, "status": status, "first_arrived_at": first,
            "versions": versions, "current_arrived_at": current, "state": "received", "evaluated_at": EVALUATED}  # fmt: skip


SCHOOLS = [
    _school("66643001", "on_time", datetime(2024, 10, 1), datetime(2024, 10, 1), 1),
    # First sent on the 18th (3 days after the 15th), sent again on the 19th.
    _school("66643002", "late", datetime(2024, 10, 18), datetime(2024, 10, 19, 9, 30), 2),
    _school("66643003", "missing", None, None, 0),  # 5 days overdue on the 20th
]


def test_late_and_missing_schools_with_their_phong_and_days_late() -> None:
    rows = late_and_missing([PHONG], SCHOOLS)
    assert rows == [
        ("66643003", "Trường Tiểu học 66643003", "643 — Phòng GDĐT Thành phố Buôn Ma Thuột", "chưa nộp (quá hạn)",
         "2024-10-15", 5, None, 0),
        ("66643002", "Trường Tiểu học 66643002", "643 — Phòng GDĐT Thành phố Buôn Ma Thuột", "muộn",
         "2024-10-15", 3, "2024-10-19 09:30:00", 2),
    ]  # fmt: skip


def test_workbook_colours_freezes_filters_and_prints(tmp_path: Path) -> None:
    path = write_completeness(tmp_path, [PHONG], SCHOOLS)[0]
    wb = load_workbook(path)
    assert wb.sheetnames == ["Phòng, Sở", "Trường", LATE_SHEET]
    schools = wb["Trường"]
    colours = {schools.cell(r, 3).value: schools.cell(r, 3).fill.fgColor.rgb for r in range(2, 5)}
    assert colours == {"66643001": "FF" + COLOURS["on_time"], "66643002": "FF" + COLOURS["late"],
                       "66643003": "FF" + COLOURS["missing"]}  # fmt: skip
    # The Phòng has a missing school: its row is red.
    assert wb["Phòng, Sở"].cell(2, 4).value == "643"
    assert wb["Phòng, Sở"].cell(2, 4).fill.fgColor.rgb == "FF" + COLOURS["missing"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref is not None, ws.title
        assert ws.print_title_rows == "$1:$1" and ws.oddFooter.center.text == "Trang &P / &N", ws.title
        assert ws.page_setup.paperSize in ("8", "9", 8, 9), ws.title
    late = wb[LATE_SHEET]
    assert [late.cell(r, 1).value for r in (2, 3)] == ["66643003", "66643002"]
    assert [late.cell(r, 6).value for r in (2, 3)] == [5, 3]
