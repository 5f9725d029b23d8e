"""The audit trail: appended, hash-chained, and an edit made outside the tool shows."""

from __future__ import annotations

from datetime import datetime

from pipelines import warehouse
from pipelines.window import audit


def _append(con, action: str, to_state: str, when: datetime) -> None:
    audit.append_audit(
        con, (when, "lan", action, "2024-2025", "DN", "school", "S1", None, to_state, None, "run-1")
    )


def test_each_row_carries_the_hash_of_the_one_before(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        _append(con, "submit", "received", datetime(2024, 10, 1, 8))
        _append(con, "validate", "validated", datetime(2024, 10, 1, 9))
        rows = con.execute("SELECT seq, prev_hash, row_hash FROM audit ORDER BY seq").fetchall()
        assert [r[0] for r in rows] == [1, 2]
        assert rows[0][1] == "" and rows[1][1] == rows[0][2]
        assert audit.verify_audit(con) == []
        assert audit.state_of(con, "2024-2025", "DN", "school", "S1") == "validated"


def test_a_deleted_row_breaks_the_chain_of_the_row_after_it(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        for hour, (action, state) in enumerate((("submit", "received"), ("validate", "validated"),
                                                ("approve", "approved")), start=8):  # fmt: skip
            _append(con, action, state, datetime(2024, 10, 1, hour))
        con.execute("DELETE FROM audit WHERE seq = 2")  # outside the tool
        assert audit.verify_audit(con) == [3]


def test_the_current_states_of_a_period_are_each_units_last_row(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        _append(con, "submit", "received", datetime(2024, 10, 1, 8))
        audit.append_audit(con, (datetime(2024, 10, 2), "minh", "submit", "2024-2025", "DN", "phong", "643", None,
                                 "received", None, "run-1"))  # fmt: skip
        _append(con, "validate", "validated", datetime(2024, 10, 3))
        assert audit.period_states(con, "2024-2025", "DN") == {
            ("school", "S1"): "validated",
            ("phong", "643"): "received",
        }
        assert audit.period_states(con, "2024-2025", "CN") == {}


def test_a_batch_writes_the_same_chain_as_rows_appended_one_by_one(tmp_path):
    """A run's moves go through one AuditBatch: its rows must be exactly the rows that appending them one
    at a time would write (same seq, hashes, microseconds), continuing the chain already there."""
    moves = [(datetime(2024, 10, 1, 8, 0, 0, 123456), "edustat", "submit", "2024-2025", "DN", "school", f"S{i}",
              None, "received", f"phiên bản / version 1: s{i}.json", "run-2") for i in range(3)]  # fmt: skip
    with (
        warehouse.connect(tmp_path / "one.duckdb") as one,
        warehouse.connect(tmp_path / "batch.duckdb") as batch,
    ):
        for con in (one, batch):
            _append(con, "submit", "received", datetime(2024, 9, 30, 8))
        for move in moves:
            audit.append_audit(one, move)
        with audit.audit_batch(batch) as rows:
            for move in moves:
                rows.append(move)
            assert batch.execute("SELECT count(*) FROM audit").fetchall() == [(1,)]  # written when it closes
        assert rows.written == 3
        every_row = "SELECT * FROM audit ORDER BY seq"
        assert batch.execute(every_row).fetchall() == one.execute(every_row).fetchall()
        assert [r[0] for r in batch.execute(every_row).fetchall()] == [1, 2, 3, 4]
        assert audit.verify_audit(batch) == []


def test_a_batch_left_by_an_error_writes_nothing(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        try:
            with audit.audit_batch(con) as rows:
                rows.append((datetime(2024, 10, 1), "lan", "submit", "2024-2025", "DN", "school", "S1", None,
                             "received", None, "run-1"))  # fmt: skip
                raise RuntimeError("the run stopped")
        except RuntimeError:
            pass
        assert con.execute("SELECT count(*) FROM audit").fetchall() == [(0,)]
