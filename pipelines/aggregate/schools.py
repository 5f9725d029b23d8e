"""Every school counted once (issue 16): on every unit of the run's tree, the sum of the indicators
that count institutions (schemas/indicators: `counts_institutions`, one per form: a school is counted
as a school in the form of its highest level only) must equal the number of distinct schools below
it. The result of every unit goes to the table school_count_check; a unit where they differ is a
broken check, logged and counted (a school counted in no form, or in two)."""

from __future__ import annotations

import logging

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate.context import RunContext

log = logging.getLogger(__name__)


def check_school_counts(
    con: duckdb.DuckDBPyConnection, ctx: RunContext, forms: tuple[catalog.Form, ...], since: str | None = None
) -> int:
    """Compare, on every school, Phòng, commune and Sở of the run's tree, the schools the period's forms
    count with the distinct schools; store every unit's figures and return how many units differ. A
    period whose forms count no schools (the end of the year) has nothing to check. since (a re-run,
    see entities.touched_units): only the units in _touched are checked again; the others' rows stay,
    under this run's id."""
    run_forms = {f.base_form or f.form for f in forms}
    ids = [i.id for i in catalog.indicators() if i.counts_institutions and i.form in run_forms]
    key = {"school_year": ctx.school_year, "period": ctx.period}
    touched = since is not None
    con.execute(warehouse.sql("aggregate/rerun", "ensure_touched"))
    con.execute(warehouse.sql("aggregate/schools", "delete_checks"), {**key, "touched": touched})
    if not ids:
        return 0
    con.execute(
        warehouse.sql("aggregate/schools", "insert_checks"),
        {**key, "run_id": ctx.run_id, "boundaries": ctx.boundaries, "ids": ids,
         "approved_only": ctx.approved_only, "touched": touched},
    )  # fmt: skip
    if touched:
        con.execute(warehouse.sql("aggregate/schools", "claim_checks"), {**key, "run_id": ctx.run_id})
    broken = con.execute(warehouse.sql("aggregate/schools", "broken"), key).fetchall()
    for level, unit, counted, schools in broken:
        log.warning(
            "trường không được đếm đúng một lần / schools not counted once: %s %s: %s counted, %s schools",
            level, unit, counted, schools,
        )  # fmt: skip
    return len(broken)
