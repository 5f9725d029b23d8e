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
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb

from pipelines import catalog, settings, warehouse

SQL_DIR = Path(__file__).resolve().parent / "sql"
# The columns of the `cells` table and of cells.csv / cells.parquet (the tidy-output contract).
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
    "boundaries",  # the boundary version the Phòng and Sở rows are on (settings.BOUNDARIES)
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
    boundaries: str = "2024"
    approved_only: bool = False  # Phòng and Sở from approved schools only (edustat run --approved-only)


# --- re-runs: rebuilding only the schools that changed ------------------------------------------
# A school's typed rows and cells depend only on its own staged rows, its quarantined rows and
# the code lists (sql/*.sql joins within a school); Phòng and Sở cells are sums of school cells.
# So a re-run rebuilds the schools whose staged file or quarantine changed since the period's
# last aggregation under the same code and settings, and sums every rollup again.
DELTA_SCHEMA = "delta"  # the changed schools' staging (views) and typed tables, while they are built
DELTA_SCHOOLS = "_delta_schools"
AGGREGATED_FILES = "aggregated_files"  # the staged files the typed tables and cells reflect


def rebuild_plan(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, regime: str, full: bool = False
) -> list[str] | None:
    """The schools a re-run must rebuild, or None: rebuild every school (first aggregation of the
    period here, other code, settings or province, or --full)."""
    from pipelines.release import code_digest

    con.execute("CREATE TABLE IF NOT EXISTS aggregate_state (run_id VARCHAR, fingerprint VARCHAR)")
    fingerprint = f"{code_digest()}|{ctx.school_year}|{ctx.period}|{ctx.as_of}|{regime}|{ctx.boundaries}"
    last = con.execute("SELECT run_id, fingerprint FROM aggregate_state").fetchall()
    con.execute("DELETE FROM aggregate_state")
    con.execute("INSERT INTO aggregate_state VALUES (?, ?)", [ctx.run_id, fingerprint])
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
              .fetchall()}  # fmt: skip
    if full or not last or last[0][1] != fingerprint or not {*catalog.FORM_ENTITIES, "cells"} <= tables:
        return None
    quarantine_changed = con.execute(
        """WITH q_now AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $1),
        q_last AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $2)
        SELECT school_code FROM ((SELECT * FROM q_now EXCEPT SELECT * FROM q_last)
                                 UNION ALL (SELECT * FROM q_last EXCEPT SELECT * FROM q_now))""",
        [ctx.run_id, last[0][0]],
    ).fetchall()
    changed = warehouse.schools_whose_staged_file_changed(con, AGGREGATED_FILES)
    return sorted(c for c in changed | {c for (c,) in quarantine_changed} if c is not None)


def record_rebuild_state(con: duckdb.DuckDBPyConnection) -> None:
    """The staged files the period's typed tables and cells now reflect (for the next re-run)."""
    warehouse.snapshot_staged_files(con, AGGREGATED_FILES)


def drop_delta(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the re-run's schema `delta`, after its transaction: DuckDB 2.0 refuses to commit a
    transaction that inserted from delta.<t> into main.<t> and then dropped delta.<t>."""
    con.execute(f"DROP SCHEMA IF EXISTS {DELTA_SCHEMA} CASCADE")


def build_entity_tables(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, schools: list[str] | None = None
) -> None:
    """Typed record tables (school, site, class, learner, staff, rooms) from validated staging rows,
    then the end-of-year tables (result, learner_change) and the learner's end-of-year columns.

    schools (a re-run): only those schools' rows are rebuilt. The scripts then run in the schema
    `delta`, on views of those schools' staged rows; the tables they make there replace the schools'
    rows of the main tables and stay for aggregate_form (drop_delta drops them after the step)."""
    warehouse.load_codelists(con, SQL_CODELISTS)
    warehouse.create_macros(con)
    drop_delta(con)  # a re-run's, left by a step that failed before its drop
    if schools is not None:
        con.execute(f"CREATE SCHEMA {DELTA_SCHEMA}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {DELTA_SCHOOLS} (school_code VARCHAR)")
        warehouse.insert_rows(con, DELTA_SCHOOLS, [(c,) for c in schools])
        for source in catalog.sources():
            con.execute(f"CREATE VIEW {DELTA_SCHEMA}.{source.table} AS SELECT * FROM main.{source.table} "
                        f"WHERE school_code IN (SELECT school_code FROM {DELTA_SCHOOLS})")  # fmt: skip
        con.execute(f"SET search_path = '{DELTA_SCHEMA},main'")  # the scripts create and read delta.*
    try:
        sql = (SQL_DIR / "entities.sql").read_text(encoding="utf-8")
        con.execute(
            sql.format(run_id=ctx.run_id, start_year=int(ctx.start_year), as_of=ctx.as_of.isoformat())
        )
        # The start-of-year date (DN's as-of date) separates "at the start" from "during the year".
        year_start = date(int(ctx.start_year), *settings.PERIODS["DN"][1:])
        sql = (SQL_DIR / "results.sql").read_text(encoding="utf-8")
        con.execute(sql.format(run_id=ctx.run_id, start_year=int(ctx.start_year), as_of=ctx.as_of.isoformat(),
                               year_start=year_start.isoformat()))  # fmt: skip
    finally:
        con.execute("RESET search_path")
    if schools is None:
        return
    for (table,) in con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE schema_name = '{DELTA_SCHEMA}' ORDER BY 1"
    ).fetchall():
        con.execute(
            f"DELETE FROM main.{table} WHERE school_code IN (SELECT school_code FROM {DELTA_SCHOOLS})"
        )
        con.execute(f"INSERT INTO main.{table} SELECT * FROM {DELTA_SCHEMA}.{table}")


def record_history(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> int:
    """Replace this period's rows of school_history and school_grade_history (warehouse.py) with
    the typed tables' figures, for later runs' cross-period rules. Returns the schools written."""
    warehouse.create_history_tables(con)
    key = [ctx.school_year, ctx.period]
    con.execute("DELETE FROM school_history WHERE school_year = ? AND period = ?", key)
    con.execute("DELETE FROM school_grade_history WHERE school_year = ? AND period = ?", key)
    con.execute(
        """INSERT INTO school_history
        SELECT ?, ?, s.school_code, coalesce(l.n, 0), coalesce(c.n, 0), coalesce(t.staff, 0), coalesce(t.teachers, 0)
        FROM school s
        LEFT JOIN (SELECT school_code, count_if(enrolled) AS n FROM learner GROUP BY ALL) l USING (school_code)
        LEFT JOIN (SELECT school_code, count(*) AS n FROM class GROUP BY ALL) c USING (school_code)
        LEFT JOIN (SELECT school_code, count_if(active) AS staff, count_if(active AND staff_group = '03') AS teachers
                   FROM staff GROUP BY ALL) t USING (school_code)""",
        key,
    )
    con.execute(
        """INSERT INTO school_grade_history
        SELECT ?, ?, school_code, grade_code, count_if(enrolled), count_if(enrolled AND result_promotion = '1'),
               count_if(enrolled AND result_promotion = '2')
        FROM learner WHERE grade_code IS NOT NULL GROUP BY ALL""",
        key,
    )
    return warehouse.scalar(
        con, "SELECT count(*) FROM school_history WHERE school_year = ? AND period = ?", key
    )


# --- the form compiler -----------------------------------------------------------------------


def _measure(row: catalog.Row) -> tuple[str, str]:
    """(name, aggregate) of a row's measure over records: count(*) or sum(field)."""
    if row.measure == "count":
        return "m_count", "count(*)"
    m = re.fullmatch(r"sum\((\w+)\)", row.measure)
    if not m:
        raise catalog.CatalogError(f"row {row.code}: unknown measure {row.measure!r}")
    return f"m_{m.group(1)}", f"sum(coalesce({m.group(1)}, 0))"


def _referenced(columns: list[str], predicates: list[str]) -> list[str]:
    """The columns (of an entity table) that some predicate names."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(predicates)))
    return [c for c in columns if c in words]


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


def compile_form(form: catalog.Form, columns: dict[str, list[str]]) -> str:
    """One SQL statement yielding (school_code, row_code, col_key, value) for every school in scope.

    `columns` names the columns of each entity table (and of the school table with its
    attributes). For each (entity, column set) the records are first counted by school, column
    dimensions and the attributes the row filters read (a small cube); the row filters then run
    on that cube, not on every record. Every column of a row's column set is yielded; the
    form's grid (see _cell_grid) keeps the cells the form prints.
    """
    groups: dict[tuple[str, str], list[catalog.Row]] = defaultdict(list)
    for row in form.cell_rows:
        groups[(row.entity, form.sheet_of(row.sheet).column_set)].append(row)
    school_source = _school_source(form)
    # Materialised once: the per-school attributes scan other entities (learners, classes).
    ctes = [
        f"schools AS MATERIALIZED ({school_source[1:-1]})",
        f"scoped AS MATERIALIZED (SELECT school_code FROM schools WHERE {form.scope['school']})",
    ]
    selects = []
    for n, ((entity, set_name), rows) in enumerate(groups.items()):
        cset = form.column_sets[set_name]
        dims = list(cset.dims)
        attrs = [c for c in _referenced(columns[entity], [r.filter for r in rows]) if c not in dims]
        keys = ", ".join(["school_code", *dims, *attrs])
        measures = dict(_measure(r) for r in rows)
        aggs = ", ".join(f"{agg} AS {name}" for name, agg in measures.items())
        source = "schools" if entity == "school" else entity
        scope = form.scope.get(entity, "TRUE")
        ctes.append(
            f"base{n} AS (SELECT {keys}, {aggs} FROM {source}\n"
            f"  WHERE school_code IN (SELECT school_code FROM scoped) AND ({scope}) GROUP BY ALL)"
        )
        # No ELSE: a row no record meets sums to NULL, and UNPIVOT drops NULLs, so only
        # cells with records travel further (the work then scales with non-zero cells).
        sums = ",\n    ".join(
            f'sum(CASE WHEN {r.filter} THEN {_measure(r)[0]} END) AS "{r.code}"' for r in rows
        )
        ctes.append(
            f"cube{n} AS (\n  SELECT school_code, {', '.join(dims)},\n    {sums}\n  FROM base{n} GROUP BY ALL)"
        )
        codes = ", ".join(f'"{r.code}"' for r in rows)
        ctes.append(f"long{n} AS (UNPIVOT cube{n} ON {codes} INTO NAME row_code VALUE value)")
        # One pass over the long cube reads every column off it.
        col_sums = ", ".join(f'sum(CASE WHEN {c.filter} THEN value END) AS "{c.key}"' for c in cset.columns)
        col_keys = ", ".join(f'"{c.key}"' for c in cset.columns)
        ctes.append(f"wide{n} AS (SELECT school_code, row_code, {col_sums} FROM long{n} GROUP BY ALL)")
        selects.append(
            f"SELECT school_code, CAST(row_code AS INTEGER) AS row_code, col_key, value "
            f"FROM (UNPIVOT wide{n} ON {col_keys} INTO NAME col_key VALUE value)"
        )
    body = "\nUNION ALL\n".join(selects)
    return "WITH " + ",\n".join(ctes) + "\n" + body


def entity_columns(con: duckdb.DuckDBPyConnection, form: catalog.Form) -> dict[str, list[str]]:
    """Columns of each typed entity table; the school table also has the form's school attributes."""
    found: dict[str, list[str]] = defaultdict(list)
    tables = ", ".join(f"'{e}'" for e in catalog.FORM_ENTITIES)
    for table, column in con.execute(
        f"SELECT table_name, column_name FROM duckdb_columns() WHERE table_name IN ({tables}) "
        "AND schema_name = 'main' AND NOT internal ORDER BY column_index"
    ).fetchall():
        found[table].append(column)
    found["school"] += [a.name for a in form.school_attributes]
    return dict(found)


def _cell_grid(form: catalog.Form) -> list[tuple[int, str]]:
    """Every (row_code, col_key) the form prints a number in."""
    return [
        (r.code, c.key) for r in form.cell_rows for c in form.columns_for(r) if c.key not in r.not_applicable
    ]


def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext,
                   schools: list[str] | None = None) -> int:  # fmt: skip
    """Compute the form's cells for every school in scope (or, on a re-run, for the schools
    build_entity_tables rebuilt), then sum Phòng and Sở from the school cells; return the cell count.

    Cells are stored sparse: a cell the form prints but that is absent from `cells` is zero; a
    cell the form does not print ('#') never appears.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _grid (row_code INTEGER, col_key VARCHAR)")
    warehouse.insert_rows(con, "_grid", _cell_grid(form))
    # The units whose cells this run owns: its unit tree, and the Phòng and Sở its schools belong
    # to on the other boundary version (cells of an earlier run of the period on that version).
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _run_scope AS
        WITH schools AS (SELECT unit_code FROM units WHERE level = 'school'),
        parents AS (SELECT DISTINCT boundaries, parent_level AS level, parent_code AS unit_code FROM unit_membership
                    WHERE school_code IN (SELECT unit_code FROM schools) AND parent_code IS NOT NULL)
        SELECT level, unit_code FROM units
        UNION SELECT level, unit_code FROM parents
        UNION SELECT h.parent_level, h.parent_code FROM parents p JOIN hierarchy_units h USING (boundaries, level, unit_code)
        WHERE h.parent_level = 'so'"""
    )
    # --approved-only: the rollup reads a unit tree without the schools whose report is not approved.
    tree = "units"
    if ctx.approved_only:
        from pipelines import workflow

        tree = workflow.restrict_to_approved(con, ctx.school_year, ctx.period)
    # The school cells computed here: every school's, or on a re-run the rebuilt schools' (their typed
    # rows are in the schema `delta`, which the compiled SQL then reads first).
    delta = schools is not None
    if delta:
        con.execute(f"SET search_path = '{DELTA_SCHEMA},main'")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _computed AS {compile_form(form, entity_columns(con, form))}"
        )
    finally:
        con.execute("RESET search_path")
    # The school cells replaced: this run's schools (never another province's in the same warehouse),
    # on a re-run only the rebuilt ones.
    replaced = "unit_code IN (SELECT unit_code FROM _run_scope WHERE level = 'school')"
    if delta:
        replaced += f" AND unit_code IN (SELECT school_code FROM {DELTA_SCHOOLS})"
    period_form = f"school_year = '{ctx.school_year}' AND period = '{ctx.period}' AND form = '{form.form}'"
    # The deletes and inserts commit together (inside the aggregate step, with its transaction).
    with warehouse.transaction(con):
        con.execute(
            f"""
        CREATE TABLE IF NOT EXISTS cells (school_year VARCHAR, period VARCHAR, regime VARCHAR,
            form VARCHAR, level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR,
            value BIGINT, boundaries VARCHAR);
        ALTER TABLE cells ADD COLUMN IF NOT EXISTS boundaries VARCHAR;  -- warehouses from before issue 5
        DELETE FROM cells WHERE {period_form} AND level = 'school' AND {replaced};
        INSERT INTO cells
        SELECT '{ctx.school_year}', '{ctx.period}', '{form.regime}', '{form.form}', 'school',
               c.school_code, row_code, col_key, value, '{ctx.boundaries}'
        FROM _computed c
        JOIN _grid USING (row_code, col_key)
        JOIN units u ON u.level = 'school' AND u.unit_code = c.school_code
        WHERE c.value <> 0;
        -- This run's Phòng and Sở replace their cells, on either boundary version; other provinces' stay.
        DELETE FROM cells WHERE {period_form} AND level <> 'school'
            AND (level, unit_code) IN (SELECT level, unit_code FROM _run_scope);
        INSERT INTO cells
        -- Every Phòng and Sở above each school on the run's boundaries (the ministry is not a form level).
        WITH ancestors AS (
            SELECT s.unit_code AS school_code, p.level, p.unit_code FROM {tree} s
            JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
            WHERE s.level = 'school' AND p.level IN ('phong', 'so')
            UNION ALL
            SELECT s.unit_code, g.level, g.unit_code FROM {tree} s
            JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
            JOIN units g ON g.level = p.parent_level AND g.unit_code = p.parent_code
            WHERE s.level = 'school' AND g.level = 'so'
        )
        SELECT '{ctx.school_year}', '{ctx.period}', '{form.regime}', '{form.form}', a.level,
               a.unit_code, row_code, col_key, sum(value), '{ctx.boundaries}'
        FROM cells c JOIN ancestors a ON a.school_code = c.unit_code
        WHERE c.school_year = '{ctx.school_year}' AND c.period = '{ctx.period}' AND c.form = '{form.form}'
          AND c.level = 'school'
        GROUP BY ALL
            """
        )
    return warehouse.scalar(
        con,
        "SELECT count(*) FROM cells WHERE school_year = ? AND period = ? AND form = ?",
        [ctx.school_year, ctx.period, form.form],
    )


# --- any period on any boundary version ----------------------------------------------------

# Any period re-aggregated on any boundary version. School cells do not depend on the boundaries;
# each school is placed on a version by its membership on the period's as-of date (the last one on
# or before it, else the first after: a school first listed later), its cells are summed once to
# its parent, and the parents' sums to the Sở and the ministry.
#   unit_cells_on(boundaries, school_year, period): the Phòng, Sở and Bộ cells of one period on one
#     version (the fast path: it reads the period's school cells once);
#   cell_series: every period on every version, school rows included (for time series).
SERIES_SQL = """
CREATE OR REPLACE MACRO period_as_of(school_year, period) AS
    CASE period WHEN 'DN' THEN make_date(CAST(left(school_year, 4) AS INTEGER), 9, 30)
         ELSE make_date(CAST(left(school_year, 4) AS INTEGER) + 1, 5, 31) END;
CREATE OR REPLACE MACRO unit_cells_on(version, year, per) AS TABLE
WITH period_cells AS (
    SELECT regime, form, unit_code, row_code, col_key, value FROM cells
    WHERE school_year = year AND period = per AND level = 'school'),
placement AS (
    SELECT school_code,
           coalesce(arg_max(parent_level, as_of) FILTER (WHERE as_of <= period_as_of(year, per)),
                    arg_min(parent_level, as_of)) AS parent_level,
           coalesce(arg_max(parent_code, as_of) FILTER (WHERE as_of <= period_as_of(year, per)),
                    arg_min(parent_code, as_of)) AS parent_code
    FROM unit_membership WHERE boundaries = version AND parent_code IS NOT NULL GROUP BY school_code),
direct AS (
    SELECT regime, form, p.parent_level, p.parent_code, row_code, col_key, sum(value) AS value
    FROM period_cells c JOIN placement p ON p.school_code = c.unit_code GROUP BY ALL),
up AS (
    SELECT d.*, CASE WHEN d.parent_level = 'so' THEN d.parent_code ELSE h.parent_code END AS so_code
    FROM direct d LEFT JOIN hierarchy_units h
      ON h.boundaries = version AND h.level = d.parent_level AND h.unit_code = d.parent_code)
SELECT year AS school_year, per AS period, regime, form, version AS boundaries, 'phong' AS level,
       parent_code AS unit_code, row_code, col_key, value
FROM direct WHERE parent_level = 'phong'
UNION ALL
SELECT year, per, regime, form, version, 'so', so_code, row_code, col_key, sum(value)
FROM up WHERE so_code IS NOT NULL GROUP BY ALL
UNION ALL
SELECT year, per, regime, form, version, 'bo', 'BO', row_code, col_key, sum(value) FROM direct GROUP BY ALL;
CREATE OR REPLACE VIEW cell_series AS
WITH periods AS (SELECT DISTINCT school_year, period FROM cells WHERE level = 'school'),
versions AS (SELECT DISTINCT boundaries FROM hierarchy_units)
SELECT c.school_year, c.period, c.regime, c.form, v.boundaries, 'school' AS level, c.unit_code, c.row_code,
       c.col_key, c.value
FROM cells c CROSS JOIN versions v WHERE c.level = 'school'
UNION ALL
SELECT u.* FROM periods p CROSS JOIN versions v,
     LATERAL (SELECT * FROM unit_cells_on(v.boundaries, p.school_year, p.period)) u;
"""


def create_series_views(con: duckdb.DuckDBPyConnection) -> None:
    """The unit_cells_on macro and the cell_series view (above); need cells and the hierarchy tables."""
    con.execute(SERIES_SQL)


# --- relations ------------------------------------------------------------------------------


def relation_instances(form: catalog.Form) -> tuple[list[tuple], list[tuple]]:
    """Every relation applied to concrete cells: one instance per column of a row relation
    ("r37 = r38 + r39" in each column) and per row of a column relation ("T = CL + TT" on each row).

    Returns (instances, terms): instances are (id, relation id, check, basis, op, anchor row,
    anchor column); terms are (instance id, side, row, column). An instance with a term the form
    does not print ('#') is void and left out.
    """
    printed = set(_cell_grid(form))
    instances: list[tuple] = []
    terms: list[tuple] = []

    def add(rid: str, rel: catalog.Relation, anchor: tuple[int, str | None], cells: list[tuple]) -> None:
        if all((row, col) in printed for _, row, col in cells):
            n = len(instances)
            instances.append((n, rid, rel.check, rel.basis, rel.op, *anchor))
            terms.extend((n, side, row, col) for side, row, col in cells)

    for row in form.cell_rows:
        for i, rel in enumerate(row.relations):
            rid = f"{form.form}.r{row.code}.{i + 1}"
            for col in form.columns_for(row):
                cells = [("lhs", int(t[1:]), col.key) for t in rel.lhs] + [
                    ("rhs", int(t[1:]), col.key) for t in rel.rhs
                ]
                add(rid, rel, (int(rel.lhs[0][1:]), col.key), cells)
    for set_name, rels in form.column_relations.items():
        rows = [r for r in form.cell_rows if form.sheet_of(r.sheet).column_set == set_name]
        for i, rel in enumerate(rels):
            rid = f"{form.form}.{set_name}.{i + 1}"
            for row in rows:
                cells = [("lhs", row.code, t) for t in rel.lhs] + [("rhs", row.code, t) for t in rel.rhs]
                add(rid, rel, (row.code, None), cells)
    return instances, terms


def check_relations(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext) -> int:
    """Evaluate every relation instance on every unit's cells; store and count violations.

    Cells are sparse (absent = 0), so only instances with a non-zero term need evaluating: an
    instance whose cells are all zero holds for =, <= and >= alike.
    """
    instances, terms = relation_instances(form)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _instances (instance INTEGER, relation_id VARCHAR, check_text VARCHAR, "
        "basis VARCHAR, op VARCHAR, anchor_row INTEGER, anchor_col VARCHAR)"
    )
    warehouse.insert_rows(con, "_instances", instances)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _terms (instance INTEGER, side VARCHAR, row_code INTEGER, col_key VARCHAR)"
    )
    warehouse.insert_rows(con, "_terms", terms)
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
        WITH sides AS (
            SELECT c.level, c.unit_code, t.instance,
                   sum(CASE WHEN t.side = 'lhs' THEN c.value ELSE 0 END) AS lhs,
                   sum(CASE WHEN t.side = 'rhs' THEN c.value ELSE 0 END) AS rhs
            FROM _terms t
            JOIN cells c ON c.row_code = t.row_code AND c.col_key = t.col_key
            WHERE c.school_year = '{ctx.school_year}' AND c.period = '{ctx.period}' AND c.form = '{form.form}'
              AND (c.level, c.unit_code) IN (SELECT level, unit_code FROM units)
            GROUP BY c.level, c.unit_code, t.instance
        )
        SELECT '{ctx.run_id}', '{ctx.school_year}', '{ctx.period}', '{form.form}', s.level, s.unit_code,
               i.relation_id, i.check_text, i.basis, i.anchor_row, i.anchor_col, s.lhs, s.rhs
        FROM sides s JOIN _instances i USING (instance)
        WHERE NOT CASE i.op WHEN '=' THEN s.lhs = s.rhs WHEN '<=' THEN s.lhs <= s.rhs ELSE s.lhs >= s.rhs END
        """
    )
    return warehouse.scalar(
        con, "SELECT count(*) FROM relation_violations WHERE run_id = ? AND form = ?", [ctx.run_id, form.form]
    )


# --- population -----------------------------------------------------------------------------

# The columns of a population file (docs/input-contract.md, "Population") and of the `population` table.
POPULATION_COLUMNS = ("level", "unit_code", "year", "age", "sex", "population")
POPULATION_LEVELS = ("phong", "so")
POPULATION_SEXES = {"01": "male", "02": "female"}  # DM_GIOI_TINH


class PopulationError(ValueError):
    """A population file that cannot be read; the message is in Vietnamese and English."""


def read_population(path: Path) -> list[tuple[str, str, int, int, str, int]]:
    """The rows of a population CSV, checked: level phong|so, year, age 0-25, sex 01|02, population ≥ 0.

    Refuses the whole file on the first bad row, naming the line, the column and the value.
    """
    import csv

    path = Path(path)
    if not path.is_file():
        raise PopulationError(f"không có tệp dân số / population file not found: {path}")
    lo, hi = catalog.POPULATION_AGES
    rows: dict[tuple[str, str, int, int, str], int] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in POPULATION_COLUMNS if c not in header]
        if missing:
            raise PopulationError(f"{path.name}: thiếu cột / missing columns {', '.join(missing)} "
                                  f"(cần / expected {', '.join(POPULATION_COLUMNS)})")  # fmt: skip
        reader.fieldnames = header
        for line, raw in enumerate(reader, start=2):
            rec = {k: (raw.get(k) or "").strip() for k in POPULATION_COLUMNS}

            def bad(
                column: str, vi: str, en: str, rec: dict[str, str] = rec, line: int = line
            ) -> PopulationError:
                return PopulationError(f"{path.name} dòng / line {line}: cột / column {column} = {rec[column]!r}: "
                                       f"{vi} / {en}")  # fmt: skip

            if rec["level"] not in POPULATION_LEVELS:
                raise bad("level", "cấp đơn vị không hợp lệ (phong hoặc so)", "unknown level (phong or so)")
            if not rec["unit_code"]:
                raise bad("unit_code", "thiếu mã đơn vị", "missing unit code")
            numbers = {}
            for column in ("year", "age", "population"):
                if not rec[column].isdigit():
                    raise bad(column, "không phải số nguyên không âm", "not a non-negative whole number")
                numbers[column] = int(rec[column])
            if not 1900 <= numbers["year"] <= 2200:
                raise bad("year", "năm không hợp lệ", "not a calendar year")
            if not lo <= numbers["age"] <= hi:
                raise bad("age", f"tuổi phải từ {lo} đến {hi}", f"age must be {lo} to {hi}")
            sex = rec["sex"].zfill(2) if rec["sex"].isdigit() else rec["sex"]
            if sex not in POPULATION_SEXES:
                raise bad(
                    "sex", "giới tính phải là 01 (nam) hoặc 02 (nữ)", "sex must be 01 (male) or 02 (female)"
                )
            key = (rec["level"], rec["unit_code"], numbers["year"], numbers["age"], sex)
            if key in rows:
                raise bad("unit_code", "dòng trùng (cấp, đơn vị, năm, tuổi, giới tính)",
                          "duplicate (level, unit, year, age, sex)")  # fmt: skip
            rows[key] = numbers["population"]
    return [(*key, n) for key, n in rows.items()]


def load_population(con: duckdb.DuckDBPyConnection, path: Path | None) -> int:
    """Replace the warehouse's `population` table with the file's rows; no file: no table (and no
    rates over population). Returns the number of rows."""
    con.execute("DROP TABLE IF EXISTS population")
    if path is None:
        return 0
    rows = read_population(path)
    con.execute("CREATE TABLE population (level VARCHAR, unit_code VARCHAR, year INTEGER, age INTEGER, "
                "sex VARCHAR, population BIGINT)")  # fmt: skip
    warehouse.insert_rows(con, "population", rows)
    return len(rows)


# --- indicators -----------------------------------------------------------------------------

# numerator_rate / denominator_rate: the two rates an index of rates divides (GPI: GER female, GER male).
INDICATOR_COLUMNS = ("school_year", "period", "form", "indicator_id", "name_vi", "name_en", "status", "level",
                     "unit_code", "numerator", "denominator", "value", "numerator_rate",
                     "denominator_rate", "boundaries")  # fmt: skip
_INDICATOR_TYPES = {"numerator": "BIGINT", "denominator": "BIGINT", "value": "DOUBLE", "numerator_rate": "DOUBLE",
                    "denominator_rate": "DOUBLE"}  # fmt: skip


def _earlier(i: catalog.Indicator, ctx: RunContext) -> tuple[str | None, str | None, str | None]:
    """(form, school year, period) whose cells give a cohort rate's denominator, else Nones."""
    if not i.denominator_earlier:
        return None, None, None
    form, period, years_back = i.denominator_earlier
    start = int(ctx.start_year) - years_back
    # The earlier year may have been reported under another regime whose form borrows this grid.
    ids = {form} | {f.form for regime in settings.REGIMES for f in catalog.forms_for(regime, period)
                    if f.base_form == form}  # fmt: skip
    return ",".join(sorted(ids)), f"{start}-{start + 1}", period


def compute_indicators(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, forms: tuple[catalog.Form, ...]
) -> int:
    """Indicators per unit from the period's cells; each value keeps its numerator and denominator.

    A unit gets the indicators of every form it reports; absent cells are zero, and a ratio over
    a zero denominator is NULL (not computable), never 0. Rates over population go to the Phòng
    and Sở that report the form and have population rows for the start year (table `population`,
    see load_population); a gender parity index divides the unit's female and male rates.
    """
    # Indicators are declared on TT 24 form ids; a later regime's form borrowing that grid
    # (base_form) feeds the same indicators under its own id.
    run_form = {f.base_form or f.form: f.form for f in forms}
    chosen = [replace(i, form=run_form[i.form]) for i in catalog.indicators() if i.form in run_form]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _indicators (indicator_id VARCHAR, form VARCHAR, name_vi VARCHAR, "
        "name_en VARCHAR, status VARCHAR, kind VARCHAR, scale DOUBLE, age_from INTEGER, age_to INTEGER, "
        "pop_sex VARCHAR, gpi_female VARCHAR, gpi_male VARCHAR, den_form VARCHAR, den_year VARCHAR, den_period VARCHAR)"
    )
    warehouse.insert_rows(
        con,
        "_indicators",
        [(i.id, i.form, i.name_vi, i.name_en, i.status, i.kind, float(i.scale),
          *(i.population_ages or (None, None)), i.population_sex, *(i.gpi or (None, None)),
          *_earlier(i, ctx)) for i in chosen],
    )  # fmt: skip
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _indicator_cells (indicator_id VARCHAR, side VARCHAR, row_code INTEGER, col_key VARCHAR)"
    )
    warehouse.insert_rows(
        con,
        "_indicator_cells",
        [(i.id, side, row, col) for i in chosen
         for side, cells in (("num", i.numerator), ("den", i.denominator), ("minus", i.minus)) for row, col in cells],
    )  # fmt: skip
    # The population of the start year (none when the run was given no population file).
    has_population = warehouse.scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'population' AND NOT temporary"
    )
    source = (
        f"SELECT level, unit_code, age, sex, population FROM population WHERE year = {int(ctx.start_year)}"
    )
    empty = ("SELECT NULL::VARCHAR AS level, NULL::VARCHAR AS unit_code, NULL::INTEGER AS age, NULL::VARCHAR AS sex, "
             "NULL::BIGINT AS population WHERE FALSE")  # fmt: skip
    con.execute(f"CREATE OR REPLACE TEMP TABLE _population AS {source if has_population else empty}")
    columns = ", ".join(f"{c} {_INDICATOR_TYPES.get(c, 'VARCHAR')}" for c in INDICATOR_COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS indicators ({columns})")
    create_series_views(con)  # unit_cells_on, for the indicators on each boundary version
    for c in INDICATOR_COLUMNS:  # a warehouse made before a column was added gets it
        con.execute(
            f"ALTER TABLE indicators ADD COLUMN IF NOT EXISTS {c} {_INDICATOR_TYPES.get(c, 'VARCHAR')}"
        )
    con.execute("DELETE FROM indicators WHERE school_year = ? AND period = ?", [ctx.school_year, ctx.period])
    into = f"INSERT INTO indicators ({', '.join(INDICATOR_COLUMNS)})"
    head = f"'{ctx.school_year}', '{ctx.period}', i.form, i.indicator_id, i.name_vi, i.name_en, i.status"
    # On every boundary version: the school cells, and the Phòng, Sở and Bộ cells re-aggregated on it.
    for version in settings.BOUNDARIES:
        _insert_indicators(con, ctx, version, into, head)


def _insert_indicators(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, version: str, into: str, head: str
) -> None:
    """The indicators of the period's units on one boundary version (see compute_indicators)."""

    def on_version(year: str, period: str) -> str:
        return (f"SELECT form, level, unit_code, row_code, col_key, value FROM cells WHERE school_year = '{year}' "
                f"AND period = '{period}' AND level = 'school' UNION ALL SELECT form, level, unit_code, row_code, "
                f"col_key, value FROM unit_cells_on('{version}', '{year}', '{period}')")  # fmt: skip

    # Cohort rates read the earlier years' cells on the same version.
    pairs = con.execute(
        "SELECT DISTINCT den_year, den_period FROM _indicators WHERE kind = 'cohort' AND den_year IS NOT NULL ORDER BY ALL"
    ).fetchall()
    earlier = " UNION ALL ".join(
        f"SELECT '{year}' AS school_year, '{period}' AS period, * FROM ({on_version(year, period)})"
        for year, period in pairs
    ) or ("SELECT NULL::VARCHAR AS school_year, NULL::VARCHAR AS period, NULL::VARCHAR AS form, NULL::VARCHAR AS level, "
          "NULL::VARCHAR AS unit_code, NULL::INTEGER AS row_code, NULL::VARCHAR AS col_key, NULL::BIGINT AS value "
          "WHERE FALSE")  # fmt: skip
    con.execute(
        f"""
        {into}
        WITH c AS ({on_version(ctx.school_year, ctx.period)}),
        units AS (SELECT DISTINCT form, level, unit_code FROM c),
        sides AS (
            SELECT i.indicator_id, u.level, u.unit_code,
                   coalesce(sum(CASE WHEN ic.side = 'num' THEN c.value END), 0)
                   - coalesce(sum(CASE WHEN ic.side = 'minus' THEN c.value END), 0) AS num,
                   coalesce(sum(CASE WHEN ic.side = 'den' THEN c.value END), 0) AS den
            FROM _indicators i JOIN units u USING (form)
            JOIN _indicator_cells ic USING (indicator_id)
            LEFT JOIN c ON c.form = i.form AND c.level = u.level AND c.unit_code = u.unit_code
                AND c.row_code = ic.row_code AND c.col_key = ic.col_key
            GROUP BY ALL
        ),
        -- Cohort rates: the denominator cells of the same unit in an earlier year's form.
        cohort AS (
            SELECT i.indicator_id, e.level, e.unit_code, sum(e.value) AS den
            FROM _indicators i JOIN _indicator_cells ic USING (indicator_id)
            JOIN ({earlier}) e ON list_contains(string_split(i.den_form, ','), e.form)
                AND e.school_year = i.den_year AND e.period = i.den_period
                AND e.row_code = ic.row_code AND e.col_key = ic.col_key
            WHERE i.kind = 'cohort' AND ic.side = 'den'
            GROUP BY ALL
        ),
        pop_units AS (SELECT DISTINCT level, unit_code FROM _population),
        pop AS (
            SELECT i.indicator_id, pu.level, pu.unit_code, coalesce(sum(p.population), 0) AS den
            FROM _indicators i CROSS JOIN pop_units pu
            LEFT JOIN _population p ON p.level = pu.level AND p.unit_code = pu.unit_code
                AND p.age BETWEEN i.age_from AND i.age_to
                AND (i.pop_sex = 'all' OR p.sex = CASE i.pop_sex WHEN 'female' THEN '02' ELSE '01' END)
            WHERE i.kind = 'population'
            GROUP BY ALL
        )
        SELECT {head}, s.level, s.unit_code, s.num, CASE WHEN i.kind = 'ratio' THEN s.den END,
               CASE WHEN i.kind = 'count' THEN s.num WHEN s.den > 0 THEN round(s.num * i.scale / s.den, 2) END,
               NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id)
        WHERE i.kind IN ('count', 'ratio')
        UNION ALL
        SELECT {head}, s.level, s.unit_code, s.num, p.den,
               CASE WHEN p.den > 0 THEN round(s.num * i.scale / p.den, 2) END, NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id) JOIN pop p USING (indicator_id, level, unit_code)
        UNION ALL
        -- Without the earlier year in the warehouse the denominator is unknown: no value, not 0.
        SELECT {head}, s.level, s.unit_code, s.num, coalesce(h.den, 0),
               CASE WHEN h.den > 0 THEN round(s.num * i.scale / h.den, 2) END, NULL, NULL, '{version}'
        FROM sides s JOIN _indicators i USING (indicator_id)
        LEFT JOIN cohort h USING (indicator_id, level, unit_code)
        WHERE i.kind = 'cohort'
        """
    )
    # Gender parity index from the female and male rates just computed (both rounded as stored);
    # above 1 the UNESCO adjusted index 2 − 1/GPI keeps it within 0-2 and symmetric around 1.
    con.execute(
        f"""
        {into}
        WITH r AS (SELECT indicator_id, level, unit_code, value FROM indicators
                   WHERE school_year = '{ctx.school_year}' AND period = '{ctx.period}' AND boundaries = '{version}'),
        g AS (
            SELECT i.*, f.level, f.unit_code, f.value AS f, m.value AS m
            FROM _indicators i
            JOIN r f ON f.indicator_id = i.gpi_female
            JOIN r m ON m.indicator_id = i.gpi_male AND m.level = f.level AND m.unit_code = f.unit_code
            WHERE i.kind = 'gpi'
        )
        SELECT {head}, level, unit_code, NULL, NULL,
               CASE WHEN f IS NOT NULL AND m > 0 THEN round(CASE WHEN f > m THEN 2 - m / f ELSE f / m END, 2) END,
               f, m, '{version}'
        FROM g i
        """
    )
    return warehouse.scalar(
        con,
        "SELECT count(*) FROM indicators WHERE school_year = ? AND period = ?",
        [ctx.school_year, ctx.period],
    )
