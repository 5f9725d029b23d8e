"""The province plan: the kinds of institutions (their grades, preschool age bands and shares), the
Sở and its districts with their ethnic mix, and which school of which kind, ownership and category
goes in which district. Codes are the real shared ones (catalog code lists)."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

from pipelines import catalog

PERIODS = {"DN": 1}  # period -> LoaiDongBo

# School kinds: (MaNhomCapHoc, CAP_HOC digits, grades, name prefix, share of schools). About 38 %
# of a province's institutions are preschools (grades 16 nhóm trẻ, 17 lớp mẫu giáo); the general
# schools share the rest as before (TH takes whatever the other kinds leave). Continuing-education
# centres (GDTX, DM_KHOI 13-15 = lớp 10-12 GDTX, 23 = lớp 9 GDTX, 18 xóa mù chữ, 19 sau biết chữ)
# are planned apart (n_gdtx_centres): one provincial centre and about one per four districts.
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


def check_args(province: str, school_year: str, period: str, n_schools: int) -> int:
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


def draw_districts(province: str, rng: random.Random) -> tuple[str, list[District]]:
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


def n_gdtx_centres(n_schools: int, n_districts: int) -> int:
    """GDTX centres in a province of n_schools institutions: about 1 %, at most one provincial
    centre plus one per four districts; none in a province of fewer than 20 institutions."""
    if n_schools < 20:
        return 0
    return min(max(1, round(0.01 * n_schools)), 1 + n_districts // 4)


def plan_schools(
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
    n_gdtx = n_gdtx_centres(n_schools, len(districts))
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
