"""Cells: each form's cells per school from the compiled SQL, then every Phòng and Sở as sums of
school cells (cells are additive). Any period on any boundary version: the macro unit_cells_on and
the view cell_series (pipelines/sql/warehouse/views.sql)."""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import cell_grid, compile_form, entity_columns
from pipelines.aggregate.context import RunContext
from pipelines.aggregate.entities import DELTA_SCHEMA, DELTA_SCHOOLS


def restrict_to_approved(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> str:
    """A temporary view of `units` without the schools whose report is not approved (or locked) for
    the period: the unit tree the Phòng and Sở rollup reads with --approved-only. Returns its name."""
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
