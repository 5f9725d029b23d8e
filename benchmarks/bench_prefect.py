"""Benchmark: the Prefect overhead of one run (issue 6) — the same province run by
pipeline.run_period directly and by the report_period flow against a real `prefect server start`
(SQLite), alternating, each on a fresh warehouse.

Reports per run: the wall time of each way, the tasks the flow ran, the sum of the stage times
each way (StepResult.seconds: the work itself), the overhead = flow wall time − direct wall time
(also per task), and within each flow run its wall time minus its tasks' run time: the
orchestration itself (flow and task-run API calls, artifacts and their warehouse query), which
does not move with the load of a shared machine as the difference of two runs does. The server's
start (15-25 s here) is paid once per server, not per run, and is reported apart.

    .venv/bin/python benchmarks/bench_prefect.py [--schools 1000] [--runs 2] [--dir /tmp/edustat-bench-prefect]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import time
from pathlib import Path

from _figures import emit

from pipelines import run as pipeline
from pipelines.ops.server import start_server, stop_process
from pipelines.synthetic import province as generate

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("EDUSTAT_PSEUDONYM_KEY", "bench-prefect-key")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/edustat-bench-prefect")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    root = Path(args.dir)
    gen_dir = root / f"gen-{args.schools}"

    import flows  # sets nothing global but Prefect's defaults; the client URL is set below

    home = root / "prefect"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    t = time.perf_counter()
    server, api_url = start_server(port=free_port(), ui=False, log=home / "server.log",
                                         env={"PREFECT_HOME": str(home / "home"),
                                              "PREFECT_API_DATABASE_CONNECTION_URL":
                                                  f"sqlite+aiosqlite:///{home / 'prefect.db'}"})  # fmt: skip
    print(f"server start: {time.perf_counter() - t:.1f} s ({api_url})")
    try:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from pipelines import settings

        if not (gen_dir / "registry.xlsx").exists():
            t = time.perf_counter()
            g = generate.generate_province("66", "2024-2025", "DN", args.schools, 7, gen_dir, 0.02)
            print(
                f"generated {g.n_schools} schools, {g.n_learners} learners in {time.perf_counter() - t:.0f} s"
            )
        warm_dir = root / "gen-warmup"
        if not (warm_dir / "registry.xlsx").exists():
            generate.generate_province("66", "2024-2025", "DN", 5, 7, warm_dir)
        direct, through, steps_direct, steps_flow, task_counts = [], [], [], [], []
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            # A warm-up of both ways on 5 schools (imports, first API calls), reported as "cold".
            runs = [("cold", "direct", warm_dir), ("cold", "prefect", warm_dir)]
            runs += [(i + 1, way, gen_dir) for i in range(args.runs) for way in ("direct", "prefect")]
            for i, way, inputs in runs:
                registry, inbox = inputs / "registry.xlsx", inputs / "inbox"
                run_dir = root / f"run-{way}"
                shutil.rmtree(run_dir, ignore_errors=True)
                w, out = run_dir / "warehouse.duckdb", run_dir / "out"
                t = time.perf_counter()
                if way == "direct":
                    s = settings.resolve("2024-2025", "DN", registry, inbox, w, out, processes=args.processes)
                    summary = pipeline.run_period(s)
                    if i == "cold":
                        print(f"run cold direct: {time.perf_counter() - t:.1f} s", flush=True)
                        continue
                    direct.append(time.perf_counter() - t)
                    steps_direct.append(sum(step.seconds for step in summary.steps))
                else:
                    state = flows.report_period(school_year="2024-2025", period="DN", registry=str(registry),
                                                inbox=str(inbox), warehouse=str(w), out=str(out),
                                                processes=args.processes, return_state=True)  # fmt: skip
                    assert state.is_completed(), state
                    if i == "cold":
                        print(f"run cold prefect: {time.perf_counter() - t:.1f} s", flush=True)
                        continue
                    through.append(time.perf_counter() - t)
                    run_id = state.state_details.flow_run_id
                    with get_client(sync_client=True) as client:
                        tasks = client.read_task_runs(
                            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
                        )
                    task_counts.append(len(tasks))
                    steps_flow.append(sum(t.total_run_time.total_seconds() for t in tasks))
                print(f"run {i} {way}: {time.perf_counter() - t:.1f} s", flush=True)
    finally:
        stop_process(server)
    d, p = statistics.median(direct), statistics.median(through)
    n = statistics.median(task_counts)
    print(f"\n{args.schools} schools, {args.runs} run(s) each way (medians):")
    print(f"  direct pipeline.run_period: {d:.1f} s (stages {statistics.median(steps_direct):.1f} s)")
    print(
        f"  report_period via Prefect:  {p:.1f} s (tasks {n:.0f}, task run time {statistics.median(steps_flow):.1f} s)"
    )
    print(f"  overhead: {p - d:+.1f} s per run ({(p - d) / d:+.1%}), {(p - d) / n:+.2f} s per task")
    # Within each flow run, the time outside its tasks: flow and task-run API calls, artifacts.
    # Unlike the difference of two runs, it does not move with the load of a shared machine.
    outside = statistics.median(w - s for w, s in zip(through, steps_flow, strict=True))
    print(
        f"  orchestration within a flow run (wall − task run time): {outside:.2f} s, {outside / n:.2f} s per task"
    )
    emit({"schools": args.schools, "runs": args.runs, "direct_s": round(d, 3), "prefect_s": round(p, 3),
          "tasks": n, "overhead_s": round(p - d, 3), "overhead_ratio": round((p - d) / d, 4),
          "orchestration_s": round(outside, 3), "orchestration_s_per_task": round(outside / n, 3)})  # fmt: skip


if __name__ == "__main__":
    from pipelines.warehouse import exit_skipping_teardown

    main()
    exit_skipping_teardown(0)
