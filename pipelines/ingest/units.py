"""The unit tree School → Phòng GDĐT → Sở GDĐT → Bộ of a run, dated and versioned.

Boundary version "2024" has districts (Phòng GDĐT) and 63 provinces; "2025" (from 1/7/2025) has 34
provinces, no district level, and communes: a school the commune manages reports through its
commune (school → commune → Sở, ingest/places.py), any other straight to the Sở. Every run records
where each of its schools stands on both versions on its as-of date (`unit_membership`); the view `unit_tree` gives every unit with
valid_from / valid_to, and a period can be aggregated on either version (the old provinces map to
the new ones through `province_crosswalk`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipelines import settings, warehouse
from pipelines.catalog import hierarchy
from pipelines.ingest import places as commune_places
from pipelines.ingest.registry import Registry, RegistryProblem


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write the reference units of both versions and the province crosswalk."""
    con.execute(warehouse.sql("ingest/units", "clear_reference"))
    warehouse.insert_rows(con, "hierarchy_units", hierarchy.reference_units())
    crosswalk = sorted(hierarchy.province_crosswalk().items())
    warehouse.insert_rows(
        con, "province_crosswalk", [(old, hierarchy.old_so_unit(old), new) for old, new in crosswalk]
    )


def record_membership(con: duckdb.DuckDBPyConnection, registry: Registry, as_of: date, run_id: str,
                      places: dict[str, commune_places.CommunePlace] | None = None) -> int:  # fmt: skip
    """Observe every registered school on both versions at as_of (replacing this date's earlier
    observations of them; on 2025 under its commune when `places` gives one); a school last seen under
    one of this registry's Sở but absent now is observed as closed. Returns the number of schools
    observed closed."""
    codes = [s.school_code for s in registry.schools.values()]
    con.execute(warehouse.sql("ingest/units", "delete_memberships"), [as_of, codes])
    # A registry of the 2025 boundaries names no Phòng: a school already placed on the 2024
    # boundaries by an earlier run keeps that place (its history) rather than being put under its
    # old Sở directly.
    known_2024 = {r[0] for r in con.execute(warehouse.sql("ingest/units", "placed_on_2024")).fetchall()}
    rows = [(v, s.school_code, as_of, s.name, *(commune_places.parent_on(s, v, places or {}) or (None, None)), run_id)
            for s in registry.schools.values() for v in settings.BOUNDARIES
            if not (v == "2024" and registry.boundaries == "2025" and s.phong_code is None
                    and s.school_code in known_2024)]  # fmt: skip
    warehouse.insert_rows(con, "unit_membership", [r for r in rows if r[4] is not None])
    sos = sorted({s.old_so for s in registry.schools.values() if s.old_so})
    closed = con.execute(
        warehouse.sql("ingest/units", "observe_closed"),
        {"as_of": as_of, "run_id": run_id, "sos": sos, "codes": codes},
    ).fetchall()[0][0]
    return closed // len(settings.BOUNDARIES)


def membership_on(con: duckdb.DuckDBPyConnection, boundaries: str, as_of: date,
                  schools: list[str]) -> dict[str, tuple[str, str]]:  # fmt: skip
    """(parent level, parent code) of each school on a version at a date: its last membership on or
    before the date, else its first after (a school first listed later); schools never placed on
    the version are absent."""
    rows = con.execute(
        warehouse.sql("ingest/units", "membership_on"),
        {"as_of": as_of, "boundaries": boundaries, "schools": schools},
    ).fetchall()
    return {code: (level, parent) for code, level, parent in rows}


def load_units(
    con: duckdb.DuckDBPyConnection,
    registry: Registry,
    boundaries: str = "2024",
    as_of: date | None = None,
    run_id: str = "",
    crosswalk: Path | None = None,
) -> None:
    """Write the unit tree this run aggregates on (`units`: school → Phòng → Sở → Bộ on the 2024
    boundaries, school → commune → Sở → Bộ or school → Sở → Bộ on the 2025 ones, named as on that
    version) and record the schools' memberships. A school with no place on the version is left out
    and reported. `crosswalk`: the user's old → new commune file (ingest/places.py), else the
    reference one."""
    load_reference(con)
    places = commune_places.place_all(registry, crosswalk)
    commune_places.record_places(con, registry, places)
    if as_of is not None:
        record_membership(con, registry, as_of, run_id, places)
    names = hierarchy.units(boundaries)
    placed = {code: commune_places.parent_on(s, boundaries, places) for code, s in registry.schools.items()}
    if as_of is not None:  # the memberships just recorded, or kept from earlier runs
        placed.update(membership_on(con, boundaries, as_of, list(placed)))
    middle = {lv: sorted({p[1] for p in placed.values() if p and p[0] == lv}) for lv in ("phong", "commune")}
    sos = sorted({p[1] for p in placed.values() if p and p[0] == "so"}
                 | {names[(lv, u)]["parent_code"] for lv, us in middle.items() for u in us})  # fmt: skip
    rows = [("bo", "BO", hierarchy.MINISTRY_VI, None, None)]
    rows += [("so", so, hierarchy.unit_name("so", so, boundaries), "bo", "BO") for so in sos]
    rows += [
        (lv, u, hierarchy.unit_name(lv, u, boundaries), "so", names[(lv, u)]["parent_code"])
        for lv, us in middle.items()
        for u in us
    ]
    # A school with no place on the version hangs under the ministry: it is loaded and validated,
    # and counted in no Phòng or Sở (reported below).
    rows += [
        ("school", code, registry.schools[code].name, *(parent or ("bo", "BO")))
        for code, parent in placed.items()
    ]
    problems = list(registry.problems)
    if boundaries == "2025":  # the schools to review are those of the map the run reports on
        problems += commune_places.place_problems(registry, places)
    problems += [RegistryProblem(registry.schools[code].excel_row, code, "unplaced",
                                 f"Trường không có vị trí trên địa giới {boundaries}; không được tính vào Phòng, Sở nào",
                                 f"The school has no place on the {boundaries} boundaries; no Phòng or Sở counts it")
                 for code, parent in placed.items() if parent is None]  # fmt: skip
    con.execute(warehouse.sql("ingest/units", "clear_run_tree"))
    warehouse.insert_rows(con, "units", rows)
    warehouse.insert_rows(
        con,
        "registry_problems",
        [(p.excel_row, p.school_code, p.outcome, p.message_vi, p.message_en) for p in problems],
    )


def registered_schools(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The schools of the run's unit tree (registered and active)."""
    return {c for (c,) in con.execute(warehouse.sql("ingest/units", "registered_schools")).fetchall()}
