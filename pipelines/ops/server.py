"""A local Prefect server and work pools: started, checked and stopped as child processes; the one
server a command uses (`use_server`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipelines.ops.lifetime import die_with_parent


class ServerUnavailable(RuntimeError):
    """The configured Prefect server does not answer, or none could be started (bilingual)."""


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(host: str = "127.0.0.1", port: int = 4200, env: dict[str, str] | None = None,
                 ui: bool = True, log: Path | None = None, timeout: float = 120.0) -> tuple[subprocess.Popen, str]:  # fmt: skip
    """Start `prefect server start` as a child process (its own process group, ended by the kernel
    when this process dies: ops/lifetime.py) and wait until its API answers; returns the process
    and the API URL. The database is SQLite under PREFECT_HOME unless
    PREFECT_API_DATABASE_CONNECTION_URL says otherwise (PostgreSQL in production)."""
    api_url = f"http://{host}:{port}/api"
    child_env = {**os.environ, **(env or {})}
    child_env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    child_env["PREFECT_UI_ENABLED"] = "true" if ui else "false"
    child_env.pop("PREFECT_API_URL", None)  # the server is not a client of another server
    # The UI in the browser asks the API at PREFECT_UI_API_URL, which Prefect derives from its
    # settings (port 4200), not from --port: a server on another port would show an empty UI. Not
    # for a wildcard host (0.0.0.0): no browser elsewhere reaches that; set PREFECT_UI_API_URL then.
    if host not in ("0.0.0.0", "::"):
        child_env.setdefault("PREFECT_UI_API_URL", api_url)
    prefect_bin = Path(sys.executable).with_name("prefect")
    command = [str(prefect_bin), "server", "start", "--host", host, "--port", str(port)]
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (the child keeps its own copy)
    try:
        proc = subprocess.Popen(command, env=child_env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=die_with_parent)  # fmt: skip
    finally:
        if log:
            output.close()
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


@dataclass(frozen=True)
class Server:
    api_url: str
    proc: subprocess.Popen | None  # the server this command started and owns; None: someone else's
    said: str  # what the command tells the user (Vietnamese / English)


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment, else from the active Prefect profile."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def use_server(host: str = "127.0.0.1", port: int = 4200, log: Path | None = None) -> Server:
    """The one server a command talks to: the configured one (PREFECT_API_URL or the profile), which
    must answer; else the one already answering at host:port (e.g. `make serve-ui`); else one
    started here, which this command owns and stops (and which dies with it)."""
    url = configured_api_url()
    if url:
        if not api_healthy(url):
            raise ServerUnavailable(f"máy chủ Prefect đã cấu hình không trả lời / the configured Prefect server does "
                                    f"not answer: {url} (PREFECT_API_URL)")  # fmt: skip
        return Server(
            url, None, f"dùng máy chủ Prefect đã cấu hình / using the configured Prefect server {url}"
        )
    url = f"http://{host}:{port}/api"
    if api_healthy(url):
        return Server(
            url, None, f"dùng máy chủ Prefect đang chạy / using the Prefect server already running at {url}"
        )
    try:
        proc, url = start_server(host, port, log=log)
    except (RuntimeError, TimeoutError) as exc:
        raise ServerUnavailable(
            f"không khởi động được máy chủ Prefect / could not start a Prefect server: {exc}"
        ) from None
    said = (f"edustat đã khởi động máy chủ Prefect (PID {proc.pid}) tại {url}; nó dừng khi edustat dừng / edustat "
            f"started a Prefect server (PID {proc.pid}) at {url}, owns it and stops it when it stops")  # fmt: skip
    return Server(url, proc, said)
