"""Where a registered school stands on the 2025 map (its commune), and what its registry CAP_HOC says
about the levels it teaches.

On the 2025 boundaries a school the commune manages (Nghị định 142/2025: preschool, primary, lower
secondary, and multi-level schools whose highest level is THCS; catalog.hierarchy.COMMUNE_LEVELS)
reports through its commune: school → commune → Sở. Every other school reports straight to the Sở.

A school's commune, in this order (docs/input-contract.md, "Communes on the 2025 map"):

1. the registry's MA_XA_PHUONG read as a code of the boundaries in force on the run's date (as ID_SO
   is): on a 2025 registry a new commune (communes_2025.csv) of the school's new province;
2. otherwise MA_XA_PHUONG read as an old commune (before 1/7/2025) through the crosswalk: the
   reference crosswalk (schemas/hierarchy/commune_crosswalk_2025.csv), or the user's own file
   `commune_crosswalk.csv` beside the registry when there is one;
3. an old commune split between several new ones places the school in none of them: it reports
   straight to the Sở (so the Sở's totals stay whole) and is listed for review
   (`registry.commune_split`, with the candidate communes) until the registry gives its new commune
   code or the user's crosswalk maps its old commune to one new commune. A school whose commune
   cannot be found at all is listed the same way (`commune_missing`, `commune_unknown`,
   `commune_other_province`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.catalog import hierarchy
from pipelines.ingest.registry import RegisteredSchool, Registry, RegistryProblem

# The user's own old → new commune crosswalk, when the registry's folder has one.
CROSSWALK_FILE = "commune_crosswalk.csv"
# Registry CAP_HOC digits (the school-import template) → DM_CAP_HOC: 1 TH, 2 THCS, 3 THPT, 4 nhà trẻ,
# 5 mẫu giáo (both preschool, 01), 6 GDTX.
CAP_HOC_LEVELS = {"1": "02", "2": "03", "3": "04", "4": "01", "5": "01", "6": "05"}
# The DM_NHOM_CAP_HOC group a set of CAP_HOC digits stands for (education_level_group.csv: DS_Cấp), when
# it names one group. GDTX (6) does not: provincial (12) and district (13) centres share the digit.
# Preschool digits: 4 alone a nhà trẻ (03), 5 alone a mẫu giáo (02), both a mầm non (01); with
# general levels the multi-level groups 16-18 whatever preschool digits they carry.
_GROUPS = {
    frozenset("1"): "06", frozenset("2"): "07", frozenset("3"): "08", frozenset("12"): "09",
    frozenset("23"): "10", frozenset("123"): "11", frozenset("4"): "03", frozenset("5"): "02",
    frozenset("45"): "01",
}  # fmt: skip
_WITH_PRESCHOOL = {frozenset("1"): "16", frozenset("12"): "18", frozenset("123"): "17"}


def registry_levels(cap_hoc: str | None) -> frozenset[str]:
    """The DM_CAP_HOC levels of a registry CAP_HOC ("12" → {02, 03}); unknown digits are ignored."""
    return frozenset(CAP_HOC_LEVELS[d] for d in (cap_hoc or "") if d in CAP_HOC_LEVELS)


def level_group_of(cap_hoc: str | None) -> str | None:
    """The DM_NHOM_CAP_HOC group of a registry CAP_HOC, or None when the digits name no single group
    (GDTX, an unknown combination, nothing)."""
    digits = frozenset(d for d in (cap_hoc or "") if d in CAP_HOC_LEVELS)
    if digits in _GROUPS:
        return _GROUPS[digits]
    general = digits & frozenset("123")
    if digits & frozenset("45") and not digits & frozenset("6"):
        return _WITH_PRESCHOOL.get(general)
    return None


@dataclass(frozen=True)
class CommunePlace:
    """A school's commune on the 2025 map: `commune` (None: it reports straight to the Sở) and the
    rule that decided (registry | crosswalk | not_managed | missing | unknown | split |
    other_province), the code the registry gave and, for a split commune, the candidates."""

    commune: str | None
    rule: str
    given: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def needs_review(self) -> bool:
        return self.rule in ("missing", "unknown", "split", "other_province")


def crosswalk_beside(registry_path: Path) -> Path | None:
    """The user's crosswalk file beside the registry, if there is one."""
    path = Path(registry_path).parent / CROSSWALK_FILE
    return path if path.is_file() else None


def place(school: RegisteredSchool, era: str, crosswalk: dict[str, tuple[str, ...]]) -> CommunePlace:
    """The school's commune on the 2025 map (module docstring: the order and the split rule)."""
    if not hierarchy.commune_managed(registry_levels(school.levels)):
        return CommunePlace(None, "not_managed", school.commune_code)
    given = school.commune_code
    if not given:
        return CommunePlace(None, "missing")
    communes = hierarchy.communes()
    if era == "2025" and given in communes:
        found = CommunePlace(given, "registry", given)
    elif given in crosswalk:
        news = crosswalk[given]
        if len(news) > 1:
            return CommunePlace(None, "split", given, news)
        found = CommunePlace(news[0], "crosswalk", given)
        if found.commune not in communes:
            return CommunePlace(None, "unknown", given, news)
    else:
        return CommunePlace(None, "unknown", given)
    if school.new_so and communes[found.commune]["province_code"] != school.new_so:
        return CommunePlace(None, "other_province", given, (found.commune,))
    return found


def place_all(registry: Registry, crosswalk_path: Path | None = None) -> dict[str, CommunePlace]:
    """Every registered school's commune on the 2025 map."""
    crosswalk = hierarchy.read_crosswalk(crosswalk_path)
    return {code: place(s, registry.boundaries, crosswalk) for code, s in registry.schools.items()}


def parent_on(
    school: RegisteredSchool, boundaries: str, places: dict[str, CommunePlace]
) -> tuple[str, str] | None:
    """(level, code) of the unit a school reports to on a version: on 2025 its commune when it has
    one, else as the registry places it (RegisteredSchool.parent)."""
    found = places.get(school.school_code)
    if boundaries == "2025" and found is not None and found.commune is not None and school.new_so:
        return ("commune", found.commune)
    return school.parent(boundaries)


_MESSAGES = {
    "missing": ("Trường do xã quản lý nhưng thiếu mã xã (MA_XA_PHUONG): trên địa giới 2025 trường báo cáo thẳng lên Sở",
                "A commune-managed school without a commune code (MA_XA_PHUONG): on the 2025 map it reports straight "
                "to the Sở"),
    "unknown": ("Mã xã {given} (MA_XA_PHUONG) không có trong danh sách xã mới cũng như bảng chuyển đổi xã cũ → mới: "
                "trên địa giới 2025 trường báo cáo thẳng lên Sở",
                "Commune code {given} (MA_XA_PHUONG) is neither a new commune nor in the old → new commune crosswalk: "
                "on the 2025 map the school reports straight to the Sở"),
    "split": ("Xã cũ {given} đã được chia cho nhiều xã mới ({candidates}): cần xác định xã mới của trường (MA_XA_PHUONG "
              "mới trong danh sách trường, hoặc tệp commune_crosswalk.csv); trên địa giới 2025 trường tạm báo cáo thẳng "
              "lên Sở",
              "Old commune {given} was split between several new communes ({candidates}): the school's new commune must "
              "be given (a new MA_XA_PHUONG in the registry, or a commune_crosswalk.csv file); on the 2025 map it "
              "reports straight to the Sở meanwhile"),
    "other_province": ("Xã {candidates} (từ mã xã {given}) không thuộc tỉnh của trường: trên địa giới 2025 trường báo "
                       "cáo thẳng lên Sở",
                       "Commune {candidates} (from commune code {given}) is not in the school's province: on the 2025 "
                       "map the school reports straight to the Sở"),
}  # fmt: skip


def place_problems(registry: Registry, places: dict[str, CommunePlace]) -> list[RegistryProblem]:
    """The schools listed for review: their commune on the 2025 map is missing, unknown, split or in
    another province (`registry.commune_<rule>`)."""
    out = []
    for code, p in places.items():
        if not p.needs_review:
            continue
        vi, en = _MESSAGES[p.rule]
        values = {"given": p.given, "candidates": ", ".join(p.candidates)}
        out.append(RegistryProblem(registry.schools[code].excel_row, code, f"commune_{p.rule}",
                                   vi.format(**values), en.format(**values)))  # fmt: skip
    return out


def record_places(
    con: duckdb.DuckDBPyConnection, registry: Registry, places: dict[str, CommunePlace]
) -> None:
    """Write the run's registry facts the typed tables and the analysts read (table registry_schools):
    each school's CAP_HOC and the level group it names, and its commune on the 2025 map with the rule."""
    con.execute(warehouse.sql("ingest/places", "clear_registry_schools"))
    rows = []
    for code, s in registry.schools.items():
        p = places.get(code, CommunePlace(None, "not_managed"))
        rows.append((code, s.levels or None, level_group_of(s.levels), p.given, p.commune, p.rule,
                     ",".join(p.candidates) or None))  # fmt: skip
    warehouse.insert_rows(con, "registry_schools", rows)
