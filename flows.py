"""Prefect flows: thin wiring of the pipeline's steps as a handful of coarse tasks.

Run one period through Prefect with `edustat run --prefect …` (a temporary local server starts
when none is configured) or against `prefect server start` (set PREFECT_API_URL). Tasks are
coarse on purpose: one per stage, never one per school.

- `report_period`: one province, one period (five stage tasks; a Markdown and table artifacts).
- `window_deployments`: the reporting windows as deployments of `report_period` with schedules:
  the start of year daily from 1/10 to 31/10, the end of year daily from 1/6 to 30/6, each also
  runnable on demand. `edustat serve` serves them against a local server (`serve_window`).
- `national_report`: one subflow per province (through a deployment on a process work pool when
  one is given, so workers on several machines share the work), each province writing its own
  partition `ROOT/partitions/<province>.duckdb`; then `national_rollup` reads every partition
  read-only and sums the Sở rows to the ministry.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from pathlib import Path

# A temporary server on a small machine needs more than Prefect's default start-up time, and
# no analytics leave this machine (DESIGN.md, Prefect facts).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
# The stages log through stdlib logging under `pipelines`: Prefect sends those records to the run's
# logs in the UI too.
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipelines")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact, create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.concurrency.sync import concurrency  # noqa: E402

from pipelines import run, settings  # noqa: E402
from pipelines.aggregate.national import national_rollup  # noqa: E402
from pipelines.ops.server import ensure_process_pool  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent
TIMEZONE = "Asia/Ho_Chi_Minh"
AUTO = "auto"  # school_year of a scheduled run: the school year in progress on its scheduled date
# The reporting windows: period → (deployment name prefix, cron: every day of the window at 06:00).
WINDOWS = {"DN": ("start-of-year", "0 6 * 10 *"), "CN": ("end-of-year", "0 6 * 6 *")}
PROVINCE_DEPLOYMENT = "province"  # report_period's deployment on a work pool (national runs)


@task(name="prepare: registry and unit tree", cache_policy=NO_CACHE)
def prepare_task(s: settings.Settings) -> run.StepResult:
    return run.prepare(s)


@task(name="ingest: school files", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def ingest_task(s: settings.Settings) -> run.StepResult:
    return run.ingest_step(s)


@task(name="validate: Great Expectations on DuckDB", cache_policy=NO_CACHE)
def validate_task(s: settings.Settings) -> run.StepResult:
    return run.validate_step(s)


@task(name="aggregate: forms, rollup, relations", cache_policy=NO_CACHE)
def aggregate_task(s: settings.Settings) -> run.StepResult:
    return run.aggregate_step(s)


@task(name="export: workbooks and tidy tables", cache_policy=NO_CACHE)
def export_task(s: settings.Settings) -> run.StepResult:
    return run.export_step(s)


def school_year_on(day: date) -> str:
    """The school year in progress on a day (it starts in September): 15/10/2024 and 15/6/2025 →
    "2024-2025"."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def _scheduled_day() -> date:
    """The run's scheduled day in Vietnam (today for a run started by hand)."""
    from zoneinfo import ZoneInfo

    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time
    if isinstance(when, datetime):
        return when.astimezone(ZoneInfo(TIMEZONE)).date()
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def _publish_artifacts(s: settings.Settings, summary: run.RunSummary) -> None:
    """The run's artifacts: its summary (Markdown), key figures and top problems (tables), and the
    completeness of submissions."""
    text = run.summary_text(summary)
    label = f"{s.school_year} {s.period}"
    create_markdown_artifact(markdown=text, key="run-summary", description=label)
    create_table_artifact(table=run.key_figures(summary), key="run-figures", description=f"{label}: key figures")
    problems = run.top_problems(s)
    if problems:
        create_table_artifact(table=problems, key="run-top-problems",
                              description=f"{label}: top validation problems")  # fmt: skip
    try:
        rows = run.completeness_table(s)
    except Exception:  # the outputs are written: a missing table is logged, not a failed run
        get_run_logger().exception("completeness table artifact not published")
        return
    if rows:
        create_table_artifact(table=rows, key="run-completeness",
                              description=f"{label}: completeness and timeliness")  # fmt: skip


def warehouse_limit_name(path: str | Path) -> str:
    return "edustat-warehouse-" + hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:12]


def warehouse_limit(path: str | Path) -> str:
    """The global concurrency limit (one slot) of a warehouse file, created on first use: one writer
    at a time through Prefect; warehouse.writer_lock still refuses a run started outside it."""
    from prefect.client.orchestration import get_client

    name = warehouse_limit_name(path)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit=1)
    return name


@flow(name="report_period", log_prints=True)
def report_period(school_year: str, period: str, registry: str, inbox: str, warehouse: str | None = None,
                  out: str | None = None, processes: int = 2, regime: str | None = None,
                  population: str | None = None, boundaries: str | None = None,
                  approved_only: bool = False, full: bool = False) -> str:  # fmt: skip
    """Ingest → validate → aggregate → export one reporting period; returns the run summary.

    school_year "auto": the school year in progress on the run's scheduled date (deployments).
    approved_only: the Phòng and Sở reports from approved schools only (pipelines/window/approvals.py).
    full: redo everything, not only what changed since the period's last run.
    The run holds the warehouse's global concurrency slot (warehouse_limit) throughout, so runs of
    the two windows, or of provinces sharing a warehouse, wait for each other.
    """
    if school_year == AUTO:
        school_year = school_year_on(_scheduled_day())
    s = settings.resolve(school_year, period, registry, inbox, warehouse, out, processes=processes, regime=regime,
                         population=population, boundaries=boundaries, approved_only=approved_only,
                         full=full)  # fmt: skip
    with concurrency(warehouse_limit(s.warehouse), occupy=1, strict=True):
        steps = [prepare_task(s), ingest_task(s), validate_task(s), aggregate_task(s), export_task(s)]
    summary = run.RunSummary(s, tuple(steps))
    _publish_artifacts(s, summary)
    return run.summary_text(summary)


# --- the reporting windows: deployments with schedules ---------------------------------------


def window_deployments(province: str, registry: str | Path, inbox: str | Path, warehouse: str | Path | None = None,
                       out: str | Path | None = None, processes: int = 2,
                       population: str | Path | None = None) -> list:  # fmt: skip
    """The start-of-year and end-of-year windows of one province as deployments of report_period.

    Each runs daily at 06:00 (Vietnam time) through its window (DN: 1/10–31/10, CN: 1/6–30/6) on
    the school year in progress ("auto"); either can be run on demand from the UI or with
    `prefect deployment run 'report_period/start-of-year-66'` (override school_year there).
    """
    from prefect.schedules import Cron

    deployments = []
    for period, (prefix, cron) in WINDOWS.items():
        parameters = {"school_year": AUTO, "period": period, "registry": str(registry), "inbox": str(inbox),
                      "warehouse": str(warehouse) if warehouse else None, "out": str(out) if out else None,
                      "processes": processes, "population": str(population) if population else None}  # fmt: skip
        deployments.append(
            report_period.to_deployment(
                name=f"{prefix}-{province}",
                concurrency_limit=1,  # one run of a window at a time (the warehouse has one writer)
                schedules=[Cron(cron, timezone=TIMEZONE)],
                parameters=parameters,
                tags=["edustat", f"province-{province}", period],
                description=f"{prefix} window of province {province}: daily during the window, or on demand",
            )  # fmt: skip
        )
    return deployments


def serve_window(deployments: list, limit: int | None = 1) -> None:
    """Serve the deployments in this process until SIGTERM or Ctrl-C (blocks)."""
    from prefect import serve

    serve(*deployments, limit=limit)


# --- a local Prefect server ------------------------------------------------------------------


# --- national runs over a process work pool ---------------------------------------------------


def deploy_province(pool: str, name: str = PROVINCE_DEPLOYMENT):
    """Deploy report_period to a process work pool as `report_period/<name>`; returns its id.

    The code is this project's folder: every worker machine must see it at the same path (a
    shared filesystem) or run from a checkout of the same commit there; `.from_source` with a git
    URL is the alternative when machines do not share a filesystem.
    """
    ensure_process_pool(pool)
    source = report_period.from_source(source=str(PROJECT_ROOT), entrypoint="flows.py:report_period")
    return source.deploy(name=name, work_pool_name=pool, build=False, push=False, print_next_steps=False,
                         ignore_warnings=True, tags=["edustat", "province"])  # fmt: skip


def province_inputs(inputs: Path, provinces: list[str] | None) -> dict[str, Path]:
    """Province code → its input folder INPUTS/<province> (registry.xlsx and inbox/)."""
    found = {p.name: p for p in sorted(Path(inputs).iterdir()) if (p / "registry.xlsx").is_file()}
    if provinces:
        missing = sorted(set(provinces) - set(found))
        if missing:
            raise ValueError(f"không có dữ liệu tỉnh / no inputs for provinces {missing} under {inputs}")
        found = {code: found[code] for code in provinces}
    if not found:
        raise ValueError(f"không có tỉnh nào / no province folder with registry.xlsx under {inputs}")
    return found


def _province_parameters(school_year: str, period: str, folder: Path, root: Path, province: str,
                         processes: int) -> dict[str, object]:  # fmt: skip
    population = folder / "population.csv"
    return {"school_year": school_year, "period": period, "registry": str(folder / "registry.xlsx"),
            "inbox": str(folder / "inbox"), "warehouse": str(root / "partitions" / f"{province}.duckdb"),
            "out": str(root / "output" / province), "processes": processes,
            "population": str(population) if population.is_file() else None}  # fmt: skip


@task(name="province: run on the work pool", cache_policy=NO_CACHE)
def run_province_task(deployment: str, parameters: dict[str, object], province: str) -> str:
    """Start the province's run on the work pool and wait for it (a subflow of the national run)."""
    from prefect.deployments import run_deployment

    run = run_deployment(deployment, parameters=parameters, timeout=None, flow_run_name=f"province-{province}",
                         tags=["edustat", f"province-{province}"])  # fmt: skip
    if not run.state or not run.state.is_completed():
        raise RuntimeError(
            f"province {province}: run {run.name} ended {run.state.name if run.state else '?'}"
        )
    return str(run.id)


@task(name="national rollup: partitions → ministry", cache_policy=NO_CACHE)
def national_rollup_task(partitions: dict[str, str], target: str, school_year: str, period: str,
                         out: str) -> dict[str, object]:  # fmt: skip
    return national_rollup(
        {k: Path(v) for k, v in partitions.items()}, Path(target), school_year, period, Path(out)
    )


@flow(name="national_report", log_prints=True)
def national_report(school_year: str, period: str, inputs: str, root: str, provinces: list[str] | None = None,
                    deployment: str | None = None, processes: int = 1) -> dict[str, object]:  # fmt: skip
    """Every province of INPUTS (INPUTS/<province>/registry.xlsx and inbox/) into its own partition
    ROOT/partitions/<province>.duckdb (outputs ROOT/output/<province>/), then the national rollup
    into ROOT/national.duckdb and ROOT/output/national/. With a deployment (e.g.
    "report_period/province" on a process work pool) the provinces run on the pool's workers, at
    once; without one they run here, one after the other."""
    if school_year == AUTO:
        school_year = school_year_on(_scheduled_day())
    folders = province_inputs(Path(inputs), provinces)
    root_path = Path(root).resolve()
    partitions_dir = root_path / "partitions"
    partitions_dir.mkdir(parents=True, exist_ok=True)
    # One pseudonymisation key for every partition (unless the environment gives one): create it
    # before the provinces start, so concurrent runs do not each write their own.
    settings.pseudonym_key(partitions_dir / "any.duckdb")
    parameters = {p: _province_parameters(school_year, period, f.resolve(), root_path, p, processes)
                  for p, f in folders.items()}  # fmt: skip
    if deployment:
        futures = [run_province_task.submit(deployment, params, p) for p, params in parameters.items()]
        for future in futures:
            future.result()
    else:
        for params in parameters.values():
            report_period(**params)
    partitions = {p: str(params["warehouse"]) for p, params in parameters.items()}
    facts = national_rollup_task(partitions, str(root_path / "national.duckdb"), school_year, period,
                                 str(root_path / "output" / "national"))  # fmt: skip
    create_table_artifact(
        table=[{"province": p, "schools": facts.get(f"schools_{p}", 0), "cells": facts.get(f"cells_{p}", 0)}
               for p in sorted(folders)],
        key="national-provinces", description=f"{school_year} {period}: provinces in the national rollup",
    )  # fmt: skip
    print(f"national rollup of {len(folders)} provinces → {root_path / 'national.duckdb'}")
    return facts


def national_deployment():
    """The national run, on demand (`edustat serve --pool`): parameters given at run time."""
    return national_report.to_deployment(name="national", tags=["edustat", "national"],
                                         description="national run: one province run per province on the work pool")  # fmt: skip
