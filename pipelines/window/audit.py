"""The audit trail: every state change of a unit's report, appended and never changed.

Every state change is a row of `audit` (who, when, what, from-state, to-state, why, run). The tool
only ever appends to it, never updates or deletes, and each row carries the hash of the previous
one (`prev_hash`, `row_hash`), so an edit made outside the tool shows (`verify_audit`). The current
state of a unit is its last audit row (view `workflow_state`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import duckdb
import pyarrow as pa

from pipelines import warehouse

AUDIT_COLUMNS = ("seq", "changed_at", "user_name", "action", "school_year", "period", "level", "unit_code",
                 "from_state", "to_state", "reason", "run_id", "prev_hash", "row_hash")  # fmt: skip


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


class AuditBatch:
    """Audit rows chained in memory and written in one statement when the batch closes: a run's
    thousands of state changes cost one read of the chain's end and one insert, not two statements
    each. Rows keep the order they were appended in; nothing else may append meanwhile (the run
    holds the warehouse's writer lock)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        last = con.execute(warehouse.sql("window/audit", "last_row")).fetchall()
        self.seq, self.prev = (last[0][0], last[0][1]) if last else (0, "")
        self.rows: list[tuple] = []
        self.written = 0  # rows inserted so far

    def append(self, values: tuple) -> None:
        """One row (changed_at … run_id), chained to the row before it."""
        self.seq += 1
        row = (self.seq, *values)
        row_hash = chained_hash(self.prev, row)
        self.rows.append((*row, self.prev, row_hash))
        self.prev = row_hash

    def write(self) -> None:
        """Insert the rows appended since the last write."""
        rows, self.rows = self.rows, []
        if rows:
            columns = list(zip(*rows, strict=True))
            table = pa.table(
                [pa.array(col, type=pa.timestamp("us") if name == "changed_at" else None)
                 for name, col in zip(AUDIT_COLUMNS, columns, strict=True)],
                names=AUDIT_COLUMNS,
            )  # fmt: skip
            self.con.register("_audit_rows", table)
            try:
                self.con.execute(warehouse.sql("window/audit", "append_rows"))
            finally:
                self.con.unregister("_audit_rows")
        self.written += len(rows)


@contextmanager
def audit_batch(con: duckdb.DuckDBPyConnection) -> Iterator[AuditBatch]:
    """A batch of audit rows, written when the block ends without an error."""
    batch = AuditBatch(con)
    yield batch
    batch.write()


def append_audit(con: duckdb.DuckDBPyConnection, values: tuple) -> None:
    """Append one audit row chained to the previous one (the only write the tool makes to audit)."""
    with audit_batch(con) as batch:
        batch.append(values)


def verify_audit(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The seq of every audit row whose chain is broken (edited, inserted or deleted outside the tool)."""
    broken, prev = [], ""
    for *row, prev_hash, row_hash in con.execute(warehouse.sql("window/audit", "all_rows")).fetchall():
        if prev_hash != prev or row_hash != chained_hash(prev, tuple(row)):
            broken.append(row[0])
        prev = row_hash
    return broken
