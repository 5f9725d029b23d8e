"""The school registry: the national database's school-import template (docs/input-contract.md).

Read with python-calamine, which reads the cells actually present (real exports carry a stale
declared dimension, which made openpyxl's read-only mode drop rows) and reads .xls too. The sheet:
the first visible sheet whose header row (searched in rows 1-10, merged header cells included)
names MA_TRUONG; the required columns (REQUIRED) must all be there, else the run stops naming the
missing ones. Real registries are messy: numbers arrive as floats, codes lose leading zeros, rows
lack ID_PHONG, schools appear twice, test schools are mixed in. Every row below the header gets
exactly one outcome in the input ledger (`Registry.rows`):

- counted: an active school placed in the hierarchy (or placed under its Sở, with why);
- not_expected: a school not active (TRANG_THAI other than 1), a test school (TEST or THỬ in its
  code or name), a school of another province (its ID_SO is not the registry's Sở: both named);
- rejected: a row without a school code, with an unknown ID_SO, with a text longer than the limit,
  or a second row of a code already listed (the rule: the first row of a code that is usable wins,
  by row number; the later row is rejected naming it, so both rows are in the ledger);
- not_read: an empty row between listed rows.

Files of not-expected schools are listed as not expected too (inbox.py). Each school is placed on
both boundary versions (catalog.hierarchy). Limits: file size, decompressed size and compression
ratio of the .xlsx (checked before it is opened), rows (limits.py).
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import python_calamine

from pipelines import settings
from pipelines.catalog import hierarchy
from pipelines.ingest.limits import Limits, from_environment, over
from pipelines.ingest.walk import RATIO_FLOOR

REGISTRY_COLUMNS = (
    "MA_TRUONG", "TEN_TRUONG_HOC", "MA_DON_VI", "CAP_HOC", "TRANG_THAI", "LOAI_HINH_DAO_TAO",
    "LOAI_HINH_TRUONG", "DIA_CHI", "MA_TO_THON", "MA_XA_PHUONG", "MA_QUAN_HUYEN", "MA_TINH_THANH",
    "CHUAN_QUOC_GIA", "VUNG_KHO_KHAN", "VUNG_BIEN_GIOI", "CHI_BO_DANG", "WEBSITE", "SDT", "EMAIL",
    "FAX", "NGAY_THANH_LAP", "TEN_HIEU_TRUONG", "SDT_HIEU_TRUONG", "ID_SO", "ID_PHONG",
)  # fmt: skip
HEADER_ROW = 4  # the template's header row (the reader finds it in rows 1-10)
FIRST_DATA_ROW = 5
HEADER_SEARCH = 10
# The columns without which no row can be judged: the school, its levels, whether it is active, its
# Sở and Phòng, and its name (printed on every workbook).
REQUIRED = ("MA_TRUONG", "TEN_TRUONG_HOC", "CAP_HOC", "TRANG_THAI", "ID_SO", "ID_PHONG")
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
class RegistryRow:
    """One row's outcome in the input ledger (ledger.py)."""

    excel_row: int
    school_code: str | None
    outcome: str  # counted | not_expected | rejected | not_read
    reason: str | None
    message_vi: str | None
    message_en: str | None


@dataclass(frozen=True)
class Registry:
    schools: dict[str, RegisteredSchool]
    problems: tuple[RegistryProblem, ...]
    so_code: str
    boundaries: str = "2024"  # the version its ID_SO codes belong to (in force on the run's date)
    rows: tuple[RegistryRow, ...] = ()
    source: str = "registry.xlsx"  # the file's name (the ledger's source of its rows)


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


def _check_file(path: Path, limits: Limits) -> None:
    """The file's size, and for an .xlsx (a zip) its decompressed size and compression ratio, before
    any XML is read (a few hundred KB can expand to gigabytes)."""
    size = path.stat().st_size
    if size > limits.max_registry_bytes:
        vi, en = over("Dung lượng danh sách trường", "The registry's size", f"{size:,} B", limits.max_registry_bytes,
                      "max_registry_bytes")  # fmt: skip
        raise RegistryError(f"{vi} / {en}")
    if not zipfile.is_zipfile(path):
        return
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_bytes:
        vi, en = over("Dung lượng giải nén của danh sách trường", "The registry unpacked", f"{total:,} B",
                      limits.max_unzipped_bytes, "max_unzipped_bytes")  # fmt: skip
        raise RegistryError(f"{vi} / {en}")
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > RATIO_FLOOR and ratio > limits.max_compression_ratio:
            vi, en = over(f"Tỉ lệ nén của {i.filename} (có thể là bom nén)",
                          f"The compression ratio of {i.filename} (a possible zip bomb)", f"{ratio:,.0f}",
                          limits.max_compression_ratio, "max_compression_ratio")  # fmt: skip
            raise RegistryError(f"{vi} / {en}")


def _sheet_rows(path: Path, limits: Limits) -> tuple[int, list[str], list[tuple[int, list]]]:
    """(header row number, header keys, [(row number, values)]) of the registry's sheet."""
    _check_file(path, limits)
    try:
        wb = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same failure for the user
        raise RegistryError(
            f"Không đọc được danh sách trường {path}: {exc} / cannot read the registry"
        ) from exc
    try:
        order = [m for m in wb.sheets_metadata if str(m.visible).endswith("Visible")]
        order += [m for m in wb.sheets_metadata if m not in order]
        for meta in order:
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.iter_rows()
            head: list[list] = []
            for _ in range(HEADER_SEARCH):
                row = next(rows, None)
                if row is None:
                    break
                head.append(list(row))
            found = next((i for i, r in enumerate(head) if "MA_TRUONG" in [_header_key(v) for v in r]), None)
            if found is None:
                continue
            keys = [_header_key(v) for v in head[found]]
            # A header of two rows with merged cells: a column named only in the row above.
            if found > 0:
                keys = [
                    k or _header_key(up)
                    for k, up in zip(keys, head[found - 1] + [""] * len(keys), strict=False)
                ]
            data = [(found + 2 + i, r) for i, r in enumerate(head[found + 1 :])]
            for n, row in enumerate(rows, start=len(head) + 1):
                data.append((n, list(row)))
                if len(data) > limits.max_registry_rows:
                    break
            if len(data) > limits.max_registry_rows:
                vi, en = over("Số dòng của danh sách trường", "The registry's rows", f"> {limits.max_registry_rows:,}",
                              limits.max_registry_rows, "max_registry_rows")  # fmt: skip
                raise RegistryError(f"{vi} / {en}")
            return found + 1, keys, data
    except RegistryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a sheet the reader refuses (bad XML, entities) is unreadable
        raise RegistryError(
            f"Không đọc được danh sách trường {path}: {exc} / cannot read the registry"
        ) from exc
    finally:
        wb.close()
    raise RegistryError(
        f"Danh sách trường thiếu cột MA_TRUONG ở 10 dòng đầu / the registry has no MA_TRUONG header in its first rows: {path}"
    )


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_registry(path: Path, as_of: date | None = None, limits: Limits | None = None) -> Registry:
    """Read the school-import template and decide each row's outcome and each school's place.

    ID_SO is read as a code of the boundaries in force on as_of (default: before 2025): an old
    Sở before 1/7/2025, a new province after. ID_PHONG places a school on the 2024 boundaries.
    """
    limits = limits or from_environment()
    era = settings.boundaries_on(as_of) if as_of else "2024"
    header_row, header, data = _sheet_rows(Path(path), limits)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegistryError(f"Danh sách trường thiếu cột bắt buộc {', '.join(missing)} (dòng tiêu đề {header_row}) / "
                            f"the registry lacks the required column(s) {', '.join(missing)} (header row {header_row})")  # fmt: skip
    col = {name: header.index(name) for name in REGISTRY_COLUMNS if name in header}
    units = hierarchy.units()
    sos = hierarchy.units(era)
    schools: dict[str, RegisteredSchool] = {}
    problems: list[RegistryProblem] = []
    outcomes: dict[int, RegistryRow] = {}

    def get(values: list, name: str, width: int = 0) -> str | None:
        i = col.get(name)
        return (
            clean_code(values[i], width)
            if i is not None and i < len(values) and not _blank(values[i])
            else None
        )

    def row_out(
        excel_row: int, code: str | None, outcome: str, reason: str | None, vi: str | None, en: str | None
    ):
        outcomes[excel_row] = RegistryRow(excel_row, code, outcome, reason, vi, en)

    # Trailing empty rows are no input; empty rows between listed rows are listed as not read.
    while data and all(_blank(v) for v in data[-1][1]):
        data.pop()
    # The registry's Sở: the ID_SO most rows name (among known codes).
    counts: dict[str, int] = {}
    for _, values in data:
        so = get(values, "ID_SO")
        if so is not None and ("so", so) in sos:
            counts[so] = counts.get(so, 0) + 1
    if not counts:
        raise RegistryError(f"Danh sách trường {path} không có trường hợp lệ / registry has no usable school")
    so_code = max(sorted(counts), key=lambda k: counts[k])
    for excel_row, values in data:
        if all(_blank(v) for v in values):
            row_out(excel_row, None, "not_read", "registry.blank_row", "Dòng trống", "An empty row")
            continue
        code = get(values, "MA_TRUONG")
        name = get(values, "TEN_TRUONG_HOC") or ""
        if code is None:
            row_out(excel_row, None, "rejected", "registry.no_code", "Dòng không có mã trường (MA_TRUONG)",
                    "A row without a school code (MA_TRUONG)")  # fmt: skip
            problems.append(RegistryProblem(excel_row, None, "skipped", "Dòng không có mã trường, bỏ qua",
                                            "Row without a school code, skipped"))  # fmt: skip
            continue
        long = next(
            (
                h
                for h, v in zip(header, values, strict=False)
                if isinstance(v, str) and len(v) > limits.max_text_chars
            ),
            None,
        )
        if long:
            vi, en = over(
                f"Độ dài ô {long}", f"The length of cell {long}", "", limits.max_text_chars, "max_text_chars"
            )
            row_out(excel_row, code, "rejected", "limit.text", vi, en)
            continue
        if re.search(r"TEST|THỬ", f"{code} {name}".upper()):
            row_out(excel_row, code, "not_expected", "registry.test_school", "Trường thử nghiệm (TEST/THỬ)",
                    "A test school (TEST/THỬ)")  # fmt: skip
            problems.append(
                RegistryProblem(
                    excel_row, code, "skipped", "Trường thử nghiệm, bỏ qua", "Test school, skipped"
                )
            )
            continue
        if code in schools:
            kept = schools[code].excel_row
            row_out(excel_row, code, "rejected", "registry.duplicate",
                    f"Mã trường lặp lại; dùng dòng {kept} (dòng đầu tiên dùng được của mã)",
                    f"The school code appears again; row {kept} is used (the first usable row of the code)")  # fmt: skip
            problems.append(RegistryProblem(excel_row, code, "duplicate_ignored",
                                            f"Trường bị lặp; dùng dòng {kept}", f"School listed twice; row {kept} is used"))  # fmt: skip
            continue
        status = get(values, "TRANG_THAI")
        if status not in (None, "1"):
            row_out(excel_row, code, "not_expected", "registry.inactive",
                    f"Trạng thái trường {status}: không hoạt động", f"School status {status}: not active")  # fmt: skip
            problems.append(RegistryProblem(excel_row, code, "skipped", f"Trạng thái trường {status}: không hoạt động, bỏ qua",
                                            f"School status {status}: not active, skipped"))  # fmt: skip
            continue
        so = get(values, "ID_SO")
        if so is None or ("so", so) not in sos:
            row_out(excel_row, code, "rejected", "registry.unknown_so", f"Mã Sở (ID_SO) không hợp lệ: {so}",
                    f"Unknown Sở code (ID_SO): {so}")  # fmt: skip
            problems.append(RegistryProblem(excel_row, code, "skipped", f"Mã Sở (ID_SO) không hợp lệ: {so}",
                                            f"Unknown Sở code (ID_SO): {so}"))  # fmt: skip
            continue
        if so != so_code:
            row_out(excel_row, code, "not_expected", "registry.other_province",
                    f"Trường thuộc Sở {so} ({hierarchy.unit_name('so', so, era)}), không thuộc Sở của danh sách "
                    f"{so_code} ({hierarchy.unit_name('so', so_code, era)})",
                    f"The school belongs to Sở {so} ({hierarchy.unit_name('so', so, era)}), not to the registry's "
                    f"Sở {so_code} ({hierarchy.unit_name('so', so_code, era)})")  # fmt: skip
            continue
        place = _place(values, get, code, name, so, era, units, problems, excel_row)
        schools[code] = place
        row_out(excel_row, code, "counted", None, None, None)
    rows = tuple(outcomes[r] for r in sorted(outcomes))
    return Registry(schools=schools, problems=tuple(problems), so_code=so_code, boundaries=era, rows=rows,
                    source=Path(path).name)  # fmt: skip


def _place(values: list, get, code: str, name: str, so: str, era: str, units: dict,
           problems: list[RegistryProblem], excel_row: int) -> RegisteredSchool:  # fmt: skip
    """An active school of the registry's Sở placed on both boundary versions (problems listed)."""

    def problem(outcome: str, vi: str, en: str) -> None:
        problems.append(RegistryProblem(excel_row, code, outcome, vi, en))

    levels = get(values, "CAP_HOC") or ""
    district = get(values, "MA_QUAN_HUYEN", 3)
    phong = get(values, "ID_PHONG")
    # On the 2025 boundaries ID_SO is a new province: the Phòng's old Sở must merge into it.
    old_so = so if era == "2024" else _old_so(so, phong, get(values, "MA_TINH_THANH", 2))
    phong_so = units.get(("phong", phong or ""), {}).get("parent_code")
    if era == "2024":
        phong_ok = phong is not None and phong_so == old_so
    else:  # the Phòng's old Sở must have merged into the new province
        phong_ok = phong is not None and hierarchy.new_province(phong_so) == so
    if phong is not None and not phong_ok:
        problem("placed_under_so", f"Mã Phòng (ID_PHONG) {phong} không thuộc Sở {so}; trường báo cáo thẳng lên Sở",
                f"ID_PHONG {phong} is not a Phòng of Sở {so}; the school reports straight to the Sở")  # fmt: skip
        phong = None
    elif phong is None and levels and set(levels) <= PHONG_LEVEL_DIGITS:
        guess = str(int(district)) if district and district.isdigit() else None
        if guess and old_so and units.get(("phong", guess), {}).get("parent_code") == old_so:
            phong = guess
            problem("placed_by_district", f"Thiếu ID_PHONG; xếp vào Phòng {guess} theo mã quận/huyện {district}",
                    f"ID_PHONG missing; placed in Phòng {guess} by district code {district}")  # fmt: skip
        else:
            problem("placed_under_so", "Thiếu ID_PHONG và không suy ra được Phòng; trường báo cáo thẳng lên Sở",
                    "ID_PHONG missing and no Phòng found for its district; the school reports to the Sở")  # fmt: skip
    if phong and era == "2025":
        old_so = units[("phong", phong)]["parent_code"]
    new_so = hierarchy.new_province(old_so) if era == "2024" else so
    if era == "2025" and old_so is None:
        problem("unplaced_2024",
                f"Không xác định được Sở (tỉnh cũ) trước 1/7/2025 của trường: thiếu ID_PHONG và tỉnh {so} "
                "gộp từ nhiều tỉnh cũ; trường không có trên địa giới 2024",
                f"The school's Sở before 1/7/2025 is unknown (no ID_PHONG, and province {so} merged several "
                "old ones): it has no place on the 2024 boundaries")  # fmt: skip
    return RegisteredSchool(
        code, name, levels, so, phong, district, excel_row, old_so, new_so, get(values, "MA_XA_PHUONG", 5)
    )
