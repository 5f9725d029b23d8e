"""A local Prefect server and work pools: started, checked and stopped as child processes; the one
server a command uses (`use_server`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.processes import die_with_parent

# Concurrency leases (the warehouse's slot, flows.warehouse_limit) kept on disk under PREFECT_HOME
# rather than in the server's memory: a lease outlives a restart of the server, so its repossessor
# can free the slot of a run that was killed; in memory, the slot stayed taken for ever.
LEASE_STORAGE_ENV = "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE"
LEASE_STORAGE = "prefect.server.concurrency.lease_storage.filesystem"


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
    child_env.setdefault(LEASE_STORAGE_ENV, LEASE_STORAGE)
    # The UI in the browser asks the API at PREFECT_UI_API_URL, which Prefect derives from its
    # settings (port 4200), not from --port: a server on another port would show an empty UI. Not
    # for a wildcard host (0.0.0.0): no browser elsewhere reaches that; set PREFECT_UI_API_URL then.
    if host not in ("0.0.0.0", "::"):
        child_env.setdefault("PREFECT_UI_API_URL", api_url)
    prefect_bin = Path(sys.executable).with_name("prefect")
    command = [str(prefect_bin), "server", "start", "--host", host, "--port", str(port)]
    return _start(command, child_env, api_url, log, timeout)


def start_temporary_api(timeout: float = 120.0) -> tuple[subprocess.Popen, str]:
    """The API server a flow run reports to when no server is configured: uvicorn serving Prefect's
    app on a free local port, no UI, as Prefect's own temporary server (SubprocessASGIServer), but
    started here so that it dies with this process (Prefect's outlived a run killed with SIGKILL,
    serving for ever), and with the server's services (Prefect's "ephemeral" mode runs none): the
    repossessor among them frees the warehouse's concurrency slot that a killed run left taken
    (its lease expired; leases kept on disk, LEASE_STORAGE), which otherwise blocked every later
    run for ever."""
    import prefect
    from prefect.settings import get_current_settings

    with socket.socket() as probe:  # a free port (the kernel's choice)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True),
           "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    env.setdefault(LEASE_STORAGE_ENV, LEASE_STORAGE)
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent), "--factory",
               "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "error", "--lifespan", "on"]  # fmt: skip
    return _start(command, env, f"http://127.0.0.1:{port}/api", None, timeout)


@contextmanager
def api_for_run() -> Iterator[str]:
    """The Prefect API an in-process flow run (`edustat run --prefect`) reports to: the configured
    server, else a temporary one that lives as long as this block and dies with this process."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    url = configured_api_url()
    if url:
        yield url
        return
    proc, url = start_temporary_api()
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        stop_process(proc)


def _die_with_parent() -> None:
    """In the server's child, before exec: SIGTERM when edustat ends (the server stops cleanly)."""
    die_with_parent(sig=signal.SIGTERM)


def _start(command: list[str], env: dict[str, str], api_url: str, log: Path | None,
           timeout: float) -> tuple[subprocess.Popen, str]:  # fmt: skip
    """Start a server process (own process group; SIGTERM from the kernel when this process dies)
    and wait until its API answers."""
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (the child keeps its own copy)
    try:
        proc = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=_die_with_parent)  # fmt: skip
    finally:
        if log:
            output.close()
    deadline = time.monotonic() + timeout
    while not api_healthy(api_url):
        if proc.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with code {proc.returncode} (log: {log})")
        if time.monotonic() > deadline:
            stop_process(proc)
            raise TimeoutError(f"{api_url} did not answer within {timeout:.0f} s (log: {log})")
        time.sleep(0.2)
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
