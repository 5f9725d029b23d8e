"""Prefect entry point of a checkout (`flows.py:report_period`, `prefect deploy`): re-exports the
flows of pipelines/flows.py, where an installed edustat imports them from (`pipelines.flows`).

- `report_period`, `window_deployments`, `serve_window`: one province, its reporting windows.
- `national_report`, `deploy_province`, `national_deployment`: the national run, one subflow per
  province (on a process work pool when given), then the national rollup.
"""

from __future__ import annotations

from pipelines.flows import (  # noqa: F401 (re-exported: the entry point and older imports)
    AUTO,
    PROVINCE_DEPLOYMENT,
    TIMEZONE,
    WINDOWS,
    deploy_province,
    national_deployment,
    national_report,
    national_rollup_task,
    province_inputs,
    report_period,
    run_province_task,
    school_year_on,
    serve_window,
    warehouse_limit,
    warehouse_limit_name,
    window_deployments,
)
