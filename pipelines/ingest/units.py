"""The unit tree School → Phòng GDĐT → Sở GDĐT → Bộ of a run, dated and versioned.

Boundary version "2024" has districts (Phòng GDĐT) and 63 provinces; "2025" (from 1/7/2025) has 34
provinces and no district level. Every run records where each of its schools stands on both
versions on its as-of date (`unit_membership`); the view `unit_tree` gives every unit with
valid_from / valid_to, and a period can be aggregated on either version (the old provinces map to
the new ones through `province_crosswalk`).
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import settings, warehouse
from pipelines.catalog import hierarchy
from pipelines.ingest.registry import Registry, RegistryProblem

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
    warehouse.insert_rows(con, "hierarchy_units", hierarchy.reference_units())
    con.execute(
        "CREATE OR REPLACE TABLE province_crosswalk (old_code VARCHAR, old_so_code VARCHAR, new_code VARCHAR)"
    )
    warehouse.insert_rows(con, "province_crosswalk",
                          [(old, hierarchy.old_so_unit(old), new) for old, new in sorted(hierarchy.province_crosswalk().items())])  # fmt: skip
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
    names = hierarchy.units(boundaries)
    placed = {code: s.parent(boundaries) for code, s in registry.schools.items()}
    if as_of is not None:  # the memberships just recorded, or kept from earlier runs
        placed.update(membership_on(con, boundaries, as_of, list(placed)))
    phongs = sorted({p[1] for p in placed.values() if p and p[0] == "phong"})
    sos = sorted({p[1] for p in placed.values() if p and p[0] == "so"}
                 | {names[("phong", p)]["parent_code"] for p in phongs})  # fmt: skip
    rows = [("bo", "BO", hierarchy.MINISTRY_VI, None, None)]
    rows += [("so", so, hierarchy.unit_name("so", so, boundaries), "bo", "BO") for so in sos]
    rows += [
        ("phong", p, hierarchy.unit_name("phong", p, boundaries), "so", names[("phong", p)]["parent_code"])
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
