"""What every institution's file shares: its satellite sites (LstDiemTruongInfo), and the payload
itself with the totals its software declares and the facts the institution's registry row needs."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from pipelines.synthetic.values import date_between, distinct_names

OWNERSHIP_NAMES = {"09": "Tư thục", "03": "Dân lập"}  # LoaiHinhDaoTao → LoaiHinhTruong; else Công lập


def draw_sites(
    rng: random.Random,
    code: str,
    province: str,
    district: str,
    n: int,
    max_km: float,
    label: str = "Điểm trường",
) -> list[dict[str, Any]]:
    """A school's satellite sites (LstDiemTruongInfo)."""
    return [
        {"MaDiemTruong": f"{code}-DT{i}", "TenDiemTruong": f"{label} thôn {rng.randint(1, 20)}",
         "MaTinhThanh": province, "MaQuanHuyen": district, "KhoangCach": round(rng.uniform(0.5, max_km), 1)}
        for i in range(1, n + 1)
    ]  # fmt: skip


def assemble_payload(code: str, start_year: int, loai_dong_bo: int, info: dict[str, Any], n_sites: int, sites: list,
             classes: list, pupils: list, staff: list, rooms: list,
             facts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """One school's JSON payload (with its declared totals) and the facts its registry row needs."""
    distinct_names(pupils)
    info["SoDiemTruong"] = n_sites
    info["TongSoHocSinh"] = len(pupils)
    info["TongSoLopHoc"] = len(classes)
    info["TongSoCanBo"] = len(staff)
    payload = {"MaTruongHoc": code, "NamHoc": start_year, "LoaiDongBo": loai_dong_bo, "TruongHocInfo": info,
               "LstDiemTruongInfo": sites, "LstLopHocInfo": classes, "LstHocSinh": pupils, "LstCanBo": staff,
               "CoSoVatChat": rooms}  # fmt: skip
    return payload, {**facts, "principal": staff[0]["TenCanBo"]}


def institution_info(
    code: str, name: str, start_year: int, nhom: str, ownership_code: str, category: str
) -> dict[str, Any]:
    """The head of TruongHocInfo: the institution, its ownership and its category."""
    return {
        "MaTruongHoc": code,
        "TenTruongHoc": name,
        "NamHoc": start_year,
        "MaNhomCapHoc": nhom,
        "LoaiHinhDaoTao": ownership_code,
        "LoaiHinhTruong": OWNERSHIP_NAMES.get(ownership_code, "Công lập"),
        "MaLoaiTruong": category,
    }


def draw_place(rng: random.Random, mountain: bool, province: str, district: str) -> dict[str, Any]:
    """Region (MaVung) and area (MaKhuVuc) as a mountain or a lowland commune reports them, then
    the province and district codes."""
    if mountain:
        region, area = rng.choices(["04", "06", "01"], [6, 3, 1])[0], "04"
    else:
        region = rng.choices(["02", "03", "01", "04"], [5, 3, 2, 0.5])[0]
        area = "02" if region == "03" else "03"
    return {"MaVung": region, "MaKhuVuc": area, "MaTinh": province, "MaHuyen": district}


def september_departure(rng: random.Random, start_year: int) -> str:
    """The date of a learner who left in September, before the 30/9 reference date."""
    return date_between(rng, dt.date(start_year, 9, 5), dt.date(start_year, 9, 29), "iso_t")


def registry_facts(
    name: str, cap_hoc: str, commune: tuple[str, str], standard: str | None, private: bool, category: str
) -> dict[str, Any]:
    """What the institution's registry row needs from its file's draw."""
    return {"name": name, "cap_hoc": cap_hoc, "commune_code": commune[0], "commune_name": commune[1],
            "standard": standard, "private": private, "category": category}  # fmt: skip
