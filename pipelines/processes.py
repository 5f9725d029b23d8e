"""Child processes that end with their parent, however the parent ends.

A run killed with SIGKILL cannot tell its children to stop. A parse or export worker forked from it
holds the warehouse's open files, and a Prefect server it started keeps serving: left alive, they
would block or confuse the next run. So every child edustat starts asks the kernel to signal it when
its parent ends (Linux `prctl(PR_SET_PDEATHSIG)`, which survives `exec`); where that is not
available, a pool worker watches its parent from a thread. Either way a child whose parent is
already gone when it asks ends at once (the parent may die between the fork and the request).

The kernel's signal follows the parent *thread* that started the child: a pool must be used and
shut down by the thread that created it (a `with` block), as every pool here is.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 0.5


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL, watch: bool = False) -> str:
    """Make this process end when its parent does; returns how: "pdeathsig" (the kernel sends `sig`),
    "watch" (a thread polls the parent: only where the kernel cannot and `watch` is asked; a thread
    does not survive `exec`) or "none". `parent`: the pid the caller was started by (default: the
    current parent); if it is no longer the parent, the process exits now."""
    parent = os.getppid() if parent is None else parent
    how = "none"
    if sys.platform.startswith("linux"):
        try:
            if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0:
                how = "pdeathsig"
        except (OSError, AttributeError):
            pass
    if how == "none" and watch:
        threading.Thread(target=_watch, args=(parent,), daemon=True, name="parent-watch").start()
        how = "watch"
    if os.getppid() != parent:  # the parent died before the request: nothing would fire
        os._exit(1)
    return how


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(1)


def _init_worker(parent: int) -> None:
    die_with_parent(parent, watch=True)


def worker_pool(processes: int, start_method: str | None = None) -> ProcessPoolExecutor:
    """A process pool whose workers end when this process ends (however it ends); `start_method`
    "fork" lets workers inherit the loaded modules (default: the platform's)."""
    context = get_context(start_method) if start_method else None
    return ProcessPoolExecutor(max_workers=processes, mp_context=context, initializer=_init_worker,
                               initargs=(os.getpid(),))  # fmt: skip
