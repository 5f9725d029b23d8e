"""Rooms (CoSoVatChat) by type and construction: a general school's or GDTX centre's classrooms and
support rooms, and a preschool's rooms per block (KhoiHoc 16 nhà trẻ, 17 mẫu giáo)."""

from __future__ import annotations

import random
from typing import Any

from pipelines.synthetic.plan import INDEPENDENT_KINDS, MN_BANDS, SchoolPlan


def school_rooms(rng: random.Random, plan: SchoolPlan, n_physical: int) -> list[dict[str, Any]]:
    """Rooms by (type, construction): classrooms split over construction types, support rooms."""
    mountain = plan.district.mountain
    borrowed = rng.randint(1, 3) if rng.random() < 0.1 else 0
    own = max(1, n_physical - borrowed)
    solid = round(own * (rng.uniform(0.5, 0.9) if mountain else rng.uniform(0.85, 1.0)))
    temporary = round((own - solid) * rng.uniform(0, 0.4)) if mountain else 0
    rooms = [("01", "01", solid), ("01", "02", own - solid - temporary), ("01", "03", temporary),
             ("02", "02", borrowed)]  # fmt: skip
    for room, p in (("03", 0.9), ("04", 0.7), ("05", 0.3 if mountain else 0.6), ("06", 0.4),
                    ("07", 0.2), ("08", 0.3), ("09", 0.3), ("10", 0.1), ("11", 0.1), ("12", 0.4),
                    ("13", 0.7)):  # fmt: skip
        if rng.random() < p:
            n = rng.randint(1, 2) if room == "05" else 1
            rooms.append((room, "01" if rng.random() < 0.85 else "02", n))
    return [{"MaLoaiPhong": t, "LoaiCongTrinh": c, "SoLuong": n} for t, c, n in rooms if n > 0]


def preschool_rooms(
    rng: random.Random, plan: SchoolPlan, specs: list[tuple[str, int, int]]
) -> list[dict[str, Any]]:
    """Rooms by (type, construction, block KhoiHoc 16/17): a room per group/class, support rooms."""
    mountain = plan.district.mountain
    entries: dict[tuple[str, str, str], int] = {}

    def add(room: str, construction: str, block: str, n: int) -> None:
        if n > 0:
            key = (room, construction, block)
            entries[key] = entries.get(key, 0) + n

    for grade in (16, 17):
        n = sum(1 for b, _, _ in specs if MN_BANDS[b][0] == grade)
        if not n:
            continue
        block = str(grade)
        borrowed = 1 if n > 1 and rng.random() < 0.1 else 0
        own = n - borrowed
        solid = round(own * (rng.uniform(0.4, 0.9) if mountain else rng.uniform(0.8, 1.0)))
        temporary = round((own - solid) * rng.uniform(0, 0.5)) if mountain else 0
        add("01", "01", block, solid)
        add("01", "02", block, own - solid - temporary)
        add("01", "03", block, temporary)
        add("02", "02", block, borrowed)
        rooms = (("09", 0.3), ("07", 0.3), ("15", 0.5), ("16", 0.9), ("13", 0.5))
        if grade == 17:
            rooms += (("10", 0.05), ("03", 0.3))
        for room, p in rooms:
            if rng.random() < (p if plan.kind not in INDEPENDENT_KINDS else p / 3):
                add(room, "01" if rng.random() < 0.85 else "02", block, 1)
    return [
        {"MaLoaiPhong": t, "LoaiCongTrinh": c, "SoLuong": n, "KhoiHoc": b} for (t, c, b), n in entries.items()
    ]
