"""Progress of the long loops (files ingested, workbooks written): a rich progress bar when a person
watches a terminal, a log line every tenth of the way otherwise (a Prefect worker, a CI log, a pipe).
Set EDUSTAT_PROGRESS=0 to silence the bars."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

log = logging.getLogger("pipelines.progress")
PROGRESS_ENV = "EDUSTAT_PROGRESS"


def _bars_wanted() -> bool:
    return os.environ.get(PROGRESS_ENV, "1") != "0" and sys.stderr.isatty()


@contextmanager
def track(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A counter of `total` steps: yields advance(n=1)."""
    if _bars_wanted() and total:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)
        log.info("%s: %d/%d", description, total, total)
        return
    done = 0
    step = max(1, total // 10)

    def advance(n: int = 1) -> None:
        nonlocal done
        before, done = done, done + n
        if done // step != before // step or done == total:
            log.info("%s: %d/%d", description, done, total)

    yield advance
