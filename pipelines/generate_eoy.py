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
import datetime as dt
import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _arrivals(
    rng: random.Random, pupils: list[dict[str, Any]], start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """New pupils transferred in during the year, each into the class of a pupil of its grade."""
    semester_2 = dt.date(end.year, 1, 16)
    taken = {str(p.get("MaHocSinh")) for p in pupils}
    province = next((str(p["MaHocSinh"])[:2] for p in pupils if p.get("MaHocSinh")), "00")
    new = []
    for p in list(pupils):
        kind = _kind(p)
        if kind is None or _code(p.get("TrangThai")) != "01" or rng.random() >= RATES[kind]["in"]:
            continue
        gender = 2 if rng.random() < 0.485 else 1
        code = f"{province}{rng.randrange(10**8):08d}"
        while code in taken:
            code = f"{province}{rng.randrange(10**8):08d}"
        taken.add(code)
        day = _day(rng, start + dt.timedelta(days=1), end)
        status = "02" if day < semester_2 else "06"
        like = p.get("TrangThai")
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
            "TrangThai": _status(status, like),
            "NgayTrangThai": _stamp(day),
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
        arrivals = _arrivals(school_rng, pupils, start, end)
        payload["LstHocSinh"] = payload["LstHocSinh"] + arrivals
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
    n_carried: int  # pupils of this year's file placed in last year's classes
    n_repeaters: int  # of them: repeaters now, in the same grade last year with LenLop 2
    n_leavers: int  # synthetic pupils who completed the school's top grade last year
    n_dropouts: int  # synthetic pupils who dropped out during last year
    n_results: int
    n_not_general: int  # preschool and GDTX files: not written (no previous year for them)
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


def _previous_school(
    rng: random.Random, payload: dict[str, Any], code: str, year: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, int]] | None:
    """Last year's classes, pupils and results of one general-education school (school year `year`),
    or None when the file has no pupil of grades 1-12 (preschool, GDTX)."""
    now = [p for p in payload["LstHocSinh"] if isinstance(p, dict) and _grade(p) is not None]
    if not now:
        return None
    grades_now = {_grade(p) for p in now}
    top = max(grades_now)
    templates: dict[int, dict[str, Any]] = {}
    for c in payload.get("LstLopHocInfo") or []:
        g = _grade(c) if isinstance(c, dict) else None
        if g is not None and g not in templates:
            templates[g] = c
    sizes: dict[int, int] = {}  # this year's pupils by grade
    for p in now:
        sizes[_grade(p)] = sizes.get(_grade(p), 0) + 1
    n_classes_now = {g: sum(1 for c in payload.get("LstLopHocInfo") or [] if isinstance(c, dict) and _grade(c) == g)
                     for g in grades_now}  # fmt: skip
    # The admission type of a first-time pupil of each grade, as the school writes it (0/2/4).
    admission: dict[int, Any] = {}
    for p in now:
        if _code(p.get("LoaiNhapHoc")) in ("00", "02", "04"):
            admission.setdefault(_grade(p), p["LoaiNhapHoc"])
    like = now[0]
    start, end = dt.date(year, 9, 30), dt.date(year + 1, 5, 31)

    def clean(p: dict[str, Any], grade: int, first_time: bool) -> dict[str, Any]:
        q = copy.deepcopy(p)
        for key in ("NgayTrangThai", "MaLyDoThoiHoc"):
            q.pop(key, None)
        q["KhoiHoc"] = _grade_like(grade, p.get("KhoiHoc"))
        q["TrangThai"] = _status("01", p.get("TrangThai"))
        entry_type = admission.get(grade, 4 if isinstance(p.get("LoaiNhapHoc"), int) else "4")
        q["LoaiNhapHoc"] = entry_type if first_time else (3 if isinstance(p.get("LoaiNhapHoc"), int) else "3")
        return q

    # (grade last year, record, promoted?) — promoted None: no result (left during the year).
    rows: list[tuple[int, dict[str, Any], bool | None]] = []
    counts = {"carried": 0, "repeaters": 0, "leavers": 0, "dropouts": 0}
    for p in now:
        g, entry, status = _grade(p), _code(p.get("LoaiNhapHoc")), _code(p.get("TrangThai"))
        if status in ARRIVING or entry in ("00", "01", "02") or not p.get("ClientId"):
            continue  # new this year: transferred in, or a new entrant at the first grade of a level
        if entry == "03":  # a repeater now: same grade last year, not promoted
            rows.append((g, clean(p, g, True), False))
            counts["repeaters"] += 1
        elif g - 1 in grades_now:
            rows.append((g - 1, clean(p, g - 1, True), True))
        else:
            continue
        counts["carried"] += 1

    taken = {str(p.get("MaHocSinh")) for p in payload["LstHocSinh"] if isinstance(p, dict)}
    province = code[:2]

    def synthetic(grade: int) -> dict[str, Any]:
        gender = 2 if rng.random() < 0.485 else 1
        pid = f"{province}{rng.randrange(10**8):08d}"
        while pid in taken:
            pid = f"{province}{rng.randrange(10**8):08d}"
        taken.add(pid)
        model = rng.choice(now)
        born = _day(rng, dt.date(year - grade - 5, 1, 1), dt.date(year - grade - 5, 12, 31))
        return {
            "ClientId": _client_id(rng),
            "MaHocSinh": pid,
            "HoTen": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[gender])} {rng.choice(GIVEN[gender])}",
            "MaDanToc": model.get("MaDanToc") or "01",
            "GioiTinh": gender if isinstance(like.get("GioiTinh"), int) else f"{gender:02d}",
            "NgaySinh": _stamp(born),
            "KhoiHoc": _grade_like(grade, like.get("KhoiHoc")),
            "TrangThai": _status("01", like.get("TrangThai")),
            "LoaiNhapHoc": admission.get(grade, 4 if isinstance(like.get("LoaiNhapHoc"), int) else "4"),
            "KhuyetTat": _flag(False, like.get("KhuyetTat", 0)),
        }

    # Last year's leavers from the top grade: as many as this year's top-grade pupils, all completed.
    for _ in range(sizes[top]):
        rows.append((top, synthetic(top), True))
        counts["leavers"] += 1
    # A few dropouts during last year, at the level's rate.
    by_grade: dict[int, int] = {}
    for g, _, _ in rows:
        by_grade[g] = by_grade.get(g, 0) + 1
    semester_2 = dt.date(year + 1, 1, 16)
    for g in sorted(by_grade):
        for _ in range(by_grade[g]):
            if rng.random() >= RATES[_level(g)]["dropout"]:
                continue
            p = synthetic(g)
            day = _day(rng, start + dt.timedelta(days=1), end)
            p["TrangThai"] = _status("05" if day < semester_2 else "09", like.get("TrangThai"))
            p["NgayTrangThai"] = _stamp(day)
            p["MaLyDoThoiHoc"] = _pick(rng, DROPOUT_REASONS)
            rows.append((g, p, None))
            counts["dropouts"] += 1

    # Last year's classes: by grade, about as many as this year's classes of the grade.
    classes, pupils, results = [], [], []
    for g in sorted({r[0] for r in rows}):
        members = [r for r in rows if r[0] == g]
        rng.shuffle(members)
        n_now = max(1, n_classes_now.get(g, 1))
        size = max(1, round(sizes.get(g, 1) / n_now))
        n = max(1, min(len(members), round(len(members) / size)))
        for k in range(n):
            label = f"{g}A{k + 1}" if g >= 10 else f"{g}{chr(65 + k)}"
            c = copy.deepcopy(templates[g])
            c["ClientId"] = _client_id(rng)
            c["MaLopHoc"] = f"{code}-{label}"
            c["TenLopHoc"] = label
            c["LopGhep"] = _flag(False, c.get("LopGhep", 0))
            c.pop("MaLopGhep", None)
            classes.append(c)
            for _, p, promoted in members[k::n]:
                p["MaLopHocDn"] = c["MaLopHoc"]
                pupils.append(p)
                if promoted is not None:
                    results.append(_forced_result(rng, p["ClientId"], g, promoted))
    return classes, pupils, results, counts


def generate_previous_year(dn_dir: Path, out: Path, seed: int) -> PreviousYearSummary:
    """The previous school year's end of year (CN) of a generated start-of-year province.

    From dn_dir's payloads of school year t (NamHoc t), write out/registry.xlsx (a copy) and
    out/inbox/<MaTruongHoc>_<t-1>_2.json: school year t-1 as it stood on 31/5/t, consistent as
    cohorts with year t. A pupil now in grade g who is neither a repeater (LoaiNhapHoc 3) nor new
    (a new entrant at the first grade of a level, LoaiNhapHoc 0/2, or transferred in) was in grade
    g-1 of the same school and promoted (LenLop 1; completed primary in grade 5, graduated THCS in
    grade 9); a repeater now was in the same grade, not promoted (LenLop 2). Last year's leavers are
    added as new records (same ClientId/MaHocSinh for carried pupils, new ones for the others): as
    many pupils of the school's top grade as it has now, all completing it, and a few dropouts
    during the year at the rates of `RATES`. Classes are rebuilt by grade from this year's ones.
    Preschool and GDTX files are not written (counted in n_not_general); staff, sites and rooms are
    copied unchanged. Deterministic for a seed.
    """
    dn_dir, out = Path(dn_dir), Path(out)
    inbox = _prepare_output(dn_dir, out, "previous-year")
    rng = random.Random(seed)
    totals = {"schools": 0, "learners": 0, "results": 0, "not_general": 0, "skipped": 0}
    counts = {"carried": 0, "repeaters": 0, "leavers": 0, "dropouts": 0}
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
            totals["not_general"] += 1
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
                               counts["leavers"], counts["dropouts"], totals["results"], totals["not_general"],
                               totals["skipped"], out, out / "registry.xlsx", inbox)  # fmt: skip
