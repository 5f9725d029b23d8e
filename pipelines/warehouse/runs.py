"""The runs of the warehouse: which runs' aggregation of a period committed."""

from __future__ import annotations

import duckdb

# The runs whose aggregation committed, one row each (written inside the aggregate step's transaction).
AGGREGATE_RUNS = """CREATE TABLE IF NOT EXISTS aggregate_runs (run_id VARCHAR, school_year VARCHAR,
    period VARCHAR, regime VARCHAR, boundaries VARCHAR, aggregated_at TIMESTAMP)"""


def record_aggregate_run(con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str,
                         regime: str, boundaries: str) -> None:  # fmt: skip
    """Note that this run's aggregation of the period is complete (call inside its transaction)."""
    con.execute(AGGREGATE_RUNS)
    con.execute("INSERT INTO aggregate_runs VALUES (?, ?, ?, ?, ?, CAST(now() AS TIMESTAMP))",
                [run_id, school_year, period, regime, boundaries])  # fmt: skip
