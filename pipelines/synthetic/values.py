"""How generated values look: people's names (drawn by sex and ethnicity, made distinct within a
school), short place names, and codes, flags, sex and dates as one school's software writes them.
Every draw takes the caller's `random.Random`, so a seed gives the same values."""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import re
from dataclasses import dataclass
from typing import Any

from pipelines.ingest.normalise import normalise_code, normalise_date

# ---------------------------------------------------------------- names

FAMILY = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 5), ("Phan", 4.5),
    ("Vũ", 4), ("Huỳnh", 3), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.5), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5),
)  # fmt: skip
FAMILY_MINORITY = (
    "Hà", "Lò", "Lường", "Sùng", "Giàng", "Vàng", "Nông", "Triệu", "Ksor", "Niê", "Byă",
    "Êban", "Mlô", "Hmok", "Rơ Châm", "Kpă",
)  # fmt: skip
MIDDLE = {
    1: ("Văn", "Đức", "Minh", "Quang", "Gia", "Hữu", "Thành", "Công", "Anh", "Bảo"),
    2: ("Thị", "Ngọc", "Thu", "Minh", "Bảo", "Khánh", "Phương", "Thanh", "Hoài", "Mai"),
}
GIVEN = {
    1: ("An", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hòa", "Hùng", "Huy",
        "Khang", "Khoa", "Kiên", "Lâm", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
        "Sơn", "Tài", "Thắng", "Thịnh", "Trí", "Trung", "Tuấn", "Việt", "Vinh"),
    2: ("An", "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Huyền",
        "Lan", "Linh", "Mai", "My", "Ngân", "Ngọc", "Nhung", "Nhi", "Oanh", "Phương", "Quỳnh",
        "Tâm", "Thảo", "Thư", "Trang", "Trâm", "Uyên", "Vy", "Yến"),
}  # fmt: skip


_FAMILY_NAMES = tuple(n for n, _ in FAMILY)
_FAMILY_CUM = tuple(itertools.accumulate(w for _, w in FAMILY))


def person_name(rng: random.Random, gender: int, minority: bool) -> str:
    if minority:
        family = rng.choice(FAMILY_MINORITY)
    else:
        family = _FAMILY_NAMES[bisect.bisect(_FAMILY_CUM, rng.random() * _FAMILY_CUM[-1])]
    return f"{family} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"


# The shorter lists the derived years draw from for learners who are not in this year's file
# (transfers in, last year's leavers).
NEWCOMER_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương")
NEWCOMER_MIDDLE = {1: ("Văn", "Đức", "Minh", "Quang", "Hữu"), 2: ("Thị", "Ngọc", "Thu", "Minh", "Khánh")}
NEWCOMER_GIVEN = {1: ("An", "Bình", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Tuấn"),
                  2: ("Anh", "Chi", "Hà", "Hoa", "Lan", "Linh", "Mai", "Ngọc", "Trang", "Vy")}  # fmt: skip


def newcomer_name(rng: random.Random, gender: int) -> str:
    """A name from the newcomer lists (family, middle and given name drawn in that order)."""
    family, middle = rng.choice(NEWCOMER_FAMILY), rng.choice(NEWCOMER_MIDDLE[gender])
    return f"{family} {middle} {rng.choice(NEWCOMER_GIVEN[gender])}"


# Second given names for pupils who would otherwise share a name, birth month and sex in one school.
SECOND_GIVEN = ("Anh", "Minh", "Ngọc", "Bảo", "Gia", "Khánh", "Thiên", "Hoài")


def distinct_names(pupils: list[dict[str, Any]]) -> None:
    """Give a pupil who shares name, birth month and sex with an earlier pupil of the school a
    second given name. Schools tell such pupils apart, so clean generated data must not trip the
    likely-duplicate rule; no random draw is made, so every other generated value stays the same."""
    seen: set[tuple[Any, ...]] = set()
    for p in pupils:
        name, n = p.get("HoTen"), 0
        born = normalise_date(p.get("NgaySinh"), year_month=True)  # dates come in several formats
        while (key := (name, born, normalise_code(p.get("GioiTinh"), 2))) in seen:
            name = f"{p['HoTen']} {SECOND_GIVEN[n % len(SECOND_GIVEN)]}" + (
                f" {n}" if n >= len(SECOND_GIVEN) else ""
            )
            n += 1
        p["HoTen"] = name
        seen.add(key)


def short_place(name: str) -> str:
    return re.sub(r"^(Thành phố|Thị xã|Thị Xã|Thị trấn|Quận|Huyện|Phường|Xã|Tỉnh)\s+", "", name)


# ---------------------------------------------------------------- codes and flags


@dataclass(frozen=True)
class Styles:
    """How one school's software writes codes, flags and dates."""

    grade: str
    gender: str
    status: str
    staff_codes: str
    flag: str
    staff_date: str


def draw_styles(rng: random.Random) -> Styles:
    return Styles(
        grade=rng.choices(["int", "str", "float"], [5, 4, 1])[0],
        gender=rng.choices(["int", "str1", "str2"], [6, 2, 2])[0],
        status=rng.choices(["int", "str"], [6, 4])[0],
        staff_codes=rng.choices(["int", "str"], [5, 5])[0],
        flag=rng.choices(["int", "bool", "str"], [75, 15, 10])[0],
        staff_date=rng.choices(["iso", "iso_t", "dmy"], [6, 3, 1])[0],
    )


def weighted(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def code_in_style(code: str, style: str) -> Any:
    """A code as a school's software would write it ("01", 1 or "1.0")."""
    if style == "int":
        return int(code)
    if style == "float":
        return f"{int(code)}.0"
    return code


def flag_in_style(value: bool, style: str) -> Any:
    if style == "bool":
        return value
    if style == "str":
        return "1" if value else "0"
    return 1 if value else 0


def gender_in_style(g: int, style: str) -> Any:
    if style == "int":
        return g
    return str(g) if style == "str1" else f"0{g}"


def client_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# ---------------------------------------------------------------- dates

_DATES: dict[tuple[int, str], tuple[str, ...]] = {}


def year_dates(year: int, fmt: str) -> tuple[str, ...]:
    """Every day of a year, formatted (cached: drawing a birth date is then one choice)."""
    key = (year, fmt)
    if key not in _DATES:
        start = dt.date(year, 1, 1).toordinal()
        n = dt.date(year + 1, 1, 1).toordinal() - start
        days = [dt.date.fromordinal(start + i) for i in range(n)]
        _DATES[key] = tuple(format_date(d, fmt) for d in days)
    return _DATES[key]


def format_date(d: dt.date, fmt: str) -> str:
    if fmt == "iso_t":
        return f"{d.isoformat()}T00:00:00.0"
    if fmt == "dmy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    return d.isoformat()


def date_between(rng: random.Random, start: dt.date, end: dt.date, fmt: str) -> str:
    return format_date(dt.date.fromordinal(rng.randint(start.toordinal(), end.toordinal())), fmt)
