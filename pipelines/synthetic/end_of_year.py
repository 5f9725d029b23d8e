"""Derive a seeded end-of-year (CN) province from a generated start-of-year (DN) one.

Reads what `pipelines.generate.generate_province` wrote (registry.xlsx, inbox/*.json) and writes
the same schools and pupils as they stand on 31/5 of the end year (LoaiDongBo 2, "changes during
the year"): some pupils transferred out or dropped out during the year (TrangThai 04/08, 05/09
with NgayTrangThai between 1/10 and 31/5, and a dropout reason), a few new pupils transferred in
(02/06), and one end-of-year result (LstKetQuaHocTap, docs/input-contract.md) for every pupil
enrolled on 31/5. Preschool children (DM_KHOI 16/17) move and leave too and get an end-of-year
health and nutrition re-check (KiemTraSucKhoeDinhDuong / TinhTrangDinhDuong updated), no result;
GDTX learners move and drop out more often than pupils, and those of the THPT programme (DM_KHOI
13-15) and of lớp 9 GDTX (23) get a TT 22/2021 result (status: inferred). Every random draw comes from one `random.Random(seed)`: the same DN province and
seed give the same files. Malformed input files are skipped.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import random
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.synthetic.province import MN_BANDS, distinct_names

LOAI_DONG_BO = 2  # changes during the year (sync spec 2020): the end-of-year period CN
ARRIVING = {"02", "03", "06", "07", "10"}
LEAVING = {"04", "05", "08", "09", "11", "12"}
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
PRESCHOOL = {"16", "17"}  # DM_KHOI nhóm trẻ, lớp mẫu giáo
GDTX_CODES = {"13", "14", "15", "18", "19", *(f"{g:02d}" for g in range(20, 29))}
GDTX_ASSESSED = {"13", "14", "15", "23"}  # THPT programme (lớp 10-12 GDTX) and lớp 9 GDTX
# End-of-year nutrition re-check (codelists/nutrition_status.csv: 00 normal, 01 underweight, 02 stunted,
# 03 'còi cọc', 04 overweight): share of the children re-checked, the chance a malnourished or
# overweight child of the start recovers, and the chance a normal child is found in another state.
RECHECKED = 0.97
RECOVERS = 0.35
WORSENS = 0.03
NUTRITION_DRAW = (("00", 0.86), ("01", 0.04), ("02", 0.04), ("03", 0.02), ("04", 0.04))
NUTRITION_CHANGE = (("01", 0.3), ("02", 0.2), ("03", 0.1), ("04", 0.4))
GDTX_LEARNING = (("1", 0.08), ("2", 0.32), ("3", 0.50), ("4", 0.10))
GDTX_CONDUCT = (("1", 0.62), ("2", 0.27), ("3", 0.09), ("4", 0.02))
SUMMER_LEAVERS = 0.002  # leave in the summer after 31/5: still counted at the end, with a result
NOT_ASSESSED = 0.003  # enrolled on 31/5 without a result (e.g. disabled pupils assessed apart)
DROPOUT_REASONS = (
    ("01", 25), ("02", 25), ("03", 10), ("04", 2), ("05", 1), ("06", 15), ("07", 3), ("08", 10),
    ("09", 6), ("10", 3),
)  # fmt: skip
# TT 27/2020 overall result (primary) and TT 22/2021 learning / conduct results (secondary).
PRIMARY_RESULTS = (("HTXS", 0.22), ("HTT", 0.33), ("HT", 0.43), ("CHT", 0.02))
LEARNING_RESULTS = (("1", 0.25), ("2", 0.40), ("3", 0.31), ("4", 0.04))
CONDUCT_RESULTS = (("1", 0.82), ("2", 0.13), ("3", 0.045), ("4", 0.005))
REPEAT_SHARE = 0.5  # of pupils not reaching the pass level: repeat now; the others are re-assessed in summer
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương")
MIDDLE = {1: ("Văn", "Đức", "Minh", "Quang", "Hữu"), 2: ("Thị", "Ngọc", "Thu", "Minh", "Khánh")}
GIVEN = {1: ("An", "Bình", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Tuấn"),
         2: ("Anh", "Chi", "Hà", "Hoa", "Lan", "Linh", "Mai", "Ngọc", "Trang", "Vy")}  # fmt: skip


@dataclass(frozen=True)
class EndOfYearSummary:
    n_schools: int
    n_learners: int
    n_transfers_in: int
    n_transfers_out: int
    n_dropouts: int
    n_results: int
    n_skipped: int  # input files that could not be read
    out: Path
    registry: Path
    inbox: Path


# ---------------------------------------------------------------- helpers


def _code(value: Any) -> str | None:
    """A code as sent (1, "1", "01", 1.0) → two-digit text; None if it is not a number."""
    try:
        return f"{int(float(str(value))):02d}"
    except (TypeError, ValueError):
        return None


def _grade(pupil: dict[str, Any]) -> int | None:
    """The general-education grade 1-12 of a pupil, else None (preschool, GDTX, malformed)."""
    code = _code(pupil.get("KhoiHoc"))
    return int(code) if code and 1 <= int(code) <= 12 else None


def _date(value: Any) -> dt.date | None:
    text = str(value or "")
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", text) or re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if "-" in text else (m.group(3), m.group(2), m.group(1))
    try:
        return dt.date(int(y), int(mo), int(d))
    except ValueError:
        return None


def enrolled_on(pupil: dict[str, Any], day: dt.date) -> bool:
    """The pipeline's rule (entities.sql `enrolled`): not if a leaving status is dated on or before
    the day, nor an arriving status after it; a status without a readable date changes nothing."""
    status, date = _code(pupil.get("TrangThai")), _date(pupil.get("NgayTrangThai"))
    if date is None:
        return True
    return not ((status in LEAVING and date <= day) or (status in ARRIVING and date > day))


def _level(grade: int) -> str:
    return "TH" if grade <= 5 else "THCS" if grade <= 9 else "THPT"


def _kind(pupil: dict[str, Any]) -> str | None:
    """The rate group of a pupil: TH / THCS / THPT by grade, MN, GDTX, else None."""
    grade = _grade(pupil)
    if grade is not None:
        return _level(grade)
    code = _code(pupil.get("KhoiHoc"))
    return "MN" if code in PRESCHOOL else "GDTX" if code in GDTX_CODES else None


def _flag(value: bool, like: Any) -> Any:
    """A flag in the style of the school's file (bool, "1"/"0" or 1/0)."""
    if isinstance(like, bool):
        return value
    return ("1" if value else "0") if isinstance(like, str) else int(value)


def _pick(rng: random.Random, items: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([c for c, _ in items], [w for _, w in items])[0]


def _day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return dt.date.fromordinal(rng.randint(lo.toordinal(), hi.toordinal()))


def _stamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00.0"


def _status(code: str, like: Any) -> Any:
    """The status in the style of the school's file (integers or two-digit strings)."""
    return int(code) if isinstance(like, int) else code


def _client_id(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# ---------------------------------------------------------------- one school


def _changes(
    rng: random.Random, pupils: list[dict[str, Any]], start: dt.date, end: dt.date
) -> dict[str, int]:
    """Transfers out and dropouts during the year, in place, among pupils studying since the start."""
    semester_2 = dt.date(end.year, 1, 16)  # semester 1 ends mid-January
    counts = {"out": 0, "dropout": 0}
    for p in pupils:
        kind = _kind(p)
        if kind is None or _code(p.get("TrangThai")) != "01":
            continue
        rates = RATES[kind]
        r = rng.random()
        if r < rates["out"] + rates["dropout"]:
            kind = "out" if r < rates["out"] else "dropout"
            day = _day(rng, start + dt.timedelta(days=1), end)
            first = day < semester_2
            code = {
                ("out", True): "04",
                ("out", False): "08",
                ("dropout", True): "05",
                ("dropout", False): "09",
            }[(kind, first)]
            p["TrangThai"] = _status(code, p.get("TrangThai"))
            p["NgayTrangThai"] = _stamp(day)
            if kind == "dropout":
                p["MaLyDoThoiHoc"] = _pick(rng, DROPOUT_REASONS)
            counts[kind] += 1
        elif r < rates["out"] + rates["dropout"] + SUMMER_LEAVERS:
            # Leaves in the summer after 31/5: counted at the end, with a result.
            code = rng.choice(("11", "12"))
            p["TrangThai"] = _status(code, p.get("TrangThai"))
            p["NgayTrangThai"] = _stamp(_day(rng, end + dt.timedelta(days=5), dt.date(end.year, 8, 15)))
            if code == "12":
                p["MaLyDoThoiHoc"] = _pick(rng, DROPOUT_REASONS)
    return counts


def _arrival_status(rng: random.Random, start: dt.date, end: dt.date, like: Any) -> tuple[Any, str]:
    """(TrangThai, NgayTrangThai) of a transfer in on a day after the start and on or before the
    end: 02 in semester 1, 06 in semester 2, in the style of `like`."""
    day = _day(rng, start + dt.timedelta(days=1), end)
    return _status("02" if day < dt.date(end.year, 1, 16) else "06", like), _stamp(day)


def _arrivals(
    rng: random.Random, pupils: list[dict[str, Any]], start: dt.date, end: dt.date, school: str
) -> list[dict[str, Any]]:
    """New pupils transferred in during the year, each into the class of a pupil of its grade.
    Their pupil codes start with the school's code, so no two schools of the province share one."""
    taken = {str(p.get("MaHocSinh")) for p in pupils}
    new = []
    for p in list(pupils):
        kind = _kind(p)
        if kind is None or _code(p.get("TrangThai")) != "01" or rng.random() >= RATES[kind]["in"]:
            continue
        gender = 2 if rng.random() < 0.485 else 1
        code = f"{school}{rng.randrange(10**8):08d}"
        while code in taken:
            code = f"{school}{rng.randrange(10**8):08d}"
        taken.add(code)
        like = p.get("TrangThai")
        status, stamp = _arrival_status(rng, start, end, like)
        child: dict[str, Any] = {}
        if kind == "MN":  # checked on arrival (the end-of-year re-check may update it)
            child["KiemTraSucKhoeDinhDuong"] = _flag(True, p.get("KiemTraSucKhoeDinhDuong", 1))
            child["TinhTrangDinhDuong"] = _pick(rng, NUTRITION_DRAW)
        elif kind == "GDTX" and p.get("MaHinhThucHocTap") is not None:
            child["MaHinhThucHocTap"] = p["MaHinhThucHocTap"]
        new.append({
            "ClientId": _client_id(rng),
            "MaHocSinh": code,
            "HoTen": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}",
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


def _nutrition_recheck(rng: random.Random, pupils: list[dict[str, Any]], end: dt.date) -> int:
    """The end-of-year health and nutrition check of the preschool children enrolled on 31/5, in
    place: most are re-checked; a malnourished or overweight child may have recovered, a normal one
    may be found in another state; a child not checked at the start gets a first status."""
    n = 0
    for p in pupils:
        if _code(p.get("KhoiHoc")) not in PRESCHOOL or not enrolled_on(p, end):
            continue
        like = p.get("KiemTraSucKhoeDinhDuong", 1)
        if rng.random() >= RECHECKED:
            continue
        before = _code(p.get("TinhTrangDinhDuong")) if str(like) not in ("0", "False") else None
        if before is None:
            status = _pick(rng, NUTRITION_DRAW)
        elif before == "00":
            status = _pick(rng, NUTRITION_CHANGE) if rng.random() < WORSENS else "00"
        else:
            status = "00" if rng.random() < RECOVERS else before
        p["KiemTraSucKhoeDinhDuong"] = _flag(True, like)
        p["TinhTrangDinhDuong"] = status
        n += 1
    return n


def _result(rng: random.Random, client_id: str, grade: int) -> dict[str, Any]:
    """One pupil's end-of-year result: TT 27/2020 (primary) or TT 22/2021 (secondary)."""
    if grade <= 5:
        learning = _pick(rng, PRIMARY_RESULTS)
        failed, entry = learning == "CHT", {"ClientId": client_id, "KetQuaHocTap": learning}
    else:
        learning, conduct = _pick(rng, LEARNING_RESULTS), _pick(rng, CONDUCT_RESULTS)
        failed = learning == "4" or conduct == "4"
        entry = {"ClientId": client_id, "KetQuaHocTap": int(learning), "RenLuyen": int(conduct)}
    promotion = (2 if rng.random() < REPEAT_SHARE else 3) if failed else 1
    entry["LenLop"] = promotion
    if grade == 5:
        entry["HoanThanhChuongTrinh"] = int(promotion == 1)
    if grade == 9:
        entry["TotNghiep"] = int(promotion == 1)
    return entry


def _gdtx_result(rng: random.Random, client_id: str, code: str) -> dict[str, Any]:
    """A GDTX learner's end-of-year result on the TT 22/2021 scales (lớp 10-12 GDTX, lớp 9 GDTX)."""
    learning, conduct = _pick(rng, GDTX_LEARNING), _pick(rng, GDTX_CONDUCT)
    failed = learning == "4" or conduct == "4"
    promotion = (2 if rng.random() < REPEAT_SHARE else 3) if failed else 1
    entry = {
        "ClientId": client_id,
        "KetQuaHocTap": int(learning),
        "RenLuyen": int(conduct),
        "LenLop": promotion,
    }
    if code == "23":
        entry["TotNghiep"] = int(promotion == 1)
    return entry


def _results(rng: random.Random, pupils: list[dict[str, Any]], end: dt.date) -> list[dict[str, Any]]:
    results, seen = [], set()
    for p in pupils:
        grade, code, client_id = _grade(p), _code(p.get("KhoiHoc")), p.get("ClientId")
        if grade is None and code not in GDTX_ASSESSED:
            continue
        if not client_id or client_id in seen or not enrolled_on(p, end):
            continue
        seen.add(client_id)
        if rng.random() < NOT_ASSESSED:
            continue
        results.append(
            _result(rng, client_id, grade) if grade is not None else _gdtx_result(rng, client_id, code)
        )
    return results


# ---------------------------------------------------------------- the province


def _read(path: Path) -> dict[str, Any] | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("LstHocSinh"), list):
        return None
    info = payload.get("TruongHocInfo") if isinstance(payload.get("TruongHocInfo"), dict) else {}
    year = payload.get("NamHoc") or info.get("NamHoc")
    if not str(year or "").isdigit() or not (payload.get("MaTruongHoc") or info.get("MaTruongHoc")):
        return None
    return payload


def _prepare_output(dn_dir: Path, out: Path, what: str) -> Path:
    """Check the start-of-year folder, copy its registry into `out` and return out/inbox."""
    registry = dn_dir / "registry.xlsx"
    if not registry.is_file():
        raise FileNotFoundError(f"no registry.xlsx in {dn_dir}")
    if out.resolve() == dn_dir.resolve():
        raise ValueError(f"the {what} folder must differ from the start-of-year one ({dn_dir})")
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(registry, out / "registry.xlsx")
    return inbox


def generate_end_of_year(dn_dir: Path, out: Path, seed: int) -> EndOfYearSummary:
    """Write out/registry.xlsx (a copy) and out/inbox/<MaTruongHoc>_<NamHoc>_2.json from dn_dir."""
    dn_dir, out = Path(dn_dir), Path(out)
    inbox = _prepare_output(dn_dir, out, "end-of-year")
    rng = random.Random(seed)
    n_schools = n_learners = n_in = n_out = n_dropouts = n_results = n_skipped = 0
    for path in sorted(p for p in (dn_dir / "inbox").glob("*.json") if p.is_file()):
        # One child generator per file, drawn in order: a school depends on the seed and its place.
        school_rng = random.Random(rng.getrandbits(64))
        source = _read(path)
        if source is None:
            n_skipped += 1
            continue
        payload = copy.deepcopy(source)
        info = payload.get("TruongHocInfo") or {}
        code = str(payload.get("MaTruongHoc") or info.get("MaTruongHoc"))
        start_year = int(payload.get("NamHoc") or info.get("NamHoc"))
        start, end = dt.date(start_year, 9, 30), dt.date(start_year + 1, 5, 31)
        payload["LoaiDongBo"] = LOAI_DONG_BO
        pupils = [p for p in payload["LstHocSinh"] if isinstance(p, dict)]
        counts = _changes(school_rng, pupils, start, end)
        arrivals = _arrivals(school_rng, pupils, start, end, code)
        payload["LstHocSinh"] = payload["LstHocSinh"] + arrivals
        distinct_names(payload["LstHocSinh"])
        info["TongSoHocSinh"] = len(payload["LstHocSinh"])  # the school software counts its list
        _nutrition_recheck(school_rng, payload["LstHocSinh"], end)
        payload["LstKetQuaHocTap"] = _results(school_rng, payload["LstHocSinh"], end)
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        (inbox / f"{code}_{start_year}_{LOAI_DONG_BO}.json").write_text(text, encoding="utf-8", newline="\n")
        n_schools += 1
        n_learners += len(payload["LstHocSinh"])
        n_in += len(arrivals)
        n_out += counts["out"]
        n_dropouts += counts["dropout"]
        n_results += len(payload["LstKetQuaHocTap"])
    return EndOfYearSummary(n_schools, n_learners, n_in, n_out, n_dropouts, n_results, n_skipped, out,
                            out / "registry.xlsx", inbox)  # fmt: skip


# ---------------------------------------------------------------- the previous school year


@dataclass(frozen=True)
class PreviousYearSummary:
    n_schools: int
    n_learners: int
    n_carried: int  # learners of this year's file placed in last year's classes
    n_repeaters: int  # of them: repeaters now, in the same grade last year with LenLop 2
    n_leavers: int  # synthetic learners who finished the school's last grade (band, programme) last year
    n_dropouts: int  # synthetic learners who dropped out during last year
    n_transfers_out: int  # synthetic learners who transferred out during last year
    n_transfers_in: int  # carried learners who had transferred in during last year
    n_results: int
    n_empty: int  # files without a learner to carry back: not written
    n_skipped: int  # input files that could not be read
    out: Path
    registry: Path
    inbox: Path


PASSING_PRIMARY = tuple(r for r in PRIMARY_RESULTS if r[0] != "CHT")
PASSING_LEARNING = tuple(r for r in LEARNING_RESULTS if r[0] != "4")
PASSING_CONDUCT = tuple(r for r in CONDUCT_RESULTS if r[0] != "4")
FAILED_BY_LEARNING = 0.8  # of secondary repeaters: learning result Chưa đạt (else conduct Chưa đạt)


def _grade_like(grade: int, like: Any) -> Any:
    """A grade code in the style of the school's file (1, "1" or "01")."""
    if isinstance(like, int):
        return grade
    return f"{grade:02d}" if len(str(like)) == 2 else str(grade)


def _forced_result(rng: random.Random, client_id: str, grade: int, promoted: bool) -> dict[str, Any]:
    """An end-of-year result that agrees with a known outcome: promoted (LenLop 1, with completion of
    primary in grade 5 and THCS graduation in grade 9) or repeating (LenLop 2)."""
    if grade <= 5:
        entry = {"ClientId": client_id, "KetQuaHocTap": _pick(rng, PASSING_PRIMARY) if promoted else "CHT"}
    elif promoted:
        learning, conduct = _pick(rng, PASSING_LEARNING), _pick(rng, PASSING_CONDUCT)
        entry = {"ClientId": client_id, "KetQuaHocTap": int(learning), "RenLuyen": int(conduct)}
    elif rng.random() < FAILED_BY_LEARNING:
        entry = {"ClientId": client_id, "KetQuaHocTap": 4, "RenLuyen": int(_pick(rng, CONDUCT_RESULTS))}
    else:
        entry = {"ClientId": client_id, "KetQuaHocTap": int(_pick(rng, LEARNING_RESULTS)), "RenLuyen": 4}
    entry["LenLop"] = 1 if promoted else 2
    if grade == 5:
        entry["HoanThanhChuongTrinh"] = int(promoted)
    if grade == 9:
        entry["TotNghiep"] = int(promoted)
    return entry


def _admission(value: int, like: Any) -> Any:
    """A LoaiNhapHoc code in the style of the school's file (integers or digit strings)."""
    return value if isinstance(like, int) else str(value)


class _GeneralLadder:
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
                if _code(p.get("LoaiNhapHoc")) in ("00", "02", "04"):
                    self.first_entry.setdefault(u, p["LoaiNhapHoc"])

    def unit(self, p: dict[str, Any]) -> Any:
        return _grade(p)

    def class_unit(self, c: dict[str, Any]) -> Any:
        return _grade(c)

    def grade(self, unit: Any) -> int:
        return unit

    def lower(self, unit: Any) -> Any:
        return unit - 1 if unit > 1 else None

    def upper(self, unit: Any) -> Any:
        return unit + 1 if unit < 12 else None

    def previous(self, p: dict[str, Any], unit: Any, units: set) -> tuple[Any, bool] | None:
        """(unit last year, promoted) of a learner now in `unit`, or None if new this year."""
        status, entry = _code(p.get("TrangThai")), _code(p.get("LoaiNhapHoc"))
        if status in ARRIVING or entry in ("00", "01", "02"):
            return None
        if entry == "03":
            return unit, False
        below = self.lower(unit)
        return (below, True) if below in units else None

    def admission(self, unit: Any, like: dict[str, Any]) -> Any:
        """LoaiNhapHoc of a learner in `unit` last year, in the grade for the first time."""
        return self.first_entry.get(unit, _admission(4, like.get("LoaiNhapHoc")))

    def label(self, unit: Any, k: int) -> str:
        return f"{unit}A{k + 1}" if unit >= 10 else f"{unit}{chr(65 + k)}"

    def class_fields(self, unit: Any) -> dict[str, Any]:
        return {}

    def born(self, rng: random.Random, unit: Any, year: int) -> dt.date:
        return _day(rng, dt.date(year - unit - 5, 1, 1), dt.date(year - unit - 5, 12, 31))

    def adjust(self, record: dict[str, Any], unit: Any, model: dict[str, Any]) -> None:
        """Kind-specific fields of a learner record of last year (in place)."""

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        return _forced_result(rng, client_id, unit, promoted)


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


class _GdtxLadder(_GeneralLadder):
    """A GDTX centre's learners by programme (DM_KHOI): lớp 10-12 GDTX (13-15) and lớp 6-9 (20-23),
    lớp 1-5 (24-28) move up one code a year as general pupils move up a grade; literacy (18) and
    post-literacy (19) classes last a year. Those of the THPT programme and of lớp 9 GDTX (23) get a
    TT 22/2021 result (lớp 9 GDTX with TotNghiep)."""

    kind_of_file = "GDTX"

    def unit(self, p: dict[str, Any]) -> Any:
        code = _code(p.get("KhoiHoc"))
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
        return _day(rng, dt.date(year - age, 1, 1), dt.date(year - age, 12, 31))

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        if unit not in GDTX_ASSESSED_CODES:
            return None
        return _forced_result(rng, client_id, 9 if unit == 23 else unit - 3, promoted)


class _PreschoolLadder(_GeneralLadder):
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
        return band if band in MN_BLOCK and _code(c.get("KhoiHoc")) in PRESCHOOL else None

    def _months(self, p: dict[str, Any]) -> int | None:
        """Age in completed months on 30/9 of this year (as entities.sql: from year and month)."""
        born = _date(p.get("NgaySinh"))
        return None if born is None else 12 * (self.start_year - born.year) + 9 - born.month

    def unit(self, p: dict[str, Any]) -> Any:
        if _code(p.get("KhoiHoc")) not in PRESCHOOL:
            return None
        c = self.classes.get(str(p.get("MaLopHocDn")))
        band = self.class_unit(c) if c else None
        if band is None or _code(c.get("LopGhepDoTuoi")) in (None, "00"):
            return band
        months = self._months(p)
        if months is None:
            return band
        if MN_BLOCK[band] == 16:
            own, lowest = ("01" if months <= 12 else "02" if months <= 24 else "03"), "01"
        else:
            age = self.start_year - _date(p.get("NgaySinh")).year
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
        if _code(p.get("TrangThai")) in ARRIVING or str(p.get("IsTuyenMoiMn")) in ("1", "True", "true"):
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
            record["IsHocLopMg5T"] = _flag(unit == "06", like)
        youngest = min(MN_BAND_ORDER.index(b) for b in MN_BAND_ORDER if MN_BLOCK[b] in self.blocks)
        record["IsTuyenMoiMn"] = _flag(MN_BAND_ORDER.index(unit) == youngest, like)
        record.setdefault("KiemTraSucKhoeDinhDuong", _flag(False, like))  # checked at the end of the year

    def result(self, rng: random.Random, client_id: str, unit: Any, promoted: bool) -> dict[str, Any] | None:
        return None


def _ladder(payload: dict[str, Any], start_year: int) -> _GeneralLadder | None:
    """The ladder of the kind of learners the file holds: general grades, else preschool, else GDTX."""
    learners = [p for p in payload["LstHocSinh"] if isinstance(p, dict)]
    if any(_grade(p) is not None for p in learners):
        return _GeneralLadder(payload, start_year)
    if any(_code(p.get("KhoiHoc")) in PRESCHOOL for p in learners):
        return _PreschoolLadder(payload, start_year)
    if any(_code(p.get("KhoiHoc")) in GDTX_CODES for p in learners):
        return _GdtxLadder(payload, start_year)
    return None


def _carry(p: dict[str, Any], unit: Any, ladder: _GeneralLadder) -> dict[str, Any]:
    """This year's learner record as it stood in `unit` last year, studying (TrangThai 01)."""
    q = copy.deepcopy(p)
    for key in ("NgayTrangThai", "MaLyDoThoiHoc"):
        q.pop(key, None)
    q["KhoiHoc"] = _grade_like(ladder.grade(unit), p.get("KhoiHoc"))
    q["TrangThai"] = _status("01", p.get("TrangThai"))
    entry = ladder.admission(unit, p)
    if entry is not None:
        q["LoaiNhapHoc"] = entry
    ladder.adjust(q, unit, p)
    return q


def _previous_school(
    rng: random.Random, payload: dict[str, Any], code: str, year: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int]] | None:
    """Last year's classes, learners and results of one school or centre (school year `year`), or
    None when the file has no learner of a known kind."""
    ladder = _ladder(payload, year + 1)
    if ladder is None:
        return None
    now = [(p, u) for p in payload["LstHocSinh"] if isinstance(p, dict) and (u := ladder.unit(p)) is not None]
    if not now:
        return None
    units = {u for _, u in now}
    sizes = Counter(u for _, u in now)  # this year's learners by unit
    all_classes = [c for c in payload.get("LstLopHocInfo") or [] if isinstance(c, dict)]
    n_classes_now = Counter(ladder.class_unit(c) for c in all_classes)
    templates: dict[Any, dict[str, Any]] = {}
    for c in all_classes:
        templates.setdefault(ladder.class_unit(c), c)
        templates.setdefault(("grade", _code(c.get("KhoiHoc"))), c)
    like = now[0][0]
    start, end = dt.date(year, 9, 30), dt.date(year + 1, 5, 31)

    # (unit last year, record, promoted?, carried?) — promoted None: left during the year (no result).
    rows: list[tuple[Any, dict[str, Any], bool | None, bool]] = []
    counts = dict.fromkeys(
        ("carried", "repeaters", "leavers", "dropouts", "transfers_out", "transfers_in"), 0
    )
    for p, u in now:
        before = ladder.previous(p, u, units) if p.get("ClientId") else None
        if before is None:
            continue  # new this year
        rows.append((before[0], _carry(p, before[0], ladder), before[1], True))
        counts["carried"] += 1
        counts["repeaters"] += not before[1]

    taken = {str(p.get("MaHocSinh")) for p in payload["LstHocSinh"] if isinstance(p, dict)}

    def synthetic(unit: Any) -> dict[str, Any]:
        """A learner of last year who is not in this year's file (finished, left)."""
        gender = 2 if rng.random() < 0.485 else 1
        # The school's code first: unique in the province (this year's codes are 10 digits).
        pid = f"{code}{rng.randrange(10**8):08d}"
        while pid in taken:
            pid = f"{code}{rng.randrange(10**8):08d}"
        taken.add(pid)
        model = rng.choice(now)[0]
        record = {
            "ClientId": _client_id(rng),
            "MaHocSinh": pid,
            "HoTen": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}",
            "MaDanToc": model.get("MaDanToc") or "01",
            "GioiTinh": gender if isinstance(like.get("GioiTinh"), int) else f"{gender:02d}",
            "NgaySinh": _stamp(ladder.born(rng, unit, year)),
            "KhoiHoc": _grade_like(ladder.grade(unit), like.get("KhoiHoc")),
            "TrangThai": _status("01", like.get("TrangThai")),
            "KhuyetTat": _flag(False, like.get("KhuyetTat", 0)),
        }
        entry = ladder.admission(unit, like)
        if entry is not None:
            record["LoaiNhapHoc"] = entry
        ladder.adjust(record, unit, model)
        return record

    # Last year's leavers from the last unit of the school's ladder (top grade, oldest band, the last
    # year of a programme): as many as this year's learners of the unit, all finishing it.
    for u in sorted(units):
        if ladder.upper(u) not in units:
            for _ in range(sizes[u]):
                rows.append((u, synthetic(u), True, False))
                counts["leavers"] += 1
    # Preschools take new children into every band, so fewer children are carried back than a band
    # holds now. The rest of last year's band moved to another school in the summer (enrolled on
    # 31/5, status 11 dated after it), so each band keeps about its size from one year to the next.
    if isinstance(ladder, _PreschoolLadder):
        held = Counter(r[0] for r in rows)
        for u in sorted(units):
            for _ in range(sizes[u] - held[u]):
                record = synthetic(u)
                record["TrangThai"] = _status("11", like.get("TrangThai"))
                record["NgayTrangThai"] = _stamp(
                    _day(rng, end + dt.timedelta(days=5), dt.date(end.year, 8, 15))
                )
                rows.append((u, record, True, False))
    # Transfers out and dropouts during last year (and a few summer leavers): `_changes` draws them,
    # at the rates of `RATES`, among shadows of last year's learners at the start; each one drawn
    # becomes a learner who is not in this year's file.
    shadows = [
        {"KhoiHoc": _grade_like(ladder.grade(u), like.get("KhoiHoc")), "TrangThai": _status("01", like.get("TrangThai"))}
        for u, _, _, _ in rows
    ]  # fmt: skip
    left = _changes(rng, shadows, start, end)
    counts["dropouts"] += left["dropout"]
    counts["transfers_out"] += left["out"]
    for (u, _, _, _), shadow in zip(list(rows), shadows, strict=True):
        if _code(shadow["TrangThai"]) == "01":
            continue
        record = synthetic(u)
        record.update({k: v for k, v in shadow.items() if k != "KhoiHoc"})
        rows.append((u, record, True if enrolled_on(record, end) else None, False))
    # Transfers in during last year: learners of this year's file who arrived in the school last year.
    for _, record, _, carried in rows:
        if carried and rng.random() < RATES[_kind(record)]["in"]:
            record["TrangThai"], record["NgayTrangThai"] = _arrival_status(
                rng, start, end, record["TrangThai"]
            )
            record["LoaiNhapHoc"] = _admission(1, like.get("TrangThai"))
            counts["transfers_in"] += 1

    # Last year's classes: by unit, about as many as this year's classes of the unit.
    classes, pupils, results = [], [], []
    for u in sorted({r[0] for r in rows}):
        members = [r for r in rows if r[0] == u]
        rng.shuffle(members)
        n_now = max(1, n_classes_now.get(u, 1))
        size = max(1, round(sizes.get(u, 1) / n_now))
        n = max(1, min(len(members), round(len(members) / size)))
        template = templates.get(u) or templates.get(("grade", f"{ladder.grade(u):02d}")) or all_classes[0]
        for k in range(n):
            label = ladder.label(u, k)
            c = copy.deepcopy(template)
            c["ClientId"] = _client_id(rng)
            c["MaLopHoc"] = f"{code}-{label}"
            c["TenLopHoc"] = label
            c["KhoiHoc"] = _grade_like(ladder.grade(u), template.get("KhoiHoc"))
            c["LopGhep"] = _flag(False, c.get("LopGhep", 0))
            c.pop("MaLopGhep", None)
            c.update(ladder.class_fields(u))
            classes.append(c)
            for _, p, promoted, _ in members[k::n]:
                p["MaLopHocDn"] = c["MaLopHoc"]
                pupils.append(p)
                entry = ladder.result(rng, p["ClientId"], u, promoted) if promoted is not None else None
                if entry is not None:
                    results.append(entry)
    if isinstance(ladder, _PreschoolLadder):
        _nutrition_recheck(rng, pupils, end)
    return classes, pupils, results, counts


def generate_previous_year(dn_dir: Path, out: Path, seed: int) -> PreviousYearSummary:
    """The previous school year's end of year (CN) of a generated start-of-year province.

    From dn_dir's payloads of school year t (NamHoc t), write out/registry.xlsx (a copy) and
    out/inbox/<MaTruongHoc>_<t-1>_2.json: school year t-1 as it stood on 31/5/t, consistent as
    cohorts with year t, for general schools, preschools and GDTX centres alike (`_GeneralLadder`,
    `_PreschoolLadder`, `_GdtxLadder`). A learner now in grade g who is neither a repeater
    (LoaiNhapHoc 3) nor new (a new entrant at the first grade of a level, LoaiNhapHoc 0/2, or
    transferred in) was in grade g-1 of the same school and promoted (LenLop 1; completed primary
    in grade 5, graduated THCS in grade 9); a repeater now was in the same grade, not promoted
    (LenLop 2). A GDTX learner moves up one programme code (lớp 10 → 11 GDTX …); a preschool child
    one age band (see `_PreschoolLadder`). Last year's leavers are added as new records (same
    ClientId/MaHocSinh for carried learners, new ones for the others): as many learners of the
    ladder's last unit as it has now, all finishing it; transfers out, dropouts and summer leavers
    during the year (`_changes`, dated, with a dropout reason); and some carried learners had
    transferred in during the year (02/06, dated, LoaiNhapHoc 1). Preschool children get an
    end-of-year nutrition check; classes are rebuilt by unit from this year's ones; staff, sites
    and rooms are copied unchanged. Deterministic for a seed; this year's files are not touched.
    """
    dn_dir, out = Path(dn_dir), Path(out)
    inbox = _prepare_output(dn_dir, out, "previous-year")
    rng = random.Random(seed)
    totals = {"schools": 0, "learners": 0, "results": 0, "empty": 0, "skipped": 0}
    counts = dict.fromkeys(
        ("carried", "repeaters", "leavers", "dropouts", "transfers_out", "transfers_in"), 0
    )
    for path in sorted(p for p in (dn_dir / "inbox").glob("*.json") if p.is_file()):
        school_rng = random.Random(rng.getrandbits(64))
        source = _read(path)
        if source is None:
            totals["skipped"] += 1
            continue
        info = source.get("TruongHocInfo") if isinstance(source.get("TruongHocInfo"), dict) else {}
        code = str(source.get("MaTruongHoc") or info.get("MaTruongHoc"))
        year = int(source.get("NamHoc") or info.get("NamHoc")) - 1
        built = _previous_school(school_rng, source, code, year)
        if built is None:
            totals["empty"] += 1
            continue
        classes, pupils, results, school_counts = built
        payload = copy.deepcopy(source)
        payload["NamHoc"] = year
        payload["LoaiDongBo"] = LOAI_DONG_BO
        if isinstance(payload.get("TruongHocInfo"), dict):
            payload["TruongHocInfo"]["NamHoc"] = year
            payload["TruongHocInfo"]["TongSoHocSinh"] = len(pupils)
            payload["TruongHocInfo"]["TongSoLopHoc"] = len(classes)
        payload["LstLopHocInfo"] = classes
        distinct_names(pupils)
        payload["LstHocSinh"] = pupils
        payload["LstKetQuaHocTap"] = results
        text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
        (inbox / f"{code}_{year}_{LOAI_DONG_BO}.json").write_text(text, encoding="utf-8", newline="\n")
        totals["schools"] += 1
        totals["learners"] += len(pupils)
        totals["results"] += len(results)
        for k, v in school_counts.items():
            counts[k] += v
    return PreviousYearSummary(totals["schools"], totals["learners"], counts["carried"], counts["repeaters"],
                               counts["leavers"], counts["dropouts"], counts["transfers_out"],
                               counts["transfers_in"], totals["results"], totals["empty"], totals["skipped"],
                               out, out / "registry.xlsx", inbox)  # fmt: skip


# ---------------------------------------------------------------- the previous year's start


@dataclass(frozen=True)
class PreviousStartSummary:
    n_schools: int
    n_learners: int  # enrolled on 30/9 of the previous year
    n_arrivals_dropped: int  # transferred in after 30/9: not yet in the school at the start
    n_leavers_restored: int  # left after 30/9: still studying at the start
    out: Path
    registry: Path
    inbox: Path
    population: Path | None


def rewind_to_start(payload: dict[str, Any]) -> tuple[dict[str, Any], int, int]:
    """A previous-year end-of-year payload (LoaiDongBo 2) as its school would have sent it at the
    start of that year (LoaiDongBo 1, data as of 30/9): learners who arrived after 30/9 are not in
    it yet, those who left after 30/9 were still studying (TrangThai 01, no date or reason), and
    there are no results. Returns (payload, arrivals dropped, leavers restored)."""
    q = copy.deepcopy(payload)
    info = q.get("TruongHocInfo") if isinstance(q.get("TruongHocInfo"), dict) else {}
    start = dt.date(int(q.get("NamHoc") or info.get("NamHoc")), 9, 30)
    pupils, dropped, restored = [], 0, 0
    for p in q["LstHocSinh"]:
        if not isinstance(p, dict):
            pupils.append(p)
            continue
        status, day = _code(p.get("TrangThai")), _date(p.get("NgayTrangThai"))
        if day is not None and day > start and status in ARRIVING:
            dropped += 1
            continue
        if day is not None and day > start and status in LEAVING:
            for key in ("NgayTrangThai", "MaLyDoThoiHoc"):
                p.pop(key, None)
            p["TrangThai"] = _status("01", p.get("TrangThai"))
            restored += 1
        pupils.append(p)
    q["LstHocSinh"] = pupils
    q.pop("LstKetQuaHocTap", None)
    q["LoaiDongBo"] = 1
    if info:
        info["TongSoHocSinh"] = len(pupils)
    return q, dropped, restored


def previous_population(path: Path, out: Path) -> Path:
    """population.csv one calendar year earlier with the same sizes by unit, age and sex. The
    synthetic population is drawn band by band (generate._write_population), so moving cohorts one
    age down would carry the jumps between bands into the enrolment rates; a stable population keeps
    last year's rates driven by last year's pupils."""
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    with out.open("w", encoding="utf-8", newline="") as fh:
        fh.write("level,unit_code,year,age,sex,population\n")
        for r in rows:
            fh.write(
                f"{r['level']},{r['unit_code']},{int(r['year']) - 1},{r['age']},{r['sex']},{r['population']}\n"
            )
    return out


def generate_previous_start(dn_dir: Path, out: Path, seed: int) -> PreviousStartSummary:
    """The previous school year's start of year (DN) of a generated start-of-year province.

    Like-for-like with this year's DN (same forms, same 30/9 reference date, the indicators are
    defined on the DN forms): `generate_province` with the previous school year and the same seed
    would give the same schools but the same learners too (only the dates shift), so every change
    would be zero. Instead, last year's end of year is built cohort by cohort
    (`generate_previous_year`: this year's pupils one grade lower, last year's leavers, repeaters,
    transfers) and wound back to 30/9 (`rewind_to_start`). Writes out/registry.xlsx (a copy),
    out/inbox/<MaTruongHoc>_<t-1>_1.json and, when dn_dir has one, out/population.csv one year
    earlier (`previous_population`). Deterministic for a seed; this year's files are not touched."""
    import tempfile

    dn_dir, out = Path(dn_dir), Path(out)
    inbox = _prepare_output(dn_dir, out, "previous-year")
    with tempfile.TemporaryDirectory(prefix="edustat-cn-") as tmp:
        end = generate_previous_year(dn_dir, Path(tmp), seed)
        n_schools = n_learners = n_dropped = n_restored = 0
        for path in sorted(end.inbox.glob("*.json")):
            payload, dropped, restored = rewind_to_start(json.loads(path.read_text(encoding="utf-8")))
            name = path.name.removesuffix(f"_{LOAI_DONG_BO}.json") + "_1.json"
            text = json.dumps(payload, ensure_ascii=False, sort_keys=False)
            (inbox / name).write_text(text, encoding="utf-8", newline="\n")
            n_schools += 1
            n_learners += len(payload["LstHocSinh"])
            n_dropped += dropped
            n_restored += restored
    population = None
    if (dn_dir / "population.csv").is_file():
        population = previous_population(dn_dir / "population.csv", out / "population.csv")
    return PreviousStartSummary(n_schools, n_learners, n_dropped, n_restored, out, out / "registry.xlsx",
                                inbox, population)  # fmt: skip
