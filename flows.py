"""Prefect entry point of a checkout (`flows.py:report_period`, `prefect deploy`): the flows of
pipelines/flows.py (one province: `report_period`, the reporting windows) and the national run.

- `report_period`, `window_deployments`, `serve_window`: see pipelines/flows.py (an installed
  edustat imports them from there).
- `national_report`: one subflow per province (through a deployment on a process work pool when
  one is given, so workers on several machines share the work), each province writing its own
  partition `ROOT/partitions/<province>.duckdb`; then `national_rollup` reads every partition
  read-only and sums the Sở rows to the ministry.
"""

from __future__ import annotations

import os
from pathlib import Path

# As in pipelines/flows.py, before Prefect is imported: no analytics, a longer start-up time for a
# temporary server, the stages' logs in the runs' logs.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "pipelines")

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from pipelines import settings  # noqa: E402
from pipelines.aggregate.national import national_rollup  # noqa: E402
from pipelines.flows import (  # noqa: E402, F401 (re-exported: the entry point and older imports)
    AUTO,
    TIMEZONE,
    WINDOWS,
    report_period,
    school_year_on,
    serve_window,
    warehouse_limit,
    warehouse_limit_name,
    window_deployments,
)
from pipelines.flows import scheduled_day as _scheduled_day  # noqa: E402
from pipelines.ops.server import ensure_process_pool  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parent
PROVINCE_DEPLOYMENT = "province"  # report_period's deployment on a work pool (national runs)


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
            "population": str(population) if population.is_file() else None,
            "province": province}  # fmt: skip


@task(name="province: run on the work pool", cache_policy=NO_CACHE)
def run_province_task(deployment: str, parameters: dict[str, object], province: str) -> str:
    """Start the province's run on the work pool and wait for it (a subflow of the national run)."""
    from prefect.deployments import run_deployment

    # report_period renames and tags the run for what it is (run.run_name, run.run_tags) once it starts.
    run = run_deployment(deployment, parameters=parameters, timeout=None, flow_run_name=f"province-{province}",
                         tags=["edustat", f"province:{province}"])  # fmt: skip
    if not run.state or not run.state.is_completed():  # a province whose data failed fails the national run
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
        key=f"national-provinces-{school_year}-{period.lower()}", description=f"{school_year} {period}: provinces in the national rollup",
    )  # fmt: skip
    print(f"national rollup of {len(folders)} provinces → {root_path / 'national.duckdb'}")
    return facts


def national_deployment():
    """The national run, on demand (`edustat serve --pool`): parameters given at run time."""
    return national_report.to_deployment(name="national", tags=["edustat", "national"],
                                         description="national run: one province run per province on the work pool")  # fmt: skip
