"""Arrival times: office hours inside the window, the same for the same seed."""

from __future__ import annotations

import datetime as dt

from pipelines.synthetic.arrivals import spread_arrivals


def test_spread_arrivals_puts_each_file_in_office_hours_of_the_window(tmp_path):
    import os

    for code in ("66643001", "66643002", "66644001"):
        (tmp_path / f"{code}_2024_1.json").write_text("{}", encoding="utf-8")
    first, last = dt.date(2024, 10, 1), dt.date(2024, 10, 14)
    assert spread_arrivals(tmp_path, first, last, seed=3) == 3
    stamps = {p.name: os.stat(p).st_mtime for p in tmp_path.iterdir()}
    for stamp in stamps.values():
        moment = dt.datetime.fromtimestamp(stamp)
        assert first <= moment.date() <= last and 7 <= moment.hour < 17
    spread_arrivals(tmp_path, first, last, seed=3)
    assert {p.name: os.stat(p).st_mtime for p in tmp_path.iterdir()} == stamps  # same seed, same moments
