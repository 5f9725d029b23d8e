from __future__ import annotations

from pipelines import warehouse


def test_a_committed_aggregation_is_recorded_once_with_its_settings(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.record_aggregate_run(con, "run-1", "2024-2025", "DN", "tt24", "2024")
        rows = con.execute(
            "SELECT run_id, school_year, period, regime, boundaries FROM aggregate_runs"
        ).fetchall()
        assert rows == [("run-1", "2024-2025", "DN", "tt24", "2024")]
        assert con.execute("SELECT aggregated_at IS NOT NULL FROM aggregate_runs").fetchall() == [(True,)]
