"""Changes during the school year: transfers out and dropouts (dated, coded by semester, dropouts with
a reason), summer leavers, and new pupils transferred in, at the rates of each level."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from pipelines.synthetic.learners import day_between, day_stamp, flag_like, rate_group, read_code, status_like
from pipelines.synthetic.results import NUTRITION_DRAW
from pipelines.synthetic.values import client_id, newcomer_name, weighted

# Share of the pupils enrolled at the start who transfer out / drop out during the year, and of
# new pupils transferred in (per pupil at the start), by level: TH, THCS, THPT, preschool (MN) and
# continuing education (GDTX: adult and out-of-school learners leave far more often).
RATES = {
    "TH": {"out": 0.012, "dropout": 0.003, "in": 0.012},
    "THCS": {"out": 0.012, "dropout": 0.012, "in": 0.010},
    "THPT": {"out": 0.010, "dropout": 0.020, "in": 0.008},
    "MN": {"out": 0.015, "dropout": 0.010, "in": 0.015},
    "GDTX": {"out": 0.015, "dropout": 0.060, "in": 0.012},
}
SUMMER_LEAVERS = 0.002  # leave in the summer after 31/5: still counted at the end, with a result
DROPOUT_REASONS = (
    ("01", 25), ("02", 25), ("03", 10), ("04", 2), ("05", 1), ("06", 15), ("07", 3), ("08", 10),
    ("09", 6), ("10", 3),
)  # fmt: skip


def draw_changes(
    rng: random.Random, pupils: list[dict[str, Any]], start: dt.date, end: dt.date
) -> dict[str, int]:
    """Transfers out and dropouts during the year, in place, among pupils studying since the start."""
    semester_2 = dt.date(end.year, 1, 16)  # semester 1 ends mid-January
    counts = {"out": 0, "dropout": 0}
    for p in pupils:
        kind = rate_group(p)
        if kind is None or read_code(p.get("TrangThai")) != "01":
            continue
        rates = RATES[kind]
        r = rng.random()
        if r < rates["out"] + rates["dropout"]:
            kind = "out" if r < rates["out"] else "dropout"
            day = day_between(rng, start + dt.timedelta(days=1), end)
            first = day < semester_2
            code = {
                ("out", True): "04",
                ("out", False): "08",
                ("dropout", True): "05",
                ("dropout", False): "09",
            }[(kind, first)]
            p["TrangThai"] = status_like(code, p.get("TrangThai"))
            p["NgayTrangThai"] = day_stamp(day)
            if kind == "dropout":
                p["MaLyDoThoiHoc"] = weighted(rng, DROPOUT_REASONS)
            counts[kind] += 1
        elif r < rates["out"] + rates["dropout"] + SUMMER_LEAVERS:
            # Leaves in the summer after 31/5: counted at the end, with a result.
            code = rng.choice(("11", "12"))
            p["TrangThai"] = status_like(code, p.get("TrangThai"))
            p["NgayTrangThai"] = day_stamp(
                day_between(rng, end + dt.timedelta(days=5), dt.date(end.year, 8, 15))
            )
            if code == "12":
                p["MaLyDoThoiHoc"] = weighted(rng, DROPOUT_REASONS)
    return counts


def arrival_status(rng: random.Random, start: dt.date, end: dt.date, like: Any) -> tuple[Any, str]:
    """(TrangThai, NgayTrangThai) of a transfer in on a day after the start and on or before the
    end: 02 in semester 1, 06 in semester 2, in the style of `like`."""
    day = day_between(rng, start + dt.timedelta(days=1), end)
    return status_like("02" if day < dt.date(end.year, 1, 16) else "06", like), day_stamp(day)


def draw_arrivals(
    rng: random.Random, pupils: list[dict[str, Any]], start: dt.date, end: dt.date, school: str
) -> list[dict[str, Any]]:
    """New pupils transferred in during the year, each into the class of a pupil of its grade.
    Their pupil codes start with the school's code, so no two schools of the province share one."""
    taken = {str(p.get("MaHocSinh")) for p in pupils}
    new = []
    for p in list(pupils):
        kind = rate_group(p)
        if kind is None or read_code(p.get("TrangThai")) != "01" or rng.random() >= RATES[kind]["in"]:
            continue
        gender = 2 if rng.random() < 0.485 else 1
        code = f"{school}{rng.randrange(10**8):08d}"
        while code in taken:
            code = f"{school}{rng.randrange(10**8):08d}"
        taken.add(code)
        like = p.get("TrangThai")
        status, stamp = arrival_status(rng, start, end, like)
        child: dict[str, Any] = {}
        if kind == "MN":  # checked on arrival (the end-of-year re-check may update it)
            child["KiemTraSucKhoeDinhDuong"] = flag_like(True, p.get("KiemTraSucKhoeDinhDuong", 1))
            child["TinhTrangDinhDuong"] = weighted(rng, NUTRITION_DRAW)
        elif kind == "GDTX" and p.get("MaHinhThucHocTap") is not None:
            child["MaHinhThucHocTap"] = p["MaHinhThucHocTap"]
        new.append({
            "ClientId": client_id(rng),
            "MaHocSinh": code,
            "HoTen": newcomer_name(rng, gender),
            "MaDanToc": p.get("MaDanToc") if rng.random() < 0.5 else "01",
            "GioiTinh": gender if isinstance(p.get("GioiTinh"), int) else f"{gender:02d}",
            "NgaySinh": p.get("NgaySinh"),
            "KhoiHoc": p.get("KhoiHoc"),
            "MaLopHocDn": p.get("MaLopHocDn"),
            "TrangThai": status,
            "NgayTrangThai": stamp,
            "LoaiNhapHoc": 1 if isinstance(like, int) else "1",
            "KhuyetTat": 0,
            **child,
        })  # fmt: skip
    return new
