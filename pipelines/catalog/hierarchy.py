"""The administrative and education units of both boundary versions (schemas/hierarchy/ and the
unit code lists): Sở and Phòng, their names, and the 2025 province crosswalk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pipelines import settings
from pipelines.catalog.codelists import codelist
from pipelines.catalog.loader import SCHEMAS, CatalogError

MINISTRY_VI = "Bộ Giáo dục và Đào tạo"


def units(boundaries: str = "2024", root: Path = SCHEMAS) -> dict[tuple[str, str], dict[str, str]]:
    """(type, code) → unit row of a boundary version; codes are unique only within a type
    (19 = a Sở and a Phòng). 2025: one Sở per new province, named after it."""
    units: dict[tuple[str, str], dict[str, str]] = {}
    if boundaries == "2025":
        for row in codelist("provinces_2025", root).rows:
            units[("so", row["code"])] = {"code": row["code"], "name_vi": f"Sở Giáo dục và Đào tạo {row['name_vi']}",
                                          "parent_code": ""}  # fmt: skip
        return units
    for row in codelist("education_units_pre2025", root).rows:
        if row["name_vi"].startswith("Sở"):
            units[("so", row["code"])] = row
        elif row["name_vi"].startswith("Phòng"):
            units[("phong", row["code"])] = row
    return units


def unit_name(level: str, code: str, boundaries: str = "2024") -> str:
    """Printed name of a Sở or Phòng on a boundary version ("Sở Giáo dục và Đào tạo Tỉnh Đắk Lắk")."""
    if level == "bo":
        return MINISTRY_VI
    row = units(boundaries).get((level, code))
    return row["name_vi"] if row else f"{'Sở' if level == 'so' else 'Phòng'} GDĐT mã {code}"


def province_crosswalk(root: Path = SCHEMAS) -> dict[str, str]:
    """Old province (= old Sở) code → new province code (NQ 202/2025/QH15, provinces_2025.csv):
    many to one, and complete (every province of provinces_pre2025.csv maps to exactly one)."""
    crosswalk: dict[str, str] = {}
    for row in codelist("provinces_2025", root).rows:
        for old in row["pre2025_codes"].split(";"):
            if old in crosswalk:
                raise CatalogError(f"province {old} is merged into both {crosswalk[old]} and {row['code']}")
            crosswalk[old] = row["code"]
    missing = set(codelist("provinces_pre2025", root).codes) - set(crosswalk)
    if missing:
        raise CatalogError(f"provinces_2025.csv does not place the old provinces {sorted(missing)}")
    return crosswalk


def new_province(old_so: str | None) -> str | None:
    """The new province of an old Sở. The CSDL unit list writes five Sở codes without their
    leading zero ("1" Hà Nội), the province lists with it ("01")."""
    return province_crosswalk().get(old_so.zfill(2)) if old_so else None


def old_so_unit(province: str) -> str | None:
    """The 2024 Sở unit code of an old province code ("01" → "1" for Hà Nội)."""
    return next(
        (code for level, code in units("2024") if level == "so" and code.zfill(2) == province.zfill(2)), None
    )


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
        for (level, code), row in sorted(units(version).items()):
            parent = ("so", row["parent_code"]) if level == "phong" else ("bo", "BO")
            rows.append((version, level, code, row["name_vi"], *parent, start, end))
    return rows
