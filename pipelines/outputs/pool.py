"""The export's worker processes, which die with the run.

A worker forked from the run inherits its open files, the warehouse's among them. Killed with
SIGKILL, the run cannot tell its workers to stop, and a worker left alive would keep the warehouse
busy for the next run. So each worker asks the kernel to kill it when its parent dies (Linux:
prctl(PR_SET_PDEATHSIG, SIGKILL)) and, where that is not available, watches its parent from a
thread; either way it also checks once that the parent it was started for is still there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 0.5

T = TypeVar("T")
R = TypeVar("R")


def die_with_parent(parent: int) -> str:
    """Make this process exit when `parent` dies; return how ("pdeathsig" or "watch")."""
    how = "watch"
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                how = "pdeathsig"
        except OSError:
            pass
    if how == "watch":
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()
    # The parent may have died between the fork and the line above: then nothing would fire.
    if os.getppid() != parent:
        os._exit(1)
    return how


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _init(parent: int) -> None:
    die_with_parent(parent)


def pool(processes: int) -> ProcessPoolExecutor:
    """A process pool whose workers exit when this process dies (however it dies)."""
    return ProcessPoolExecutor(max_workers=processes, initializer=_init, initargs=(os.getpid(),))


def map_in_pool(fn: Callable[[T], R], items: Iterable[T], processes: int, chunksize: int = 1) -> Iterator[R]:
    """fn over items in a pool of `processes` workers that die with this process."""
    with pool(processes) as executor:
        yield from executor.map(fn, items, chunksize=chunksize)
