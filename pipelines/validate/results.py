"""Validation results: every failing row of every rule (GX returns only a sample on SQL sources;
its index query lists them all) into `validation_results` (history across runs), the schools whose
school record has an error rejected whole, and this run's excluded rows into `quarantine`."""

from __future__ import annotations

from typing import Any

import duckdb

from pipelines import catalog
from pipelines import warehouse as wh
from pipelines.validate.rules import (
    REJECTED_EN,
    REJECTED_RULE,
    REJECTED_VI,
    Rule,
    failing_rows,
    insert_problems_sql,
)


def failing_rows_sql(rule: Rule, result: dict, n_rows: int) -> tuple[str, int]:
    """(A subquery of the rule's failing rows, the count GX reported) of one rule.

    Raises if GX's result is empty or saw another number of rows than the table holds: that is
    how the DuckDB connection problem (see patch_gx_for_duckdb) shows.
    """
    if result.get("element_count") != n_rows or result.get("unexpected_count") is None:
        raise RuntimeError(
            f"GX saw {result.get('element_count')} rows for {rule.id}, {rule.table} holds {n_rows}: {result}"
        )
    return failing_rows(rule), int(result["unexpected_count"])


def write_problems(
    con: duckdb.DuckDBPyConnection, rule: Rule, failing: str, expected: int, head: list[Any]
) -> int:
    """Every failing row of one rule into validation_results; refuses a count other than GX's."""
    params = [
        *head[:3],
        rule.id,
        rule.severity,
        rule.entity,
        rule.field,
        rule.message_vi,
        rule.message_en,
        head[3],
    ]
    inserted = con.execute(insert_problems_sql(rule, failing), params).fetchall()[0][0]
    if inserted != expected:
        raise RuntimeError(f"{rule.id}: GX counted {expected} failing rows but {inserted} were identified")
    return inserted


def reject_schools(con: duckdb.DuckDBPyConnection, head: list[Any]) -> tuple[str, ...]:
    """Schools whose school record has an error; one validation_results row each."""
    rejected = con.execute(wh.sql("validate/results", "rejected_schools"), [head[0]]).fetchall()
    con.execute(
        wh.sql("validate/results", "reject_schools"),
        {"run_id": head[0], "school_year": head[1], "period": head[2], "rule_id": REJECTED_RULE,
         "message_vi": REJECTED_VI, "message_en": REJECTED_EN, "checked_at": head[3]},
    )  # fmt: skip
    return tuple(r[0] for r in rejected)


def write_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, rejected: tuple[str, ...]) -> int:
    """This run's excluded rows: every row with an error, and every row of a rejected school."""
    con.execute(wh.sql("validate/results", "clear_quarantine"), [run_id])
    con.execute(wh.sql("validate/results", "create_hits"))
    con.execute(
        wh.sql("validate/results", "hits_of_errors"), {"run_id": run_id, "rejected_rule": REJECTED_RULE}
    )
    for source in catalog.sources():
        con.execute(
            wh.sql("validate/results", "hits_of_rejected_schools", table=source.table),
            {"entity": source.entity, "rejected_rule": REJECTED_RULE, "schools": list(rejected)},
        )
    con.execute(wh.sql("validate/results", "quarantine"), [run_id])
    return wh.scalar(con, wh.sql("validate/results", "count_quarantined"), [run_id])


def top_problems(con: duckdb.DuckDBPyConnection, run_id: str, limit: int) -> list[dict[str, object]]:
    """A run's most frequent validation problems: rule, severity, records, schools, messages."""
    result = con.execute(wh.sql("validate/results", "top_problems"), [run_id, limit])
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
