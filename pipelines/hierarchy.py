"""The school registry and the unit tree School → Phòng GDĐT → Sở GDĐT → Bộ.

The registry is the national database's school-import template (see docs/input-contract.md).
Real registries are messy: numbers arrive as floats, codes lose leading zeros, rows lack
ID_PHONG, schools appear twice, test schools are mixed in. Each such row gets a defined outcome
and a problem line, never a silent drop.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl

from pipelines import catalog, warehouse

REGISTRY_COLUMNS = (
    "MA_TRUONG", "TEN_TRUONG_HOC", "MA_DON_VI", "CAP_HOC", "TRANG_THAI", "LOAI_HINH_DAO_TAO",
    "LOAI_HINH_TRUONG", "DIA_CHI", "MA_TO_THON", "MA_XA_PHUONG", "MA_QUAN_HUYEN", "MA_TINH_THANH",
    "CHUAN_QUOC_GIA", "VUNG_KHO_KHAN", "VUNG_BIEN_GIOI", "CHI_BO_DANG", "WEBSITE", "SDT", "EMAIL",
    "FAX", "NGAY_THANH_LAP", "TEN_HIEU_TRUONG", "SDT_HIEU_TRUONG", "ID_SO", "ID_PHONG",
)  # fmt: skip
HEADER_ROW = 4
FIRST_DATA_ROW = 5
# CAP_HOC digits a Phòng manages before 1/7/2025: nhà trẻ, mẫu giáo, TH, THCS (reference README).
PHONG_LEVEL_DIGITS = set("1245")
MINISTRY_VI = "Bộ Giáo dục và Đào tạo"


class RegistryError(ValueError):
    """The registry file cannot be read at all (the run cannot place any school)."""


@dataclass(frozen=True)
class RegisteredSchool:
    school_code: str
    name: str
    levels: str  # CAP_HOC digits, e.g. "12"
    so_code: str
    phong_code: str | None  # None: reports straight to the Sở
    district_code: str | None
    excel_row: int


@dataclass(frozen=True)
class RegistryProblem:
    excel_row: int
    school_code: str | None
    outcome: str  # skipped | placed_by_district | placed_under_so | duplicate_ignored
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class Registry:
    schools: dict[str, RegisteredSchool]
    problems: tuple[RegistryProblem, ...]
    so_code: str


def clean_code(value: object, width: int = 0) -> str | None:
    """Registry cell → code string: 643.0 → "643"; restores leading zeros up to width."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if not text:
        return None
    if width and text.isdigit() and len(text) < width:
        text = text.zfill(width)
    return text


def _header_key(value: object) -> str:
    # Headers may carry a trailing " *" (required marker) or stray spaces.
    return re.sub(r"[\s*]+", "", str(value or "")).upper()


def _units() -> dict[tuple[str, str], dict[str, str]]:
    """(type, code) → unit row; codes are unique only within a type (19 = a Sở and a Phòng)."""
    units: dict[tuple[str, str], dict[str, str]] = {}
    for row in catalog.codelist("education_units_pre2025").rows:
        if row["name_vi"].startswith("Sở"):
            units[("so", row["code"])] = row
        elif row["name_vi"].startswith("Phòng"):
            units[("phong", row["code"])] = row
    return units


def unit_name(level: str, code: str) -> str:
    """Printed name of a Sở or Phòng ("Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk")."""
    if level == "bo":
        return MINISTRY_VI
    row = _units().get((level, code))
    return row["name_vi"] if row else f"{'Sở' if level == 'so' else 'Phòng'} GDĐT mã {code}"


def read_registry(path: Path) -> Registry:
    """Read the school-import template and decide each school's place in the hierarchy."""
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same failure for the user
        raise RegistryError(f"Không đọc được danh sách trường {path}: {exc} / cannot read registry") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(min_row=HEADER_ROW, values_only=True)
    header = [_header_key(h) for h in next(rows, ())]
    missing = [c for c in ("MA_TRUONG", "CAP_HOC", "ID_SO", "ID_PHONG") if c not in header]
    if missing:
        raise RegistryError(
            f"Danh sách trường thiếu cột {missing} ở dòng {HEADER_ROW} / registry lacks columns {missing} in row {HEADER_ROW}"
        )
    col = {name: header.index(name) for name in REGISTRY_COLUMNS if name in header}
    units = _units()
    schools: dict[str, RegisteredSchool] = {}
    problems: list[RegistryProblem] = []
    so_codes: dict[str, int] = {}

    def problem(excel_row: int, code: str | None, outcome: str, vi: str, en: str) -> None:
        problems.append(RegistryProblem(excel_row, code, outcome, vi, en))

    for excel_row, values in enumerate(rows, start=FIRST_DATA_ROW):

        def get(name: str, width: int = 0, values: tuple = values) -> str | None:
            i = col.get(name)
            return clean_code(values[i], width) if i is not None and i < len(values) else None

        code = get("MA_TRUONG")
        name = get("TEN_TRUONG_HOC") or ""
        if code is None:
            if any(v not in (None, "") for v in values):
                problem(
                    excel_row,
                    None,
                    "skipped",
                    "Dòng không có mã trường, bỏ qua",
                    "Row without a school code, skipped",
                )
            continue
        if re.search(r"TEST|THỬ", f"{code} {name}".upper()):
            problem(excel_row, code, "skipped", "Trường thử nghiệm, bỏ qua", "Test school, skipped")
            continue
        if code in schools:
            problem(excel_row, code, "duplicate_ignored",
                    f"Trường bị lặp; dùng dòng {schools[code].excel_row}",
                    f"School listed twice; row {schools[code].excel_row} is used")  # fmt: skip
            continue
        status = get("TRANG_THAI")
        if status not in (None, "1"):
            problem(excel_row, code, "skipped", f"Trạng thái trường {status}: không hoạt động, bỏ qua",
                    f"School status {status}: not active, skipped")  # fmt: skip
            continue
        so = get("ID_SO")
        if so is None or ("so", so) not in units:
            problem(
                excel_row,
                code,
                "skipped",
                f"Mã Sở (ID_SO) không hợp lệ: {so}",
                f"Unknown Sở code (ID_SO): {so}",
            )
            continue
        so_codes[so] = so_codes.get(so, 0) + 1
        levels = get("CAP_HOC") or ""
        district = get("MA_QUAN_HUYEN", 3)
        phong = get("ID_PHONG")
        phong_ok = phong is not None and units.get(("phong", phong), {}).get("parent_code") == so
        if phong is not None and not phong_ok:
            problem(excel_row, code, "placed_under_so",
                    f"Mã Phòng (ID_PHONG) {phong} không thuộc Sở {so}; trường báo cáo thẳng lên Sở",
                    f"ID_PHONG {phong} is not a Phòng of Sở {so}; the school reports straight to the Sở")  # fmt: skip
            phong = None
        elif phong is None and levels and set(levels) <= PHONG_LEVEL_DIGITS:
            guess = str(int(district)) if district and district.isdigit() else None
            if guess and units.get(("phong", guess), {}).get("parent_code") == so:
                phong = guess
                problem(excel_row, code, "placed_by_district",
                        f"Thiếu ID_PHONG; xếp vào Phòng {guess} theo mã quận/huyện {district}",
                        f"ID_PHONG missing; placed in Phòng {guess} by district code {district}")  # fmt: skip
            else:
                problem(excel_row, code, "placed_under_so",
                        "Thiếu ID_PHONG và không suy ra được Phòng; trường báo cáo thẳng lên Sở",
                        "ID_PHONG missing and no Phòng found for its district; the school reports to the Sở")  # fmt: skip
        schools[code] = RegisteredSchool(code, name, levels, so, phong, district, excel_row)
    wb.close()
    if not so_codes:
        raise RegistryError(f"Danh sách trường {path} không có trường hợp lệ / registry has no usable school")
    so_code = max(so_codes, key=lambda k: so_codes[k])
    return Registry(schools=schools, problems=tuple(problems), so_code=so_code)


def load_units(con: duckdb.DuckDBPyConnection, registry: Registry) -> None:
    """Write the unit tree used by this run: one row per school, Phòng, Sở and the ministry."""
    rows = [("bo", "BO", MINISTRY_VI, None, None)]
    rows.append(("so", registry.so_code, unit_name("so", registry.so_code), "bo", "BO"))
    phongs = sorted({s.phong_code for s in registry.schools.values() if s.phong_code})
    rows += [("phong", p, unit_name("phong", p), "so", registry.so_code) for p in phongs]
    for s in registry.schools.values():
        parent = ("phong", s.phong_code) if s.phong_code else ("so", s.so_code)
        rows.append(("school", s.school_code, s.name, *parent))
    con.execute(
        "CREATE OR REPLACE TABLE units (level VARCHAR, unit_code VARCHAR, name_vi VARCHAR, "
        "parent_level VARCHAR, parent_code VARCHAR)"
    )
    warehouse.insert_rows(con, "units", rows)
    con.execute(
        "CREATE OR REPLACE TABLE registry_problems (excel_row INTEGER, school_code VARCHAR, "
        "outcome VARCHAR, message_vi VARCHAR, message_en VARCHAR)"
    )
    warehouse.insert_rows(
        con,
        "registry_problems",
        [(p.excel_row, p.school_code, p.outcome, p.message_vi, p.message_en) for p in registry.problems],
    )
