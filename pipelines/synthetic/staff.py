"""Staff (LstCanBo): one record in the school's own style, and whom each kind of institution employs:
a general school, a preschool (teachers by nhà trẻ / mẫu giáo) and a GDTX centre (Giám đốc, Phó giám
đốc), with managers, teachers and support staff by position, contract and qualification."""

from __future__ import annotations

import random
from typing import Any

from pipelines.synthetic.plan import INDEPENDENT_KINDS, MN_BANDS, SchoolPlan
from pipelines.synthetic.values import (
    Styles,
    client_id,
    code_in_style,
    flag_in_style,
    gender_in_style,
    person_name,
    weighted,
    year_dates,
)


def staff_record(rng: random.Random, st: Styles, code: str, n: int, group: str, position: str | None,
                  contract: str, qualification: str, gender: int, minority: bool, ethnic: str, age: int,
                  start_year: int, level: str | None, retire_age: int = 58) -> dict[str, Any]:  # fmt: skip
    """One LstCanBo record in the school's own value style (codes, dates, sex)."""
    sc = st.staff_codes
    s: dict[str, Any] = {
        "ClientId": client_id(rng),
        "MaCanBo": f"CB{code}{n:03d}",
        "TenCanBo": person_name(rng, gender, minority),
        "LoaiCanBo": code_in_style(group, sc),
    }
    if position:
        s["ChucVu"] = position
    s["LoaiHopDong"] = code_in_style(contract, sc)
    s["TrinhDoChuyenMonNvCaoNhat"] = code_in_style(qualification, sc)
    s["GioiTinh"] = gender_in_style(gender, st.gender)
    s["NgaySinh"] = rng.choice(year_dates(start_year - age, st.staff_date))
    s["MaDanToc"] = ethnic
    if level:
        s["CapHoc"] = level
    r = rng.random()
    s["TrangThai"] = code_in_style(
        "04" if age >= retire_age and r < 0.3 else ("02" if r < 0.005 else "01"), sc
    )
    return s


def school_staff(
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
        s = staff_record(rng, st, code, len(staff) + 1, group, position, contract, qualification, gender,
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
    person("01", "01", 35, 58, 0.5, contract("manager"), weighted(rng, mgr_q), default_level)
    for _ in range(1 if n_classes < 10 else 2 if n_classes < 28 else 3):
        person("01", "02", 32, 57, 0.55, contract("manager"), weighted(rng, mgr_q), default_level)
    n_primary = round(primary * rng.uniform(1.2, 1.5))
    n_secondary = round(secondary * rng.uniform(1.9, 2.2))
    female_p = 0.8 if plan.kind in ("TH", "PTCS") else 0.7
    for k in range(n_primary + n_secondary):
        level = "02" if k < n_primary else ("04" if plan.kind == "THPT" else "03")
        position = "03" if k % 8 == 0 else ("04" if k % 8 == 4 else None)
        s = person("03", position, 22, 60, female_p, contract("teacher"),
                   weighted(rng, teacher_q), level or default_level)  # fmt: skip
        if rng.random() < 0.15:
            s["LstNhiemVuKiemNhiem"] = rng.sample(("01", "03", "05", "12", "20"), rng.randint(1, 2))
    if not plan.private and plan.kind != "THPT" and rng.random() < 0.85:
        s = person("03", None, 22, 40, 0.5, contract("teacher"), weighted(rng, teacher_q), None)
        s["ChuyenTrachDoi"] = flag_in_style(True, st.flag)
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
        s = person("02", pos, 22, 58, 0.6, contract("support"), weighted(rng, support_q), None)
        if rng.random() < 0.3:
            duties = ("08", "11", "12", "13", "14", "15", "16", "17")
            s["LstNhiemVuKiemNhiem"] = rng.sample(duties, rng.randint(1, 2))
    return staff


MN_TEACHER_Q = (("16", 45), ("17", 30), ("18", 18), ("02", 1), ("03", 3), ("11", 2), ("06", 1))
MN_SUPPORT_Q = (("04", 3), ("05", 4), ("06", 3), ("15", 1))


def preschool_staff(
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
        s = staff_record(rng, st, plan.code, len(staff) + 1, group, position, contract,
                          weighted(rng, qualification), gender, minority, d.groups[0] if minority else "01",
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


def gdtx_staff(
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
        s = staff_record(rng, st, plan.code, len(staff) + 1, group, position, contract, qualification, gender,
                          minority, d.groups[0] if minority else "01", age, start_year,
                          "05" if with_level else None)  # fmt: skip
        staff.append(s)

    mgr_q = (("16", 60), ("02", 35), ("01", 5))
    teacher_q = (("16", 75), ("02", 12), ("17", 5), ("13", 5), ("03", 3))
    support_q = (("03", 3), ("04", 3), ("05", 3), ("15", 1))
    person("01", "05", 38, 58, 0.4, "07", weighted(rng, mgr_q))
    for _ in range(1 if n_classes < 12 else 2):
        person("01", "06", 35, 57, 0.5, "07", weighted(rng, mgr_q))
    for k in range(round(n_classes * rng.uniform(1.3, 1.8))):
        contract = rng.choices(("07", "08", "03", "04"), (75, 10, 8, 7))[0]
        person("03", "03" if k % 8 == 0 else None, 23, 60, 0.65, contract, weighted(rng, teacher_q))
    positions = ["15", "16", "17"]
    for pos, p in (("09", 0.7), ("14", 0.5), ("25", 0.4), ("11", 0.3)):
        if rng.random() < p:
            positions.append(pos)
    for pos in positions:
        contract = rng.choices(("07", "08", "03", "04"), (5, 1, 2, 2))[0]
        person("02", pos, 22, 58, 0.1 if pos == "17" else 0.6, contract, weighted(rng, support_q))
    return staff
