"""Cells: every form of the period at once — each form's cells per school read off its scoped records
(compiler.py), then every Phòng and Sở as sums of school cells (cells are additive); the statements are in pipelines/sql/aggregate/cells.sql. Any period on any
boundary version: the macro unit_cells_on and the view cell_series (sql/warehouse/views.sql)."""

from __future__ import annotations

import logging
import time

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import cell_grid, compile_forms, scope_check
from pipelines.aggregate.context import RunContext

log = logging.getLogger(__name__)


def aggregate_forms(con: duckdb.DuckDBPyConnection, forms: tuple[catalog.Form, ...] | list[catalog.Form],
                    ctx: RunContext, schools: list[str] | None = None, since: str | None = None) -> dict[str, int]:  # fmt: skip
    """Compute every form's cells for every school in scope (or, on a re-run, for the schools
    build_entity_tables rebuilt), then sum Phòng and Sở from the school cells; return the cell count
    of each form.

    On a re-run only the forms some rebuilt school is in the scope of are computed (the rebuilt
    schools' cells of every form are deleted). since (entities.touched_units: a re-run whose units'
    other inputs are unchanged): only the units in _touched are summed again, each from all its
    schools; the other units' cells, sums of unchanged school cells, stay.

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
    con.execute(warehouse.sql("aggregate/rerun", "ensure_touched"))
    # The school cells computed here: every school's, or on a re-run the rebuilt schools' (their typed
    # rows are in the schema `delta`, which the forms' statements then read first).
    if schools is not None:
        con.execute(warehouse.sql("aggregate/rerun", "search_delta"))
    try:
        # Each form's cells by a statement of its own: DuckDB runs the forms one after the other about
        # as fast as one statement holding them all, and plans each smaller statement faster.
        con.execute(warehouse.sql("aggregate/cells", "create_computed"))
        wanted = [True] * len(forms)
        if schools is not None:  # a re-run: the forms whose scope holds a rebuilt school
            wanted = list(con.execute(scope_check(forms)).fetchone())
        for index, form in enumerate(forms):
            if not wanted[index]:
                continue
            compiled = compile_forms([form], first_index=index)
            con.execute(warehouse.sql("aggregate/cells", "compute"), {"compiled": compiled})
    finally:
        con.execute(warehouse.sql("aggregate/rerun", "reset_search_path"))
    t_cut = time.perf_counter()
    key = {"school_year": ctx.school_year, "period": ctx.period}
    # The deletes and inserts commit together (inside the aggregate step, with its transaction).
    with warehouse.transaction(con):
        con.execute(warehouse.sql("aggregate/cells", "delete_school_cells"), {**key, "rebuilt": schools})
        con.execute(
            warehouse.sql("aggregate/cells", "insert_school_cells"), {**key, "boundaries": ctx.boundaries}
        )
        touched = since is not None
        con.execute(warehouse.sql("aggregate/cells", "delete_rollup"), {**key, "touched": touched})
        con.execute(
            warehouse.sql("aggregate/cells", "insert_rollup"),
            {**key, "boundaries": ctx.boundaries, "approved_only": ctx.approved_only, "touched": touched},
        )
    counts = dict(con.execute(warehouse.sql("aggregate/cells", "count_cells"), key).fetchall())
    con.execute(warehouse.sql("aggregate/cells", "drop_scratch"))
    log.debug("cells: cut %.3f s, stored %.3f s", t_cut - t, time.perf_counter() - t_cut)
    return {f.form: counts.get(f.form, 0) for f in forms}


def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext,
                   schools: list[str] | None = None, since: str | None = None) -> int:  # fmt: skip
    """One form alone (aggregate_forms of it); return its cell count."""
    return aggregate_forms(con, [form], ctx, schools, since)[form.form]
