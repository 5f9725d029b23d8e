"""Progress of long loops: without a terminal, a log line every tenth of the way and at the end."""

from __future__ import annotations

import logging

from pipelines import progress


def test_without_a_terminal_it_logs_each_tenth_and_the_end(caplog, monkeypatch):
    monkeypatch.setattr(progress, "_bars_wanted", lambda: False)
    with caplog.at_level(logging.INFO, logger="pipelines.progress"), progress.track("ingest", 25) as advance:
        for _ in range(25):
            advance()
    # step = 25 // 10 = 2: lines at 2, 4, …, 24 and at 25.
    assert [r.getMessage() for r in caplog.records] == [f"ingest: {n}/25" for n in (*range(2, 25, 2), 25)]


def test_bars_are_off_when_asked_or_when_no_one_watches(monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, "0")
    assert not progress._bars_wanted()
