"""Cells: every form of the period at once — each entity read once into its shared cube, each form's
cells per school cut from the cubes (compiler.py), then every Phòng and Sở as sums of school cells
(cells are additive); the statements are in pipelines/sql/aggregate/cells.sql. Any period on any
boundary version: the macro unit_cells_on and the view cell_series (sql/warehouse/views.sql)."""

from __future__ import annotations

import logging
import time

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import (
    cell_grid,
    compile_forms,
    entity_columns,
    shared_cube_sql,
    shared_cubes,
    shared_table,
)
from pipelines.aggregate.context import RunContext

log = logging.getLogger(__name__)


def aggregate_forms(con: duckdb.DuckDBPyConnection, forms: tuple[catalog.Form, ...] | list[catalog.Form],
                    ctx: RunContext, schools: list[str] | None = None) -> dict[str, int]:  # fmt: skip
    """Compute every form's cells for every school in scope (or, on a re-run, for the schools
    build_entity_tables rebuilt), then sum Phòng and Sở from the school cells; return the cell count
    of each form.

    Cells are stored sparse: a cell the form prints but that is absent from `cells` is zero; a
    cell the form does not print ('#') never appears. With ctx.approved_only (--approved-only) the
    Phòng and Sở count only the schools whose report is approved or locked for the period.
    """
    forms = list(forms)
    if not forms:
        return {}
    t = time.perf_counter()
    con.execute(warehouse.sql("aggregate/cells", "create_forms"))
    warehouse.insert_rows(con, "_forms", [(i, f.form, f.regime) for i, f in enumerate(forms)])
    con.execute(warehouse.sql("aggregate/cells", "create_grid"))
    warehouse.insert_rows(con, "_grid", [(f.form, r, c) for f in forms for r, c in cell_grid(f)])
    con.execute(warehouse.sql("aggregate/cells", "create_run_scope"))
    # The school cells computed here: every school's, or on a re-run the rebuilt schools' (their typed
    # rows are in the schema `delta`, which the shared cubes then read first).
    if schools is not None:
        con.execute(warehouse.sql("aggregate/rerun", "search_delta"))
    try:
        columns = entity_columns(con, forms)
        cubes = shared_cubes(forms, columns)
        for cube in cubes:  # one pass over each entity, for every form
            con.execute(shared_cube_sql(cube))
        t_cubes = time.perf_counter()
        # Each form's cells cut off the cubes by a statement of its own: DuckDB runs the forms' cuts
        # one after the other faster than one statement holding them all (about 8 s against 14 s for
        # the six start-of-year forms of a 1,000-school province, on a loaded machine).
        con.execute(warehouse.sql("aggregate/cells", "create_computed"))
        for index, form in enumerate(forms):
            compiled = compile_forms([form], columns, first_index=index)
            con.execute(warehouse.sql("aggregate/cells", "compute"), {"compiled": compiled})
    finally:
        con.execute(warehouse.sql("aggregate/rerun", "reset_search_path"))
    for cube in cubes:
        con.execute(warehouse.sql("aggregate/cells", "drop_shared", table=shared_table(cube.entity)))
    t_cut = time.perf_counter()
    key = {"school_year": ctx.school_year, "period": ctx.period}
    # The deletes and inserts commit together (inside the aggregate step, with its transaction).
    with warehouse.transaction(con):
        con.execute(warehouse.sql("aggregate/cells", "delete_school_cells"), {**key, "rebuilt": schools})
        con.execute(
            warehouse.sql("aggregate/cells", "insert_school_cells"), {**key, "boundaries": ctx.boundaries}
        )
        con.execute(warehouse.sql("aggregate/cells", "delete_rollup"), key)
        con.execute(
            warehouse.sql("aggregate/cells", "insert_rollup"),
            {**key, "boundaries": ctx.boundaries, "approved_only": ctx.approved_only},
        )
    counts = dict(con.execute(warehouse.sql("aggregate/cells", "count_cells"), key).fetchall())
    con.execute(warehouse.sql("aggregate/cells", "drop_scratch"))
    log.debug("cells: shared cubes %.3f s, cut %.3f s, stored %.3f s", t_cubes - t, t_cut - t_cubes,
              time.perf_counter() - t_cut)  # fmt: skip
    return {f.form: counts.get(f.form, 0) for f in forms}


def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext,
                   schools: list[str] | None = None) -> int:  # fmt: skip
    """One form alone (aggregate_forms of it); return its cell count."""
    return aggregate_forms(con, [form], ctx, schools)[form.form]
