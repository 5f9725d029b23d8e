"""Injected defects: one defect of a kind the validation must catch (a bad code, a missing required
field, a duplicate pupil, a wrong type, a class not found, a malformed file), applied to a school's
payload and reported as (entity, record index, field) for defects.json."""

from __future__ import annotations

import random
from typing import Any

DEFECT_KINDS = (
    "bad_code", "missing_required", "duplicate_pupil", "wrong_type", "class_not_found",
    "malformed_file",
)  # fmt: skip


def inject_defect(
    rng: random.Random, payload: dict[str, Any], kind: str
) -> tuple[str | None, int | None, str | None]:
    """Apply one defect in place; return (entity, record_index, field)."""
    pupils, staff, rooms = payload["LstHocSinh"], payload["LstCanBo"], payload["CoSoVatChat"]
    if kind == "malformed_file" or not pupils:
        return None, None, None
    if kind == "bad_code":
        entity, records, field, value = rng.choice((
            ("learner", pupils, "MaDanToc", "99"),
            ("learner", pupils, "GioiTinh", 3),
            ("staff", staff, "TrinhDoChuyenMonNvCaoNhat", "99"),
            ("rooms", rooms, "LoaiCongTrinh", "09"),
        ))  # fmt: skip
        i = rng.randrange(len(records))
        records[i][field] = value
        return entity, i, field
    if kind == "missing_required":
        entity, records, field = rng.choice((
            ("learner", pupils, "NgaySinh"),
            ("learner", pupils, "KhoiHoc"),
            ("learner", pupils, "MaDanToc"),
            ("staff", staff, "NgaySinh"),
        ))  # fmt: skip
        i = rng.randrange(len(records))
        del records[i][field]
        return entity, i, field
    if kind == "duplicate_pupil":
        pupils.append(dict(pupils[rng.randrange(len(pupils))]))
        # School software counts its own list: the declared total includes the duplicate.
        payload["TruongHocInfo"]["TongSoHocSinh"] = len(pupils)
        return "learner", len(pupils) - 1, "ClientId"
    if kind == "wrong_type":
        if rng.random() < 0.5:
            i = rng.randrange(len(staff))
            staff[i]["NgaySinh"] = "not a date"
            return "staff", i, "NgaySinh"
        i = rng.randrange(len(rooms))
        rooms[i]["SoLuong"] = "abc"
        return "rooms", i, "SoLuong"
    if kind == "class_not_found":
        i = rng.randrange(len(pupils))
        pupils[i]["MaLopHocDn"] = f"{payload['MaTruongHoc']}-99Z"
        return "learner", i, "MaLopHocDn"
    raise ValueError(f"unknown defect kind {kind!r}")
