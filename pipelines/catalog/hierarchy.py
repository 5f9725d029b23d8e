"""The administrative and education units of both boundary versions (schemas/hierarchy/ and the
unit code lists): Sở and Phòng, the 2025 communes, their names, and the 2025 province and commune
crosswalks."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from pipelines import settings
from pipelines.catalog.codelists import codelist, has_codelist
from pipelines.catalog.loader import SCHEMAS, CatalogError, cached

MINISTRY_VI = "Bộ Giáo dục và Đào tạo"
# Nghị định 142/2025/NĐ-CP (from 1/7/2025; reference README, "the 2025 reorganisation"): the commune
# People's Committee manages preschools, primary and lower-secondary schools and the multi-level
# schools whose highest level is THCS; the province (Sở) manages upper secondary, GDTX and
# specialised schools. On the 2025 boundaries a school of these levels reports through its commune
# (school → commune → Sở), every other school straight to the Sở. DM_CAP_HOC codes.
COMMUNE_LEVELS = frozenset({"01", "02", "03"})
# The columns a commune crosswalk file must have (schemas/hierarchy/commune_crosswalk_2025.csv, or a
# user's own `commune_crosswalk.csv` beside the registry; docs/input-contract.md).
CROSSWALK_COLUMNS = ("code", "new_commune_code")


def commune_managed(levels: set[str] | frozenset[str]) -> bool:
    """Whether the commune manages a school teaching these levels (DM_CAP_HOC codes) on the 2025
    boundaries: it teaches something, and nothing above THCS and no GDTX."""
    return bool(levels) and set(levels) <= COMMUNE_LEVELS


@cached
def communes(root: Path = SCHEMAS) -> dict[str, dict[str, str]]:
    """The 3,321 commune-level units in force from 1/7/2025 (communes_2025.csv), by 5-digit code:
    name_vi, commune_type (xa, phuong, dac_khu), province_code (a 2025 province). A schemas folder
    without the list (a test's) has none."""
    if not has_codelist("communes_2025", root):
        return {}
    return {r["code"]: r for r in codelist("communes_2025", root).rows}


def read_crosswalk(path: Path | None = None, root: Path = SCHEMAS) -> dict[str, tuple[str, ...]]:
    """Old commune (before 1/7/2025, 5 digits) → the new commune(s) it went into, in file order.

    Without a path the reference crosswalk (commune_crosswalk_2025.csv); with one, a user's file of
    the same columns (at least `code` and `new_commune_code`; docs/input-contract.md). More than one
    new commune: the old commune was split, and its code alone cannot place a school."""
    if path is None:
        rows: list[dict[str, str]] = list(codelist("commune_crosswalk_2025", root).rows)
    else:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CROSSWALK_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise CatalogError(
                    f"Tệp bảng chuyển đổi xã {path} thiếu cột {missing} / the commune crosswalk {path} lacks "
                    f"the columns {missing}"
                )
            rows = list(reader)
    out: dict[str, list[str]] = {}
    for r in rows:
        old, new = (r["code"] or "").strip(), (r["new_commune_code"] or "").strip()
        if old.isdigit():
            old = old.zfill(5)
        if new.isdigit():
            new = new.zfill(5)
        if old and new and new not in out.setdefault(old, []):
            out[old].append(new)
    return {old: tuple(news) for old, news in out.items()}


@cached
def units(boundaries: str = "2024", root: Path = SCHEMAS) -> dict[tuple[str, str], dict[str, str]]:
    """(type, code) → unit row of a boundary version; codes are unique only within a type
    (19 = a Sở and a Phòng). 2025: one Sở per new province, named after it, and the 3,321 communes
    (`commune`, parent: their province's Sở). The dict is shared: do not change it."""
    units: dict[tuple[str, str], dict[str, str]] = {}
    if boundaries == "2025":
        for row in codelist("provinces_2025", root).rows:
            units[("so", row["code"])] = {"code": row["code"], "name_vi": f"Sở Giáo dục và Đào tạo {row['name_vi']}",
                                          "parent_code": ""}  # fmt: skip
        for code, row in communes(root).items():
            units[("commune", code)] = {
                "code": code,
                "name_vi": row["name_vi"],
                "parent_code": row["province_code"],
            }
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
    if row:
        return row["name_vi"]
    return f"Xã mã {code}" if level == "commune" else f"{'Sở' if level == 'so' else 'Phòng'} GDĐT mã {code}"


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
    """The ministry, Sở, Phòng and communes of both boundary versions: (boundaries, level, unit_code, name_vi,
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
            parent = ("so", row["parent_code"]) if level in ("phong", "commune") else ("bo", "BO")
            rows.append((version, level, code, row["name_vi"], *parent, start, end))
    return rows
