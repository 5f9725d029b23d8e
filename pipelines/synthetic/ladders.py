"""How a school's learners stood a year earlier, by kind of institution: the ladder a learner climbs,
by grade in a general school, by programme code in a GDTX centre, by age band in a preschool."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from pipelines.synthetic.learners import (
    ARRIVING,
    GDTX_CODES,
    PRESCHOOL,
    admission_like,
    day_between,
    flag_like,
    grade_of,
    read_code,
    read_date,
)
from pipelines.synthetic.plan import MN_BANDS
from pipelines.synthetic.results import GDTX_ASSESSED, forced_result


class GeneralLadder:
    """How the learners of a general school stood a year earlier; the unit is the grade 1-12.

    A pupil now in grade g who is neither a repeater (LoaiNhapHoc 3) nor new (transferred in, or a
    new entrant at the first grade of a level, LoaiNhapHoc 0/1/2) was in the grade below, promoted;
    a repeater was in the same grade, not promoted. Learners of a unit whose next unit the school
    does not teach (its top grade) left at the end of last year."""

    kind_of_file = "general"

    def __init__(self, payload: dict[str, Any], start_year: int) -> None:
        self.start_year = start_year  # this year's
        self.first_entry: dict[Any, Any] = {}  # LoaiNhapHoc of a first-time learner by unit, as written
        for p in payload["LstHocSinh"]:
            if isinstance(p, dict) and (u := self.unit(p)) is not None:
                if read_code(p.get("LoaiNhapHoc")) in ("00", "02", "04"):
                    self.first_entry.setdefault(u, p["LoaiNhapHoc"])

    def unit(self, p: dict[str, Any]) -> Any:
        return grade_of(p)

    def class_unit(self, c: dict[str, Any]) -> Any:
        return grade_of(c)

    def grade(self, unit: Any) -> int:
        return unit

    def lower(self, unit: Any) -> Any:
        return unit - 1 if unit > 1 else None

    def upper(self, unit: Any) -> Any:
        return unit + 1 if unit < 12 else None

    def previous(self, p: dict[str, Any], unit: Any, units: set) -> tuple[Any, bool] | None:
        """(unit last year, promoted) of a learner now in `unit`, or None if new this year."""
        status, entry = read_code(p.get("TrangThai")), read_code(p.get("LoaiNhapHoc"))
        if status in ARRIVING or entry in ("00", "01", "02"):
            return None
        if entry == "03":
            return unit, False
        below = self.lower(unit)
        return (below, True) if below in units else None

    def admission(self, unit: Any, like: dict[str, Any]) -> Any:
        """LoaiNhapHoc of a learner in `unit` last year, in the grade for the first time."""
        return self.first_entry.get(unit, admission_like(4, like.get("LoaiNhapHoc")))

    def label(self, unit: Any, k: int) -> str:
        return f"{unit}A{k + 1}" if unit >= 10 else f"{unit}{chr(65 + k)}"

    def class_fields(self, unit: Any) -> dict[str, Any]:
        return {}

    def born(self, rng: random.Random, unit: Any, year: int) -> dt.date:
        return day_between(rng, dt.date(year - unit - 5, 1, 1), dt.date(year - unit - 5, 12, 31))

    def adjust(self, record: dict[str, Any], unit: Any, model: dict[str, Any]) -> None:
        """Kind-specific fields of a learner record of last year (in place)."""

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        return forced_result(rng, client_id, unit, promoted)


GDTX_ASSESSED_CODES = {int(c) for c in GDTX_ASSESSED}
# Preschool age bands (DM_NHOM_TUOI_MN) as the start-of-year generator draws them: the block
# (nhóm trẻ 16, lớp mẫu giáo 17), nursery bands' ages in months on 30/9, kindergarten bands' ages
# (start year − birth year).
MN_BAND_ORDER = tuple(sorted(MN_BANDS))  # youngest first
MN_BLOCK = {band: grade for band, (grade, _, _) in MN_BANDS.items()}
MN_MONTHS = {band: ages for band, (grade, ages, _) in MN_BANDS.items() if grade == 16}
MN_YEARS = {band: ages for band, (grade, ages, _) in MN_BANDS.items() if grade == 17}
KINDERGARTEN_ONLY = ("IsHoTroAnTrua", "HtHoTro", "IsHoTroChiPhiHocTap", "IsHocLopMg5T")
GDTX_STEPS = {13: 14, 14: 15, 20: 21, 21: 22, 22: 23, 24: 25, 25: 26, 26: 27, 27: 28}  # next DM_KHOI
GDTX_LABELS = {13: "10", 14: "11", 15: "12", 18: "XMC", 19: "SBC", 20: "6", 21: "7", 22: "8", 23: "9",
               24: "L1", 25: "L2", 26: "L3", 27: "L4", 28: "L5"}  # fmt: skip


class GdtxLadder(GeneralLadder):
    """A GDTX centre's learners by programme (DM_KHOI): lớp 10-12 GDTX (13-15) and lớp 6-9 (20-23),
    lớp 1-5 (24-28) move up one code a year as general pupils move up a grade; literacy (18) and
    post-literacy (19) classes last a year. Those of the THPT programme and of lớp 9 GDTX (23) get a
    TT 22/2021 result (lớp 9 GDTX with TotNghiep)."""

    kind_of_file = "GDTX"

    def unit(self, p: dict[str, Any]) -> Any:
        code = read_code(p.get("KhoiHoc"))
        return int(code) if code in GDTX_CODES else None

    def class_unit(self, c: dict[str, Any]) -> Any:
        return self.unit(c)

    def lower(self, unit: Any) -> Any:
        return next((u for u, v in GDTX_STEPS.items() if v == unit), None)

    def upper(self, unit: Any) -> Any:
        return GDTX_STEPS.get(unit)

    def label(self, unit: Any, k: int) -> str:
        return f"{GDTX_LABELS[unit]}G{k + 1}"

    def born(self, rng: random.Random, unit: Any, year: int) -> dt.date:
        if unit in (18, 19):
            age = rng.randint(16, 55)
        else:  # the official age of the equivalent general grade, or a few years older
            grade = unit - 3 if unit <= 15 else unit - 14 if unit <= 23 else unit - 23
            age = grade + 5 + rng.choice((0, 0, 0, 1, 2, 4))
        return day_between(rng, dt.date(year - age, 1, 1), dt.date(year - age, 12, 31))

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        if unit not in GDTX_ASSESSED_CODES:
            return None
        return forced_result(rng, client_id, 9 if unit == 23 else unit - 3, promoted)


class PreschoolLadder(GeneralLadder):
    """A preschool's children by age band (DM_NHOM_TUOI_MN 01-03 nhà trẻ by months on 30/9, 04-06
    mẫu giáo by start year − birth year). A child now in band b was last year in band b − 1 of the
    same school (a child of a mixed-age class: the band of their age, at most the class's band),
    unless new this year: IsTuyenMoiMn, in the youngest band 01, under 3 months on 30/9 last year, or
    last year's band in a block (nhà trẻ / mẫu giáo) the school does not run. The children of the
    school's last band (06, or 03 in a nhà trẻ) left at the end of last year: the 5-year-olds
    completing kindergarten. No result entry; an end-of-year nutrition check."""

    kind_of_file = "MN"

    def __init__(self, payload: dict[str, Any], start_year: int) -> None:
        self.classes = {
            str(c.get("MaLopHoc")): c for c in payload.get("LstLopHocInfo") or [] if isinstance(c, dict)
        }
        self.blocks = {MN_BLOCK[b] for c in self.classes.values() if (b := self.class_unit(c))}
        super().__init__(payload, start_year)

    def class_unit(self, c: dict[str, Any]) -> Any:
        band = str(c.get("MaNhomTuoiMn") or "")
        return band if band in MN_BLOCK and read_code(c.get("KhoiHoc")) in PRESCHOOL else None

    def _months(self, p: dict[str, Any]) -> int | None:
        """Age in completed months on 30/9 of this year (as entities.sql: from year and month)."""
        born = read_date(p.get("NgaySinh"))
        return None if born is None else 12 * (self.start_year - born.year) + 9 - born.month

    def unit(self, p: dict[str, Any]) -> Any:
        if read_code(p.get("KhoiHoc")) not in PRESCHOOL:
            return None
        c = self.classes.get(str(p.get("MaLopHocDn")))
        band = self.class_unit(c) if c else None
        if band is None or read_code(c.get("LopGhepDoTuoi")) in (None, "00"):
            return band
        months = self._months(p)
        if months is None:
            return band
        if MN_BLOCK[band] == 16:
            own, lowest = ("01" if months <= 12 else "02" if months <= 24 else "03"), "01"
        else:
            age = self.start_year - read_date(p.get("NgaySinh")).year
            own, lowest = ("04" if age <= 3 else "05" if age == 4 else "06"), "04"
        return min(max(own, lowest), band)

    def grade(self, unit: Any) -> int:
        return MN_BLOCK[unit]

    def lower(self, unit: Any) -> Any:
        i = MN_BAND_ORDER.index(unit)
        return MN_BAND_ORDER[i - 1] if i else None

    def upper(self, unit: Any) -> Any:
        i = MN_BAND_ORDER.index(unit)
        return MN_BAND_ORDER[i + 1] if i + 1 < len(MN_BAND_ORDER) else None

    def previous(self, p: dict[str, Any], unit: Any, units: set) -> tuple[Any, bool] | None:
        below = self.lower(unit)
        if read_code(p.get("TrangThai")) in ARRIVING or str(p.get("IsTuyenMoiMn")) in ("1", "True", "true"):
            return None
        if below is None or MN_BLOCK[below] not in self.blocks:
            return None
        months = self._months(p)
        if below == "01" and months is not None and months - 12 < MN_MONTHS["01"][0]:
            return None  # too young to be enrolled on 30/9 last year
        return below, True

    def admission(self, unit: Any, like: dict[str, Any]) -> Any:
        return None  # preschool children carry no LoaiNhapHoc

    def label(self, unit: Any, k: int) -> str:
        return f"{'NT' if MN_BLOCK[unit] == 16 else 'MG'}{unit}-{k + 1}"

    def class_fields(self, unit: Any) -> dict[str, Any]:
        return {"MaNhomTuoiMn": unit, "LopGhepDoTuoi": 0}

    def born(self, rng: random.Random, unit: Any, year: int) -> dt.date:
        if unit in MN_MONTHS:  # `months` completed months on 30/9 of `year`
            index = 12 * year + 9 - rng.randint(*MN_MONTHS[unit]) - 1
            y, m = index // 12, index % 12 + 1
        else:
            y, m = year - MN_YEARS[unit], rng.randint(1, 12)
        return dt.date(y, m, rng.randint(1, 28))

    def adjust(self, record: dict[str, Any], unit: Any, model: dict[str, Any]) -> None:
        like = model.get("KiemTraSucKhoeDinhDuong", model.get("KhuyetTat", 0))
        if MN_BLOCK[unit] == 16:
            for key in KINDERGARTEN_ONLY:
                record.pop(key, None)
        else:
            record["IsHocLopMg5T"] = flag_like(unit == "06", like)
        youngest = min(MN_BAND_ORDER.index(b) for b in MN_BAND_ORDER if MN_BLOCK[b] in self.blocks)
        record["IsTuyenMoiMn"] = flag_like(MN_BAND_ORDER.index(unit) == youngest, like)
        record.setdefault("KiemTraSucKhoeDinhDuong", flag_like(False, like))  # checked at the end of the year

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        return None


def ladder_for(payload: dict[str, Any], start_year: int) -> GeneralLadder | None:
    """The ladder of the kind of learners the file holds: general grades, else preschool, else GDTX."""
    learners = [p for p in payload["LstHocSinh"] if isinstance(p, dict)]
    if any(grade_of(p) is not None for p in learners):
        return GeneralLadder(payload, start_year)
    if any(read_code(p.get("KhoiHoc")) in PRESCHOOL for p in learners):
        return PreschoolLadder(payload, start_year)
    if any(read_code(p.get("KhoiHoc")) in GDTX_CODES for p in learners):
        return GdtxLadder(payload, start_year)
    return None
