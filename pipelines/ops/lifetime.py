"""Processes that end with their parent, and flow-run processes that end quietly.

A Prefect server edustat starts, and every flow run a Prefect runner (`edustat serve`) or worker
starts as a subprocess, get SIGTERM from the kernel when their parent dies, even by SIGKILL
(pipelines.processes): no orphan keeps serving, or holds the warehouse, after its parent is gone.
Elsewhere this is a no-op (the process-group stop of `server.stop_process` stays).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys

from pipelines.processes import die_with_parent


def in_flow_run_subprocess() -> bool:
    """This process is a flow run that a Prefect runner or worker started (`python -m prefect.engine`)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return bool(os.environ.get("PREFECT__FLOW_RUN_ID")) and getattr(spec, "name", None) == "prefect.engine"


def _close_stderr_at_exit() -> None:
    """After the run's logs are sent (Prefect's log worker drains before atexit callbacks), stderr
    goes to /dev/null: DuckDB's binding layer (nanobind) would otherwise print a long report of
    "leaked" instances at interpreter teardown into the worker's or runner's log."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except (OSError, ValueError):
        pass


def setup_flow_run_process() -> bool:
    """In a flow-run subprocess: end with the runner or worker that started it, and exit without
    the teardown report. Returns whether this process is one."""
    if not in_flow_run_subprocess():
        return False
    die_with_parent(sig=signal.SIGTERM)  # SIGTERM: the run ends as Crashed, its logs sent
    atexit.register(_close_stderr_at_exit)
    return True
