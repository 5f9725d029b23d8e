"""Cells: each form's cells per school from the compiled SQL, then every Phòng and Sở as sums of
school cells (cells are additive); and any period re-aggregated on any boundary version."""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import cell_grid, compile_form, entity_columns
from pipelines.aggregate.context import RunContext
from pipelines.aggregate.entities import DELTA_SCHEMA, DELTA_SCHOOLS


def restrict_to_approved(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> str:
    """A temporary view of `units` without the schools whose report is not approved (or locked) for
    the period: the unit tree the Phòng and Sở rollup reads with --approved-only. Returns its name."""
    warehouse.create_workflow_tables(con)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _approved_units AS SELECT * FROM units
        WHERE level <> 'school' OR unit_code IN (
            SELECT unit_code FROM workflow_state WHERE school_year = '{school_year}' AND period = '{period}'
            AND level = 'school' AND state IN ('approved', 'locked'))"""
    )
    return "_approved_units"



def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext,
                   schools: list[str] | None = None) -> int:  # fmt: skip
    """Compute the form's cells for every school in scope (or, on a re-run, for the schools
    build_entity_tables rebuilt), then sum Phòng and Sở from the school cells; return the cell count.

    Cells are stored sparse: a cell the form prints but that is absent from `cells` is zero; a
    cell the form does not print ('#') never appears.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _grid (row_code INTEGER, col_key VARCHAR)")
    warehouse.insert_rows(con, "_grid", cell_grid(form))
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
        tree = restrict_to_approved(con, ctx.school_year, ctx.period)
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


