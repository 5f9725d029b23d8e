"""The report_period flow under a real Prefect server (the session's `prefect server start`,
the fixture prefect_api of tests/conftest.py), its artifacts, and the reporting windows' schedules."""

from __future__ import annotations

import pytest

from pipelines import settings
from pipelines.synthetic import province as generate

pytest.importorskip("prefect")


def test_school_year_of_a_scheduled_run_is_the_one_in_progress():
    from datetime import date

    import flows

    assert flows.school_year_on(date(2024, 10, 1)) == "2024-2025"
    assert flows.school_year_on(date(2024, 10, 31)) == "2024-2025"
    assert flows.school_year_on(date(2025, 6, 15)) == "2024-2025"
    assert flows.school_year_on(date(2025, 9, 1)) == "2025-2026"


def test_window_deployments_run_daily_through_october_and_june(tmp_path):
    import asyncio
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from prefect.server.schemas.schedules import CronSchedule

    import flows

    deployments = {d.name: d for d in flows.window_deployments("66", tmp_path / "r.xlsx", tmp_path / "inbox")}
    assert set(deployments) == {"start-of-year-66", "end-of-year-66"}
    for name, month, period in (("start-of-year-66", 10, "DN"), ("end-of-year-66", 6, "CN")):
        deployment = deployments[name]
        assert deployment.parameters["period"] == period and deployment.parameters["school_year"] == "auto"
        (schedule,) = [s.schedule for s in deployment.schedules]
        cron = CronSchedule(cron=schedule.cron, timezone=schedule.timezone)
        start = datetime(2025, 1, 1, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
        # The dates the server's scheduler computes from the schedule over a year.
        days = {d.date() for d in asyncio.run(cron.get_dates(start=start, end=start + timedelta(days=365)))}
        assert len(days) == {10: 31, 6: 30}[month] and {d.month for d in days} == {month}


@pytest.mark.slow
def test_report_period_flow_runs_every_stage_and_completes(prefect_api, tmp_path, monkeypatch):
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
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    assert run.state.is_completed()
    assert sorted(t.name.split(":")[0] for t in tasks) == [
        "aggregate",
        "export",
        "ingest",
        "prepare",
        "validate",
    ]
    by_key = {a.key: a for a in artifacts}
    assert "02-TH-ĐN" in str(by_key["run-summary"].data)
    # The key figures as a table artifact: the four schools registered, received and loaded.
    import json

    figures = {row["figure"]: row["value"] for row in json.loads(by_key["run-figures"].data)}
    assert by_key["run-figures"].type == "table"
    assert figures["Trường trong danh sách / schools registered"] == 4
    assert figures["Trường đã nạp / schools received and loaded"] == 4
    assert figures["Bản ghi cách ly / records quarantined"] == 0
    # Completeness and timeliness by Phòng and Sở (pipelines/workflow.py) as a second table.
    completeness = json.loads(by_key["run-completeness"].data)
    assert by_key["run-completeness"].type == "table" and completeness
