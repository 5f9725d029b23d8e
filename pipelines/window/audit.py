"""The audit trail: every state change of a unit's report, appended and never changed.

Every state change is a row of `audit` (who, when, what, from-state, to-state, why, run). The tool
only ever appends to it, never updates or deletes, and each row carries the hash of the previous
one (`prev_hash`, `row_hash`), so an edit made outside the tool shows (`verify_audit`). The current
state of a unit is its last audit row (view `workflow_state`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import duckdb

from pipelines import warehouse


def state_of(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str, level: str, code: str
) -> str | None:
    return warehouse.scalar(
        con, warehouse.sql("window/audit", "state_of"), [school_year, period, level, code]
    )


def period_states(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str
) -> dict[tuple[str, str], str]:
    """Every unit's current state for a period: {(level, code): state}."""
    rows = con.execute(warehouse.sql("window/audit", "period_states"), [school_year, period]).fetchall()
    return {(lv, c): st for lv, c, st in rows}


def chained_hash(prev: str, values: tuple) -> str:
    text = json.dumps(
        [prev, *(v.isoformat() if isinstance(v, datetime) else v for v in values)], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append_audit(con: duckdb.DuckDBPyConnection, values: tuple) -> None:
    """Append one audit row chained to the previous one (the only write the tool makes to audit)."""
    last = con.execute(warehouse.sql("window/audit", "last_row")).fetchall()
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, "")
    row = (seq, *values)
    con.execute(warehouse.sql("window/audit", "append"), [*row, prev, chained_hash(prev, row)])


def verify_audit(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The seq of every audit row whose chain is broken (edited, inserted or deleted outside the tool)."""
    broken, prev = [], ""
    for *row, prev_hash, row_hash in con.execute(warehouse.sql("window/audit", "all_rows")).fetchall():
        if prev_hash != prev or row_hash != chained_hash(prev, tuple(row)):
            broken.append(row[0])
        prev = row_hash
    return broken
