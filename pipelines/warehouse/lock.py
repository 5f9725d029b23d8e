"""One writer at a time: the lock file beside the warehouse, taken by every step that writes."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

LOCK_SUFFIX = ".lock"  # the writer lock beside the warehouse: data/warehouse.duckdb.lock
_held: dict[str, list] = {}  # lock path → [run_id, depth] held by this process
_held_guard = threading.Lock()


class WarehouseLocked(RuntimeError):
    """Another run holds the warehouse's writer lock; the message is in Vietnamese and English."""


def lock_path(path: Path | str) -> Path:
    return Path(str(Path(path).resolve()) + LOCK_SUFFIX)


def _process_start(pid: int) -> str | None:
    """Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), to tell a live
    holder from another process that got its pid later; None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_lock(path: Path | str) -> dict | None:
    """The holder recorded in the warehouse's lock file (pid, host, run_id, started_at), or None."""
    try:
        text = lock_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {}  # being written, or left half-written by a killed process


def _stale(holder: dict, lock: Path) -> bool:
    """A lock of a dead process on this host (or an unreadable one older than a few seconds)."""
    if not holder:
        try:
            return time.time() - lock.stat().st_mtime > 10
        except FileNotFoundError:
            return True
    if holder.get("host") != socket.gethostname():
        return False  # a process on another machine: cannot tell, never taken over
    pid = int(holder.get("pid", 0))
    if pid <= 0 or not _pid_alive(pid):
        return True
    start = holder.get("pid_start")
    return start is not None and _process_start(pid) not in (None, start)  # the pid was reused


def _take_over(lock: Path, holder: dict) -> None:
    """Move a stale lock aside; if another process replaced it meanwhile, put theirs back."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}-{threading.get_ident()}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    try:
        moved = json.loads(aside.read_text(encoding="utf-8"))
    except ValueError:
        moved = {}
    if moved != holder and moved and not _stale(moved, aside):
        try:
            os.link(aside, lock)  # fails if someone holds the lock again; theirs stands either way
        except FileExistsError:
            pass
    aside.unlink(missing_ok=True)


def _locked_message(path: Path, holder: dict) -> str:
    who = (f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, "
           f"since {holder.get('started_at')})") if holder else "another run"  # fmt: skip
    lock = lock_path(path)
    return (f"kho dữ liệu đang được một lượt chạy khác ghi, hãy chờ lượt đó xong / the warehouse is being written "
            f"by {who}; wait for it to finish: {path} (lock {lock}; if no such run is alive on that machine, "
            f"delete the lock file)")  # fmt: skip


@contextmanager
def writer_lock(path: Path | str, run_id: str) -> Iterator[dict]:
    """Hold the warehouse's writer lock for a run: one writer at a time.

    The lock file beside the warehouse (`<warehouse>.lock`) is created atomically (O_EXCL) and
    records pid, host, run id and start time. A lock of a dead process on this host is taken
    over; any other holder makes this raise WarehouseLocked. Re-entrant for the same run in the
    same process (the CLI's run holds it, and each step takes it again), so flows that call the
    steps one by one are protected step by step.
    """
    path = Path(path).resolve()
    lock = lock_path(path)
    key = str(lock)
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            if held[0] != run_id:
                raise WarehouseLocked(_locked_message(path, read_lock(path) or {}))
            held[1] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield read_lock(path) or {}
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id,
          "started_at": datetime.now().isoformat(timespec="seconds"), "pid_start": _process_start(os.getpid())}  # fmt: skip
    for _attempt in range(5):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_lock(path)
            if holder is None:
                continue  # released meanwhile
            if _stale(holder, lock):
                _take_over(lock, holder)
                continue
            raise WarehouseLocked(_locked_message(path, holder)) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
            fh.flush()
            os.fsync(fh.fileno())
        break
    else:
        raise WarehouseLocked(_locked_message(path, read_lock(path) or {}))
    with _held_guard:
        _held[key] = [run_id, 1]
    try:
        yield me
    finally:
        with _held_guard:
            _held.pop(key, None)
        if read_lock(path) == me:
            lock.unlink(missing_ok=True)
