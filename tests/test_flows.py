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
    # Read the run back through the server's API: five stage tasks and the summary artifact.
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        FlowRunFilterId,
    )

    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["run-summary"]))
        )
    assert run.state.is_completed()
    assert sorted(t.name.split(":")[0] for t in tasks) == [
        "aggregate",
        "export",
        "ingest",
        "prepare",
        "validate",
    ]
    assert any("02-TH-ĐN" in str(a.data) for a in artifacts)
