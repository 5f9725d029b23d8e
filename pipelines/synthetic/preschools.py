"""Preschools (01-MN-ĐN): nursery groups and kindergarten classes by age band (some of mixed ages at
satellite sites), children whose ages fit their band, with health, nutrition and support fields,
and the institution's own record. Staff and rooms come from staff.py and rooms.py."""

from __future__ import annotations

import bisect
import random
from typing import Any

from pipelines.synthetic.payload import (
    assemble_payload,
    draw_place,
    draw_sites,
    institution_info,
    registry_facts,
    september_departure,
)
from pipelines.synthetic.plan import INDEPENDENT_KINDS, KINDS, MN_BANDS, SchoolPlan
from pipelines.synthetic.rooms import preschool_rooms
from pipelines.synthetic.staff import preschool_staff
from pipelines.synthetic.values import (
    client_id,
    code_in_style,
    draw_styles,
    flag_in_style,
    gender_in_style,
    person_name,
    short_place,
)


def _birth_month(start_year: int, months: int) -> tuple[int, int]:
    """(year, month) of birth of a child `months` old (completed) on 30/9 of the start year."""
    index = 12 * start_year + 9 - months  # 30/9 closes September: born in September = 0 months
    return (index - 1) // 12, (index - 1) % 12 + 1


def _preschool_classes(rng: random.Random, plan: SchoolPlan) -> list[tuple[str, int, int]]:
    """(band, size, mixed ages) of each nursery group / kindergarten class."""
    grades = KINDS[plan.kind][2]
    mountain = plan.district.mountain
    bands = [b for b, (g, _, _) in MN_BANDS.items() if g in grades]
    out: list[tuple[str, int, int]] = []
    if plan.kind in INDEPENDENT_KINDS:
        for _ in range(rng.randint(1, 2)):
            band = rng.choice(bands)
            lo, hi = MN_BANDS[band][2]
            out.append((band, rng.randint(lo, min(hi, 20)), 0))
        return out
    for band in bands:
        g = MN_BANDS[band][0]
        if g == 16:
            n = rng.choice((0, 1, 1, 2)) if mountain else rng.choice((1, 1, 2, 3))
        else:
            n = rng.randint(1, 3) if mountain else rng.randint(2, 5)
        for _ in range(n):
            lo, hi = MN_BANDS[band][2]
            size = rng.randint(lo, hi) if not mountain else rng.randint(lo, max(lo, hi - 8))
            out.append((band, size, 0))
    if mountain and rng.random() < 0.5:
        # Mixed-age groups/classes at satellite sites: named after their oldest band.
        for _ in range(rng.randint(1, 2)):
            band = rng.choice([b for b in bands if b not in ("01", "04")] or bands)
            out.append((band, rng.randint(8, 20), rng.choice((2, 2, 3))))
    if not out:
        out.append((bands[-1], rng.randint(10, 20), 0))
    return out


def preschool(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A preschool institution's payload: groups/classes, children, staff, rooms (01-MN-ĐN)."""
    d = plan.district
    mountain = d.mountain
    st = draw_styles(rng)
    nhom, cap_hoc, grades, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    place = short_place(commune_name)
    owner = {"09": " tư thục", "03": " dân lập"}.get(plan.ownership_code, "")
    independent = plan.kind in INDEPENDENT_KINDS
    name = f"{prefix}{owner} {place}" if independent else f"Trường {prefix}{owner} {place}"
    code = plan.code
    two_sessions = rng.random() < (0.75 if mountain else 0.97)
    boarding = rng.random() < (0.7 if mountain else 0.95)
    minority_share = d.minority_share * (0.3 if plan.private else rng.uniform(0.7, 1.2))
    n_sites = (
        0 if independent else (rng.choice((0, 1, 2, 3, 4, 5, 6)) if mountain else rng.choice((0, 0, 0, 1)))
    )
    sites = draw_sites(rng, code, province, d.code, n_sites, 10)

    specs = _preschool_classes(rng, plan)
    classes, pupils = [], []
    seen: dict[str, int] = {}
    base, step = rng.randrange(10**8), 7919
    status_int = st.status == "int"
    n_pupil = 0
    for band, size, mixed in specs:
        grade, ages, _ = MN_BANDS[band]
        seen[band] = seen.get(band, 0) + 1
        label = f"{'NT' if grade == 16 else 'MG'}{band}-{seen[band]}"
        site = (
            sites[rng.randrange(n_sites)]["MaDiemTruong"] if sites and (mixed or rng.random() < 0.2) else None
        )
        c: dict[str, Any] = {
            "ClientId": client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": code_in_style(str(grade), st.grade),
            "LopGhep": flag_in_style(False, st.flag),
            "LopBanTru": flag_in_style(boarding and rng.random() < 0.95, st.flag),
            "BuoiHoc": 4 if two_sessions and rng.random() < 0.95 else rng.choice((1, 2)),
            "MaNhomTuoiMn": band,
            "LopGhepDoTuoi": mixed,
        }
        if site:
            c["MaDiemTruong"] = site
        classes.append(c)
        # Bands a mixed group's children come from: its own and the `mixed - 1` younger ones.
        same_grade = [b for b, (g, _, _) in MN_BANDS.items() if g == grade and b <= band]
        child_bands = same_grade[-mixed:] if mixed else [band]
        n_disabled = rng.choices((0, 1, 2), (90, 8, 2))[0]
        for k in range(size):
            cb = rng.choice(child_bands)
            cgrade, cages, _ = MN_BANDS[cb]
            gender = 2 if rng.random() < 0.485 else 1
            minority = rng.random() < minority_share
            if minority:
                ethnic = d.groups[bisect.bisect(d.cum_weights, rng.random() * d.cum_weights[-1])]
            else:
                ethnic = "01"
            if cgrade == 16:
                lo, hi = cages
                months = rng.randint(lo, hi + (4 if cb == "03" and rng.random() < 0.03 else 0))
                year, month = _birth_month(start_year, months)
            else:
                r = rng.random()
                age = cages + (1 if r < 0.02 else -1 if cb == "04" and r < 0.03 else 0)
                year, month = start_year - age, rng.randint(1, 12)
            p: dict[str, Any] = {
                "ClientId": client_id(rng),
                "MaHocSinh": f"{province}{(base + n_pupil * step) % 10**8:08d}",
                "HoTen": person_name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": gender_in_style(gender, st.gender),
                "NgaySinh": f"{year}-{month:02d}-{rng.randint(1, 28):02d}T00:00:00.0",
                "KhoiHoc": code_in_style(str(grade), st.grade),
                "MaLopHocDn": c["MaLopHoc"],
            }
            n_pupil += 1
            if rng.random() < 0.01:  # left in September, before the 30/9 reference date
                p["TrangThai"] = 4 if status_int else "04"
                p["NgayTrangThai"] = september_departure(rng, start_year)
            else:
                p["TrangThai"] = 1 if status_int else "01"
            disabled = k < n_disabled
            p["KhuyetTat"] = flag_in_style(disabled, st.flag)
            if disabled:
                p["MaLoaiKhuyetTat"] = rng.choices(
                    ("01", "02", "03", "04", "05", "06"), (20, 25, 10, 15, 20, 10)
                )[0]
            checked = rng.random() < 0.95
            p["KiemTraSucKhoeDinhDuong"] = flag_in_style(checked, st.flag)
            if checked:
                weights = (78, 7, 8, 3, 4) if mountain else (88, 3, 3, 1, 5)
                p["TinhTrangDinhDuong"] = rng.choices(("00", "01", "02", "03", "04"), weights)[0]
            if cgrade == 17:
                poor = mountain and (minority or rng.random() < 0.3)
                p["IsHoTroAnTrua"] = flag_in_style(poor and rng.random() < 0.8, st.flag)
                if poor and rng.random() < 0.6:
                    p["HtHoTro"] = 2
                    p["IsHoTroChiPhiHocTap"] = flag_in_style(rng.random() < 0.7, st.flag)
                elif rng.random() < 0.03:
                    p["HtHoTro"] = 3
                p["IsHocLopMg5T"] = flag_in_style(cb == "06", st.flag)
            p["IsTuyenMoiMn"] = flag_in_style(
                rng.random() < (0.5 if cb in ("01", "02", "04") else 0.1), st.flag
            )
            pupils.append(p)

    staff = preschool_staff(rng, plan, st, specs, start_year, minority_share)
    rooms = preschool_rooms(rng, plan, specs)

    flag_p = 0.8 if mountain else 0.95
    info = institution_info(code, name, start_year, nhom, plan.ownership_code, plan.category)
    standard = None if independent else rng.choices([None, "02", "03"], [5, 4, 1])[0]
    if standard:
        info["ChuanQuocGia"] = standard
    info.update(draw_place(rng, mountain, province, d.code))
    info["Hoc2BuoiNgay"] = flag_in_style(two_sessions, st.flag)
    info["SuDungMayTinhDayHoc"] = flag_in_style(rng.random() < flag_p, st.flag)
    for f in ("KhaiThacInternetDayHoc", "DienLuoi", "NguonNuocSach", "CongTrinhVeSinh", "CtGdvsDoiTay",
              "ChuongTrinhGiaoDucCoBan", "KeHoachPhongChongThienTai"):  # fmt: skip
        info[f] = flag_in_style(rng.random() < flag_p, st.flag)
    facts = registry_facts(name, cap_hoc, (commune_code, commune_name), standard, plan.private, plan.category)
    return assemble_payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )
