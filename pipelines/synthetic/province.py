"""Generate a seeded, realistic synthetic province: a school registry and one JSON per school.

The output follows docs/input-contract.md exactly (registry.xlsx in the import-template layout,
inbox/<MaTruongHoc>_<NamHoc>_<LoaiDongBo>.json), so the whole pipeline can run on it. Every
random draw comes from one `random.Random(seed)`, so the same arguments give the same files.
Names and identifiers are synthetic; codes (provinces, districts, Phòng units, communes, code
lists) are the real shared ones.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import os
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from pipelines import catalog
from pipelines.ingest.normalise import normalise_code, normalise_date
from pipelines.ingest.registry import REGISTRY_COLUMNS

PERIODS = {"DN": 1}  # period -> LoaiDongBo
TITLE = "TEMPLATE IMPORT TRƯỜNG HỌC"
# Real templates mark mandatory columns with " *"; one header also carries a trailing space.
REQUIRED_HEADERS = {
    "MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "TRANG_THAI", "LOAI_HINH_DAO_TAO",
    "MA_XA_PHUONG", "MA_QUAN_HUYEN", "MA_TINH_THANH", "ID_SO",
}  # fmt: skip
DEFECT_KINDS = (
    "bad_code", "missing_required", "duplicate_pupil", "wrong_type", "class_not_found",
    "malformed_file",
)  # fmt: skip

# School kinds: (MaNhomCapHoc, CAP_HOC digits, grades, name prefix, share of schools). About 38 %
# of a province's institutions are preschools (grades 16 nhóm trẻ, 17 lớp mẫu giáo); the general
# schools share the rest as before (TH takes whatever the other kinds leave). Continuing-education
# centres (GDTX, DM_KHOI 13-15 = lớp 10-12 GDTX, 23 = lớp 9 GDTX, 18 xóa mù chữ, 19 sau biết chữ)
# are planned apart (_n_gdtx_centres): one provincial centre and about one per four districts.
KINDS = {
    "TH": ("06", "1", tuple(range(1, 6)), "Tiểu học", 0.51),
    "PTCS": ("09", "12", tuple(range(1, 10)), "Tiểu học và Trung học cơ sở", 0.062),
    "THCS": ("07", "2", tuple(range(6, 10)), "Trung học cơ sở", 0.031),
    "THPT": ("08", "3", tuple(range(10, 13)), "Trung học phổ thông", 0.019),
    "MN": ("01", "45", (16, 17), "Mầm non", 0.30),
    "MG": ("02", "5", (17,), "Mẫu giáo", 0.04),
    "NT": ("03", "4", (16,), "Nhà trẻ", 0.01),
    "NTDL": ("04", "4", (16,), "Nhóm trẻ", 0.015),
    "MGDL": ("05", "5", (17,), "Lớp mẫu giáo", 0.015),
    "GDTXT": ("12", "6", (13, 14, 15), "Trung tâm Giáo dục thường xuyên tỉnh", 0.0),
    "GDTXH": ("13", "6", (13, 14, 15), "Trung tâm GDNN - GDTX", 0.0),
}
GDTX_KINDS = ("GDTXT", "GDTXH")  # Sở-run: CAP_HOC 6, no ID_PHONG (like THPT schools)
SO_RUN_KINDS = ("THPT", *GDTX_KINDS)
PRESCHOOL_KINDS = ("MN", "MG", "NT", "NTDL", "MGDL")
INDEPENDENT_KINDS = ("NTDL", "MGDL")  # independent nursery groups / kindergarten classes
FIRST_GRADES = {1, 6, 10}  # first grade of a level: new entrants

SUBJECTS = {  # subject codes (subject.csv) by grade band; 12 = Tin học (primary)
    "p12": ("01", "02", "03", "04", "11", "88", "89", "90", "91"),
    "p3": ("01", "02", "03", "04", "09", "11", "88", "89", "90", "91"),
    "p45": ("01", "02", "03", "05", "09", "11", "13", "88", "89", "90", "91"),
    "thcs": ("15", "19", "22", "26", "27", "32", "66", "67", "88", "89", "90", "91"),
    "thpt": ("34", "35", "36", "37", "38", "39", "40", "41", "42", "46", "47", "48", "52"),
}

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
SUPPORT_POSITIONS = ("09", "10", "32", "15", "25", "16", "11", "33", "34", "17", "20")


@dataclass(frozen=True)
class GenerateSummary:
    n_schools: int
    n_learners: int
    n_staff: int
    n_classes: int
    n_defects: int
    out: Path
    registry: Path
    inbox: Path
    defects: Path


@dataclass(frozen=True)
class District:
    code: str  # 3 digits
    phong: str  # Phòng unit code (district code without leading zeros)
    name: str
    mountain: bool
    minority_share: float
    groups: tuple[str, ...]  # ethnicity codes of the district's minorities
    cum_weights: tuple[float, ...]
    communes: tuple[tuple[str, str], ...]  # (code, name)


@dataclass(frozen=True)
class SchoolPlan:
    code: str
    district: District
    kind: str
    private: bool  # not public (Tư thục or Dân lập)
    category: str  # MaLoaiTruong
    loai_hinh: str = ""  # LoaiHinhDaoTao: 01 công lập, 09 tư thục, 03 dân lập (preschools only)

    @property
    def ownership_code(self) -> str:
        return self.loai_hinh or ("09" if self.private else "01")


# ---------------------------------------------------------------- helpers


def _weighted(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _code(code: str, style: str) -> Any:
    """A code as a school's software would write it ("01", 1 or "1.0")."""
    if style == "int":
        return int(code)
    if style == "float":
        return f"{int(code)}.0"
    return code


def _flag(value: bool, style: str) -> Any:
    if style == "bool":
        return value
    if style == "str":
        return "1" if value else "0"
    return 1 if value else 0


def _client_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _slug(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _short_place(name: str) -> str:
    return re.sub(r"^(Thành phố|Thị xã|Thị Xã|Thị trấn|Quận|Huyện|Phường|Xã|Tỉnh)\s+", "", name)


_FAMILY_NAMES = tuple(n for n, _ in FAMILY)
_FAMILY_CUM = tuple(itertools.accumulate(w for _, w in FAMILY))


def _name(rng: random.Random, gender: int, minority: bool) -> str:
    if minority:
        family = rng.choice(FAMILY_MINORITY)
    else:
        family = _FAMILY_NAMES[bisect.bisect(_FAMILY_CUM, rng.random() * _FAMILY_CUM[-1])]
    return f"{family} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}"


_DATES: dict[tuple[int, str], tuple[str, ...]] = {}


def _dates(year: int, fmt: str) -> tuple[str, ...]:
    """Every day of a year, formatted (cached: drawing a birth date is then one choice)."""
    key = (year, fmt)
    if key not in _DATES:
        start = dt.date(year, 1, 1).toordinal()
        n = dt.date(year + 1, 1, 1).toordinal() - start
        days = [dt.date.fromordinal(start + i) for i in range(n)]
        _DATES[key] = tuple(_fmt_date(d, fmt) for d in days)
    return _DATES[key]


def _fmt_date(d: dt.date, fmt: str) -> str:
    if fmt == "iso_t":
        return f"{d.isoformat()}T00:00:00.0"
    if fmt == "dmy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    return d.isoformat()


def _date_between(rng: random.Random, start: dt.date, end: dt.date, fmt: str) -> str:
    return _fmt_date(dt.date.fromordinal(rng.randint(start.toordinal(), end.toordinal())), fmt)


# ---------------------------------------------------------------- province plan


def _check_args(province: str, school_year: str, period: str, n_schools: int) -> int:
    if province not in catalog.codelist("provinces_pre2025").codes:
        raise ValueError(f"province {province!r} is not a 2-digit code of provinces_pre2025.csv")
    m = re.fullmatch(r"(\d{4})-(\d{4})", school_year)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise ValueError(f"school_year {school_year!r} must look like '2024-2025'")
    if period not in PERIODS:
        raise ValueError(f"period {period!r} is not supported (only {sorted(PERIODS)})")
    if n_schools < 1:
        raise ValueError("n_schools must be at least 1")
    return int(m.group(1))


def _districts(province: str, rng: random.Random) -> tuple[str, list[District]]:
    """The Sở code and the districts that have a Phòng unit, with region and ethnic mix."""
    so = str(int(province))
    units = catalog.codelist("education_units_pre2025").rows
    if not any(u["code"] == so and not u["parent_code"] for u in units):
        raise ValueError(f"province {province}: no Sở {so!r} in education_units_pre2025.csv")
    district_rows = {
        r["code"]: r for r in catalog.codelist("districts_pre2025").rows if r["province_code"] == province
    }
    communes: dict[str, list[tuple[str, str]]] = {}
    for r in catalog.codelist("communes_pre2025").rows:
        if r["province_code"] == province:
            communes.setdefault(r["district_code"], []).append((r["code"], r["name_vi"]))
    # Phòng codes are district codes without leading zeros; a unit that is not a district of
    # the province (or has no communes to place schools in) is skipped.
    phongs = [
        u["code"]
        for u in units
        if u["parent_code"] == so
        and u["code"].isdigit()
        and u["code"].zfill(3) in district_rows
        and communes.get(u["code"].zfill(3))
    ]
    if not phongs:
        raise ValueError(f"province {province}: no Phòng unit under Sở {so} matches a district")

    ethnic_pool = [
        c for c in catalog.codelist("ethnicity").codes if c not in ("01", "55")
    ]  # fmt: skip
    very_small = list(catalog.codelist("very_small_ethnic_group").codes)
    province_groups = rng.sample(ethnic_pool, 6)
    mountain_flags = [False] + [rng.random() < 0.5 for _ in phongs[1:]]  # first: the city
    if len(phongs) > 1 and not any(mountain_flags):
        mountain_flags[-1] = True  # a province with only plain districts would hide half the form
    out = []
    for phong, mountain in zip(phongs, mountain_flags, strict=True):
        code = phong.zfill(3)
        groups = rng.sample(province_groups, rng.randint(1, 3))
        weights = [rng.uniform(1, 10) for _ in groups]
        if mountain and rng.random() < 0.25:
            groups.append(rng.choice(very_small))
            weights.append(0.5)
        share = rng.uniform(0.3, 0.9) if mountain else rng.uniform(0.0, 0.02)
        out.append(
            District(
                code=code,
                phong=phong,
                name=district_rows[code]["name_vi"],
                mountain=mountain,
                minority_share=share,
                groups=tuple(groups),
                cum_weights=tuple(itertools.accumulate(weights)),
                communes=tuple(communes[code]),
            )
        )
    return so, out


def _n_gdtx_centres(n_schools: int, n_districts: int) -> int:
    """GDTX centres in a province of n_schools institutions: about 1 %, at most one provincial
    centre plus one per four districts; none in a province of fewer than 20 institutions."""
    if n_schools < 20:
        return 0
    return min(max(1, round(0.01 * n_schools)), 1 + n_districts // 4)


def _plan_schools(
    province: str, districts: list[District], n_schools: int, rng: random.Random
) -> list[SchoolPlan]:
    """School codes, kinds, ownership and category, spread over the districts."""
    if n_schools > 998 * len(districts):
        raise ValueError(f"at most {998 * len(districts)} schools fit in province {province}")
    weights = [rng.uniform(0.6, 1.4) * (1.6 if i == 0 else 1.0) for i in range(len(districts))]
    total = sum(weights)
    shares = [n_schools * w / total for w in weights]
    counts = [int(x) for x in shares]
    # Largest remainder, so the counts add up to n_schools exactly.
    by_remainder = sorted(range(len(districts)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: n_schools - sum(counts)]:
        counts[i] += 1
    while max(counts) > 998:  # spill over to districts with room
        i, j = counts.index(max(counts)), counts.index(min(counts))
        counts[i] -= 1
        counts[j] += 1

    kinds = []
    for kind, (_, _, _, _, share) in KINDS.items():
        if kind != "TH" and kind not in GDTX_KINDS:
            kinds += [kind] * int(share * n_schools + rng.random())
    n_gdtx = _n_gdtx_centres(n_schools, len(districts))
    kinds = (kinds + ["TH"] * n_schools)[: n_schools - n_gdtx]
    rng.shuffle(kinds)
    if n_gdtx:
        # The provincial centre first (district 0: the city), district centres anywhere after it.
        for _ in range(n_gdtx - 1):
            kinds.insert(rng.randint(1, len(kinds)), "GDTXH")
        kinds.insert(0, "GDTXT")

    plans = []
    n_special = 0 if n_schools < 20 else (1 if n_schools < 300 else 2)
    it = iter(kinds)
    for district, count in zip(districts, counts, strict=True):
        for serial in range(1, count + 1):
            kind = next(it)
            if kind in PRESCHOOL_KINDS:
                # Preschools: many private; some Dân lập; independent groups mostly private.
                r = rng.random()
                p_private = 0.75 if kind in INDEPENDENT_KINDS else 0.15
                loai_hinh = "09" if r < p_private else ("03" if r < p_private + 0.05 else "01")
                plans.append(
                    SchoolPlan(f"{province}{district.code}{serial:03d}", district, kind, loai_hinh != "01",
                               "13", loai_hinh)
                )  # fmt: skip
                continue
            if kind in GDTX_KINDS:
                # Public centres: the provincial one a TT GDTX (15); district ones mostly merged
                # TT GDNN-GDTX (16), some TT GDTX (15) or other names (17).
                category = "15" if kind == "GDTXT" else rng.choices(("16", "15", "17"), (7, 2, 1))[0]
                plans.append(
                    SchoolPlan(f"{province}{district.code}{serial:03d}", district, kind, False, category)
                )
                continue
            private = rng.random() < 0.08
            category = "07"
            if district.mountain and not private and kind != "THPT" and rng.random() < 0.3:
                category = "01"  # ethnic semi-boarding
            elif n_special and kind == "TH" and not private and not district.mountain:
                category, n_special = "18", n_special - 1
            plans.append(
                SchoolPlan(f"{province}{district.code}{serial:03d}", district, kind, private, category)
            )
    return plans


# ---------------------------------------------------------------- one school


@dataclass(frozen=True)
class Styles:
    """How one school's software writes codes, flags and dates."""

    grade: str
    gender: str
    status: str
    staff_codes: str
    flag: str
    staff_date: str


def _styles(rng: random.Random) -> Styles:
    return Styles(
        grade=rng.choices(["int", "str", "float"], [5, 4, 1])[0],
        gender=rng.choices(["int", "str1", "str2"], [6, 2, 2])[0],
        status=rng.choices(["int", "str"], [6, 4])[0],
        staff_codes=rng.choices(["int", "str"], [5, 5])[0],
        flag=rng.choices(["int", "bool", "str"], [75, 15, 10])[0],
        staff_date=rng.choices(["iso", "iso_t", "dmy"], [6, 3, 1])[0],
    )


def _gender(g: int, style: str) -> Any:
    if style == "int":
        return g
    return str(g) if style == "str1" else f"0{g}"


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


def _staff_record(rng: random.Random, st: Styles, code: str, n: int, group: str, position: str | None,
                  contract: str, qualification: str, gender: int, minority: bool, ethnic: str, age: int,
                  start_year: int, level: str | None, retire_age: int = 58) -> dict[str, Any]:  # fmt: skip
    """One LstCanBo record in the school's own value style (codes, dates, sex)."""
    sc = st.staff_codes
    s: dict[str, Any] = {
        "ClientId": _client_id(rng),
        "MaCanBo": f"CB{code}{n:03d}",
        "TenCanBo": _name(rng, gender, minority),
        "LoaiCanBo": _code(group, sc),
    }
    if position:
        s["ChucVu"] = position
    s["LoaiHopDong"] = _code(contract, sc)
    s["TrinhDoChuyenMonNvCaoNhat"] = _code(qualification, sc)
    s["GioiTinh"] = _gender(gender, st.gender)
    s["NgaySinh"] = rng.choice(_dates(start_year - age, st.staff_date))
    s["MaDanToc"] = ethnic
    if level:
        s["CapHoc"] = level
    r = rng.random()
    s["TrangThai"] = _code("04" if age >= retire_age and r < 0.3 else ("02" if r < 0.005 else "01"), sc)
    return s


def _sites(
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


def _payload(code: str, start_year: int, loai_dong_bo: int, info: dict[str, Any], n_sites: int, sites: list,
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


def _school(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The school's JSON payload and the facts its registry row needs."""
    if plan.kind in PRESCHOOL_KINDS:
        return _preschool(rng, plan, start_year, loai_dong_bo, province)
    if plan.kind in GDTX_KINDS:
        return _gdtx_centre(rng, plan, start_year, loai_dong_bo, province)
    d = plan.district
    mountain = d.mountain
    st = _styles(rng)
    nhom, cap_hoc, grades, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    place = _short_place(commune_name)
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
    sites = _sites(rng, code, province, d.code, n_sites, 15)

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
            "ClientId": _client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": _code(f"{g:02d}", st.grade),
            "LopGhep": _flag(ghep is not None, st.flag),
        }
        if ghep:
            c["MaLopGhep"] = ghep
        boarding = plan.category == "01" or (not mountain and rng.random() < 0.3)
        c["LopBanTru"] = _flag(boarding, st.flag)
        c["BuoiHoc"] = 4 if two_sessions and rng.random() < 0.95 else rng.choice((1, 2))
        if g <= 5:
            c["SoBuoiTrenTuan"] = "06" if c["BuoiHoc"] == 4 else "01"
        if site:
            c["MaDiemTruong"] = site
        c["DsMonHoc"] = _subjects(g, informatics)
        classes.append(c)

    pupils = _pupils(rng, plan, st, specs, start_year, minority_share)
    staff = _staff(rng, plan, st, counts, start_year, minority_share)
    rooms = _rooms(rng, plan, len(specs) - sum(1 for s in specs if s[3]) // 2)

    flag_p = 0.8 if mountain else 0.95
    info: dict[str, Any] = {
        "MaTruongHoc": code,
        "TenTruongHoc": name,
        "NamHoc": start_year,
        "MaNhomCapHoc": nhom,
        "LoaiHinhDaoTao": "09" if plan.private else "01",
        "LoaiHinhTruong": "Tư thục" if plan.private else "Công lập",
        "MaLoaiTruong": plan.category,
    }
    standard = rng.choices([None, "02", "03"], [4, 4, 2])[0]
    if standard:
        info["ChuanQuocGia"] = standard
    if mountain:
        info["MaVung"] = rng.choices(["04", "06", "01"], [6, 3, 1])[0]
        info["MaKhuVuc"] = "04"
    else:
        info["MaVung"] = rng.choices(["02", "03", "01", "04"], [5, 3, 2, 0.5])[0]
        info["MaKhuVuc"] = "02" if info["MaVung"] == "03" else "03"
    info["MaTinh"] = province
    info["MaHuyen"] = d.code
    info["Hoc2BuoiNgay"] = _flag(two_sessions, st.flag)
    info["SuDungMayTinhDayHoc"] = _flag(informatics or rng.random() < 0.5, st.flag)
    for f in ("KhaiThacInternetDayHoc", "DienLuoi", "NguonNuocSach", "CongTrinhVeSinh",
              "CtGdvsDoiTay", "ChuongTrinhGiaoDucCoBan"):  # fmt: skip
        info[f] = _flag(rng.random() < flag_p, st.flag)
    info["CoHaTangTlhtPhuHopHskt"] = _flag(plan.category == "18" or rng.random() < 0.5, st.flag)
    info["CongTacTuVanHocDuong"] = _flag(rng.random() < 0.8, st.flag)
    info["KeHoachPhongChongThienTai"] = _flag(rng.random() < 0.85, st.flag)
    facts = {
        "name": name,
        "cap_hoc": cap_hoc,
        "commune_code": commune_code,
        "commune_name": commune_name,
        "standard": standard,
        "private": plan.private,
        "category": plan.category,
    }
    return _payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )


# ---------------------------------------------------------------- preschools (01-MN-ĐN)

# Nursery groups (KhoiHoc 16) and kindergarten classes (17) by age band (DM_NHOM_TUOI_MN):
# band -> (grade, youngest and oldest age in months on 30/9 for nursery bands, or the birth
# cohort's age in years for kindergarten bands, group size range).
MN_BANDS = {
    "01": (16, (3, 12), (8, 16)),
    "02": (16, (13, 24), (10, 22)),
    "03": (16, (25, 36), (12, 27)),
    "04": (17, 3, (15, 28)),
    "05": (17, 4, (18, 33)),
    "06": (17, 5, (20, 38)),
}
MN_TEACHER_Q = (("16", 45), ("17", 30), ("18", 18), ("02", 1), ("03", 3), ("11", 2), ("06", 1))
MN_SUPPORT_Q = (("04", 3), ("05", 4), ("06", 3), ("15", 1))


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


def _preschool(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A preschool institution's payload: groups/classes, children, staff, rooms (01-MN-ĐN)."""
    d = plan.district
    mountain = d.mountain
    st = _styles(rng)
    nhom, cap_hoc, grades, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    place = _short_place(commune_name)
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
    sites = _sites(rng, code, province, d.code, n_sites, 10)

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
            "ClientId": _client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": _code(str(grade), st.grade),
            "LopGhep": _flag(False, st.flag),
            "LopBanTru": _flag(boarding and rng.random() < 0.95, st.flag),
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
                "ClientId": _client_id(rng),
                "MaHocSinh": f"{province}{(base + n_pupil * step) % 10**8:08d}",
                "HoTen": _name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": _gender(gender, st.gender),
                "NgaySinh": f"{year}-{month:02d}-{rng.randint(1, 28):02d}T00:00:00.0",
                "KhoiHoc": _code(str(grade), st.grade),
                "MaLopHocDn": c["MaLopHoc"],
            }
            n_pupil += 1
            if rng.random() < 0.01:  # left in September, before the 30/9 reference date
                p["TrangThai"] = 4 if status_int else "04"
                p["NgayTrangThai"] = _date_between(
                    rng, dt.date(start_year, 9, 5), dt.date(start_year, 9, 29), "iso_t"
                )
            else:
                p["TrangThai"] = 1 if status_int else "01"
            disabled = k < n_disabled
            p["KhuyetTat"] = _flag(disabled, st.flag)
            if disabled:
                p["MaLoaiKhuyetTat"] = rng.choices(
                    ("01", "02", "03", "04", "05", "06"), (20, 25, 10, 15, 20, 10)
                )[0]
            checked = rng.random() < 0.95
            p["KiemTraSucKhoeDinhDuong"] = _flag(checked, st.flag)
            if checked:
                weights = (78, 7, 8, 3, 4) if mountain else (88, 3, 3, 1, 5)
                p["TinhTrangDinhDuong"] = rng.choices(("00", "01", "02", "03", "04"), weights)[0]
            if cgrade == 17:
                poor = mountain and (minority or rng.random() < 0.3)
                p["IsHoTroAnTrua"] = _flag(poor and rng.random() < 0.8, st.flag)
                if poor and rng.random() < 0.6:
                    p["HtHoTro"] = 2
                    p["IsHoTroChiPhiHocTap"] = _flag(rng.random() < 0.7, st.flag)
                elif rng.random() < 0.03:
                    p["HtHoTro"] = 3
                p["IsHocLopMg5T"] = _flag(cb == "06", st.flag)
            p["IsTuyenMoiMn"] = _flag(rng.random() < (0.5 if cb in ("01", "02", "04") else 0.1), st.flag)
            pupils.append(p)

    staff = _preschool_staff(rng, plan, st, specs, start_year, minority_share)
    rooms = _preschool_rooms(rng, plan, specs)

    flag_p = 0.8 if mountain else 0.95
    info: dict[str, Any] = {
        "MaTruongHoc": code,
        "TenTruongHoc": name,
        "NamHoc": start_year,
        "MaNhomCapHoc": nhom,
        "LoaiHinhDaoTao": plan.ownership_code,
        "LoaiHinhTruong": {"09": "Tư thục", "03": "Dân lập"}.get(plan.ownership_code, "Công lập"),
        "MaLoaiTruong": plan.category,
    }
    standard = None if independent else rng.choices([None, "02", "03"], [5, 4, 1])[0]
    if standard:
        info["ChuanQuocGia"] = standard
    if mountain:
        info["MaVung"] = rng.choices(["04", "06", "01"], [6, 3, 1])[0]
        info["MaKhuVuc"] = "04"
    else:
        info["MaVung"] = rng.choices(["02", "03", "01", "04"], [5, 3, 2, 0.5])[0]
        info["MaKhuVuc"] = "02" if info["MaVung"] == "03" else "03"
    info["MaTinh"] = province
    info["MaHuyen"] = d.code
    info["Hoc2BuoiNgay"] = _flag(two_sessions, st.flag)
    info["SuDungMayTinhDayHoc"] = _flag(rng.random() < flag_p, st.flag)
    for f in ("KhaiThacInternetDayHoc", "DienLuoi", "NguonNuocSach", "CongTrinhVeSinh", "CtGdvsDoiTay",
              "ChuongTrinhGiaoDucCoBan", "KeHoachPhongChongThienTai"):  # fmt: skip
        info[f] = _flag(rng.random() < flag_p, st.flag)
    facts = {
        "name": name,
        "cap_hoc": cap_hoc,
        "commune_code": commune_code,
        "commune_name": commune_name,
        "standard": standard,
        "private": plan.private,
        "category": plan.category,
    }
    return _payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )


def _preschool_staff(
    rng: random.Random,
    plan: SchoolPlan,
    st: Styles,
    specs: list[tuple[str, int, int]],
    start_year: int,
    minority_share: float,
) -> list[dict[str, Any]]:
    """Principal, vice-principals, teachers (DayNhomLop 02 nhà trẻ / 01 mẫu giáo) and support staff
    in the positions 01-MN-ĐN rows 157-166 list (accounting, clerical, health, cashier, cooks, guard)."""
    d = plan.district
    with_level = rng.random() < 0.6
    staff: list[dict[str, Any]] = []

    def person(group: str, position: str | None, age_lo: int, age_hi: int, female_p: float,
               qualification: tuple[tuple[str, float], ...], teaches: str | None = None) -> None:  # fmt: skip
        gender = 2 if rng.random() < female_p else 1
        minority = rng.random() < minority_share * 0.4
        age = int(rng.triangular(age_lo, age_hi, (age_lo + age_hi) / 2))
        if plan.private:
            contract = rng.choices(("03", "04", "01"), (6, 3, 1))[0]
        elif group == "01":
            contract = "07"
        else:
            contract = rng.choices(
                ("07", "08", "03", "04"), (60, 10, 15, 15) if group == "03" else (3, 1, 3, 3)
            )[0]
        s = _staff_record(rng, st, plan.code, len(staff) + 1, group, position, contract,
                          _weighted(rng, qualification), gender, minority, d.groups[0] if minority else "01",
                          age, start_year, "01" if with_level else None, retire_age=53)  # fmt: skip
        if teaches:
            s["DayNhomLop"] = teaches
        staff.append(s)

    mgr_q = (("16", 75), ("17", 15), ("02", 8), ("18", 2))
    n_classes = len(specs)
    person("01", "01", 35, 55, 0.97, mgr_q)
    for _ in range(1 if n_classes < 9 else 2 if n_classes < 18 else 3):
        person("01", "02", 30, 55, 0.97, mgr_q)
    for band, _, mixed in specs:
        nursery = MN_BANDS[band][0] == 16
        n = rng.choice((2, 2, 3)) if nursery else rng.choice((2, 2, 1)) if not mixed else 1
        for _ in range(n):
            person("03", None, 20, 55, 0.99, MN_TEACHER_Q, "02" if nursery else "01")
    positions = ["15"] + ["20"] * max(1, n_classes // 4)
    if plan.kind not in INDEPENDENT_KINDS:
        for pos, p in (("16", 0.5), ("11", 0.6), ("25", 0.4), ("31", 0.3), ("17", 0.8)):
            if rng.random() < p:
                positions.append(pos)
        if any(MN_BANDS[b][0] == 16 for b, _, _ in specs) and rng.random() < 0.4:
            positions.append("21")
    for pos in positions:
        person("02", pos, 20, 55, 0.05 if pos == "17" else 0.9, MN_SUPPORT_Q)
    return staff


def _preschool_rooms(
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


# ---------------------------------------------------------------- budget (01-MN-ĐN, Ngân sách)

# Budget items of the tab (codelists/budget_line.csv): item row, its 3 source rows, its 4 group rows.
BUDGET_ITEMS = {"preschool": 16, "other_training": 56, "retraining": 64}
BUDGET_TOTAL_ROW = 15  # II Chi thường xuyên
BUDGET_FIELDS = ("QuyetToanNamTruoc", "DuToan", "UocThucHien")  # settled n-1, estimate n, outturn n


def _split(rng: random.Random, total: int, weights: tuple[float, ...]) -> list[int]:
    """Whole parts of `total` roughly in proportion to `weights` (a zero weight gets 0), summing
    exactly to it: the rounding remainder goes to the largest part."""
    raw = [w * rng.uniform(0.8, 1.2) for w in weights]
    parts = [int(total * r / sum(raw)) for r in raw]
    parts[raw.index(max(raw))] += total - sum(parts)
    return parts


def _budget(rng: random.Random, plan: SchoolPlan, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The school's NganSach entries (status: inferred), amounts in triệu đồng with up to 3 decimals.

    Every amount is drawn in nghìn đồng (whole numbers), so each item equals its sources and its
    spending groups exactly, and Chi thường xuyên (15) = items 1 + 6 + 7 (items 2-5, other levels,
    are 0 for a preschool). A public preschool spends mostly state money on salaries; a private
    one has a budget only now and then: a small state support (Chi hỗ trợ), else no block at all.
    """
    n_staff, n_children = len(payload["LstCanBo"]), len(payload["LstHocSinh"])
    if plan.private:
        if rng.random() >= 0.2:
            return []
        settled = round(n_staff * rng.uniform(1, 4) * 1000)
        items = {"preschool": (settled, (1, 0, 0), (0, 0, 1, 0))}
    else:
        settled = round((n_staff * rng.uniform(95, 130) + n_children * rng.uniform(1, 2.5)) * 1000)
        items = {"preschool": (settled, (0.88, 0.08, 0.04), (0.75, 0.15, 0.06, 0.04))}
        if rng.random() < 0.6:
            items["retraining"] = (
                round(n_staff * rng.uniform(0.3, 1) * 1000),
                (0.9, 0, 0.1),
                (0.2, 0.7, 0, 0.1),
            )
        if rng.random() < 0.1:
            items["other_training"] = (round(rng.uniform(5, 30) * 1000), (1, 0, 0), (0.3, 0.7, 0, 0))
    lines: dict[int, list[int]] = {}  # row → nghìn đồng per column
    for item, (base, sources, groups) in items.items():
        row = BUDGET_ITEMS[item]
        estimate = round(base * rng.uniform(1.02, 1.12))
        columns = (base, estimate, round(estimate * rng.uniform(0.96, 1.01)))
        for c, total in enumerate(columns):
            parts = [total, *_split(rng, total, sources), *_split(rng, total, groups)]
            for offset, amount in enumerate(parts):
                lines.setdefault(row + offset, [0, 0, 0])[c] = amount
            lines.setdefault(BUDGET_TOTAL_ROW, [0, 0, 0])[c] += total

    def money(k: int) -> int | float:
        return k // 1000 if k % 1000 == 0 else k / 1000

    return [
        {"MaChiTieu": str(row), **{f: money(k) for f, k in zip(BUDGET_FIELDS, amounts, strict=True)}}
        for row, amounts in sorted(lines.items())
        if any(amounts)
    ]


# ---------------------------------------------------------------- continuing education (05-GDTX-ĐN)

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


def _gdtx_centre(
    rng: random.Random, plan: SchoolPlan, start_year: int, loai_dong_bo: int, province: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A continuing-education centre's payload: GDTX upper-secondary classes (13-15), in district
    centres of mountain districts some literacy (18) and post-literacy (19) classes, now and then a
    lớp 9 GDTX class (23); learners of wider ages, staff (Giám đốc 05, Phó giám đốc 06), rooms."""
    d = plan.district
    mountain = d.mountain
    st = _styles(rng)
    nhom, cap_hoc, _, prefix, _ = KINDS[plan.kind]
    commune_code, commune_name = rng.choice(d.communes)
    provincial = plan.kind == "GDTXT"
    if provincial:
        name = f"{prefix} {_short_place(catalog.codelist('provinces_pre2025').labels_vi[province])}"
    else:
        name = f"{GDTX_CENTRE_NAME[plan.category]} {_short_place(d.name)}"
    code = plan.code
    minority_share = d.minority_share * rng.uniform(0.7, 1.2)
    n_sites = 0 if provincial else rng.choice((0, 0, 1, 2))
    sites = _sites(rng, code, province, d.code, n_sites, 15, label="Điểm học")

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
            "ClientId": _client_id(rng),
            "MaLopHoc": f"{code}-{label}",
            "TenLopHoc": label,
            "KhoiHoc": _code(f"{g:02d}", st.grade),
            "LopGhep": _flag(False, st.flag),
            "LopBanTru": _flag(False, st.flag),
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
                "ClientId": _client_id(rng),
                "MaHocSinh": f"{province}{(base + len(pupils) * step) % 10**8:08d}",
                "HoTen": _name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": _gender(gender, st.gender),
                "NgaySinh": rng.choice(_dates(start_year - _gdtx_age(rng, g), "iso_t")),
                "KhoiHoc": c["KhoiHoc"],
                "MaLopHocDn": c["MaLopHoc"],
            }
            r = rng.random()
            if r < 0.01:  # transferred out in September, before 30/9
                p["TrangThai"] = 4 if status_int else "04"
                p["NgayTrangThai"] = _date_between(
                    rng, dt.date(start_year, 9, 5), dt.date(start_year, 9, 29), "iso_t"
                )
            elif r < 0.04:  # dropped out in September (GDTX learners leave more often)
                p["TrangThai"] = 5 if status_int else "05"
                p["NgayTrangThai"] = _date_between(
                    rng, dt.date(start_year, 9, 5), dt.date(start_year, 9, 29), "iso_t"
                )
                p["MaLyDoThoiHoc"] = rng.choice(("01", "02", "03", "06", "09"))
            else:
                p["TrangThai"] = 1 if status_int else "01"
            if g in (13, 18, 19):
                admission = "0" if literacy or rng.random() < 0.6 else "2"
            else:
                admission = "3" if rng.random() < 0.03 else "4"
            p["LoaiNhapHoc"] = int(admission) if status_int else admission
            disabled = rng.random() < 0.005
            p["KhuyetTat"] = _flag(disabled, st.flag)
            if disabled:
                p["MaLoaiKhuyetTat"] = rng.choice(("01", "02", "03", "04", "05", "06"))
            if mountain and minority and rng.random() < 0.4:
                p["MaDtuongCsach"] = "11"
                p["IsHoTroChiPhiHocTap"] = _flag(rng.random() < 0.5, st.flag)
            elif rng.random() < 0.05:
                p["MaDtuongCsach"] = rng.choice(("08", "09", "16"))
            if rng.random() < 0.9:
                p["MaHinhThucHocTap"] = mode
            pupils.append(p)

    staff = _gdtx_staff(rng, plan, st, len(classes), start_year, minority_share)
    rooms = _rooms(rng, plan, max(1, round(len(classes) * rng.uniform(0.6, 1.0))))

    flag_p = 0.8 if mountain else 0.95
    info: dict[str, Any] = {
        "MaTruongHoc": code,
        "TenTruongHoc": name,
        "NamHoc": start_year,
        "MaNhomCapHoc": nhom,
        "LoaiHinhDaoTao": "01",
        "LoaiHinhTruong": "Công lập",
        "MaLoaiTruong": plan.category,
    }
    if mountain:
        info["MaVung"] = rng.choices(["04", "06", "01"], [6, 3, 1])[0]
        info["MaKhuVuc"] = "04"
    else:
        info["MaVung"] = rng.choices(["02", "03", "01", "04"], [5, 3, 2, 0.5])[0]
        info["MaKhuVuc"] = "02" if info["MaVung"] == "03" else "03"
    info["MaTinh"] = province
    info["MaHuyen"] = d.code
    info["Hoc2BuoiNgay"] = _flag(False, st.flag)
    for f in (
        "SuDungMayTinhDayHoc",
        "KhaiThacInternetDayHoc",
        "DienLuoi",
        "NguonNuocSach",
        "CongTrinhVeSinh",
    ):
        info[f] = _flag(rng.random() < flag_p, st.flag)
    info["CoHaTangTlhtPhuHopHskt"] = _flag(rng.random() < 0.3, st.flag)
    info["TtGdtxHuongNghiep"] = _flag(rng.random() < (0.9 if provincial else 0.6), st.flag)
    facts = {
        "name": name,
        "cap_hoc": cap_hoc,
        "commune_code": commune_code,
        "commune_name": commune_name,
        "standard": None,
        "private": False,
        "category": plan.category,
    }
    return _payload(
        code, start_year, loai_dong_bo, info, n_sites, sites, classes, pupils, staff, rooms, facts
    )


def _gdtx_staff(
    rng: random.Random, plan: SchoolPlan, st: Styles, n_classes: int, start_year: int, minority_share: float
) -> list[dict[str, Any]]:
    """Giám đốc (ChucVu 05), one or two Phó giám đốc (06), teachers, support staff; CapHoc 05 or none."""
    d = plan.district
    with_level = rng.random() < 0.5
    staff: list[dict[str, Any]] = []

    def person(group: str, position: str | None, age_lo: int, age_hi: int, female_p: float,
               contract: str, qualification: str) -> None:  # fmt: skip
        gender = 2 if rng.random() < female_p else 1
        minority = rng.random() < minority_share * 0.4
        age = int(rng.triangular(age_lo, age_hi, (age_lo + age_hi) / 2))
        s = _staff_record(rng, st, plan.code, len(staff) + 1, group, position, contract, qualification, gender,
                          minority, d.groups[0] if minority else "01", age, start_year,
                          "05" if with_level else None)  # fmt: skip
        staff.append(s)

    mgr_q = (("16", 60), ("02", 35), ("01", 5))
    teacher_q = (("16", 75), ("02", 12), ("17", 5), ("13", 5), ("03", 3))
    support_q = (("03", 3), ("04", 3), ("05", 3), ("15", 1))
    person("01", "05", 38, 58, 0.4, "07", _weighted(rng, mgr_q))
    for _ in range(1 if n_classes < 12 else 2):
        person("01", "06", 35, 57, 0.5, "07", _weighted(rng, mgr_q))
    for k in range(round(n_classes * rng.uniform(1.3, 1.8))):
        contract = rng.choices(("07", "08", "03", "04"), (75, 10, 8, 7))[0]
        person("03", "03" if k % 8 == 0 else None, 23, 60, 0.65, contract, _weighted(rng, teacher_q))
    positions = ["15", "16", "17"]
    for pos, p in (("09", 0.7), ("14", 0.5), ("25", 0.4), ("11", 0.3)):
        if rng.random() < p:
            positions.append(pos)
    for pos in positions:
        contract = rng.choices(("07", "08", "03", "04"), (5, 1, 2, 2))[0]
        person("02", pos, 22, 58, 0.1 if pos == "17" else 0.6, contract, _weighted(rng, support_q))
    return staff


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
        grade = _code(f"{g:02d}", st.grade)
        for _ in range(size):
            gender = 2 if rand() < 0.485 else 1
            minority = rand() < minority_share
            if minority:
                ethnic = d.groups[bisect.bisect(d.cum_weights, rand() * d.cum_weights[-1])]
            else:
                ethnic = "55" if rand() < 0.0005 else "01"
            p: dict[str, Any] = {
                "ClientId": _client_id(rng),
                "MaHocSinh": f"{province}{(base + i * step) % 10**8:08d}",
                "HoTen": _name(rng, gender, minority),
                "MaDanToc": ethnic,
                "GioiTinh": _gender(gender, st.gender),
            }
            i += 1
            r = rand()
            repeater = r < 0.015
            if repeater:
                offset = 1 if rand() < 0.8 else 2
            else:
                r = rand()
                offset = -1 if r < 0.01 else 1 if r < 0.055 else 2 if r < 0.063 else 0
            p["NgaySinh"] = rng.choice(_dates(start_year - g - 5 - offset, "iso_t"))
            p["KhoiHoc"] = grade
            p["MaLopHocDn"] = cls
            r = rand()
            reason = None
            if r < 0.01:  # transferred out in September, before the 30/9 reference date
                status = "04"
                date = _date_between(rng, dt.date(start_year, 9, 5), dt.date(start_year, 9, 29), "iso_t")
            elif r < 0.02:  # transferred in, before or after 30/9
                status = "02"
                if rand() < 0.5:
                    lo, hi = dt.date(start_year, 8, 15), dt.date(start_year, 9, 29)
                else:
                    lo, hi = dt.date(start_year, 10, 1), dt.date(start_year, 11, 30)
                date = _date_between(rng, lo, hi, "iso_t")
            elif r < 0.023:  # dropped out (summer or September), with a reason
                status = "12" if rand() < 0.5 else "05"
                lo = dt.date(start_year, 6, 1) if status == "12" else dt.date(start_year, 9, 5)
                hi = dt.date(start_year, 8, 31) if status == "12" else dt.date(start_year, 9, 29)
                date = _date_between(rng, lo, hi, "iso_t")
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
            p["KhuyetTat"] = _flag(disabled, st.flag)
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
                p["IsHoTroChiPhiHocTap"] = _flag(rand() < 0.7, st.flag)
            if boarding_school and minority and rand() < 0.5:
                p["PtdtBanTru"] = _flag(True, st.flag)
                p["IsHoTroNhaO"] = _flag(rand() < 0.3, st.flag)
                p["IsCapGao"] = _flag(True, st.flag)
                p["IsCapTienHangThang"] = _flag(True, st.flag)
            if reason:
                p["MaLyDoThoiHoc"] = reason
            pupils.append(p)
    return pupils


def _staff(
    rng: random.Random,
    plan: SchoolPlan,
    st: Styles,
    counts: dict[int, int],
    start_year: int,
    minority_share: float,
) -> list[dict[str, Any]]:
    d = plan.district
    code = plan.code
    n_classes = sum(counts.values())
    primary = sum(n for g, n in counts.items() if g <= 5)
    secondary = n_classes - primary
    with_level = plan.kind == "PTCS" or rng.random() < 0.5
    default_level = {"TH": "02", "THCS": "03", "THPT": "04", "PTCS": None}[plan.kind]
    staff: list[dict[str, Any]] = []

    def person(group: str, position: str | None, age_lo: int, age_hi: int, female_p: float,
               contract: str, qualification: str, level: str | None) -> dict[str, Any]:  # fmt: skip
        gender = 2 if rng.random() < female_p else 1
        minority = rng.random() < minority_share * 0.4
        ethnic = d.groups[0] if minority else "01"
        age = int(rng.triangular(age_lo, age_hi, (age_lo + age_hi) / 2))
        s = _staff_record(rng, st, code, len(staff) + 1, group, position, contract, qualification, gender,
                          minority, ethnic, age, start_year, level if with_level else None)  # fmt: skip
        staff.append(s)
        return s

    def contract(kind: str) -> str:
        if plan.private:
            return rng.choices(("03", "04", "01"), (6, 3, 1))[0]
        if kind == "manager":
            return "07"
        if kind == "support":
            return rng.choices(("07", "08", "03", "04"), (5, 1, 2, 2))[0]
        return rng.choices(("07", "08", "03", "04"), (80, 8, 6, 6))[0]

    mgr_q = (("16", 70), ("02", 25), ("17", 4), ("01", 1))
    teacher_q = (("16", 70), ("17", 12), ("18", 3), ("02", 6), ("03", 6), ("13", 2.8), ("01", 0.2))
    support_q = (("03", 3), ("04", 3), ("05", 3), ("06", 1), ("15", 1))
    person("01", "01", 35, 58, 0.5, contract("manager"), _weighted(rng, mgr_q), default_level)
    for _ in range(1 if n_classes < 10 else 2 if n_classes < 28 else 3):
        person("01", "02", 32, 57, 0.55, contract("manager"), _weighted(rng, mgr_q), default_level)
    n_primary = round(primary * rng.uniform(1.2, 1.5))
    n_secondary = round(secondary * rng.uniform(1.9, 2.2))
    female_p = 0.8 if plan.kind in ("TH", "PTCS") else 0.7
    for k in range(n_primary + n_secondary):
        level = "02" if k < n_primary else ("04" if plan.kind == "THPT" else "03")
        position = "03" if k % 8 == 0 else ("04" if k % 8 == 4 else None)
        s = person("03", position, 22, 60, female_p, contract("teacher"),
                   _weighted(rng, teacher_q), level or default_level)  # fmt: skip
        if rng.random() < 0.15:
            s["LstNhiemVuKiemNhiem"] = rng.sample(("01", "03", "05", "12", "20"), rng.randint(1, 2))
    if not plan.private and plan.kind != "THPT" and rng.random() < 0.85:
        s = person("03", None, 22, 40, 0.5, contract("teacher"), _weighted(rng, teacher_q), None)
        s["ChuyenTrachDoi"] = _flag(True, st.flag)
    # Support staff: an accountant always; the rest depends on size and kind.
    positions = ["15"]
    p_office = 0.3 if plan.kind != "TH" else 0.1
    for pos, p in (("09", 0.7), ("10", 0.5), ("32", 0.3), ("25", 0.3), ("16", 0.5), ("11", 0.6),
                   ("33", 0.05), ("34", p_office), ("17", 0.8)):  # fmt: skip
        if rng.random() < p * (1.0 if n_classes >= 10 else 0.6):
            positions.append(pos)
    if plan.category == "01" or rng.random() < 0.15:
        positions += ["20"] * rng.randint(1, 3)
    for pos in positions:
        s = person("02", pos, 22, 58, 0.6, contract("support"), _weighted(rng, support_q), None)
        if rng.random() < 0.3:
            duties = ("08", "11", "12", "13", "14", "15", "16", "17")
            s["LstNhiemVuKiemNhiem"] = rng.sample(duties, rng.randint(1, 2))
    return staff


def _rooms(rng: random.Random, plan: SchoolPlan, n_physical: int) -> list[dict[str, Any]]:
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


# ---------------------------------------------------------------- defects


def _inject(
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


# ---------------------------------------------------------------- registry


def _registry_row(
    rng: random.Random, plan: SchoolPlan, facts: dict[str, Any], so: str, province: str
) -> list[Any]:
    d = plan.district
    province_name = catalog.codelist("provinces_pre2025").labels_vi[province]
    slug = _slug(f"{plan.kind}{_short_place(facts['commune_name'])}")[:24]
    domain = f"{_slug(_short_place(province_name))}.edu.vn"
    so_run = plan.kind in SO_RUN_KINDS
    cap_hoc: Any = facts["cap_hoc"]
    if rng.random() < 0.15:
        cap_hoc = float(cap_hoc)  # a number cell, as when the template was typed in Excel
    id_phong: Any = None if so_run or rng.random() < 0.02 else d.phong
    if id_phong and rng.random() < 0.15:
        id_phong = float(id_phong)
    ma_huyen: Any = d.code
    if rng.random() < 0.1:  # the leading zero lost on the way through Excel
        ma_huyen = int(d.code) if rng.random() < 0.5 else str(int(d.code))
    ma_tinh: Any = int(province) if rng.random() < 0.1 else province
    id_so: Any = int(so) if rng.random() < 0.1 else so
    founded = dt.date(rng.randint(1960, 2015), rng.randint(1, 12), rng.randint(1, 28))
    standard = facts["standard"]
    return [
        plan.code,
        facts["name"],
        so if so_run else d.phong,
        cap_hoc,
        1,
        plan.ownership_code,
        facts["category"],
        f"Thôn {rng.randint(1, 20)}, {facts['commune_name']}, {d.name}, {province_name}",
        f"{facts['commune_code']}{rng.randint(1, 20):02d}",
        facts["commune_code"],
        ma_huyen,
        ma_tinh,
        catalog.codelist("national_standard_level").labels_vi[standard] if standard else "Chưa đạt",
        int(d.mountain and rng.random() < 0.6),
        int(d.mountain and rng.random() < 0.05),
        0 if plan.private else 1,
        f"http://{slug}.{domain}",
        f"02{rng.randrange(10**9):09d}",
        f"{slug}@{domain}",
        f"02{rng.randrange(10**9):09d}",
        f"{founded.day:02d}/{founded.month:02d}/{founded.year}",
        facts["principal"],
        f"09{rng.randrange(10**8):08d}",
        id_so,
        id_phong,
    ]


def _write_registry(path: Path, rows: list[list[Any]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sheet1")
    headers = [f"{c} *" if c in REQUIRED_HEADERS else c for c in REGISTRY_COLUMNS]
    headers[REGISTRY_COLUMNS.index("DIA_CHI")] = "DIA_CHI "  # headers are matched tolerantly
    ws.append([])
    ws.append([TITLE])
    ws.append(["(Các cột có dấu * là bắt buộc)"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    wb.save(path)


# ---------------------------------------------------------------- entry point


# Population (docs/input-contract.md, "Population"): per age band, the share of the population the
# generated schools enrol (first age, last age, lowest and highest share). A Phòng's population of
# an age and sex is the band's mean enrolment per age over a share drawn in that range, so gross
# enrolment comes out near 95-105 % in primary and lower in upper secondary; ages 18-25 follow 15-17.
POPULATION_BANDS = ((0, 2, 0.2, 0.3), (3, 5, 0.85, 0.95), (6, 10, 0.93, 1.02), (11, 14, 0.85, 0.95),
                    (15, 17, 0.6, 0.72))  # fmt: skip
POPULATION_MAX_AGE = 25


def _tally_learners(
    tally: dict[tuple[int, int], int], learners: list[dict[str, Any]], start_year: int
) -> None:
    """Count learners by (age, sex), age = start year − year of birth."""
    for p in learners:
        year = re.search(r"\d{4}", str(p.get("NgaySinh") or ""))
        sex = str(p.get("GioiTinh") or "").lstrip("0")
        if year and sex in ("1", "2"):
            age = start_year - int(year.group())
            if 0 <= age <= POPULATION_MAX_AGE:
                tally[(age, int(sex))] = tally.get((age, int(sex)), 0) + 1


def _write_population(path: Path, so: str, enrolled: dict[str, dict[tuple[int, int], int]], start_year: int,
                      seed: int) -> None:  # fmt: skip
    """population.csv: each Phòng's population by single age 0-25 and sex, and the Sở's (their sum)."""
    rng = random.Random(f"population-{seed}")  # its own stream: the schools stay as they were
    rows: list[tuple[str, str, int, int, str, int]] = []
    total: dict[tuple[int, int], int] = {}
    for phong in sorted(enrolled, key=lambda c: (len(c), c)):
        tally = enrolled[phong]
        pop: dict[tuple[int, int], int] = {}
        for sex in (1, 2):
            bases = {}
            for lo, hi, low, high in POPULATION_BANDS:
                mean = sum(tally.get((a, sex), 0) for a in range(lo, hi + 1)) / (hi - lo + 1)
                bases[(lo, hi)] = mean / rng.uniform(low, high) if mean else 0.0
            # A band no school of the district teaches gets a token population (3 % of the others'
            # mean): the synthetic province places that level's pupils in other districts, and the
            # Sở's rates stay near the shares drawn above.
            known = [b for b in bases.values() if b] or [40.0]
            fallback = 0.03 * sum(known) / len(known)
            for (lo, hi), base in bases.items():
                for a in range(lo, hi + 1):
                    pop[(a, sex)] = max(1, round((base or fallback) * rng.uniform(0.96, 1.04)))
            older = sum(pop[(a, sex)] for a in (15, 16, 17)) / 3
            for a in range(18, POPULATION_MAX_AGE + 1):
                pop[(a, sex)] = max(1, round(older * rng.uniform(0.95, 1.05)))
        for (a, sex), n in sorted(pop.items()):
            rows.append(("phong", phong, start_year, a, f"0{sex}", n))
            total[(a, sex)] = total.get((a, sex), 0) + n
    rows += [("so", so, start_year, a, f"0{sex}", n) for (a, sex), n in sorted(total.items())]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("level,unit_code,year,age,sex,population\n")
        fh.writelines(",".join(map(str, r)) + "\n" for r in rows)


def generate_province(
    province: str,
    school_year: str,
    period: str,
    n_schools: int,
    seed: int,
    out: Path,
    defect_rate: float = 0.0,
) -> GenerateSummary:
    """Write out/registry.xlsx, out/inbox/<MaTruongHoc>_<year>_1.json, out/defects.json and
    out/population.csv."""
    start_year = _check_args(province, school_year, period, n_schools)
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be between 0 and 1")
    loai_dong_bo = PERIODS[period]
    rng = random.Random(seed)
    so, districts = _districts(province, rng)
    plans = _plan_schools(province, districts, n_schools, rng)

    out = Path(out)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    rows: list[list[Any]] = []
    defects: list[dict[str, Any]] = []
    n_learners = n_staff = n_classes = 0
    enrolled: dict[str, dict[tuple[int, int], int]] = {}  # Phòng → (age, sex) → learners
    for plan in plans:
        # One child generator per school, drawn in order: each school depends on the seed only.
        school_rng = random.Random(rng.getrandbits(64))
        payload, facts = _school(school_rng, plan, start_year, loai_dong_bo, province)
        if plan.kind in PRESCHOOL_KINDS:
            # Its own stream per school: every other figure stays as it was without a budget.
            budget = _budget(random.Random(f"budget-{seed}-{plan.code}"), plan, payload)
            if budget:
                payload["NganSach"] = budget
        n_learners += len(payload["LstHocSinh"])
        n_staff += len(payload["LstCanBo"])
        n_classes += len(payload["LstLopHocInfo"])
        _tally_learners(enrolled.setdefault(plan.district.phong, {}), payload["LstHocSinh"], start_year)
        file_name = f"{plan.code}_{start_year}_{loai_dong_bo}.json"
        kind = rng.choice(DEFECT_KINDS) if defect_rate and rng.random() < defect_rate else None
        entity = index = field = None
        if kind:
            entity, index, field = _inject(rng, payload, kind)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        if kind == "malformed_file":
            text = text[: len(text) // 2]
        (inbox / file_name).write_text(text, encoding="utf-8", newline="\n")
        if kind:
            defects.append({"school_code": plan.code, "file": file_name, "kind": kind,
                            "entity": entity, "record_index": index, "field": field})  # fmt: skip
        rows.append(_registry_row(rng, plan, facts, so, province))

    # A test school, as real exports carry: a registry row with no payload.
    d = districts[0]
    test_row = [f"{province}{d.code}999", "Trường TEST nhập liệu", d.phong, "1", 1, "01", "07",
                None, None, d.communes[0][0], d.code, province, "Chưa đạt", 0, 0, 0, None, None,
                None, None, None, None, None, so, d.phong]  # fmt: skip
    rows.insert(rng.randint(0, len(rows)), test_row)
    registry = out / "registry.xlsx"
    _write_registry(registry, rows)
    _write_population(out / "population.csv", so, enrolled, start_year, seed)
    defects_path = out / "defects.json"
    defects_path.write_text(
        json.dumps(defects, ensure_ascii=False, indent=1) + "\n", encoding="utf-8", newline="\n"
    )
    return GenerateSummary(
        n_schools=len(plans),
        n_learners=n_learners,
        n_staff=n_staff,
        n_classes=n_classes,
        n_defects=len(defects),
        out=out,
        registry=registry,
        inbox=inbox,
        defects=defects_path,
    )


def spread_arrivals(inbox: Path, first: dt.date, last: dt.date, seed: int) -> int:
    """Set each file's modification time (its arrival: pipelines/ingest/submissions.py) to a seeded moment in
    office hours (07:00-17:00) between `first` and `last`, so a demo shows the reporting window day by
    day instead of one instant. Each file depends on the seed and its name only. Returns the files."""
    paths = sorted(p for p in Path(inbox).glob("*.json") if p.is_file())
    days = (last - first).days
    for p in paths:
        rng = random.Random(f"arrival-{seed}-{p.name}")
        day = first + dt.timedelta(days=rng.randint(0, days))
        moment = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(seconds=rng.randrange(10 * 3600))
        stamp = moment.timestamp()
        os.utime(p, (stamp, stamp))
    return len(paths)
