"""Aggregate: compile each form into SQL, compute cells per school, roll them up, check relations.

A cell is measure(entity WHERE scope AND row.filter AND column.filter). For each (form, entity,
column set) the compiler makes one pass over the entity: it groups by school and the few column
dimensions (ownership, sex, ethnic minority, contract, construction) and aggregates every row
filter with SUM(CASE …) into a small cube; the columns are then read off the cube. Cells are
additive, so Phòng and Sở figures are sums of school cells.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines import catalog, warehouse

SQL_DIR = Path(__file__).resolve().parent / "sql"
CELLS_COLUMNS = (
    "school_year",
    "period",
    "regime",
    "form",
    "level",
    "unit_code",
    "row_code",
    "col_key",
    "value",
)
# Code lists the entity SQL joins to.
SQL_CODELISTS = ("education_level_group", "class_session", "room_type", "very_small_ethnic_group")


@dataclass(frozen=True)
class RunContext:
    run_id: str
    school_year: str  # "2024-2025"
    start_year: int
    period: str
    as_of: date


def load_codelists(con: duckdb.DuckDBPyConnection) -> None:
    for name in SQL_CODELISTS:
        path = catalog.SCHEMAS / "codelists" / f"{name}.csv"
        con.execute(
            f"CREATE OR REPLACE TABLE cl_{name} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )


def build_entity_tables(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    """Typed record tables (school, site, class, learner, staff, rooms) from validated staging rows."""
    load_codelists(con)
    sql = (SQL_DIR / "entities.sql").read_text(encoding="utf-8")
    con.execute(sql.format(run_id=ctx.run_id, start_year=int(ctx.start_year), as_of=ctx.as_of.isoformat()))


# --- the form compiler -----------------------------------------------------------------------


def _measure(row: catalog.Row) -> str:
    if row.measure == "count":
        return "1"
    m = re.fullmatch(r"sum\((\w+)\)", row.measure)
    if not m:
        raise catalog.CatalogError(f"row {row.code}: unknown measure {row.measure!r}")
    return f"coalesce({m.group(1)}, 0)"


def _school_source(form: catalog.Form) -> str:
    """The school table with the per-school attributes the form needs (class counts …)."""
    joins, cols = [], []
    for i, attr in enumerate(form.school_attributes):
        scope = form.scope.get(attr.entity, "TRUE")
        joins.append(
            f"LEFT JOIN (SELECT school_code, count(*) AS n FROM {attr.entity} "
            f"WHERE ({scope}) AND ({attr.filter}) GROUP BY school_code) a{i} USING (school_code)"
        )
        cols.append(f"coalesce(a{i}.n, 0) AS {attr.name}")
    select = ", ".join(["s.*", *cols])
    return f"(SELECT {select} FROM school s {' '.join(joins)})"


def compile_form(form: catalog.Form) -> str:
    """One SQL statement yielding (school_code, row_code, col_key, value) for every school in scope."""
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    school_source = _school_source(form)
    ctes = [f"scoped AS (SELECT school_code FROM {school_source} WHERE {form.scope['school']})"]
    selects = []
    for n, ((entity, set_name), rows) in enumerate(groups.items()):
        cset = form.column_sets[set_name]
        dims = ", ".join(cset.dims)
        sums = ",\n    ".join(
            f'sum(CASE WHEN {r.filter} THEN {_measure(r)} ELSE 0 END) AS "{r.code}"' for r in rows
        )
        source = school_source if entity == "school" else entity
        scope = form.scope.get(entity, "TRUE")
        ctes.append(
            f"cube{n} AS (\n  SELECT school_code, {dims},\n    {sums}\n  FROM {source}\n"
            f"  WHERE school_code IN (SELECT school_code FROM scoped) AND ({scope})\n"
            f"  GROUP BY ALL)"
        )
        codes = ", ".join(f'"{r.code}"' for r in rows)
        ctes.append(f"long{n} AS (UNPIVOT cube{n} ON {codes} INTO NAME row_code VALUE value)")
        for col in cset.columns:
            skip = [str(r.code) for r in rows if col.key in r.not_applicable]
            skip_sql = f" AND row_code NOT IN ({', '.join(repr(s) for s in skip)})" if skip else ""
            selects.append(
                f"SELECT school_code, CAST(row_code AS INTEGER) AS row_code, '{col.key}' AS col_key, "
                f"sum(value) AS value FROM long{n} WHERE ({col.filter}){skip_sql} GROUP BY ALL"
            )
    body = "\nUNION ALL\n".join(selects)
    return "WITH " + ",\n".join(ctes) + "\n" + body


def _cell_grid(form: catalog.Form) -> list[tuple[int, str]]:
    """Every (row_code, col_key) the form prints a number in."""
    return [
        (r.code, c.key) for r in form.cell_rows for c in form.columns_for(r) if c.key not in r.not_applicable
    ]


def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext) -> int:
    """Compute the form's cells for every school in scope, then Phòng and Sở; return the cell count."""
    con.execute("CREATE OR REPLACE TEMP TABLE _grid (row_code INTEGER, col_key VARCHAR)")
    warehouse.insert_rows(con, "_grid", _cell_grid(form))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _school_cells AS {compile_form(form)}")
    school_scope = f"SELECT school_code FROM {_school_source(form)} WHERE {form.scope['school']}"
    # Every school in scope gets its full grid, zeros included, so units add up cell by cell.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _full AS
        SELECT s.school_code, g.row_code, g.col_key, coalesce(c.value, 0) AS value
        FROM ({school_scope}) s CROSS JOIN _grid g
        LEFT JOIN _school_cells c USING (school_code, row_code, col_key)
        """
    )
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS cells (school_year VARCHAR, period VARCHAR, regime VARCHAR,
            form VARCHAR, level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR,
            value BIGINT);
        DELETE FROM cells WHERE school_year = '{ctx.school_year}' AND period = '{ctx.period}'
            AND form = '{form.form}';
        INSERT INTO cells
        WITH placed AS (
            SELECT f.*, u.parent_level, u.parent_code FROM _full f
            JOIN units u ON u.level = 'school' AND u.unit_code = f.school_code
        ),
        so AS (SELECT unit_code FROM units WHERE level = 'so')
        SELECT '{ctx.school_year}', '{ctx.period}', '{form.regime}', '{form.form}', 'school',
               school_code, row_code, col_key, value FROM placed
        UNION ALL
        SELECT '{ctx.school_year}', '{ctx.period}', '{form.regime}', '{form.form}', 'phong',
               parent_code, row_code, col_key, sum(value) FROM placed
        WHERE parent_level = 'phong' GROUP BY ALL
        UNION ALL
        SELECT '{ctx.school_year}', '{ctx.period}', '{form.regime}', '{form.form}', 'so',
               (SELECT unit_code FROM so), row_code, col_key, sum(value) FROM placed GROUP BY ALL
        """
    )
    return warehouse.scalar(
        con,
        "SELECT count(*) FROM cells WHERE school_year = ? AND period = ? AND form = ?",
        [ctx.school_year, ctx.period, form.form],
    )


# --- relations ------------------------------------------------------------------------------


def _relation_terms(form: catalog.Form) -> list[tuple]:
    """(relation id, check, basis, kind, side, term, scope row or column set) for every relation."""
    terms = []
    for row in form.cell_rows:
        for i, rel in enumerate(row.relations):
            rid = f"{form.form}.r{row.code}.{i + 1}"
            for side, items in (("lhs", rel.lhs), ("rhs", rel.rhs)):
                terms += [(rid, rel.check, rel.basis, "row", side, t[1:], rel.op, None) for t in items]
    for set_name, rels in form.column_relations.items():
        for i, rel in enumerate(rels):
            rid = f"{form.form}.{set_name}.{i + 1}"
            for side, items in (("lhs", rel.lhs), ("rhs", rel.rhs)):
                terms += [(rid, rel.check, rel.basis, "column", side, t, rel.op, set_name) for t in items]
    return terms


def check_relations(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext) -> int:
    """Evaluate every row and column relation on every unit's cells; store and count violations."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _terms (relation_id VARCHAR, check_text VARCHAR, basis VARCHAR, "
        "kind VARCHAR, side VARCHAR, term VARCHAR, op VARCHAR, column_set VARCHAR)"
    )
    warehouse.insert_rows(con, "_terms", _relation_terms(form))
    sheet_set = {r.code: form.sheet_of(r.sheet).column_set for r in form.cell_rows}
    con.execute("CREATE OR REPLACE TEMP TABLE _row_set (row_code INTEGER, column_set VARCHAR)")
    warehouse.insert_rows(con, "_row_set", list(sheet_set.items()))
    con.execute(
        """
        CREATE TABLE IF NOT EXISTS relation_violations (run_id VARCHAR, school_year VARCHAR,
            period VARCHAR, form VARCHAR, level VARCHAR, unit_code VARCHAR, relation_id VARCHAR,
            check_text VARCHAR, basis VARCHAR, row_code INTEGER, col_key VARCHAR,
            lhs BIGINT, rhs BIGINT)
        """
    )
    con.execute("DELETE FROM relation_violations WHERE run_id = ? AND form = ?", [ctx.run_id, form.form])
    con.execute(
        f"""
        INSERT INTO relation_violations
        WITH c AS (
            SELECT level, unit_code, row_code, col_key, value FROM cells
            WHERE school_year = '{ctx.school_year}' AND period = '{ctx.period}' AND form = '{form.form}'
        ),
        -- Row relations hold column by column: r37 = r38 + r39 in every column of r37.
        row_sides AS (
            SELECT t.relation_id, c.level, c.unit_code, c.col_key,
                   min(CASE WHEN t.side = 'lhs' THEN CAST(t.term AS INTEGER) END) AS anchor_row,
                   sum(CASE WHEN t.side = 'lhs' THEN c.value ELSE 0 END) AS lhs,
                   sum(CASE WHEN t.side = 'rhs' THEN c.value ELSE 0 END) AS rhs,
                   count(*) AS n_found
            FROM _terms t JOIN c ON t.kind = 'row' AND c.row_code = CAST(t.term AS INTEGER)
            GROUP BY ALL
        ),
        -- Column relations hold row by row on every row printed with that column set.
        col_sides AS (
            SELECT t.relation_id, c.level, c.unit_code, c.row_code,
                   sum(CASE WHEN t.side = 'lhs' THEN c.value ELSE 0 END) AS lhs,
                   sum(CASE WHEN t.side = 'rhs' THEN c.value ELSE 0 END) AS rhs,
                   count(*) AS n_found
            FROM _terms t JOIN _row_set rs ON t.kind = 'column' AND rs.column_set = t.column_set
            JOIN c ON c.row_code = rs.row_code AND c.col_key = t.term
            GROUP BY ALL
        ),
        expected AS (
            SELECT relation_id, any_value(check_text) AS check_text, any_value(basis) AS basis,
                   any_value(op) AS op, count(*) AS n_terms
            FROM _terms GROUP BY relation_id
        )
        SELECT '{ctx.run_id}', '{ctx.school_year}', '{ctx.period}', '{form.form}', s.level, s.unit_code,
               s.relation_id, e.check_text, e.basis, s.row_code, s.col_key, s.lhs, s.rhs
        FROM (
            SELECT relation_id, level, unit_code, anchor_row AS row_code, col_key, lhs, rhs, n_found
            FROM row_sides
            UNION ALL
            SELECT relation_id, level, unit_code, row_code, NULL, lhs, rhs, n_found FROM col_sides
        ) s JOIN expected e USING (relation_id)
        -- A term missing in a column (e.g. '#' not applicable) makes the relation void there.
        WHERE s.n_found = e.n_terms AND NOT CASE e.op
            WHEN '=' THEN s.lhs = s.rhs WHEN '<=' THEN s.lhs <= s.rhs ELSE s.lhs >= s.rhs END
        """
    )
    return warehouse.scalar(
        con,
        "SELECT count(*) FROM relation_violations WHERE run_id = ? AND form = ?",
        [ctx.run_id, form.form],
    )
