"""When the generated files arrive: each file's modification time, which the ingest stage reads as its
arrival (pipelines/ingest/submissions.py), set to a seeded moment in the reporting window."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path


def spread_arrivals(inbox: Path, first: dt.date, last: dt.date, seed: int) -> int:
    """Set each file's modification time (its arrival: pipelines/ingest/submissions.py) to a seeded moment in
    office hours (07:00-17:00) between `first` and `last`, so a demo shows the reporting window day by
    day instead of one instant. Each file depends on the seed and its name only. Returns the files."""
    paths = sorted(p for p in Path(inbox).glob("*.json") if p.is_file())
    days = (last - first).days
    for p in paths:
        rng = random.Random(f"arrival-{seed}-{p.name}")
        day = first + dt.timedelta(days=rng.randint(0, days))
        moment = dt.datetime.combine(day, dt.time(7)) + dt.timedelta(seconds=rng.randrange(10 * 3600))
        stamp = moment.timestamp()
        os.utime(p, (stamp, stamp))
    return len(paths)
