"""Prefect flows: thin wiring of the pipeline's steps as a handful of coarse tasks.

Run one period through Prefect with `edustat run --prefect …` (a temporary local server starts
when none is configured) or against `prefect server start` (set PREFECT_API_URL). Tasks are
coarse on purpose: one per stage, never one per school.
"""

from __future__ import annotations

import os

# A temporary server on a small machine needs more than Prefect's default start-up time, and
# no analytics leave this machine (DESIGN.md, Prefect facts).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

from prefect import flow, task  # noqa: E402
from prefect.artifacts import create_markdown_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from pipelines import pipeline, settings  # noqa: E402


@task(name="prepare: registry and unit tree", cache_policy=NO_CACHE)
def prepare_task(s: settings.Settings) -> pipeline.StepResult:
    return pipeline.prepare(s)


@task(name="ingest: school files", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def ingest_task(s: settings.Settings) -> pipeline.StepResult:
    return pipeline.ingest_step(s)


@task(name="validate: Great Expectations on DuckDB", cache_policy=NO_CACHE)
def validate_task(s: settings.Settings) -> pipeline.StepResult:
    return pipeline.validate_step(s)


@task(name="aggregate: forms, rollup, relations", cache_policy=NO_CACHE)
def aggregate_task(s: settings.Settings) -> pipeline.StepResult:
    return pipeline.aggregate_step(s)


@task(name="export: workbooks and tidy tables", cache_policy=NO_CACHE)
def export_task(s: settings.Settings) -> pipeline.StepResult:
    return pipeline.export_step(s)


@flow(name="report_period", log_prints=True)
def report_period(school_year: str, period: str, registry: str, inbox: str, warehouse: str | None = None,
                  out: str | None = None, processes: int = 2, regime: str | None = None,
                  population: str | None = None, boundaries: str | None = None) -> str:  # fmt: skip
    """Ingest → validate → aggregate → export one reporting period; returns the run summary."""
    s = settings.resolve(school_year, period, registry, inbox, warehouse, out, processes=processes, regime=regime,
                         population=population, boundaries=boundaries)  # fmt: skip
    prepare_task(s)
    ingest_task(s)
    validate_task(s)
    aggregate_task(s)
    result = export_task(s)
    text = str(result.facts["summary_text"])
    create_markdown_artifact(markdown=text, key="run-summary", description=f"{school_year} {period}")
    return text
