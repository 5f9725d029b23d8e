"""The typed record tables (sql/entities.sql, sql/results.sql) from the validated staging rows, the
per-school history later runs compare with, and the plan of a re-run (which schools to rebuild)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines import catalog, settings, warehouse
from pipelines.aggregate.context import SQL_CODELISTS, RunContext

# --- re-runs: rebuilding only the schools that changed ------------------------------------------
# A school's typed rows and cells depend only on its own staged rows, its quarantined rows and
# the code lists (sql/*.sql joins within a school); Phòng and Sở cells are sums of school cells.
# So a re-run rebuilds the schools whose staged file or quarantine changed since the period's
# last aggregation under the same code and settings, and sums every rollup again.
DELTA_SCHEMA = "delta"  # the changed schools' staging (views) and typed tables, while they are built
DELTA_SCHOOLS = "_delta_schools"
STAGE = "aggregate"  # its name in the change store (warehouse.changes)


def rebuild_plan(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, regime: str, full: bool = False
) -> list[str] | None:
    """The schools a re-run must rebuild, or None: rebuild every school (first aggregation of the
    period here, other code, settings or province, or --full)."""
    fingerprint = f"{warehouse.code_digest()}|{ctx.school_year}|{ctx.period}|{ctx.as_of}|{regime}|{ctx.boundaries}"
    last = warehouse.last_state(con, STAGE)
    warehouse.save_state(con, STAGE, ctx.run_id, fingerprint)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
              .fetchall()}  # fmt: skip
    if full or not last or last[1] != fingerprint or not {*catalog.FORM_ENTITIES, "cells"} <= tables:
        return None
    quarantine_changed = con.execute(
        """WITH q_now AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $1),
        q_last AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $2)
        SELECT school_code FROM ((SELECT * FROM q_now EXCEPT SELECT * FROM q_last)
                                 UNION ALL (SELECT * FROM q_last EXCEPT SELECT * FROM q_now))""",
        [ctx.run_id, last[0]],
    ).fetchall()
    changed = warehouse.changed_schools(con, STAGE)
    return sorted(c for c in changed | {c for (c,) in quarantine_changed} if c is not None)


def record_rebuild_state(con: duckdb.DuckDBPyConnection) -> None:
    """The staged files the period's typed tables and cells now reflect (for the next re-run)."""
    warehouse.save_staged_files(con, STAGE)


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
        # The start-of-year date (DN's as-of date) separates "at the start" from "during the year".
        year_start = date(int(ctx.start_year), *settings.PERIODS["DN"][1:])
        variables = {"run_id": ctx.run_id, "start_year": int(ctx.start_year), "as_of": ctx.as_of,
                     "year_start": year_start}  # fmt: skip
        warehouse.run_script(con, "aggregate/entities", variables)
        warehouse.run_script(con, "aggregate/results", variables)
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


