"""Processes that end with their parent, and flow-run processes that end quietly.

A Prefect server edustat starts, and every flow run a Prefect runner (`edustat serve`) or worker
starts as a subprocess, get SIGTERM from the kernel when their parent dies, even by SIGKILL
(Linux `prctl(PR_SET_PDEATHSIG)`): no orphan keeps serving, or holds the warehouse, after its
parent is gone. Elsewhere this is a no-op (the process-group stop of `server.stop_process` stays).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `sig` to this process when its parent (the thread that started it)
    ends; True when set. If the parent is already gone (adopted by init), the signal is sent now."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() == 1:  # the parent died before prctl
        os.kill(os.getpid(), sig)
    return True


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
    die_with_parent()
    atexit.register(_close_stderr_at_exit)
    return True
