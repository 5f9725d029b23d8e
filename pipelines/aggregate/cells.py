"""Cells: each form's cells per school from the compiled SQL, then every Phòng and Sở as sums of
school cells (cells are additive); the statements are in pipelines/sql/aggregate/cells.sql. Any period
on any boundary version: the macro unit_cells_on and the view cell_series (sql/warehouse/views.sql)."""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.compiler import cell_grid, compile_form, entity_columns
from pipelines.aggregate.context import RunContext


def aggregate_form(con: duckdb.DuckDBPyConnection, form: catalog.Form, ctx: RunContext,
                   schools: list[str] | None = None) -> int:  # fmt: skip
    """Compute the form's cells for every school in scope (or, on a re-run, for the schools
    build_entity_tables rebuilt), then sum Phòng and Sở from the school cells; return the cell count.

    Cells are stored sparse: a cell the form prints but that is absent from `cells` is zero; a
    cell the form does not print ('#') never appears. With ctx.approved_only (--approved-only) the
    Phòng and Sở count only the schools whose report is approved or locked for the period.
    """
    con.execute(warehouse.sql("aggregate/cells", "create_grid"))
    warehouse.insert_rows(con, "_grid", cell_grid(form))
    con.execute(warehouse.sql("aggregate/cells", "create_run_scope"))
    # The school cells computed here: every school's, or on a re-run the rebuilt schools' (their typed
    # rows are in the schema `delta`, which the compiled SQL then reads first).
    delta = schools is not None
    if delta:
        con.execute(warehouse.sql("aggregate/rerun", "search_delta"))
    try:
        compiled = compile_form(form, entity_columns(con, form))
        con.execute(warehouse.sql("aggregate/cells", "compute"), {"compiled": compiled})
    finally:
        con.execute(warehouse.sql("aggregate/rerun", "reset_search_path"))
    key = {"school_year": ctx.school_year, "period": ctx.period, "form": form.form}
    values = {**key, "regime": form.regime, "boundaries": ctx.boundaries}
    # The deletes and inserts commit together (inside the aggregate step, with its transaction).
    with warehouse.transaction(con):
        con.execute(warehouse.sql("aggregate/cells", "delete_school_cells"), {**key, "rebuilt": schools})
        con.execute(warehouse.sql("aggregate/cells", "insert_school_cells"), values)
        con.execute(warehouse.sql("aggregate/cells", "delete_rollup"), key)
        con.execute(
            warehouse.sql("aggregate/cells", "insert_rollup"), {**values, "approved_only": ctx.approved_only}
        )
    return warehouse.scalar(
        con, warehouse.sql("aggregate/cells", "count_cells"), [ctx.school_year, ctx.period, form.form]
    )
