"""How a benchmark hands its figures to `make bench` (benchmarks/run_all.py): one line on stdout,
`BENCH_FIGURES {json}`, printed last. Not part of the product."""

from __future__ import annotations

import json
import os

MARKER = "BENCH_FIGURES "


def emit(figures: dict) -> None:
    """Print the figures (name → number, or nested dicts of them) for run_all.py, with the load."""
    print(
        MARKER + json.dumps({**figures, "load_1min_end": round(os.getloadavg()[0], 2)}, default=str),
        flush=True,
    )
