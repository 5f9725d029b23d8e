"""What every institution's file shares: its satellite sites (LstDiemTruongInfo), and the payload
itself with the totals its software declares and the facts the institution's registry row needs."""

from __future__ import annotations

import random
from typing import Any

from pipelines.synthetic.values import distinct_names


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
