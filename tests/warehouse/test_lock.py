"""The writer lock: one writer at a time, re-entrant for the run that holds it, taken over only from a
dead process on this host."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from pipelines import warehouse


def test_the_writer_lock_is_exclusive_reentrant_and_taken_over_when_stale(tmp_path):
    wh = tmp_path / "w.duckdb"
    lock = warehouse.lock_path(wh)
    with warehouse.writer_lock(wh, "run-1") as me:
        assert json.loads(lock.read_text())["pid"] == os.getpid() == me["pid"]
        with warehouse.writer_lock(wh, "run-1"):  # the run's own steps
            pass
        assert lock.exists()
        with pytest.raises(warehouse.WarehouseLocked, match="run-1"):
            with warehouse.writer_lock(wh, "run-2"):
                pass
    assert not lock.exists()
    # A lock left by a dead process on this host is taken over …
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "run_id": "killed"}))
    with warehouse.writer_lock(wh, "run-3"):
        assert warehouse.read_lock(wh)["run_id"] == "run-3"
    # … a live process's, or one on another machine, is not.
    alive = subprocess.Popen(["sleep", "60"])
    try:
        for holder in ({"pid": alive.pid, "host": socket.gethostname(), "run_id": "live"},
                       {"pid": dead.pid, "host": "another-machine", "run_id": "remote"}):  # fmt: skip
            lock.write_text(json.dumps(holder))
            with pytest.raises(warehouse.WarehouseLocked, match="đang được một lượt chạy khác ghi") as err:
                with warehouse.writer_lock(wh, "run-4"):
                    pass
            assert holder["run_id"] in str(err.value) and str(lock) in str(err.value)
            assert json.loads(lock.read_text()) == holder  # left alone
    finally:
        alive.kill()
        alive.wait()
