"""Validation results: every failing row of every rule (GX returns only a sample on SQL sources;
its index query lists them all) into `validation_results` (history across runs), the schools whose
school record has an error rejected whole, and this run's excluded rows into `quarantine`."""

from __future__ import annotations

from typing import Any

import duckdb

from pipelines import catalog
from pipelines.validate.rules import REJECTED_EN, REJECTED_RULE, REJECTED_VI, Rule, quoted


def create_result_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """CREATE TABLE IF NOT EXISTS validation_results (
            run_id VARCHAR, school_year VARCHAR, period VARCHAR, rule_id VARCHAR,
            severity VARCHAR, entity VARCHAR, school_code VARCHAR, file VARCHAR,
            record_index INTEGER, row_id BIGINT, field VARCHAR, value VARCHAR,
            message_vi VARCHAR, message_en VARCHAR, checked_at TIMESTAMP)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS quarantine (
            run_id VARCHAR, entity VARCHAR, row_id BIGINT, school_code VARCHAR, file VARCHAR,
            record_index INTEGER, rule_ids VARCHAR)"""
    )


def failing_rows_sql(rule: Rule, result: dict, n_rows: int) -> tuple[str, int]:
    """(SQL listing every failing row_id, the count GX reported) of one rule.

    Raises if GX's result is empty or saw another number of rows than the table holds: that is
    how the DuckDB connection problem (see patch_gx_for_duckdb) shows.
    """
    if rule.check == "rows":
        if result.get("observed_value") is None:
            raise RuntimeError(f"GX returned an empty result for {rule.id}: {result}")
        return rule.sql.format(batch=rule.table), int(result["observed_value"])
    if result.get("element_count") != n_rows:
        raise RuntimeError(
            f"GX saw {result.get('element_count')} rows for {rule.id}, {rule.table} holds {n_rows}"
        )
    # GX reports no count (None) on an empty table.
    count = int(result.get("unexpected_count") or 0)
    if n_rows and result.get("unexpected_count") is None:
        raise RuntimeError(f"GX returned an empty result for {rule.id}: {result}")
    query = result.get("unexpected_index_query")
    if count and not query:
        raise RuntimeError(f"GX returned no unexpected_index_query for {rule.id}")
    # GX returns only a sample of failing rows on SQL sources; its index query lists them all.
    return (f"SELECT row_id FROM ({query.strip().rstrip(';')}) AS u" if query else ""), count


def write_problems(
    con: duckdb.DuckDBPyConnection, rule: Rule, rows_sql: str, expected: int, head: list[Any]
) -> int:
    value = f"CAST(s.{quoted(rule.field)} AS VARCHAR)" if rule.field else "NULL"
    inserted = con.execute(
        f"""INSERT INTO validation_results
            SELECT ?, ?, ?, ?, ?, ?, s.school_code, s.file, s.record_index, s.row_id, ?,
                   {value}, ?, ?, ?
            FROM {rule.table} AS s WHERE s.row_id IN ({rows_sql})""",
        [
            *head[:3],
            rule.id,
            rule.severity,
            rule.entity,
            rule.field,
            rule.message_vi,
            rule.message_en,
            head[3],
        ],
    ).fetchall()[0][0]
    if inserted != expected:
        raise RuntimeError(f"{rule.id}: GX counted {expected} failing rows but {inserted} were identified")
    return inserted


def reject_schools(con: duckdb.DuckDBPyConnection, head: list[Any]) -> tuple[str, ...]:
    """Schools whose school record has an error; one validation_results row each."""
    rejected = con.execute(
        """SELECT DISTINCT school_code FROM validation_results
           WHERE run_id = ? AND entity = 'school' AND severity = 'error' ORDER BY 1""",
        [head[0]],
    ).fetchall()
    con.execute(
        """INSERT INTO validation_results
           SELECT ?, ?, ?, ?, 'error', 'school', s.school_code, s.file, s.record_index, s.row_id,
                  NULL, NULL, ?, ?, ?
           FROM stg_school AS s WHERE s.school_code IN (
               SELECT school_code FROM validation_results
               WHERE run_id = ? AND entity = 'school' AND severity = 'error')""",
        [*head[:3], REJECTED_RULE, REJECTED_VI, REJECTED_EN, head[3], head[0]],
    )
    return tuple(r[0] for r in rejected)


def write_quarantine(con: duckdb.DuckDBPyConnection, run_id: str, rejected: tuple[str, ...]) -> int:
    con.execute("DELETE FROM quarantine WHERE run_id = ?", [run_id])
    # Every row of a rejected school, in every staging table, is excluded as well.
    whole = " UNION ALL ".join(
        f"SELECT '{e}' AS entity, row_id, school_code, file, record_index, "
        f"'{REJECTED_RULE}' AS rule_id FROM stg_{e} "
        f"WHERE school_code IN (SELECT unnest(?::VARCHAR[]))"
        for e in catalog.ENTITIES
    )
    con.execute(
        f"""INSERT INTO quarantine
            WITH hits AS (
                SELECT entity, row_id, school_code, file, record_index, rule_id
                FROM validation_results
                WHERE run_id = ? AND severity = 'error' AND rule_id <> '{REJECTED_RULE}'
                UNION ALL {whole})
            SELECT ?, entity, row_id, any_value(school_code), any_value(file),
                   any_value(record_index), string_agg(DISTINCT rule_id, ',' ORDER BY rule_id)
            FROM hits GROUP BY entity, row_id""",
        [run_id, *([list(rejected)] * len(catalog.ENTITIES)), run_id],
    )
    return con.execute("SELECT count(*) FROM quarantine WHERE run_id = ?", [run_id]).fetchall()[0][0]


