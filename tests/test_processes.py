"""Children that end with their parent (pipelines/processes.py): pool workers of a process killed
with SIGKILL, and a child whose parent was gone before it asked (exec'd children and the signal
asked for: tests/ops/test_lifetime.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


def alive(pids: list[int], seconds: float = 10.0) -> list[int]:
    """The pids still running (not zombies) after up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        living = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    living.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not living or time.monotonic() > deadline:
            return living
        time.sleep(0.1)


def started_then_killed(script: str) -> list[int]:
    """Run `script` (it prints the pids of its children on one line, then waits), SIGKILL it, and
    return those children's pids."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=ENV)
    children = [int(p) for p in proc.stdout.readline().split()]
    assert children and not set(children) - set(alive(children, 0))  # all running before the kill
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    return children


@pytest.mark.parametrize("start_method", ["fork", None])
def test_pool_workers_die_with_a_killed_run(start_method):
    script = f"""
import os, time
from pipelines.processes import worker_pool
with worker_pool(2, {start_method!r}) as pool:
    print(" ".join(str(p) for p in {{pool.submit(os.getpid).result() for _ in range(6)}}), flush=True)
    time.sleep(60)
"""
    assert alive(started_then_killed(script)) == []


def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    # Its parent is not the pid it was started for: the parent died between the fork and the request.
    script = "from pipelines.processes import die_with_parent; die_with_parent(parent=1); print('still here')"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=ENV, timeout=60)
    assert (done.returncode, done.stdout) == (1, "")
