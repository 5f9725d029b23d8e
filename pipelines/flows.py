"""Prefect flows of one province: the wiring of run.py's steps as coarse tasks, the run's name,
tags, final state and artifacts, the reporting windows as deployments, the deadline event.

`flows.py` at the top of the checkout is the Prefect entry point (`flows.py:report_period`) and
re-exports these; an installed edustat imports them from here (`pipelines.flows`).

- `report_period`: one province, one period (five stage tasks). Named for what it is ("2024-2025
  ĐN · Sở 66 · tt24 · ranh giới 2024") and tagged (school year, period, regime, boundaries,
  province) however it was started; its final state says what the data say (run.outcome): Failed
  when the ledger does not balance, nothing was loaded, no report was produced or too many
  schools are missing or rejected, else "Completed: 58/60 schools, 2 rejected".
- `window_deployments`: the start-of-year and end-of-year windows as deployments with schedules;
  each writes its own folder (OUT_ROOT/<school-year>/<period>).
- `national_report`: one `national_province` subflow per province (through a deployment on a
  process work pool when one is given, so workers on several machines share the work): report_period
  into the province's own warehouse, then its tables as Parquet to a bucket (S3-compatible or
  file://); then the national roll-up reads the bucket, sums the Sở rows to the ministry, computes
  the ministry's indicators and adds the analysts' views; a failed or late province is reported and the roll-up marked incomplete. An
  installed edustat runs it (`edustat national`) without the checkout.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

# A temporary server on a small machine needs more than Prefect's default start-up time, and no
# analytics leave this machine (DESIGN.md, Prefect facts). The stages log through stdlib logging
# under `pipelines`: Prefect sends those records to the run's logs in the UI too. Set before Prefect
# is imported (it reads its settings then).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipelines")

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.concurrency.sync import concurrency  # noqa: E402
from prefect.context import FlowRunContext, TaskRunContext  # noqa: E402
from prefect.logging.handlers import APILogHandler  # noqa: E402
from prefect.states import Completed, Failed, State  # noqa: E402

from pipelines import run, settings  # noqa: E402
from pipelines.aggregate import national  # noqa: E402
from pipelines.ops import lifetime  # noqa: E402
from pipelines.ops.notify import DEADLINE_EVENT  # noqa: E402
from pipelines.ops.server import ensure_process_pool  # noqa: E402
from pipelines.warehouse import objects  # noqa: E402

# A flow run started by a runner (`edustat serve`) or a worker ends with it, and without DuckDB's
# teardown report in its log.
lifetime.setup_flow_run_process()
if logging.getLogger("pipelines").level == logging.NOTSET:  # what each stage read, rejected, counted, wrote
    logging.getLogger("pipelines").setLevel(logging.INFO)


class RunLogHandler(APILogHandler):
    """Prefect's API log handler for the `pipelines` logger, sending only records made inside a flow
    or task run (the stages' lines in the run's logs; nothing, and no warning, outside a run)."""

    def emit(self, record: logging.LogRecord) -> None:
        if FlowRunContext.get() is not None or TaskRunContext.get() is not None:
            super().emit(record)


def send_stage_logs_to_runs() -> None:
    """The stages' stdlib logs into the run's logs in the UI, even when Prefect was imported before
    PREFECT_LOGGING_EXTRA_LOGGERS could be set (a process that imported Prefect first: a test, a
    notebook); a no-op when Prefect's own handler is there already."""
    logger = logging.getLogger("pipelines")
    if not any(isinstance(h, APILogHandler) for h in logger.handlers):
        logger.addHandler(RunLogHandler())


send_stage_logs_to_runs()

TIMEZONE = "Asia/Ho_Chi_Minh"
AUTO = "auto"  # school_year of a scheduled run: the school year in progress on its scheduled date
# The reporting windows: period → (deployment name prefix, cron: every day of the window at 06:00).
WINDOWS = {"DN": ("start-of-year", "0 6 * 10 *"), "CN": ("end-of-year", "0 6 * 6 *")}
WAREHOUSE_LEASE_SECONDS = 60  # the warehouse slot's lease, renewed while the run runs (the server's least)
MISSING_LISTED = 50  # missing schools named in the deadline event (the rest: completeness_schools.csv)
PROVINCE_DEPLOYMENT = "province"  # report_period's deployment on a work pool (national runs)
# The folder holding the `pipelines` package: a checkout, or site-packages of an installed edustat.
PACKAGE_HOME = Path(__file__).resolve().parent.parent


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


def scheduled_day() -> date:
    """The run's scheduled day in Vietnam (today for a run started by hand)."""
    from zoneinfo import ZoneInfo

    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time
    if isinstance(when, datetime):
        return when.astimezone(ZoneInfo(TIMEZONE)).date()
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def label_run(s: settings.Settings, province: str | None) -> None:
    """Name and tag the current flow run (whoever started it: the CLI, a schedule, the UI, a parent
    flow or `run_deployment`), keeping the tags it already has."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    if not flow_run.id:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(flow_run.id)
        tags = sorted({*current.tags, *run.run_tags(s, province)})
        client.update_flow_run(flow_run.id, name=run.run_name(s, province), tags=tags)


def _publish_artifacts(summary: run.RunSummary, result: run.Outcome, province: str | None) -> None:
    """The run's artifacts, keyed by school year, period, regime, boundaries and Sở (run.artifact_key):
    the Markdown report, key figures, problems by rule, late and missing schools, completeness, and
    a link to the output folder."""
    s, f = summary.settings, summary.facts

    def key(kind: str) -> str:
        return run.artifact_key(kind, s, province)

    label = run.run_name(s, province)
    problems = run.top_problems(s)
    create_markdown_artifact(markdown=run.run_markdown(summary, result, problems), key=key("run-summary"),
                             description=f"{label}: {result.name}")  # fmt: skip
    create_table_artifact(
        table=run.key_figures(summary), key=key("run-figures"), description=f"{label}: key figures"
    )
    if problems:
        create_table_artifact(
            table=problems, key=key("run-problems"), description=f"{label}: problems by rule"
        )
    late = list(f.get("late_schools") or [])  # type: ignore[call-overload]
    columns = ("school_code", "school_name", "phong_code", "phong_name", "deadline", "status", "status_vi",
               "first_arrived_at")  # fmt: skip
    create_table_artifact(table=late or {c: [] for c in columns}, key=key("run-late-schools"),
                          description=f"{label}: late and missing schools, with Phòng and deadline")  # fmt: skip
    try:
        rows = run.completeness_table(s)
    except Exception:  # the outputs are written: a missing table is logged, not a failed run
        get_run_logger().exception("completeness table artifact not published")
        rows = []
    if rows:
        create_table_artifact(table=rows, key=key("run-completeness"),
                              description=f"{label}: completeness and timeliness")  # fmt: skip
    create_link_artifact(link=s.out.resolve().as_uri(), link_text=str(s.out), key=key("run-outputs"),
                         description=f"{label}: output folder")  # fmt: skip


def _announce_missed_deadline(summary: run.RunSummary, province: str | None) -> None:
    """When the schools' deadline has passed with schools missing, emit DEADLINE_EVENT (an
    automation sends it through the Sở's notification block: ops/notify.py). Every such run emits
    it: a daily reminder through the window's end."""
    from prefect.events import emit_event

    s, f = summary.settings, summary.facts
    missing = [r for r in f.get("late_schools") or [] if r["status"] == "missing"]  # type: ignore[union-attr]
    if not missing:
        return
    payload = {"school_year": s.school_year, "period": s.period, "regime": s.regime, "province": province,
               "deadline": missing[0]["deadline"], "missing": len(missing), "expected": f.get("schools_expected"),
               "schools": missing[:MISSING_LISTED], "out": str(s.out)}  # fmt: skip
    emit_event(DEADLINE_EVENT, resource={"prefect.resource.id": f"edustat.so.{province}",
                                         "prefect.resource.name": f"Sở {province}"}, payload=payload)  # fmt: skip
    get_run_logger().warning("hạn nộp %s đã qua: %d trường chưa nộp / deadline %s passed: %d schools missing",
                             payload["deadline"], len(missing), payload["deadline"], len(missing))  # fmt: skip


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


@contextmanager
def warehouse_slot(path: str | Path) -> Iterator[None]:
    """Hold the warehouse's slot (warehouse_limit) for the block, saying so when the run has to wait
    for it. The lease is short: a run killed with SIGKILL stops renewing it, and the server frees
    the slot within about WAREHOUSE_LEASE_SECONDS (ops/server.py: leases on disk, the repossessor)."""
    name, held = warehouse_limit(path), False
    try:
        with concurrency(
            name, occupy=1, strict=True, lease_duration=WAREHOUSE_LEASE_SECONDS, timeout_seconds=2
        ):
            held = True
            yield
            return
    except TimeoutError:
        if held:  # raised by the block itself
            raise
    logging.getLogger(__name__).warning(
        "Kho dữ liệu đang được một lượt chạy khác dùng (hoặc một lượt bị dừng đột ngột giữ chỗ, được giải phóng "
        "trong khoảng %d giây): chờ / the warehouse is held by another run (or by a run that was killed, whose "
        "slot is freed within about %d s): waiting", WAREHOUSE_LEASE_SECONDS, WAREHOUSE_LEASE_SECONDS,
    )  # fmt: skip
    with concurrency(name, occupy=1, strict=True, lease_duration=WAREHOUSE_LEASE_SECONDS):
        yield


def initial_run_name() -> str:
    """The run's name from its parameters as it starts (label_run sets the full one once the settings
    and the registry's Sở are known), so its first log lines already say what it is."""
    from prefect.runtime import flow_run

    p = flow_run.parameters or {}
    try:
        school_year = p["school_year"] if p.get("school_year") != AUTO else school_year_on(scheduled_day())
        years, month, day = settings.PERIODS[p["period"]]
        as_of = date(settings.parse_school_year(school_year) + years, month, day)
    except (KeyError, ValueError, TypeError):
        return "report_period"
    parts = [f"{school_year} {run.PERIOD_PRINTED.get(p['period'], p['period'])}"]
    parts += [f"Sở {p['province']}"] if p.get("province") else []
    regime, boundaries = (
        p.get("regime") or settings.regime_on(as_of),
        p.get("boundaries") or settings.boundaries_on(as_of),
    )
    return " · ".join([*parts, regime, f"ranh giới {boundaries}"])


@flow(name="report_period", log_prints=True, flow_run_name=initial_run_name)
def report_period(school_year: str, period: str, registry: str, inbox: str, warehouse: str | None = None,
                  out: str | None = None, processes: int = 2, regime: str | None = None,
                  population: str | None = None, boundaries: str | None = None,
                  approved_only: bool = False, full: bool = False, province: str | None = None,
                  out_root: str | None = None, fail_above: float | None = None) -> State:  # fmt: skip
    """Ingest → validate → aggregate → export one reporting period; its final state and the run's
    summary text as its result.

    school_year "auto": the school year in progress on the run's scheduled date (deployments).
    approved_only: the Phòng and Sở reports from approved schools only (pipelines/window/approvals.py).
    full: redo everything, not only what changed since the period's last run.
    province: the Sở code, for the run's name before the registry is read (deployments give it).
    out_root: a window's folder: the outputs go to OUT_ROOT/<school-year>/<period> (unless out).
    fail_above: the share of expected schools missing or rejected that fails the run (settings).
    The run holds the warehouse's global concurrency slot (warehouse_limit) throughout, so runs of
    the two windows, or of provinces sharing a warehouse, wait for each other.
    """
    if school_year == AUTO:
        school_year = school_year_on(scheduled_day())
    s = settings.resolve(school_year, period, registry, inbox, warehouse, out, processes=processes, regime=regime,
                         population=population, boundaries=boundaries, approved_only=approved_only,
                         full=full, out_root=out_root, fail_above=fail_above)  # fmt: skip
    label_run(s, province)
    with warehouse_slot(s.warehouse):
        prepared = prepare_task(s)
        found = str(prepared.facts.get("so_code") or "") or province
        if found != province:
            label_run(s, found)
        steps = [prepared, ingest_task(s), validate_task(s)]
        # An input ledger that does not balance (ingest's fact, issue 13): nothing is aggregated or
        # exported, as in `edustat run`; run.outcome then says Failed and why.
        if steps[-1].facts.get("ledger_balanced") is not False:
            steps += [aggregate_task(s), export_task(s)]
    summary = run.RunSummary(s, tuple(steps))
    result = run.outcome(summary)
    _publish_artifacts(summary, result, found)
    _announce_missed_deadline(summary, found)
    text = run.summary_text(summary)  # ends with the input ledger's lines
    if result.failed:
        get_run_logger().error("%s", result.message)
        return Failed(message=result.message, data=text)
    get_run_logger().info("%s — %s", result.name, result.message)
    return Completed(name=result.name, message=result.message, data=text)


# --- the reporting windows: deployments with schedules ---------------------------------------


def window_deployments(province: str, registry: str | Path, inbox: str | Path, warehouse: str | Path | None = None,
                       out: str | Path | None = None, processes: int = 2,
                       population: str | Path | None = None) -> list:  # fmt: skip
    """The start-of-year and end-of-year windows of one province as deployments of report_period.

    Each runs daily at 06:00 (Vietnam time) through its window (DN: 1/10–31/10, CN: 1/6–30/6) on
    the school year in progress ("auto"); either can be run on demand from the UI or with
    `prefect deployment run 'report_period/start-of-year-66'` (override school_year there). `out`
    is the windows' folder: each writes OUT/<school-year>/<period> (default: settings.paths()).
    """
    from prefect.schedules import Cron

    deployments = []
    for period, (prefix, cron) in WINDOWS.items():
        parameters = {"school_year": AUTO, "period": period, "registry": str(registry), "inbox": str(inbox),
                      "warehouse": str(warehouse) if warehouse else None, "out_root": str(out) if out else None,
                      "processes": processes, "population": str(population) if population else None,
                      "province": province}  # fmt: skip
        deployments.append(
            report_period.to_deployment(
                name=f"{prefix}-{province}",
                concurrency_limit=1,  # one run of a window at a time (the warehouse has one writer)
                schedules=[Cron(cron, timezone=TIMEZONE)],
                parameters=parameters,
                tags=["edustat", f"province:{province}", f"period:{period}"],
                description=f"{prefix} window of province {province}: daily during the window, or on demand",
            )  # fmt: skip
        )
    return deployments


def serve_window(deployments: list, limit: int | None = 1) -> None:
    """Serve the deployments in this process until SIGTERM or Ctrl-C (blocks)."""
    from prefect import serve

    serve(*deployments, limit=limit)


def serve_province(province: str, registry: Path, inbox: Path, warehouse: Path | None, out_root: Path | None,
                   processes: int, host: str, port: int, notify_block: str | None = None,
                   more: Callable[[list], None] | None = None, say: Callable[[str], None] = print) -> None:  # fmt: skip
    """`edustat serve`: the province's windows served on one server (ops.server.use_server: the
    configured one, else the one at host:port, else one started and owned here, stopped at the
    end), which every Prefect client of this process and of the runs it starts then uses; the
    deadline automation through `notify_block`; `more(deployments)` adds deployments (national)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipelines.ops import notify, server

    chosen = server.use_server(host, port)
    say(f"serve: {chosen.said}")
    os.environ["PREFECT_API_URL"] = chosen.api_url  # the runs this process starts inherit it
    try:
        with temporary_settings(updates={PREFECT_API_URL: chosen.api_url}):
            if notify_block:
                notify.ensure_deadline_automation(notify_block)
                say(
                    f"serve: hạn nộp qua → thông báo qua / deadline passed → notification through {notify_block}"
                )
            deployments = window_deployments(province, registry, inbox, warehouse, out_root, processes)
            if more is not None:
                more(deployments)
            say(f"serve: giao diện / UI {chosen.api_url.removesuffix('/api')} — dừng / stop: Ctrl-C or SIGTERM "
                f"(kill PID {os.getpid()})")  # fmt: skip
            serve_window(deployments)
    finally:
        if chosen.proc is not None:
            server.stop_process(chosen.proc)


# --- national runs over a process work pool ---------------------------------------------------


def deploy_province(pool: str, name: str = PROVINCE_DEPLOYMENT):
    """Deploy national_province (report_period, then the province's tables to the bucket) to a
    process work pool as `national_province/<name>`; returns its id.

    The code is the folder holding the `pipelines` package (a checkout, or an installed edustat's
    site-packages), entry point pipelines/flows.py: every worker machine must have the same edustat
    at the same path; `.from_source` with a git URL is the alternative. The data do not need a
    shared filesystem: each province's warehouse stays on its worker, and its tables reach the
    national roll-up through the bucket.
    """
    ensure_process_pool(pool)
    source = national_province.from_source(
        source=str(PACKAGE_HOME), entrypoint="pipelines/flows.py:national_province"
    )
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


def province_parameters(school_year: str, period: str, folder: Path, root: Path, province: str,
                         processes: int) -> dict[str, object]:  # fmt: skip
    """report_period's parameters for one province: its warehouse and outputs under ROOT on the
    machine that runs it (a worker's own disk; only the bucket is shared)."""
    population = folder / "population.csv"
    return {"school_year": school_year, "period": period, "registry": str(folder / "registry.xlsx"),
            "inbox": str(folder / "inbox"), "warehouse": str(root / "partitions" / f"{province}.duckdb"),
            "out": str(root / "output" / province), "processes": processes,
            "population": str(population) if population.is_file() else None,
            "province": province}  # fmt: skip


@task(name="publish: the province's tables to the bucket", retries=2, retry_delay_seconds=[2, 10],
      cache_policy=NO_CACHE)  # fmt: skip
def publish_task(parameters: dict[str, object], bucket: str) -> dict[str, object]:
    from prefect.runtime import flow_run

    return national.publish_province(Path(str(parameters["warehouse"])), bucket, str(parameters["school_year"]),
                                     str(parameters["period"]), str(parameters["province"]),
                                     str(flow_run.id) if flow_run.id else None)  # fmt: skip


@flow(name="national_province", log_prints=True)
def national_province(parameters: dict[str, object], bucket: str) -> State:
    """One province of a national run: report_period (a subflow) with PARAMETERS, then, when it
    completed, the province's tables as Parquet and its manifest to the bucket (publish_task).
    Failed when the province's run failed (nothing published: the roll-up reports the province)."""
    province = str(parameters["province"])
    national.withdraw_province(bucket, str(parameters["school_year"]), str(parameters["period"]), province)
    state = report_period(**parameters, return_state=True)
    if not state.is_completed():
        return Failed(message=state.message or state.name)
    manifest = publish_task(parameters, bucket)
    tables = manifest["tables"]
    rows = sum(int(t["rows"]) for t in tables.values())  # type: ignore[union-attr]
    return Completed(message=f"tỉnh / province {province}: {state.message or state.name}; {len(tables)} "  # type: ignore[arg-type]
                             f"bảng / tables, {rows} dòng / rows → {bucket}", data=manifest)  # fmt: skip


@task(name="province: run on the work pool", cache_policy=NO_CACHE)
def run_province_task(deployment: str, parameters: dict[str, object], province: str, bucket: str) -> str:
    """Start the province's run on the work pool and wait for it (a subflow of the national run);
    returns why it failed ("" when it completed): a failed province is reported, not raised."""
    from prefect.deployments import run_deployment

    run = run_deployment(deployment, parameters={"parameters": parameters, "bucket": bucket}, timeout=None,
                         flow_run_name=f"national-province-{province}", tags=["edustat", f"province:{province}"])  # fmt: skip
    if run.state and run.state.is_completed():
        return ""
    return f"{run.name}: {(run.state.message or run.state.name) if run.state else '?'}"


@task(name="national rollup: bucket → national database", cache_policy=NO_CACHE)
def national_rollup_task(bucket: str, provinces: list[str], target: str, school_year: str, period: str,
                         out: str, failed: dict[str, str]) -> dict[str, object]:  # fmt: skip
    from pipelines.analyst import views

    return national.national_rollup(bucket, provinces, Path(target), school_year, period, Path(out), failed,
                                    finish=views.create_views)  # fmt: skip


def _publish_national(facts: dict[str, object], school_year: str, period: str, bucket: str) -> None:
    """The national run's artifacts: the books of provinces (expected, rolled up, missing and why)
    and the summary in words."""
    missing = facts["missing"]
    assert isinstance(missing, dict)
    provinces = sorted(
        {str(k).split("_", 1)[1] for k in facts if str(k).startswith("schools_")} | set(missing)
    )
    rows = [{"province": p, "status": missing.get(p, "rolled_up"), "schools": facts.get(f"schools_{p}", 0),
             "cells": facts.get(f"cells_{p}", 0), "learners": facts.get(f"learners_{p}", 0)}
            for p in provinces]  # fmt: skip
    key = f"national-{school_year}-{period.lower()}"
    create_table_artifact(table=rows, key=f"{key}-provinces",
                          description=f"{school_year} {period}: provinces in the national rollup")  # fmt: skip
    vi, en = national.rollup_note(int(facts["expected"]), int(facts["rolled_up"]), missing)  # type: ignore[call-overload]
    create_markdown_artifact(markdown=f"# {school_year} {period} — toàn quốc / national\n\n{vi}\n\n{en}\n\n"
                                      f"Bucket: `{bucket}`\n", key=f"{key}-summary",
                             description=f"{school_year} {period}: national rollup")  # fmt: skip


@flow(name="national_report", log_prints=True)
def national_report(school_year: str, period: str, inputs: str, root: str, provinces: list[str] | None = None,
                    deployment: str | None = None, processes: int = 1, bucket: str | None = None,
                    rollup_only: bool = False) -> State:  # fmt: skip
    """Every province of INPUTS (INPUTS/<province>/registry.xlsx and inbox/) through national_province:
    its own warehouse ROOT/partitions/<province>.duckdb (outputs ROOT/output/<province>/) and, at its
    end, its tables to the BUCKET (s3://… or file://…; default ROOT/bucket); then the national
    roll-up from the bucket into ROOT/national.duckdb (its learner, staff and input_ledger read from
    the provinces' files kept in ROOT/national_parquet/) and ROOT/output/national/. With a deployment
    (e.g. "national_province/province" on a process work pool) the provinces run on the pool's
    workers, at once; without one they run here, one after the other. PROVINCES: run only these (a
    late province); the roll-up always expects every province of INPUTS. rollup_only: no province is
    run; the roll-up reads what the bucket holds (a late province taken in).

    A province whose run fails, or whose manifest is not in the bucket, is left out and reported;
    the roll-up of the rest is made and marked incomplete. Final state: Completed when every
    province is in; else "Incomplete" (a Completed-type state: the roll-up of the others is made
    and usable, so nothing is retried or alerted as a crash; its name, its message, the artifacts
    and the table national_rollup say which provinces are missing and why)."""
    if school_year == AUTO:
        school_year = school_year_on(scheduled_day())
    expected = sorted(province_inputs(Path(inputs), None))  # the roll-up expects every province of INPUTS
    folders = province_inputs(Path(inputs), provinces)  # the ones run now
    root_path = Path(root).resolve()
    bucket = objects.bucket_url(bucket or root_path / "bucket")
    failed: dict[str, str] = {}
    if not rollup_only:
        partitions_dir = root_path / "partitions"
        partitions_dir.mkdir(parents=True, exist_ok=True)
        # One pseudonymisation key for every partition (unless the environment gives one: workers on
        # several machines need EDUSTAT_PSEUDONYM_KEY): created before the provinces start.
        settings.pseudonym_key(partitions_dir / "any.duckdb")
        parameters = {p: province_parameters(school_year, period, f.resolve(), root_path, p, processes)
                      for p, f in folders.items()}  # fmt: skip
        if deployment:
            futures = {
                p: run_province_task.submit(deployment, params, p, bucket) for p, params in parameters.items()
            }
            why = {p: future.result() for p, future in futures.items()}
        else:
            why = {}
            for p, params in parameters.items():
                state = national_province(params, bucket, return_state=True)
                why[p] = "" if state.is_completed() else (state.message or state.name or "?")
        failed = {p: reason for p, reason in why.items() if reason}
        for p, reason in failed.items():
            get_run_logger().error("tỉnh %s không thành công / province %s failed: %s", p, p, reason)
    facts = national_rollup_task(bucket, expected, str(root_path / "national.duckdb"), school_year, period,
                                 str(root_path / "output" / "national"), failed)  # fmt: skip
    _publish_national(facts, school_year, period, bucket)
    vi, en = national.rollup_note(int(facts["expected"]), int(facts["rolled_up"]), facts["missing"])  # type: ignore[call-overload, arg-type]
    print(f"{vi}\n{en}\n→ {root_path / 'national.duckdb'}")
    if facts["complete"]:
        return Completed(message=en, data=facts)
    get_run_logger().warning("%s / %s", vi, en)
    return Completed(name="Incomplete", message=f"{vi} / {en}", data=facts)


def national_deployment():
    """The national run, on demand (`edustat serve --pool`): parameters given at run time."""
    return national_report.to_deployment(name="national", tags=["edustat", "national"],
                                         description="national run: one province run per province on the work pool, "
                                                     "exchanged through the bucket")  # fmt: skip
