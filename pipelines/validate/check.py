"""Validate the staging tables with Great Expectations on the DuckDB warehouse, re-checking on a
re-run only what can have changed since the period's last validation."""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from dataclasses import replace
from pathlib import Path

import duckdb

from pipelines import catalog
from pipelines import warehouse as wh
from pipelines.validate.gx import run_gx
from pipelines.validate.results import (
    create_result_tables,
    failing_rows_sql,
    reject_schools,
    write_problems,
    write_quarantine,
)
from pipelines.validate.rules import Rule, ValidationSummary, compile_rules

VALIDATED_FILES = "validated_files"  # the staged files the last validation checked
DELTA = "validation_delta"  # the schools a re-run checks again (a table: GX reads through its own connection)


def _fingerprint(con: duckdb.DuckDBPyConnection, school_year: str, period: str, start_year: int) -> str:
    """What a school's results depend on besides its staged rows: the period, the code and schemas
    (rules, code lists) and the history of other periods that cross-period rules read."""
    history = con.execute(
        """SELECT (SELECT (count(*), bit_xor(hash(h))) FROM school_history h
                   WHERE NOT (school_year = $1 AND period = $2)),
                  (SELECT (count(*), bit_xor(hash(g))) FROM school_grade_history g
                   WHERE NOT (school_year = $1 AND period = $2))""",
        [school_year, period],
    ).fetchall()
    return hashlib.sha256(
        f"{school_year}\0{period}\0{start_year}\0{wh.code_digest()}\0{history}".encode()
    ).hexdigest()


def _changed_since_last(con: duckdb.DuckDBPyConnection, fingerprint: str) -> tuple[str | None, list[str]]:
    """(run whose results a re-run may reuse, schools whose staged file differs from what it checked);
    (None, []) when there is no such run (first run, other period, code or history changed)."""
    con.execute("CREATE TABLE IF NOT EXISTS validation_state (run_id VARCHAR, fingerprint VARCHAR)")
    last = con.execute("SELECT run_id FROM validation_state WHERE fingerprint = ?", [fingerprint]).fetchall()
    if not last:
        return None, []
    return last[0][0], sorted(wh.schools_whose_staged_file_changed(con, VALIDATED_FILES))


def _delta_rules(con: duckdb.DuckDBPyConnection, rules: list[Rule], changed: list[str]) -> list[Rule]:
    """The rules of a re-run: school-scoped rules on the changed schools' rows only (views
    delta_stg_<entity>), province-scoped rules on every row."""
    con.execute(f"CREATE OR REPLACE TABLE {DELTA} (school_code VARCHAR)")
    wh.insert_rows(con, DELTA, [(c,) for c in changed])
    for e in catalog.ENTITIES:
        con.execute(
            f"CREATE OR REPLACE VIEW delta_stg_{e} AS SELECT * FROM stg_{e} "
            f"WHERE school_code IN (SELECT school_code FROM {DELTA})"
        )
    return [r if r.scope == "province" else replace(r, batch=f"delta_stg_{r.entity}") for r in rules]


def _drop_delta(con: duckdb.DuckDBPyConnection) -> None:
    for e in catalog.ENTITIES:
        con.execute(f"DROP VIEW IF EXISTS delta_stg_{e}")
    con.execute(f"DROP TABLE IF EXISTS {DELTA}")


def validate_warehouse(
    warehouse: Path,
    run_id: str,
    school_year: str,
    period: str,
    start_year: int,
    docs_dir: Path | None = None,
    incremental: bool = True,
) -> ValidationSummary:
    """Validate the stg_* tables; append validation_results, replace this run's quarantine. With
    docs_dir, (re)build GX's Data Docs of this run there.

    A re-run (incremental, the default) checks again only what can have changed since the last
    validation of the same period under the same code and history: the rows of the schools whose
    staged file changed, for the school-scoped rules, and every row for the province-scoped ones
    (a rule's `scope`); the other schools' results of the last run are carried over."""
    started = time.perf_counter()
    path = Path(warehouse)
    rules = compile_rules(start_year, period)
    con = wh.connect(path)
    try:
        create_result_tables(con)
        # What the declared queries read besides the staging tables.
        wh.create_macros(con)
        wh.create_history_tables(con)
        wh.load_codelists(con, {name for r in rules for name in re.findall(r"\bcl_(\w+)", r.sql or "")})
        fingerprint = _fingerprint(con, school_year, period, start_year)
        last_run, changed = _changed_since_last(con, fingerprint) if incremental else (None, [])
        if last_run == run_id:  # the same run validating again (a retried task): all of it
            last_run, changed = None, []
        planned = _delta_rules(con, rules, changed) if last_run else rules
        n_rows = {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in {r.table for r in planned}
        }
        # A table without rows has nothing to fail (the end-of-year results in a start-of-year run, a
        # re-run's delta of an entity the changed schools do not send): GX is not asked about it.
        checked = [r for r in planned if n_rows[r.table]]
        if docs_dir is not None:
            shutil.rmtree(docs_dir, ignore_errors=True)  # one run's pages, not every run's
        results = run_gx(path, checked, docs_dir) if checked else {}
        checked_at = con.execute("SELECT CAST(now() AS TIMESTAMP)").fetchall()[0][0]
        head = [run_id, school_year, period, checked_at]
        con.execute("BEGIN")
        try:
            # A re-run under the same run_id replaces its results rather than doubling them.
            con.execute("DELETE FROM validation_results WHERE run_id = ?", [run_id])
            if last_run:
                # The unchanged schools' results of the school-scoped rules, as the last run found them.
                con.execute(
                    f"""INSERT INTO validation_results
                    SELECT ?, school_year, period, rule_id, severity, entity, school_code, file, record_index,
                           row_id, field, value, message_vi, message_en, ?
                    FROM validation_results WHERE run_id = ?
                      AND rule_id IN (SELECT unnest(?::VARCHAR[]))
                      AND school_code NOT IN (SELECT school_code FROM {DELTA})""",
                    [run_id, checked_at, last_run, [r.id for r in planned if r.batch]],
                )
            for rule in checked:
                rows_sql, expected = failing_rows_sql(rule, results[rule.id], n_rows[rule.table])
                if expected or rule.check == "rows":
                    write_problems(con, rule, rows_sql, expected, head)
            rejected = reject_schools(con, head)
            n_quarantined = write_quarantine(con, run_id, rejected)
            n_problems = con.execute(
                "SELECT count(*) FROM validation_results WHERE run_id = ?", [run_id]
            ).fetchall()[0][0]
            con.execute("DELETE FROM validation_state")
            con.execute("INSERT INTO validation_state VALUES (?, ?)", [run_id, fingerprint])
            wh.snapshot_staged_files(con, VALIDATED_FILES)
            _drop_delta(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            _drop_delta(con)
            raise
    finally:
        con.close()
    return ValidationSummary(
        run_id=run_id,
        n_rules=len(rules),
        n_problems=n_problems,
        n_quarantined=n_quarantined,
        schools_rejected=rejected,
        seconds=time.perf_counter() - started,
        schools_checked=len(changed) if last_run else None,
    )
