"""The school registry: the national database's school-import template (docs/input-contract.md).

Real registries are messy: numbers arrive as floats, codes lose leading zeros, rows lack ID_PHONG,
schools appear twice, test schools are mixed in. Each such row gets a defined outcome and a problem
line, never a silent drop. Each school is placed on both boundary versions (catalog.hierarchy).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl

from pipelines import settings
from pipelines.catalog import hierarchy

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


class RegistryError(ValueError):
    """The registry file cannot be read at all (the run cannot place any school)."""


@dataclass(frozen=True)
class RegisteredSchool:
    school_code: str
    name: str
    levels: str  # CAP_HOC digits, e.g. "12"
    so_code: str  # ID_SO as the registry gives it (a code of the boundaries in force then)
    phong_code: str | None  # None: reports straight to the Sở (on the 2024 boundaries)
    district_code: str | None
    excel_row: int
    old_so: str | None = None  # the Sở (old province) on the 2024 boundaries; None: unknown
    new_so: str | None = None  # the Sở (new province) on the 2025 boundaries; None: unknown
    # MA_XA_PHUONG (5 digits): a commune of the boundaries in force on the run's date, like ID_SO
    # (ingest/places.py places the school in its 2025 commune); None: not given.
    commune_code: str | None = None

    def parent(self, boundaries: str) -> tuple[str, str] | None:
        """(level, code) of the unit the school reports to on a boundary version; None: unknown."""
        if boundaries == "2025":
            return ("so", self.new_so) if self.new_so else None
        if self.phong_code:
            return ("phong", self.phong_code)
        return ("so", self.old_so) if self.old_so else None


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
    boundaries: str = "2024"  # the version its ID_SO codes belong to (in force on the run's date)


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


def _old_so(new_so: str, phong: str | None, province: str | None) -> str | None:
    """The old Sở of a school registered on the 2025 boundaries: its Phòng's Sở, else its old
    province code (MA_TINH_THANH), else the only old province the new one absorbed."""
    units = hierarchy.units("2024")
    if phong and ("phong", phong) in units:
        return units[("phong", phong)]["parent_code"]
    if province and hierarchy.new_province(province) == new_so:
        return hierarchy.old_so_unit(province)
    olds = [old for old, new in hierarchy.province_crosswalk().items() if new == new_so]
    return hierarchy.old_so_unit(olds[0]) if len(olds) == 1 else None


def read_registry(path: Path, as_of: date | None = None) -> Registry:
    """Read the school-import template and decide each school's place in the hierarchy.

    ID_SO is read as a code of the boundaries in force on as_of (default: before 2025): an old
    Sở before 1/7/2025, a new province after. ID_PHONG places a school on the 2024 boundaries.
    """
    era = settings.boundaries_on(as_of) if as_of else "2024"
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
    units = hierarchy.units()
    sos = hierarchy.units(era)
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
        if so is None or ("so", so) not in sos:
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
        # On the 2025 boundaries ID_SO is a new province: the Phòng's old Sở must merge into it.
        old_so = so if era == "2024" else _old_so(so, phong, get("MA_TINH_THANH", 2))
        phong_so = units.get(("phong", phong or ""), {}).get("parent_code")
        if era == "2024":
            phong_ok = phong is not None and phong_so == old_so
        else:  # the Phòng's old Sở must have merged into the new province
            phong_ok = phong is not None and hierarchy.new_province(phong_so) == so
        if phong is not None and not phong_ok:
            problem(excel_row, code, "placed_under_so",
                    f"Mã Phòng (ID_PHONG) {phong} không thuộc Sở {so}; trường báo cáo thẳng lên Sở",
                    f"ID_PHONG {phong} is not a Phòng of Sở {so}; the school reports straight to the Sở")  # fmt: skip
            phong = None
        elif phong is None and levels and set(levels) <= PHONG_LEVEL_DIGITS:
            guess = str(int(district)) if district and district.isdigit() else None
            if guess and old_so and units.get(("phong", guess), {}).get("parent_code") == old_so:
                phong = guess
                problem(excel_row, code, "placed_by_district",
                        f"Thiếu ID_PHONG; xếp vào Phòng {guess} theo mã quận/huyện {district}",
                        f"ID_PHONG missing; placed in Phòng {guess} by district code {district}")  # fmt: skip
            else:
                problem(excel_row, code, "placed_under_so",
                        "Thiếu ID_PHONG và không suy ra được Phòng; trường báo cáo thẳng lên Sở",
                        "ID_PHONG missing and no Phòng found for its district; the school reports to the Sở")  # fmt: skip
        if phong and era == "2025":
            old_so = units[("phong", phong)]["parent_code"]
        new_so = hierarchy.new_province(old_so) if era == "2024" else so
        if era == "2025" and old_so is None:
            problem(excel_row, code, "unplaced_2024",
                    f"Không xác định được Sở (tỉnh cũ) trước 1/7/2025 của trường: thiếu ID_PHONG và tỉnh {so} "
                    "gộp từ nhiều tỉnh cũ; trường không có trên địa giới 2024",
                    f"The school's Sở before 1/7/2025 is unknown (no ID_PHONG, and province {so} merged several "
                    "old ones): it has no place on the 2024 boundaries")  # fmt: skip
        schools[code] = RegisteredSchool(
            code, name, levels, so, phong, district, excel_row, old_so, new_so, get("MA_XA_PHUONG", 5)
        )
    wb.close()
    if not so_codes:
        raise RegistryError(f"Danh sách trường {path} không có trường hợp lệ / registry has no usable school")
    so_code = max(so_codes, key=lambda k: so_codes[k])
    return Registry(schools=schools, problems=tuple(problems), so_code=so_code, boundaries=era)
