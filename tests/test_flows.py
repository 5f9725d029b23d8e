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
    # Four generated schools without defects, all loaded: Completed, and the state says so.
    assert state.is_completed() and state.name == "Completed: 4/4 schools", state
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
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()  # the run's logs, sent in batches, all on the server
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        logs = [
            log.message for log in client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        ]
    assert run.state.is_completed() and run.state.name == "Completed: 4/4 schools"
    # The stages' stdlib logs reach the run's logs: what each read, rejected, counted and wrote.
    for said in ("prepare: 4 trường", "ingest: 4 tệp / files, 4 nạp / loaded, 0 bị từ chối", "validate: ",
                 "aggregate: ", "export: "):  # fmt: skip
        assert any(m.startswith(said) for m in logs), (said, logs)
    # Named and tagged for what it is, though started by hand with no name or tag.
    assert run.name == "2024-2025 ĐN · Sở 66 · tt24 · ranh giới 2024"
    assert {"school-year:2024-2025", "period:DN", "regime:tt24", "boundaries:2024", "province:66"} <= set(
        run.tags
    )
    assert sorted(t.name.split(":")[0] for t in tasks) == [
        "aggregate",
        "export",
        "ingest",
        "prepare",
        "validate",
    ]
    # Keys of this school year, period, regime, boundaries and Sở: another run's do not overwrite them.
    by_key = {a.key.removesuffix("-2024-2025-dn-tt24-b2024-so-66"): a for a in artifacts}
    assert {"run-summary", "run-figures", "run-late-schools", "run-outputs"} <= set(by_key)
    assert "02-TH-ĐN" in str(by_key["run-summary"].data)
    assert "Completed: 4/4 schools" in str(by_key["run-summary"].data)
    assert f"({(tmp_path / 'out').resolve().as_uri()})" in by_key["run-outputs"].data  # a link to the folder
    # The key figures as a table artifact: the four schools registered, received and loaded.
    import json

    figures = {row["figure"]: row["value"] for row in json.loads(by_key["run-figures"].data)}
    assert by_key["run-figures"].type == "table"
    assert figures["Trường trong danh sách / schools registered"] == 4
    assert figures["Trường đã nạp / schools received and loaded"] == 4
    assert figures["Bản ghi cách ly / records quarantined"] == 0
    # Late and missing schools with their Phòng and deadline: the four files were written today, two
    # school years after the 2024 deadline, so all four are late and none is missing.
    late = json.loads(by_key["run-late-schools"].data)
    assert sorted(r["status"] for r in late) == ["late"] * 4
    assert all(r["deadline"].startswith("2024-10-") and "phong_code" in r for r in late)
    # Completeness and timeliness by Phòng and Sở (pipelines/workflow.py) as a second table.
    completeness = json.loads(by_key["run-completeness"].data)
    assert by_key["run-completeness"].type == "table" and completeness


@pytest.mark.slow
def test_a_run_that_loads_no_file_is_failed_in_the_ui(prefect_api, tmp_path, monkeypatch):
    """Two registered schools, both files unreadable: the steps run, but the run is Failed."""
    from prefect.client.orchestration import get_client

    import flows

    monkeypatch.setenv(settings.KEY_ENV, "flow-test-key")
    gen = generate.generate_province("66", "2024-2025", "DN", 2, 5, tmp_path / "gen")
    for path in gen.inbox.glob("*.json"):
        path.write_text("{broken", encoding="utf-8")
    state = flows.report_period(
        school_year="2024-2025", period="DN", registry=str(gen.registry), inbox=str(gen.inbox),
        warehouse=str(tmp_path / "w.duckdb"), out=str(tmp_path / "out"), processes=1, return_state=True,
    )  # fmt: skip
    assert state.is_failed(), state
    assert "no school was loaded" in state.message
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.state.is_failed() and "no school was loaded" in run.state.message


@pytest.mark.slow
def test_a_ledger_that_does_not_balance_stops_before_aggregation_and_fails(
    prefect_api, tmp_path, monkeypatch
):
    """Ingest's ledger check (its fact `ledger_balanced`) said False: no cells, no workbooks, Failed."""
    import flows
    from pipelines import run

    validate_step = run.validate_step

    def unbalanced(s):
        result = validate_step(s)
        return run.StepResult(result.step, result.seconds, {**result.facts, "ledger_balanced": False})

    monkeypatch.setattr(run, "validate_step", unbalanced)
    monkeypatch.setenv(settings.KEY_ENV, "flow-test-key")
    gen = generate.generate_province("66", "2024-2025", "DN", 2, 5, tmp_path / "gen")
    state = flows.report_period(
        school_year="2024-2025", period="DN", registry=str(gen.registry), inbox=str(gen.inbox),
        warehouse=str(tmp_path / "w.duckdb"), out=str(tmp_path / "out"), processes=1, return_state=True,
    )  # fmt: skip
    assert state.is_failed() and "the input ledger does not balance" in state.message
    assert not (tmp_path / "out" / "forms").exists()


HOLD_THE_SLOT = """
import sys, time
from pipelines import flows
with flows.warehouse_slot(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_a_run_killed_while_holding_the_warehouse_does_not_block_the_next_one_for_ever(prefect_api, tmp_path):
    # Seen in the kill trials: a `run --prefect` killed with SIGKILL left the warehouse's slot taken
    # (its lease in the server's memory, no repossessor), and every later run waited for ever.
    import os
    import signal
    import subprocess
    import sys

    from prefect.concurrency.sync import concurrency

    from pipelines import flows

    warehouse = str(tmp_path / "w.duckdb")
    env = {**os.environ, **prefect_api[1], "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-c", HOLD_THE_SLOT, warehouse], stdout=subprocess.PIPE, text=True,
                            env=env)  # fmt: skip
    assert proc.stdout.readline().strip() == "held"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    name = flows.warehouse_limit(warehouse)
    with pytest.raises(TimeoutError):  # the killed run's slot is still taken: the case is real
        with concurrency(name, occupy=1, strict=True, timeout_seconds=1):
            pass
    # Freed once its lease (60 s, the server's least) has expired and the repossessor (every 15 s) has seen it.
    with concurrency(name, occupy=1, strict=True, timeout_seconds=120):
        pass
