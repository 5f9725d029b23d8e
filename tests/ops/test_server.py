"""Child processes of the Prefect helpers end with their process group."""

from __future__ import annotations

import socket
import subprocess

from pipelines.ops import server


def test_stop_process_ends_the_child_and_its_children():
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60"], start_new_session=True)
    server.stop_process(proc, timeout=5)
    assert proc.poll() is not None
    alive = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert alive == []


def test_a_closed_port_is_not_a_healthy_api():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not server.api_healthy(f"http://127.0.0.1:{port}/api", timeout=0.5)
