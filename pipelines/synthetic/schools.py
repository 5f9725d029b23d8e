"""General schools (TH, THCS, THPT, PTCS): classes by grade (with multi-grade classes at satellite
sites in the mountains), their subjects, the pupils with their ages, statuses, admission types and
support, and the school's own record. Staff and rooms come from staff.py and rooms.py."""

from __future__ import annotations

import bisect
import datetime as dt
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
from pipelines.synthetic.plan import KINDS, SchoolPlan
from pipelines.synthetic.rooms import school_rooms
from pipelines.synthetic.staff import school_staff
from pipelines.synthetic.values import (
    Styles,
    client_id,
    code_in_style,
    date_between,
    draw_styles,
    flag_in_style,
    gender_in_style,
    person_name,
    short_place,
    year_dates,
)

FIRST_GRADES = {1, 6, 10}  # first grade of a level: new entrants

SUBJECTS = {  # subject codes (subject.csv) by grade band; 12 = Tin học (primary)
    "p12": ("01", "02", "03", "04", "11", "88", "89", "90", "91"),
    "p3": ("01", "02", "03", "04", "09", "11", "88", "89", "90", "91"),
    "p45": ("01", "02", "03", "05", "09", "11", "13", "88", "89", "90", "91"),
    "thcs": ("15", "19", "22", "26", "27", "32", "66", "67", "88", "89", "90", "91"),
    "thpt": ("34", "35", "36", "37", "38", "39", "40", "41", "42", "46", "47", "48", "52"),
}


def _class_counts(rng: random.Random, plan: SchoolPlan) -> dict[int, int]:
    """Number of (single-grade) classes per grade."""
    grades = KINDS[plan.kind][2]
    mountain = plan.district.mountain
    if plan.category == "18":
        total = rng.randint(5, 10)
    elif plan.kind == "TH":
        if plan.private:
            total = rng.randint(5, 20)
        elif mountain:
            total = int(rng.triangular(5, 40, 8))
        else:
            total = int(rng.triangular(8, 40, 20))
    elif plan.kind == "PTCS":
        total = rng.randint(9, 27)
    elif plan.kind == "THCS":
        total = rng.randint(8, 32)
    else:
        total = rng.randint(15, 45)
    base, extra = divmod(max(total, len(grades)), len(grades))
    bonus = set(rng.sample(grades, extra))
    return {g: max(1, base + (g in bonus) + rng.choice((-1, 0, 0, 0, 1))) for g in grades}


def _class_size(rng: random.Random, plan: SchoolPlan) -> int:
    if plan.category == "18":
        return rng.randint(8, 15)
    if plan.district.mountain:
        return rng.randint(10, 25)
    if plan.private:
        return rng.randint(15, 35)
    return rng.randint(25, 40)


def _subjects(grade: int, informatics: bool) -> list[dict[str, str]]:
    if grade <= 2:
        codes = SUBJECTS["p12"]
    elif grade <= 5:
        codes = SUBJECTS["p3"] if grade == 3 else SUBJECTS["p45"]
        if informatics:
            codes = codes + ("12",)
    elif grade <= 9:
        codes = SUBJECTS["thcs"]
    else:
        codes = SUBJECTS["thpt"]
    return [{"MaMonHoc": c} for c in codes]


def general_school(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A general school's JSON payload and the facts its registry row needs."""
    d = plan.district
    mountain = d.mountain
    st = draw_styles(rng)
    nhom, cap_hoc, grades, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    place = short_place(commune_name)
    if plan.category == "01":
        name = f"Trường PTDTBT {prefix} {place}"
    elif plan.category == "18":
        name = f"Trường Giáo dục chuyên biệt {place}"
    elif plan.private:
        name = f"Trường {prefix} tư thục {place}"
    else:
        name = f"Trường {prefix} {place}"
    code = plan.code
    two_sessions = rng.random() < (0.6 if mountain else 0.92)
    informatics = rng.random() < (0.6 if mountain else 0.92)
    minority_share = d.minority_share * (0.3 if plan.private else rng.uniform(0.7, 1.2))
    if plan.category == "01":
        minority_share = max(minority_share, rng.uniform(0.8, 1.0))

    # Satellite sites: more in mountain areas.
    n_sites = rng.choice((1, 2, 3, 4, 5, 6, 7)) if mountain else rng.choice((0, 0, 0, 0, 1, 2))
    if plan.kind == "THPT":
        n_sites = 0
    sites = draw_sites(rng, code, province, d.code, n_sites, 15)

    # Classes: (grade, name, size, multigrade code, site).
    counts = _class_counts(rng, plan)
    specs: list[tuple[int, str, int, str | None, str | None]] = []
    for g, n in counts.items():
        for k in range(n):
            label = f"{g}A{k + 1}" if g >= 10 else f"{g}{chr(65 + k)}"
            site = sites[rng.randrange(n_sites)]["MaDiemTruong"] if sites and rng.random() < 0.2 else None
            specs.append((g, label, _class_size(rng, plan), None, site))
    if mountain and plan.kind in ("TH", "PTCS") and rng.random() < 0.4:
        # Multi-grade classes at satellite sites: one record per grade, sharing MaLopGhep.
        for _ in range(rng.randint(1, 2)):
            g = rng.randint(1, 4)
            ghep = f"{code}-{g}{chr(65 + counts[g])}"
            site = sites[rng.randrange(n_sites)]["MaDiemTruong"] if sites else None
            for gg in (g, g + 1):
                counts[gg] += 1
                specs.append((gg, f"{gg}{chr(64 + counts[gg])}", rng.randint(4, 12), ghep, site))
    specs.sort(key=lambda s: (s[0], len(s[1]), s[1]))

    classes = []
    for g, label, _, ghep, site in specs:
        c: dict[str, Any] = {
            "ClientId": client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": code_in_style(f"{g:02d}", st.grade),
            "LopGhep": flag_in_style(ghep is not None, st.flag),
        }
        if ghep:
            c["MaLopGhep"] = ghep
        boarding = plan.category == "01" or (not mountain and rng.random() < 0.3)
        c["LopBanTru"] = flag_in_style(boarding, st.flag)
        c["BuoiHoc"] = 4 if two_sessions and rng.random() < 0.95 else rng.choice((1, 2))
        if g <= 5:
            c["SoBuoiTrenTuan"] = "06" if c["BuoiHoc"] == 4 else "01"
        if site:
            c["MaDiemTruong"] = site
        c["DsMonHoc"] = _subjects(g, informatics)
        classes.append(c)

    pupils = _pupils(rng, plan, st, specs, start_year, minority_share)
    staff = school_staff(rng, plan, st, counts, start_year, minority_share)
    rooms = school_rooms(rng, plan, len(specs) - sum(1 for s in specs if s[3]) // 2)

    flag_p = 0.8 if mountain else 0.95
    info = institution_info(code, name, start_year, nhom, "09" if plan.private else "01", plan.category)
    standard = rng.choices([None, "02", "03"], [4, 4, 2])[0]
    if standard:
        info["ChuanQuocGia"] = standard
    info.update(draw_place(rng, mountain, province, d.code))
    info["Hoc2BuoiNgay"] = flag_in_style(two_sessions, st.flag)
    info["SuDungMayTinhDayHoc"] = flag_in_style(informatics or rng.random() < 0.5, st.flag)
    for f in ("KhaiThacInternetDayHoc", "DienLuoi", "NguonNuocSach", "CongTrinhVeSinh",
              "CtGdvsDoiTay", "ChuongTrinhGiaoDucCoBan"):  # fmt: skip
        info[f] = flag_in_style(rng.random() < flag_p, st.flag)
    info["CoHaTangTlhtPhuHopHskt"] = flag_in_style(plan.category == "18" or rng.random() < 0.5, st.flag)
    info["CongTacTuVanHocDuong"] = flag_in_style(rng.random() < 0.8, st.flag)
    info["KeHoachPhongChongThienTai"] = flag_in_style(rng.random() < 0.85, st.flag)
    facts = registry_facts(name, cap_hoc, (commune_code, commune_name), standard, plan.private, plan.category)
    return assemble_payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )


def _pupils(
    rng: random.Random,
    plan: SchoolPlan,
    st: Styles,
    specs: list[tuple[int, str, int, str | None, str | None]],
    start_year: int,
    minority_share: float,
) -> list[dict[str, Any]]:
    d = plan.district
    rand = rng.random
    code = plan.code
    province = code[:2]
    # Unique 10-digit pupil codes: a random start and a step coprime with 10^8.
    base, step = rng.randrange(10**8), 7919
    special = plan.category == "18"
    boarding_school = plan.category == "01"
    status_int = st.status == "int"
    first_grade_type = {1: "0", 6: "2" if plan.kind == "THCS" else "4", 10: "0"}
    if plan.kind == "PTCS":
        first_grade_type[6] = "4"  # promoted from the school's own grade 5
    pupils = []
    i = 0
    for g, label, size, _, _ in specs:
        cls = f"{code}-{label}"
        grade = code_in_style(f"{g:02d}", st.grade)
        for _ in range(size):
            gender = 2 if rand() < 0.485 else 1
            minority = rand() < minority_share
            if minority:
                ethnic = d.groups[bisect.bisect(d.cum_weights, rand() * d.cum_weights[-1])]
            else:
                ethnic = "55" if rand() < 0.0005 else "01"
            p: dict[str, Any] = {
                "ClientId": client_id(rng),
                "MaHocSinh": f"{province}{(base + i * step) % 10**8:08d}",
                "HoTen": person_name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": gender_in_style(gender, st.gender),
            }
            i += 1
            r = rand()
            repeater = r < 0.015
            if repeater:
                offset = 1 if rand() < 0.8 else 2
            else:
                r = rand()
                offset = -1 if r < 0.01 else 1 if r < 0.055 else 2 if r < 0.063 else 0
            p["NgaySinh"] = rng.choice(year_dates(start_year - g - 5 - offset, "iso_t"))
            p["KhoiHoc"] = grade
            p["MaLopHocDn"] = cls
            r = rand()
            reason = None
            if r < 0.01:  # transferred out in September, before the 30/9 reference date
                status = "04"
                date = september_departure(rng, start_year)
            elif r < 0.02:  # transferred in, before or after 30/9
                status = "02"
                if rand() < 0.5:
                    lo, hi = dt.date(start_year, 8, 15), dt.date(start_year, 9, 29)
                else:
                    lo, hi = dt.date(start_year, 10, 1), dt.date(start_year, 11, 30)
                date = date_between(rng, lo, hi, "iso_t")
            elif r < 0.023:  # dropped out (summer or September), with a reason
                status = "12" if rand() < 0.5 else "05"
                lo = dt.date(start_year, 6, 1) if status == "12" else dt.date(start_year, 9, 5)
                hi = dt.date(start_year, 8, 31) if status == "12" else dt.date(start_year, 9, 29)
                date = date_between(rng, lo, hi, "iso_t")
                reason = rng.choice(("01", "02", "03", "06", "09"))
            else:
                status, date = "01", None
            p["TrangThai"] = int(status) if status_int else status
            if date:
                p["NgayTrangThai"] = date
            if status == "02":
                admission = "1"
            elif repeater:
                admission = "3"
            elif g in FIRST_GRADES:
                admission = first_grade_type[g]
            else:
                admission = "4"
            p["LoaiNhapHoc"] = int(admission) if status_int else admission
            disabled = special or rand() < 0.01
            p["KhuyetTat"] = flag_in_style(disabled, st.flag)
            if disabled:
                p["MaLoaiKhuyetTat"] = rng.choices(
                    ("01", "02", "03", "04", "05", "06"), (20, 15, 10, 15, 30, 10)
                )[0]
            if d.mountain:
                policy = "11" if minority and rand() < 0.5 else ("08" if rand() < 0.1 else None)
            else:
                policy = rng.choice(("08", "09", "01", "04", "16")) if rand() < 0.03 else None
            if disabled and policy is None and rand() < 0.3:
                policy = "06"
            if policy:
                p["MaDtuongCsach"] = policy
                p["IsHoTroChiPhiHocTap"] = flag_in_style(rand() < 0.7, st.flag)
            if boarding_school and minority and rand() < 0.5:
                p["PtdtBanTru"] = flag_in_style(True, st.flag)
                p["IsHoTroNhaO"] = flag_in_style(rand() < 0.3, st.flag)
                p["IsCapGao"] = flag_in_style(True, st.flag)
                p["IsCapTienHangThang"] = flag_in_style(True, st.flag)
            if reason:
                p["MaLyDoThoiHoc"] = reason
            pupils.append(p)
    return pupils
