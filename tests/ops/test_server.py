"""Child processes of the Prefect helpers end with their process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.ops import server


def living_members(group: int) -> list[str]:
    """Processes of the group that still run (a zombie waiting for a reaping init does not count)."""
    pids = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()
    living = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            continue
        if state != "Z":
            living.append(pid)
    return living


def wait_until_no_living_member(group: int, seconds: float = 5.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (living := living_members(group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return living


def test_stop_process_ends_the_child_and_its_children():
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"], start_new_session=True)
    server.stop_process(proc, timeout=5)
    assert proc.poll() is not None
    assert wait_until_no_living_member(proc.pid) == []


def test_a_child_that_ignores_sigterm_is_killed_with_its_group():
    # The shell dies of SIGTERM; its background child ignores SIGTERM and would outlive it.
    script = "(trap '' TERM; exec sleep 60) & sleep 60"
    proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    time.sleep(0.2)  # let the shell start its background child
    server.stop_process(proc, timeout=5)
    assert wait_until_no_living_member(proc.pid) == []


@pytest.mark.slow
def test_the_temporary_api_of_a_run_dies_with_a_killed_edustat(tmp_path):
    # `edustat run --prefect` with no server configured: Prefect's own temporary server outlived a
    # run killed with SIGKILL (seen: a uvicorn serving for ever); edustat's must not.
    script = """
import time, psutil
from pipelines.ops import server
with server.api_for_run() as url:
    print(" ".join(str(c.pid) for c in psutil.Process().children()), server.api_healthy(url), flush=True)
    time.sleep(120)
"""
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PREFECT_HOME": str(tmp_path / "home")}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    *children, healthy = proc.stdout.readline().split()
    assert children and healthy == "True"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    for child in children:  # the server's own process group: itself and anything it started
        assert wait_until_no_living_member(int(child), seconds=30) == []


def test_a_closed_port_is_not_a_healthy_api():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not server.api_healthy(f"http://127.0.0.1:{port}/api", timeout=0.5)


# --- the one server a command uses ------------------------------------------------------------


class _Health:
    """A stand-in for a running Prefect API: 200 on /api/health (what api_healthy asks)."""

    def __enter__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                self.send_response(200 if self.path == "/api/health" else 404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self.httpd.server_port

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_configured_server_is_used_and_never_a_second_one(monkeypatch):
    with _Health() as port:
        url = f"http://127.0.0.1:{port}/api"
        monkeypatch.setenv("PREFECT_API_URL", url)
        chosen = server.use_server("127.0.0.1", _closed_port())
    assert (chosen.api_url, chosen.proc) == (url, None)  # nothing started: not edustat's to stop
    assert "using the configured Prefect server" in chosen.said


def test_a_configured_server_that_does_not_answer_is_said_not_replaced(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{_closed_port()}/api")
    started = []
    monkeypatch.setattr(server, "start_server", lambda *a, **k: started.append(a))
    try:
        server.use_server()
    except server.ServerUnavailable as exc:
        assert "the configured Prefect server does not answer" in str(exc)
    else:
        raise AssertionError("a silent server was used")
    assert started == []


def test_without_configuration_the_server_already_at_host_and_port_is_used(monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setattr(server, "configured_api_url", lambda: None)  # no profile's URL either
    monkeypatch.setattr(
        server, "start_server", lambda *a, **k: (_ for _ in ()).throw(AssertionError("started"))
    )
    with _Health() as port:
        chosen = server.use_server("127.0.0.1", port)
    assert (chosen.api_url, chosen.proc) == (f"http://127.0.0.1:{port}/api", None)
    assert "already running" in chosen.said


class _Started:
    """A stand-in for subprocess.Popen in start_server: keeps the command and environment."""

    seen: dict = {}

    def __init__(self, command, env, **kwargs):
        _Started.seen = {"command": command, "env": env}
        self.pid = 0

    def poll(self):
        return None


@pytest.mark.parametrize(("host", "given", "expected"), [
    ("127.0.0.1", None, "http://127.0.0.1:4321/api"),  # the UI asks the server's own port, not 4200
    ("127.0.0.1", "https://stats.example/prefect/api", "https://stats.example/prefect/api"),  # a proxy's: kept
    ("0.0.0.0", None, None),  # no browser reaches 0.0.0.0: Prefect's default, the user's to set
])  # fmt: skip
def test_the_ui_of_a_started_server_asks_the_port_it_serves(monkeypatch, host, given, expected):
    monkeypatch.setattr(server.subprocess, "Popen", _Started)
    monkeypatch.setattr(server, "api_healthy", lambda url, timeout=2.0: True)
    monkeypatch.delenv("PREFECT_UI_API_URL", raising=False)
    if given:
        monkeypatch.setenv("PREFECT_UI_API_URL", given)
    _, api_url = server.start_server(host, 4321)
    assert api_url == f"http://{host}:4321/api"
    assert _Started.seen["command"][-4:] == ["--host", host, "--port", "4321"]
    assert _Started.seen["env"].get("PREFECT_UI_API_URL") == expected
