"""Child processes of the Prefect helpers end with their process group."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

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


def test_a_closed_port_is_not_a_healthy_api():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not server.api_healthy(f"http://127.0.0.1:{port}/api", timeout=0.5)
