"""Continuing-education centres (05-GDTX-ĐN): GDTX upper-secondary classes, literacy and post-literacy
classes in mountain districts, now and then a lớp 9 GDTX class; learners of wider ages who leave
more often; and the centre's own record. Staff and rooms come from staff.py and rooms.py."""

from __future__ import annotations

import bisect
import random
from typing import Any

from pipelines import catalog
from pipelines.synthetic.payload import (
    assemble_payload,
    draw_place,
    draw_sites,
    institution_info,
    registry_facts,
    september_departure,
)
from pipelines.synthetic.plan import KINDS, SchoolPlan
from pipelines.synthetic.rooms import school_rooms
from pipelines.synthetic.staff import gdtx_staff
from pipelines.synthetic.values import (
    client_id,
    code_in_style,
    draw_styles,
    flag_in_style,
    gender_in_style,
    person_name,
    short_place,
    year_dates,
)

GDTX_SUBJECTS = ("53", "54", "55", "56", "57", "58", "59", "63", "64", "65")  # DM_MON_HOC, GDTX
LITERACY_SUBJECTS = ("53", "57")  # Toán, Ngữ văn (GDTX)
GDTX_CLASS_TYPE = {13: "03", 14: "03", 15: "03", 23: "02", 18: "01", 19: "01"}  # DM_KIEU_LOP
GDTX_LABEL = {13: "10", 14: "11", 15: "12", 23: "9", 18: "XMC", 19: "SBC"}
GDTX_CENTRE_NAME = {
    "15": "Trung tâm GDTX",
    "16": "Trung tâm GDNN - GDTX",
    "17": "Trung tâm GDTX - Hướng nghiệp",
}


def _gdtx_age(rng: random.Random, grade: int) -> int:
    """Age (start year − birth year) of a GDTX learner: about half at the official age of the
    equivalent general grade (lớp 10 GDTX: 15), the rest older; literacy learners are adults."""
    if grade in (18, 19):
        return int(rng.triangular(15, 60, 30))
    official = (grade - 3 if grade <= 15 else grade - 14) + 5
    r = rng.random()
    if r < 0.55:
        return official
    if r < 0.8:
        return official + rng.randint(1, 2)
    return rng.randint(official + 3, 45)


def gdtx_centre(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A continuing-education centre's payload: GDTX upper-secondary classes (13-15), in district
    centres of mountain districts some literacy (18) and post-literacy (19) classes, now and then a
    lớp 9 GDTX class (23); learners of wider ages, staff (Giám đốc 05, Phó giám đốc 06), rooms."""
    d = plan.district
    mountain = d.mountain
    st = draw_styles(rng)
    nhom, cap_hoc, _, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    provincial = plan.kind == "GDTXT"
    if provincial:
        name = f"{prefix} {short_place(catalog.codelist('provinces_pre2025').labels_vi[province])}"
    else:
        name = f"{GDTX_CENTRE_NAME[plan.category]} {short_place(d.name)}"
    code = plan.code
    minority_share = d.minority_share * rng.uniform(0.7, 1.2)
    n_sites = 0 if provincial else rng.choice((0, 0, 1, 2))
    sites = draw_sites(rng, code, province, d.code, n_sites, 15, label="Điểm học")

    # Classes: (DM_KHOI code, size, study mode DM_HINH_THUC_DAO_TAO_HOC_TAP).
    specs: list[tuple[int, int, str]] = []
    lo, hi = (3, 6) if provincial else (1, 4)
    for g in (13, 14, 15):
        for _ in range(rng.randint(lo, hi)):
            size = rng.randint(12, 30) if mountain else rng.randint(20, 40)
            specs.append((g, size, rng.choices(("01", "02", "03"), (60, 35, 5))[0]))
    if not provincial and rng.random() < 0.2:
        specs.append((23, rng.randint(10, 25), "02"))
    if not provincial and (rng.random() < (0.7 if mountain else 0.15)):
        for _ in range(rng.randint(1, 2)):
            specs.append((18, rng.randint(10, 25), "02"))
        if rng.random() < 0.4:
            specs.append((19, rng.randint(10, 20), "02"))

    classes: list[dict[str, Any]] = []
    pupils: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    base, step = rng.randrange(10**8), 7919
    status_int = st.status == "int"
    for g, size, mode in specs:
        seen[g] = seen.get(g, 0) + 1
        label = f"{GDTX_LABEL[g]}G{seen[g]}"
        literacy = g in (18, 19)
        c: dict[str, Any] = {
            "ClientId": client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": code_in_style(f"{g:02d}", st.grade),
            "LopGhep": flag_in_style(False, st.flag),
            "LopBanTru": flag_in_style(False, st.flag),
            "BuoiHoc": 3 if mode == "02" else rng.choice((1, 2)),  # vừa làm vừa học: evenings
            "MaHinhThucDaoTaoHocTap": mode,
            "MaKieuLop": GDTX_CLASS_TYPE[g],
        }
        if sites and (literacy or rng.random() < 0.2):
            c["MaDiemTruong"] = sites[rng.randrange(n_sites)]["MaDiemTruong"]
        c["DsMonHoc"] = [{"MaMonHoc": s} for s in (LITERACY_SUBJECTS if literacy else GDTX_SUBJECTS)]
        classes.append(c)
        for _ in range(size):
            gender = 2 if rng.random() < (0.6 if literacy else 0.45) else 1
            minority = rng.random() < (max(minority_share, 0.8) if literacy else minority_share)
            if minority:
                ethnic = d.groups[bisect.bisect(d.cum_weights, rng.random() * d.cum_weights[-1])]
            else:
                ethnic = "01"
            p: dict[str, Any] = {
                "ClientId": client_id(rng),
                "MaHocSinh": f"{province}{(base + len(pupils) * step) % 10**8:08d}",
                "HoTen": person_name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": gender_in_style(gender, st.gender),
                "NgaySinh": rng.choice(year_dates(start_year - _gdtx_age(rng, g), "iso_t")),
                "KhoiHoc": c["KhoiHoc"],
                "MaLopHocDn": c["MaLopHoc"],
            }
            r = rng.random()
            if r < 0.01:  # transferred out in September, before 30/9
                p["TrangThai"] = 4 if status_int else "04"
                p["NgayTrangThai"] = september_departure(rng, start_year)
            elif r < 0.04:  # dropped out in September (GDTX learners leave more often)
                p["TrangThai"] = 5 if status_int else "05"
                p["NgayTrangThai"] = september_departure(rng, start_year)
                p["MaLyDoThoiHoc"] = rng.choice(("01", "02", "03", "06", "09"))
            else:
                p["TrangThai"] = 1 if status_int else "01"
            if g in (13, 18, 19):
                admission = "0" if literacy or rng.random() < 0.6 else "2"
            else:
                admission = "3" if rng.random() < 0.03 else "4"
            p["LoaiNhapHoc"] = int(admission) if status_int else admission
            disabled = rng.random() < 0.005
            p["KhuyetTat"] = flag_in_style(disabled, st.flag)
            if disabled:
                p["MaLoaiKhuyetTat"] = rng.choice(("01", "02", "03", "04", "05", "06"))
            if mountain and minority and rng.random() < 0.4:
                p["MaDtuongCsach"] = "11"
                p["IsHoTroChiPhiHocTap"] = flag_in_style(rng.random() < 0.5, st.flag)
            elif rng.random() < 0.05:
                p["MaDtuongCsach"] = rng.choice(("08", "09", "16"))
            if rng.random() < 0.9:
                p["MaHinhThucHocTap"] = mode
            pupils.append(p)

    staff = gdtx_staff(rng, plan, st, len(classes), start_year, minority_share)
    rooms = school_rooms(rng, plan, max(1, round(len(classes) * rng.uniform(0.6, 1.0))))

    flag_p = 0.8 if mountain else 0.95
    info = institution_info(code, name, start_year, nhom, "01", plan.category)
    info.update(draw_place(rng, mountain, province, d.code))
    info["Hoc2BuoiNgay"] = flag_in_style(False, st.flag)
    for f in (
        "SuDungMayTinhDayHoc",
        "KhaiThacInternetDayHoc",
        "DienLuoi",
        "NguonNuocSach",
        "CongTrinhVeSinh",
    ):
        info[f] = flag_in_style(rng.random() < flag_p, st.flag)
    info["CoHaTangTlhtPhuHopHskt"] = flag_in_style(rng.random() < 0.3, st.flag)
    info["TtGdtxHuongNghiep"] = flag_in_style(rng.random() < (0.9 if provincial else 0.6), st.flag)
    facts = registry_facts(name, cap_hoc, (commune_code, commune_name), None, False, plan.category)
    return assemble_payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )
