"""The school registry and the unit tree School → Phòng GDĐT → Sở GDĐT → Bộ.

The registry is the national database's school-import template (see docs/input-contract.md).
Real registries are messy: numbers arrive as floats, codes lose leading zeros, rows lack
ID_PHONG, schools appear twice, test schools are mixed in. Each such row gets a defined outcome
and a problem line, never a silent drop.

The tree is dated and versioned (issue 5). Boundary version "2024" has districts (Phòng GDĐT) and
63 provinces; "2025" (from 1/7/2025) has 34 provinces and no district level. Every run records
where each of its schools stands on both versions on its as-of date (`unit_membership`); the
view `unit_tree` gives every unit with valid_from / valid_to, and a period can be aggregated on
either version (the old provinces map to the new ones through `province_crosswalk`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import openpyxl

from pipelines import catalog, settings, warehouse

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
    so_code: str  # ID_SO as the registry gives it (a code of the boundaries in force then)
    phong_code: str | None  # None: reports straight to the Sở (on the 2024 boundaries)
    district_code: str | None
    excel_row: int
    old_so: str | None = None  # the Sở (old province) on the 2024 boundaries; None: unknown
    new_so: str | None = None  # the Sở (new province) on the 2025 boundaries; None: unknown

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


def _units(boundaries: str = "2024") -> dict[tuple[str, str], dict[str, str]]:
    """(type, code) → unit row of a boundary version; codes are unique only within a type
    (19 = a Sở and a Phòng). 2025: one Sở per new province, named after it."""
    units: dict[tuple[str, str], dict[str, str]] = {}
    if boundaries == "2025":
        for row in catalog.codelist("provinces_2025").rows:
            units[("so", row["code"])] = {"code": row["code"], "name_vi": f"Sở Giáo dục và Đào tạo {row['name_vi']}",
                                          "parent_code": ""}  # fmt: skip
        return units
    for row in catalog.codelist("education_units_pre2025").rows:
        if row["name_vi"].startswith("Sở"):
            units[("so", row["code"])] = row
        elif row["name_vi"].startswith("Phòng"):
            units[("phong", row["code"])] = row
    return units


def unit_name(level: str, code: str, boundaries: str = "2024") -> str:
    """Printed name of a Sở or Phòng on a boundary version ("Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk")."""
    if level == "bo":
        return MINISTRY_VI
    row = _units(boundaries).get((level, code))
    return row["name_vi"] if row else f"{'Sở' if level == 'so' else 'Phòng'} GDĐT mã {code}"


def province_crosswalk() -> dict[str, str]:
    """Old province (= old Sở) code → new province code (NQ 202/2025/QH15, provinces_2025.csv):
    many to one, and complete (every province of provinces_pre2025.csv maps to exactly one)."""
    crosswalk: dict[str, str] = {}
    for row in catalog.codelist("provinces_2025").rows:
        for old in row["pre2025_codes"].split(";"):
            if old in crosswalk:
                raise catalog.CatalogError(
                    f"province {old} is merged into both {crosswalk[old]} and {row['code']}"
                )
            crosswalk[old] = row["code"]
    missing = set(catalog.codelist("provinces_pre2025").codes) - set(crosswalk)
    if missing:
        raise catalog.CatalogError(f"provinces_2025.csv does not place the old provinces {sorted(missing)}")
    return crosswalk


def new_province(old_so: str | None) -> str | None:
    """The new province of an old Sở. The CSDL unit list writes five Sở codes without their
    leading zero ("1" Hà Nội), the province lists with it ("01")."""
    return province_crosswalk().get(old_so.zfill(2)) if old_so else None


def old_so_unit(province: str) -> str | None:
    """The 2024 Sở unit code of an old province code ("01" → "1" for Hà Nội)."""
    return next(
        (code for level, code in _units("2024") if level == "so" and code.zfill(2) == province.zfill(2)), None
    )


def _old_so(new_so: str, phong: str | None, province: str | None) -> str | None:
    """The old Sở of a school registered on the 2025 boundaries: its Phòng's Sở, else its old
    province code (MA_TINH_THANH), else the only old province the new one absorbed."""
    units = _units("2024")
    if phong and ("phong", phong) in units:
        return units[("phong", phong)]["parent_code"]
    if province and new_province(province) == new_so:
        return old_so_unit(province)
    olds = [old for old, new in province_crosswalk().items() if new == new_so]
    return old_so_unit(olds[0]) if len(olds) == 1 else None


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
    units = _units()
    sos = _units(era)
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
            phong_ok = phong is not None and new_province(phong_so) == so
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
        new_so = new_province(old_so) if era == "2024" else so
        if era == "2025" and old_so is None:
            problem(excel_row, code, "unplaced_2024",
                    f"Không xác định được Sở (tỉnh cũ) trước 1/7/2025 của trường: thiếu ID_PHONG và tỉnh {so} "
                    "gộp từ nhiều tỉnh cũ; trường không có trên địa giới 2024",
                    f"The school's Sở before 1/7/2025 is unknown (no ID_PHONG, and province {so} merged several "
                    "old ones): it has no place on the 2024 boundaries")  # fmt: skip
        schools[code] = RegisteredSchool(code, name, levels, so, phong, district, excel_row, old_so, new_so)
    wb.close()
    if not so_codes:
        raise RegistryError(f"Danh sách trường {path} không có trường hợp lệ / registry has no usable school")
    so_code = max(so_codes, key=lambda k: so_codes[k])
    return Registry(schools=schools, problems=tuple(problems), so_code=so_code, boundaries=era)


def reference_units() -> list[tuple]:
    """The ministry, Sở and Phòng of both boundary versions: (boundaries, level, unit_code, name_vi,
    parent_level, parent_code, valid_from, valid_to). The 2024 units end on 30/6/2025, the 2025
    ones start on 1/7/2025 (a period may still be aggregated on either)."""
    end_2024 = settings.BOUNDARIES["2025"]
    end_2024 = date.fromordinal(end_2024.toordinal() - 1)
    rows: list[tuple] = []
    for version, (start, end) in {
        "2024": (date(1900, 1, 1), end_2024),
        "2025": (settings.BOUNDARIES["2025"], None),
    }.items():
        rows.append((version, "bo", "BO", MINISTRY_VI, None, None, start, end))
        for (level, code), row in sorted(_units(version).items()):
            parent = ("so", row["parent_code"]) if level == "phong" else ("bo", "BO")
            rows.append((version, level, code, row["name_vi"], *parent, start, end))
    return rows


# Where each school stood on each boundary version, observed by every run on its as-of date. A
# school absent from a later registry of its Sở is observed as closed (parent NULL).
MEMBERSHIP_TABLE = """
CREATE TABLE IF NOT EXISTS unit_membership (boundaries VARCHAR, school_code VARCHAR, as_of DATE,
    name_vi VARCHAR, parent_level VARCHAR, parent_code VARCHAR, run_id VARCHAR)
"""
# Every unit of every version with the dates it is valid: reference units, and schools from
# their memberships (a new interval starts when the parent or the name changes; a closed school's
# last interval ends the day before the run that no longer lists it).
UNIT_TREE_VIEW = """
CREATE OR REPLACE VIEW unit_tree AS
WITH m AS (
    SELECT *, lag(parent_code) OVER w IS NOT DISTINCT FROM parent_code
              AND lag(parent_level) OVER w IS NOT DISTINCT FROM parent_level
              AND lag(name_vi) OVER w IS NOT DISTINCT FROM name_vi
              AND lag(as_of) OVER w IS NOT NULL AS unchanged
    FROM unit_membership WINDOW w AS (PARTITION BY boundaries, school_code ORDER BY as_of)),
changes AS (
    SELECT *, lead(as_of) OVER (PARTITION BY boundaries, school_code ORDER BY as_of) AS next_change
    FROM m WHERE NOT unchanged)
SELECT boundaries, level, unit_code, name_vi, parent_level, parent_code, valid_from, valid_to FROM hierarchy_units
UNION ALL
SELECT boundaries, 'school', school_code, name_vi, parent_level, parent_code, as_of,
       CAST(next_change - INTERVAL 1 DAY AS DATE)
FROM changes WHERE parent_code IS NOT NULL
"""


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write the reference units of both versions and the province crosswalk; create the
    membership table and the unit_tree view."""
    con.execute("CREATE OR REPLACE TABLE hierarchy_units (boundaries VARCHAR, level VARCHAR, unit_code VARCHAR, "
                "name_vi VARCHAR, parent_level VARCHAR, parent_code VARCHAR, valid_from DATE, valid_to DATE)")  # fmt: skip
    warehouse.insert_rows(con, "hierarchy_units", reference_units())
    con.execute(
        "CREATE OR REPLACE TABLE province_crosswalk (old_code VARCHAR, old_so_code VARCHAR, new_code VARCHAR)"
    )
    warehouse.insert_rows(con, "province_crosswalk",
                          [(old, old_so_unit(old), new) for old, new in sorted(province_crosswalk().items())])  # fmt: skip
    con.execute(MEMBERSHIP_TABLE)
    con.execute(UNIT_TREE_VIEW)


def record_membership(con: duckdb.DuckDBPyConnection, registry: Registry, as_of: date, run_id: str) -> int:
    """Observe every registered school on both versions at as_of (replacing this date's earlier
    observations of them); a school last seen under one of this registry's Sở but absent now is
    observed as closed. Returns the number of schools observed closed."""
    codes = [s.school_code for s in registry.schools.values()]
    con.execute("DELETE FROM unit_membership WHERE as_of = ? AND school_code IN (SELECT unnest(?::VARCHAR[]))",
                [as_of, codes])  # fmt: skip
    # A registry of the 2025 boundaries names no Phòng: a school already placed on the 2024
    # boundaries by an earlier run keeps that place (its history) rather than being put under its
    # old Sở directly.
    known_2024 = {r[0] for r in con.execute(
        "SELECT DISTINCT school_code FROM unit_membership WHERE boundaries = '2024' AND parent_code IS NOT NULL"
    ).fetchall()}  # fmt: skip
    rows = [(v, s.school_code, as_of, s.name, *(s.parent(v) or (None, None)), run_id)
            for s in registry.schools.values() for v in settings.BOUNDARIES
            if not (v == "2024" and registry.boundaries == "2025" and s.phong_code is None
                    and s.school_code in known_2024)]  # fmt: skip
    warehouse.insert_rows(con, "unit_membership", [r for r in rows if r[4] is not None])
    sos = sorted({s.old_so for s in registry.schools.values() if s.old_so})
    closed = con.execute(
        """INSERT INTO unit_membership
        WITH last AS (
            SELECT boundaries, school_code, arg_max(name_vi, as_of) AS name_vi,
                   arg_max(parent_level, as_of) AS parent_level, arg_max(parent_code, as_of) AS parent_code
            FROM unit_membership WHERE as_of < ? AND boundaries = '2024' GROUP BY ALL),
        so_of AS (SELECT l.*, CASE WHEN l.parent_level = 'so' THEN l.parent_code ELSE h.parent_code END AS so
                  FROM last l LEFT JOIN hierarchy_units h ON h.boundaries = '2024' AND h.level = l.parent_level
                   AND h.unit_code = l.parent_code)
        SELECT v.boundaries, o.school_code, ?, o.name_vi, NULL, NULL, ?
        FROM so_of o CROSS JOIN (SELECT unnest(['2024', '2025']) AS boundaries) v
        WHERE o.parent_code IS NOT NULL AND o.so IN (SELECT unnest(?::VARCHAR[]))
          AND o.school_code NOT IN (SELECT unnest(?::VARCHAR[]))""",
        [as_of, as_of, run_id, sos, codes],
    ).fetchall()[0][0]
    return closed // len(settings.BOUNDARIES)


def membership_on(con: duckdb.DuckDBPyConnection, boundaries: str, as_of: date,
                  schools: list[str]) -> dict[str, tuple[str, str]]:  # fmt: skip
    """(parent level, parent code) of each school on a version at a date: its last membership on or
    before the date, else its first after (a school first listed later); schools never placed on
    the version are absent."""
    rows = con.execute(
        """SELECT school_code,
                  coalesce(arg_max(parent_level, as_of) FILTER (WHERE as_of <= ?), arg_min(parent_level, as_of)),
                  coalesce(arg_max(parent_code, as_of) FILTER (WHERE as_of <= ?), arg_min(parent_code, as_of))
           FROM unit_membership
           WHERE boundaries = ? AND parent_code IS NOT NULL AND school_code IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY school_code""",
        [as_of, as_of, boundaries, schools],
    ).fetchall()
    return {code: (level, parent) for code, level, parent in rows}


def load_units(
    con: duckdb.DuckDBPyConnection,
    registry: Registry,
    boundaries: str = "2024",
    as_of: date | None = None,
    run_id: str = "",
) -> None:
    """Write the unit tree this run aggregates on (`units`: school → Phòng → Sở → Bộ on the 2024
    boundaries, school → Sở → Bộ on the 2025 ones, named as on that version) and record the
    schools' memberships. A school with no place on the version is left out and reported."""
    load_reference(con)
    if as_of is not None:
        record_membership(con, registry, as_of, run_id)
    names = _units(boundaries)
    placed = {code: s.parent(boundaries) for code, s in registry.schools.items()}
    if as_of is not None:  # the memberships just recorded, or kept from earlier runs
        placed.update(membership_on(con, boundaries, as_of, list(placed)))
    phongs = sorted({p[1] for p in placed.values() if p and p[0] == "phong"})
    sos = sorted({p[1] for p in placed.values() if p and p[0] == "so"}
                 | {names[("phong", p)]["parent_code"] for p in phongs})  # fmt: skip
    rows = [("bo", "BO", MINISTRY_VI, None, None)]
    rows += [("so", so, unit_name("so", so, boundaries), "bo", "BO") for so in sos]
    rows += [
        ("phong", p, unit_name("phong", p, boundaries), "so", names[("phong", p)]["parent_code"])
        for p in phongs
    ]
    # A school with no place on the version hangs under the ministry: it is loaded and validated,
    # and counted in no Phòng or Sở (reported below).
    rows += [
        ("school", code, registry.schools[code].name, *(parent or ("bo", "BO")))
        for code, parent in placed.items()
    ]
    problems = list(registry.problems)
    problems += [RegistryProblem(registry.schools[code].excel_row, code, "unplaced",
                                 f"Trường không có vị trí trên địa giới {boundaries}; không được tính vào Phòng, Sở nào",
                                 f"The school has no place on the {boundaries} boundaries; no Phòng or Sở counts it")
                 for code, parent in placed.items() if parent is None]  # fmt: skip
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
        [(p.excel_row, p.school_code, p.outcome, p.message_vi, p.message_en) for p in problems],
    )
