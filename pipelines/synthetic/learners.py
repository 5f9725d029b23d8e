"""A learner record of a generated file, read back and written in the file's own style: its codes
(grade, status, date, rate group), whether it is enrolled on a day (the pipeline's rule), and
flags, statuses, grades, admission types and dates as the school's file writes them."""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

ARRIVING = {"02", "03", "06", "07", "10"}
LEAVING = {"04", "05", "08", "09", "11", "12"}
PRESCHOOL = {"16", "17"}  # DM_KHOI nhóm trẻ, lớp mẫu giáo
GDTX_CODES = {"13", "14", "15", "18", "19", *(f"{g:02d}" for g in range(20, 29))}


def read_code(value: Any) -> str | None:
    """A code as sent (1, "1", "01", 1.0) → two-digit text; None if it is not a number."""
    try:
        return f"{int(float(str(value))):02d}"
    except (TypeError, ValueError):
        return None


def grade_of(pupil: dict[str, Any]) -> int | None:
    """The general-education grade 1-12 of a pupil, else None (preschool, GDTX, malformed)."""
    code = read_code(pupil.get("KhoiHoc"))
    return int(code) if code and 1 <= int(code) <= 12 else None


def read_date(value: Any) -> dt.date | None:
    text = str(value or "")
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", text) or re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if "-" in text else (m.group(3), m.group(2), m.group(1))
    try:
        return dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None


def enrolled_on(pupil: dict[str, Any], day: dt.date) -> bool:
    """The pipeline's rule (entities.sql `enrolled`): not if a leaving status is dated on or before
    the day, nor an arriving status after it; a status without a readable date changes nothing."""
    status, date = read_code(pupil.get("TrangThai")), read_date(pupil.get("NgayTrangThai"))
    if date is None:
        return True
    return not ((status in LEAVING and date <= day) or (status in ARRIVING and date > day))


def _level(grade: int) -> str:
    return "TH" if grade <= 5 else "THCS" if grade <= 9 else "THPT"


def rate_group(pupil: dict[str, Any]) -> str | None:
    """The rate group of a pupil: TH / THCS / THPT by grade, MN, GDTX, else None."""
    grade = grade_of(pupil)
    if grade is not None:
        return _level(grade)
    code = read_code(pupil.get("KhoiHoc"))
    return "MN" if code in PRESCHOOL else "GDTX" if code in GDTX_CODES else None


def flag_like(value: bool, like: Any) -> Any:
    """A flag in the style of the school's file (bool, "1"/"0" or 1/0)."""
    if isinstance(like, bool):
        return value
    return ("1" if value else "0") if isinstance(like, str) else int(value)


def day_between(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return dt.date.fromordinal(rng.randint(lo.toordinal(), hi.toordinal()))


def day_stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.0"


def status_like(code: str, like: Any) -> Any:
    """The status in the style of the school's file (integers or two-digit strings)."""
    return int(code) if isinstance(like, int) else code


def grade_like(grade: int, like: Any) -> Any:
    """A grade code in the style of the school's file (1, "1" or "01")."""
    if isinstance(like, int):
        return grade
    return f"{grade:02d}" if len(str(like)) == 2 else str(grade)


def admission_like(value: int, like: Any) -> Any:
    """A LoaiNhapHoc code in the style of the school's file (integers or digit strings)."""
    return value if isinstance(like, int) else str(value)
