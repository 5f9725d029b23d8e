"""The typed record tables (sql/aggregate/entities.sql, results.sql) from the validated staging rows,
the per-school history later runs compare with, and the plan of a re-run (which schools to rebuild)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import catalog, settings, warehouse
from pipelines.aggregate.context import SQL_CODELISTS, RunContext
from pipelines.aggregate.indicators import earlier_periods

# --- re-runs: rebuilding only the schools that changed ------------------------------------------
# A school's typed rows and cells depend only on its own staged rows, its quarantined rows and
# the code lists (sql/*.sql joins within a school); Phòng and Sở cells are sums of school cells.
# So a re-run rebuilds the schools whose staged file or quarantine changed since the period's
# last aggregation under the same code and settings. While they are built, the changed schools'
# staging (views) and typed tables are in the schema `delta`, the schools in the temporary table
# _delta_schools (pipelines/sql/aggregate/rerun.sql). Above the schools, a re-run then redoes only the
# units those schools touch (touched_units): their Phòng, commune, Sở and the Bộ.
STAGE = "aggregate"  # its name in the change store (warehouse.changes)
UNITS_STAGE = "aggregate-units"  # the inputs of the units' rows beyond the school cells (touched_units)


def rebuild_plan(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, regime: str, full: bool = False
) -> list[str] | None:
    """The schools a re-run must rebuild, or None: rebuild every school (first aggregation of the
    period here, other code, settings or province, or --full)."""
    fingerprint = (
        f"{warehouse.code_digest()}|{ctx.school_year}|{ctx.period}|{ctx.as_of}|{regime}|{ctx.boundaries}"
    )
    last = warehouse.last_state(con, STAGE)
    warehouse.save_state(con, STAGE, ctx.run_id, fingerprint)
    tables = {r[0] for r in con.execute(warehouse.sql("aggregate/rerun", "main_tables")).fetchall()}
    if full or not last or last[1] != fingerprint or not {*catalog.FORM_ENTITIES, "cells"} <= tables:
        return None
    quarantine_changed = con.execute(
        warehouse.sql("aggregate/rerun", "quarantine_changed"), [ctx.run_id, last[0]]
    ).fetchall()
    changed = warehouse.changed_schools(con, STAGE)
    return sorted(c for c in changed | {c for (c,) in quarantine_changed} if c is not None)


def touched_units(
    con: duckdb.DuckDBPyConnection,
    ctx: RunContext,
    schools: list[str] | None,
    forms: tuple[catalog.Form, ...],
) -> str | None:
    """On a re-run (schools: the rebuilt ones), the units those schools touch go to the temporary
    table _touched (the schools, every unit above them on any boundary version, the Bộ), and the
    previous aggregation is returned: the other units' cells, indicators and school counts stay, and
    their relation problems are carried over from it. None: every unit is redone (every school
    rebuilt, or the unit tree, the schools' places, the population, the approved schools under
    --approved-only or an earlier period's cells a cohort rate reads changed since that aggregation).
    Call it after load_population; _touched is always (re)created, empty when schools is None."""
    digest = warehouse.scalar(
        con,
        warehouse.sql("aggregate/rerun", "downstream_digest"),
        {"start_year": int(ctx.start_year), "approved_only": ctx.approved_only, "school_year": ctx.school_year,
         "period": ctx.period, "earlier": earlier_periods(ctx, forms)},
    )  # fmt: skip
    last = warehouse.last_state(con, UNITS_STAGE)
    warehouse.save_state(con, UNITS_STAGE, ctx.run_id, digest)
    con.execute(warehouse.sql("aggregate/rerun", "create_touched"), {"schools": schools or []})
    if schools is None or not last or last[1] != digest or last[0] == ctx.run_id:
        return None
    return last[0]


def record_rebuild_state(con: duckdb.DuckDBPyConnection) -> None:
    """The staged files the period's typed tables and cells now reflect (for the next re-run)."""
    warehouse.save_staged_files(con, STAGE)


def drop_delta(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the re-run's schema `delta`, after its transaction: DuckDB 2.0 refuses to commit a
    transaction that inserted from delta.<t> into main.<t> and then dropped delta.<t>."""
    con.execute(warehouse.sql("aggregate/rerun", "drop_delta"))


def build_entity_tables(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, schools: list[str] | None = None
) -> None:
    """Typed record tables (school, site, class, learner, staff, rooms) from validated staging rows,
    then the end-of-year tables (result, learner_change) and the learner's end-of-year columns.

    schools (a re-run): only those schools' rows are rebuilt. The scripts then run in the schema
    `delta`, on views of those schools' staged rows; the tables they make there replace the schools'
    rows of the main tables and stay for aggregate_form (drop_delta drops them after the step)."""
    warehouse.load_codelists(con, SQL_CODELISTS)
    drop_delta(con)  # a re-run's, left by a step that failed before its drop
    if schools is not None:
        con.execute(warehouse.sql("aggregate/rerun", "create_delta"))
        con.execute(warehouse.sql("aggregate/rerun", "create_delta_schools"))
        warehouse.insert_rows(con, "_delta_schools", [(c,) for c in schools])
        for source in catalog.sources():
            con.execute(warehouse.sql("aggregate/rerun", "delta_view", table=source.table))
        con.execute(warehouse.sql("aggregate/rerun", "search_delta"))  # the scripts create and read delta.*
    try:
        # The start-of-year date (DN's as-of date) separates "at the start" from "during the year".
        year_start = date(int(ctx.start_year), *settings.PERIODS["DN"][1:])
        variables = {"run_id": ctx.run_id, "start_year": int(ctx.start_year), "as_of": ctx.as_of,
                     "year_start": year_start}  # fmt: skip
        warehouse.run_script(con, "aggregate/entities", variables)
        warehouse.run_script(con, "aggregate/results", variables)
    finally:
        con.execute(warehouse.sql("aggregate/rerun", "reset_search_path"))
    if schools is None:
        return
    for (table,) in con.execute(warehouse.sql("aggregate/rerun", "delta_tables")).fetchall():
        con.execute(warehouse.sql("aggregate/rerun", "delete_rebuilt", table=table))
        con.execute(warehouse.sql("aggregate/rerun", "insert_rebuilt", table=table))


def record_history(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> int:
    """Replace this period's rows of school_history and school_grade_history (schema.sql) with
    the typed tables' figures, for later runs' cross-period rules. Returns the schools written."""
    key = [ctx.school_year, ctx.period]
    con.execute(warehouse.sql("aggregate/history", "delete_school_history"), key)
    con.execute(warehouse.sql("aggregate/history", "delete_grade_history"), key)
    con.execute(warehouse.sql("aggregate/history", "insert_school_history"), key)
    con.execute(warehouse.sql("aggregate/history", "insert_grade_history"), key)
    return warehouse.scalar(con, warehouse.sql("aggregate/history", "count_schools"), key)
