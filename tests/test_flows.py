"""The report_period flow under a real (temporary) Prefect server."""

from __future__ import annotations

import pytest

from pipelines import generate, settings

prefect_testing = pytest.importorskip("prefect.testing.utilities")


@pytest.fixture(scope="session")
def prefect_server():
    # One temporary server for the session: it takes 15-25 s to start on these machines.
    with prefect_testing.prefect_test_harness(server_startup_timeout=120):
        yield


def test_report_period_flow_runs_every_stage_and_completes(prefect_server, tmp_path, monkeypatch):
    import flows

    monkeypatch.setenv(settings.KEY_ENV, "flow-test-key")
    gen = generate.generate_province("66", "2024-2025", "DN", 4, 5, tmp_path / "gen")
    state = flows.report_period(
        school_year="2024-2025", period="DN", registry=str(gen.registry), inbox=str(gen.inbox),
        warehouse=str(tmp_path / "w.duckdb"), out=str(tmp_path / "out"), processes=1, return_state=True,
    )  # fmt: skip
    assert state.is_completed()
    summary = state.result()
    assert "02-TH-ĐN" in summary
    assert (tmp_path / "out" / "forms" / "so" / "66" / "02-TH-DN.xlsx").exists()
    assert (tmp_path / "out" / "cells.parquet").exists()
