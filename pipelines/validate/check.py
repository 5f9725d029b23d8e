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
    failing_rows_sql,
    reject_schools,
    write_problems,
    write_quarantine,
)
from pipelines.validate.rules import Rule, ValidationSummary, compile_rules

STAGE = "validate"  # its name in the change store (warehouse.changes)


def _fingerprint(con: duckdb.DuckDBPyConnection, school_year: str, period: str, start_year: int) -> str:
    """What a school's results depend on besides its staged rows: the period, the code and schemas
    (rules, code lists) and the history of other periods that cross-period rules read."""
    history = con.execute(wh.sql("validate/state", "other_periods_history"), [school_year, period]).fetchall()
    return hashlib.sha256(
        f"{school_year}\0{period}\0{start_year}\0{wh.code_digest()}\0{history}".encode()
    ).hexdigest()


def _changed_since_last(con: duckdb.DuckDBPyConnection, fingerprint: str) -> tuple[str | None, list[str]]:
    """(run whose results a re-run may reuse, schools whose staged file differs from what it checked);
    (None, []) when there is no such run (first run, other period, code or history changed)."""
    last = wh.last_state(con, STAGE)
    if last is None or last[1] != fingerprint:
        return None, []
    return last[0], sorted(wh.changed_schools(con, STAGE))


def _delta_rules(con: duckdb.DuckDBPyConnection, rules: list[Rule], changed: list[str]) -> list[Rule]:
    """The rules of a re-run: school-scoped rules on the changed schools' rows only (copied into
    tables changed_stg_<entity>), province-scoped rules on every row. No school changed: no rule
    (every input of every rule is what the last run read; its results are carried over)."""
    con.execute(wh.sql("validate/state", "create_delta"))
    wh.insert_rows(con, "validation_delta", [(c,) for c in changed])
    if not changed:
        return []
    for e in catalog.ENTITIES:
        con.execute(wh.sql("validate/state", "delta_table", delta=f"changed_stg_{e}", table=f"stg_{e}"))
    return [r if r.scope == "province" else _on_changed(r) for r in rules]


_STAGING = re.compile(r"\bstg_(" + "|".join(catalog.ENTITIES) + r")\b")


def _on_changed(rule: Rule) -> Rule:
    """A school-scoped rule on the changed schools' rows, reading the changed schools' rows of the
    other staging tables too: its scope says no other school's records can change a row's result,
    so that is the same result, without the other tables' whole scans and joins."""
    sql = _STAGING.sub(r"changed_stg_\1", rule.sql) if rule.sql else rule.sql
    return replace(rule, batch=f"changed_stg_{rule.entity}", sql=sql)


def _drop_delta(con: duckdb.DuckDBPyConnection) -> None:
    for e in catalog.ENTITIES:
        con.execute(wh.sql("validate/state", "drop_delta_table", delta=f"changed_stg_{e}"))
    con.execute(wh.sql("validate/state", "drop_delta"))


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
        # What the declared queries read besides the staging tables and the schema's macros.
        wh.load_codelists(con, {name for r in rules for name in re.findall(r"\bcl_(\w+)", r.sql or "")})
        fingerprint = _fingerprint(con, school_year, period, start_year)
        last_run, changed = _changed_since_last(con, fingerprint) if incremental else (None, [])
        if last_run == run_id:  # the same run validating again (a retried task): all of it
            last_run, changed = None, []
        planned = _delta_rules(con, rules, changed) if last_run else rules
        n_rows = {
            t: wh.scalar(con, wh.sql("validate/state", "count_rows", table=t))
            for t in {r.table for r in planned}
        }
        # A table without rows has nothing to fail (the end-of-year results in a start-of-year run, a
        # re-run's delta of an entity the changed schools do not send): GX is not asked about it.
        checked = [r for r in planned if n_rows[r.table]]
        # GX's Data Docs show a whole validation: rebuilt by a full one (one run's pages, not every
        # run's), kept by a re-run, whose GX run sees only the changed schools (rendering the pages
        # costs more than the re-run's checks).
        if docs_dir is not None and last_run:
            docs_dir = None
        if docs_dir is not None:
            shutil.rmtree(docs_dir, ignore_errors=True)
        results = run_gx(path, checked, docs_dir) if checked else {}
        checked_at = wh.scalar(con, wh.sql("validate/state", "now"))
        head = [run_id, school_year, period, checked_at]
        try:
            with wh.transaction(con):
                # A re-run under the same run_id replaces its results rather than doubling them.
                con.execute(wh.sql("validate/state", "delete_run_results"), [run_id])
                if last_run:
                    # The unchanged schools' results of the rules not checked again on every row (the
                    # school-scoped ones; every rule when no school changed), as the last run found them.
                    carried = {r.id for r in rules} - {r.id for r in planned if not r.batch}
                    con.execute(
                        wh.sql("validate/state", "carry_over"),
                        {"run_id": run_id, "checked_at": checked_at, "last_run": last_run,
                         "rules": sorted(carried)},
                    )  # fmt: skip
                for rule in checked:
                    failing, expected = failing_rows_sql(rule, results[rule.id], n_rows[rule.table])
                    # A rule GX found no row of is not listed. (A rule counted by its own formula,
                    # count_sql, was listed at 0 too, to catch a formula counting other rows than the
                    # listing: 0.27 s of CPU of a province's run for its two duplicate rules, in the
                    # whole table's window sorts. tests/validate/test_rules.py checks that every
                    # rule's count equals its listing's.)
                    if expected:
                        write_problems(con, rule, failing, expected, head)
                rejected = reject_schools(con, head)
                n_quarantined = write_quarantine(con, run_id, rejected)
                n_problems = wh.scalar(con, wh.sql("validate/state", "count_run_results"), [run_id])
                wh.save_state(con, STAGE, run_id, fingerprint)
                wh.save_staged_files(con, STAGE)
                _drop_delta(con)
        except BaseException:
            _drop_delta(con)  # after the rollback
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
