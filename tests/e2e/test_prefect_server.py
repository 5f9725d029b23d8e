"""A real Prefect server (`prefect server start` as a subprocess, SQLite) shared by the session:
the reporting windows served by `edustat serve` and run through it, and a national run fanned out
to two `prefect worker start` processes on a process work pool.

The server starts once (15-25 s here): the session fixture `prefect_api` of tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines import settings
from pipelines.ops.server import ensure_process_pool, stop_process
from pipelines.synthetic import province as generate

pytestmark = pytest.mark.slow

pytest.importorskip("prefect")

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


def _child_env(server_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.pop(settings.KEY_ENV, None)
    return {**env, **server_env, **extra}


def _wait_for(
    check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"{what}: process ended ({proc.returncode}): {log.read_text() if log else ''}"
            )
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout} s {log.read_text()[-3000:] if log else ''}")


def _deployment(name: str):
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_deployment_by_name(name)
        except ObjectNotFound:
            return None


def _both_windows():
    found = _deployment("report_period/start-of-year-66"), _deployment("report_period/end-of-year-66")
    return found if all(found) else None


def test_edustat_serve_runs_a_window_deployment_through_the_server_and_stops_on_sigterm(
    prefect_api, tmp_path
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )
    from prefect.deployments import run_deployment

    import flows

    api_url, server_env = prefect_api
    gen = generate.generate_province("66", "2024-2025", "DN", 3, 11, tmp_path / "gen")
    log = tmp_path / "serve.log"
    command = [str(Path(sys.executable).with_name("edustat")), "serve", "--province", "66",
               "--registry", str(gen.registry), "--inbox", str(gen.inbox), "--warehouse",
               str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out"), "--processes", "1"]  # fmt: skip
    env = _child_env(server_env, PREFECT_RUNNER_POLL_FREQUENCY="2", **{settings.KEY_ENV: "serve-test-key"})
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        # `edustat serve` registers the two windows one after the other: wait for both.
        dn, cn = _wait_for(_both_windows, 120, "deployments", serve, log)
        # The windows: daily at 06:00 Vietnam time through October (DN) and June (CN), school year "auto".
        assert [(s.schedule.cron, s.schedule.timezone) for s in dn.schedules] == [
            ("0 6 * 10 *", "Asia/Ho_Chi_Minh")
        ]
        assert [(s.schedule.cron, s.schedule.timezone) for s in cn.schedules] == [
            ("0 6 * 6 *", "Asia/Ho_Chi_Minh")
        ]
        assert dn.parameters["school_year"] == "auto" and dn.parameters["period"] == "DN"
        assert dn.global_concurrency_limit.limit == 1  # one run of a window at a time
        assert cn.parameters["period"] == "CN" and cn.parameters["inbox"] == str(gen.inbox)
        # On demand, for the school year of the generated province.
        run = run_deployment(
            "report_period/start-of-year-66", parameters={"school_year": "2024-2025"}, timeout=300
        )
        assert run.state.is_completed(), (run.state, log.read_text()[-3000:])
        # One server: the one the user configured (PREFECT_API_URL), not a second one started behind it.
        said = log.read_text()
        assert (
            f"using the configured Prefect server {api_url}" in said
            and "started a Prefect server" not in said
        )
        with get_client(sync_client=True) as client:
            back = client.read_flow_run(run.id)
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            # Both windows' runs on this warehouse share one global slot, free again after the run.
            limit = client.read_global_concurrency_limit_by_name(
                flows.warehouse_limit_name(tmp_path / "w.duckdb")
            )
        assert (limit.limit, limit.active_slots) == (1, 0)
        assert back.deployment_id == dn.id and back.state.is_completed()
        assert len(tasks) == 5 and all(t.state.is_completed() for t in tasks)
        # Named, tagged and keyed for what it is (the deployment's run of 2024-2025 DN of Sở 66).
        assert back.name == "2024-2025 ĐN · Sở 66 · tt24 · ranh giới 2024"
        assert {"school-year:2024-2025", "period:DN", "province:66"} <= set(back.tags)
        assert back.state.name == "Completed: 3/3 schools"
        by_key = {a.key.removesuffix("-2024-2025-dn-tt24-b2024-so-66"): a for a in artifacts}
        assert {"run-summary", "run-figures", "run-late-schools", "run-outputs"} <= set(by_key)
        figures = {row["figure"]: row["value"] for row in json.loads(by_key["run-figures"].data)}
        assert figures["Trường đã nạp / schools received and loaded"] == 3
        # The window writes its own folder: --out/<school-year>/<period> (the CN window, --out/…/CN).
        assert list((tmp_path / "out" / "2024-2025" / "DN" / "forms" / "so" / "66").glob("*.xlsx"))
        # SIGTERM stops serving: the process ends and its deployments are paused (no more scheduled runs).
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(60) == 0, log.read_text()[-3000:]
        assert _deployment("report_period/start-of-year-66").paused
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)


def test_national_run_fans_out_provinces_to_two_workers_and_rolls_up_through_the_bucket(
    prefect_api, tmp_path
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterName,
        FlowRunFilterParentFlowRunId,
    )

    import flows

    api_url, server_env = prefect_api
    pool = "edustat-test-pool"
    ensure_process_pool(pool)
    env = _child_env(server_env, PREFECT_WORKER_QUERY_SECONDS="2", PREFECT_WORKER_PREFETCH_SECONDS="5")
    workers = []
    for name in ("worker-a", "worker-b"):
        log = tmp_path / f"{name}.log"
        command = [str(Path(sys.executable).with_name("prefect")), "worker", "start", "--pool", pool, "--type",
                   "process", "--name", name, "--limit", "1"]  # fmt: skip
        with open(log, "wb") as out:
            workers.append((subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                             start_new_session=True, cwd=tmp_path), log))  # fmt: skip
    try:
        deployment_id = flows.deploy_province(pool)
        inputs = tmp_path / "inputs"
        generate.generate_province("66", "2024-2025", "DN", 4, 3, inputs / "66")
        generate.generate_province("68", "2024-2025", "DN", 3, 4, inputs / "68")
        root = tmp_path / "national"
        state = flows.national_report(school_year="2024-2025", period="DN", inputs=str(inputs), root=str(root),
                                      deployment="national_province/province", return_state=True)  # fmt: skip
        assert state.is_completed() and state.name == "Completed", [
            log.read_text()[-3000:] for _, log in workers
        ]
        facts = state.result()
        assert facts["complete"] is True and facts["missing"] == {}
        assert facts["schools_66"] == 4 and facts["schools_68"] == 3
        # Each province ran on the pool, in its own worker process, into its own warehouse, and published
        # its tables to the bucket (ROOT/bucket by default: no shared partitions folder is read).
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]))
            )
            # Its report_period subflow named and tagged for what it is: the provinces told apart in the UI.
            names = [f"2024-2025 ĐN · Sở {p} · tt24 · ranh giới 2024" for p in ("66", "68")]
            # (the subflows of this test's province runs: the session's server also holds other tests' runs)
            reports = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=names),
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[r.id for r in runs])))  # fmt: skip
        assert sorted(r.name for r in runs) == ["national-province-66", "national-province-68"]
        assert sorted(r.name for r in reports) == names
        assert [sorted(t for t in r.tags if t.startswith("province:")) for r in sorted(reports, key=lambda r: r.name)] == [
            ["province:66"], ["province:68"]]  # fmt: skip
        assert all(r.work_pool_name == pool and r.state.is_completed() for r in runs)
        assert len({r.infrastructure_pid for r in runs}) == 2
        assert all(
            (root / "bucket" / "2024-2025" / "DN" / p / "manifest.json").is_file() for p in ("66", "68")
        )
        partitions = {p: root / "partitions" / f"{p}.duckdb" for p in ("66", "68")}
        assert all(path.exists() for path in partitions.values())

        # The national totals are the sum of the provinces: every ministry cell equals the sum of the
        # two Sở cells, and the sum of every school cell of both partitions.
        def sums(con, where: str) -> dict[tuple, int]:
            found = con.execute(
                f"SELECT form, row_code, col_key, sum(value) FROM cells WHERE {where} GROUP BY ALL"
            )
            return {tuple(r[:3]): int(r[3]) for r in found.fetchall()}

        province_sums: dict[tuple, int] = {}
        school_sums: dict[tuple, int] = {}
        for path in partitions.values():
            with duckdb.connect(str(path), read_only=True) as con:
                for key, value in sums(con, "level = 'so'").items():
                    province_sums[key] = province_sums.get(key, 0) + value
                for key, value in sums(con, "level = 'school'").items():
                    school_sums[key] = school_sums.get(key, 0) + value
        with duckdb.connect(str(root / "national.duckdb"), read_only=True) as con:
            national = sums(con, "level = 'bo' AND unit_code = 'BO'")
            so_units = {
                r[0]
                for r in con.execute("SELECT DISTINCT unit_code FROM cells WHERE level = 'so'").fetchall()
            }
        assert national and national == province_sums == school_sums
        assert so_units == {"66", "68"}
        assert (root / "output" / "national" / "cells.parquet").exists()
        with duckdb.connect(str(root / "national.duckdb"), read_only=True) as con:  # the analysts' views
            assert con.execute("SELECT count(*) FROM form_cells WHERE level = 'bo'").fetchone()[0] > 0
    finally:
        for proc, _ in workers:
            stop_process(proc)
