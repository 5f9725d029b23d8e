"""The runs of the warehouse: which runs' aggregation of a period committed."""

from __future__ import annotations

import duckdb

from pipelines.warehouse.sql import sql


def record_aggregate_run(con: duckdb.DuckDBPyConnection, run_id: str, school_year: str, period: str,
                         regime: str, boundaries: str) -> None:  # fmt: skip
    """Note that this run's aggregation of the period is complete (call inside its transaction)."""
    con.execute(
        sql("warehouse/runs", "record_aggregate_run"), [run_id, school_year, period, regime, boundaries]
    )
