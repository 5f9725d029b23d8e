"""A local Prefect server and work pools: started, checked and stopped as child processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(host: str = "127.0.0.1", port: int = 4200, env: dict[str, str] | None = None,
                 ui: bool = True, log: Path | None = None, timeout: float = 120.0) -> tuple[subprocess.Popen, str]:  # fmt: skip
    """Start `prefect server start` as a child process (its own process group) and wait until its
    API answers; returns the process and the API URL. The database is SQLite under PREFECT_HOME
    unless PREFECT_API_DATABASE_CONNECTION_URL says otherwise (PostgreSQL in production)."""
    api_url = f"http://{host}:{port}/api"
    child_env = {**os.environ, **(env or {})}
    child_env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    child_env["PREFECT_UI_ENABLED"] = "true" if ui else "false"
    child_env.pop("PREFECT_API_URL", None)  # the server is not a client of another server
    prefect_bin = Path(sys.executable).with_name("prefect")
    command = [str(prefect_bin), "server", "start", "--host", host, "--port", str(port)]
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(command, env=child_env, stdout=output, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + timeout
    while not api_healthy(api_url):
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited with code {proc.returncode} (log: {log})")
        if time.monotonic() > deadline:
            stop_process(proc)
            raise TimeoutError(
                f"prefect server did not answer at {api_url} within {timeout:.0f} s (log: {log})"
            )
        time.sleep(0.5)
    return proc, api_url


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM to the child's process group (the server or a worker and its flow-run children),
    then SIGKILL if it has not ended."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    # The leader may be gone while a child that ignored SIGTERM lives on: end the whole group.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout)


def ensure_process_pool(pool: str) -> None:
    """Create the process work pool if it does not exist (workers: `prefect worker start --pool POOL`)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass


