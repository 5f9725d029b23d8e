"""The runs of the warehouse: which runs' aggregation of a period committed."""

from __future__ import annotations

import duckdb


def record_aggregate_run(con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str,
                         regime: str, boundaries: str) -> None:  # fmt: skip
    """Note that this run's aggregation of the period is complete (call inside its transaction)."""
    con.execute("INSERT INTO aggregate_runs VALUES (?, ?, ?, ?, ?, CAST(now() AS TIMESTAMP))",
                [run_id, school_year, period, regime, boundaries])  # fmt: skip
