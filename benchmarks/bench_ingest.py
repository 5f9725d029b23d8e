"""Benchmark: the ingest step alone (prepare, then ingest into a fresh warehouse), learners per second.

Generates a province once with the CLI (`python -m pipelines generate --schools N`), then runs
prepare + ingest on a new warehouse and an empty submission store several times and prints the
median rate (staged learners ÷ the ingest step's seconds), the step's CPU seconds (this process and
its parse workers), the machine's load (`os.getloadavg`) before each run and the inbox size.

    .venv/bin/python benchmarks/bench_ingest.py [--schools 1000] [--runs 3] [--dir /tmp/edustat-bench-ingest]
        [--processes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _figures import emit

from pipelines import run as pipeline
from pipelines import settings, warehouse


def _generate(root: Path, schools: int) -> Path:
    gen = root / f"p{schools}"
    if not (gen / "registry.xlsx").is_file():
        subprocess.run([sys.executable, "-m", "pipelines", "generate", "--province", "66", "--school-year",
                        "2024-2025", "--schools", str(schools), "--out", str(gen)], check=True)  # fmt: skip
    return gen


def _cpu() -> float:
    """CPU seconds of this process and of its ended children (the parse workers, once their pool is
    shut): a figure a loaded machine inflates far less than the wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/edustat-bench-ingest")
    args = parser.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    gen = _generate(root, args.schools)
    inbox_mb = sum(p.stat().st_size for p in (gen / "inbox").rglob("*") if p.is_file()) / 1e6
    rates, seconds, loads, cpus = [], [], [], []
    for run in range(args.runs):
        wh = root / f"warehouse-{run}.duckdb"
        wh.unlink(missing_ok=True)
        # The submission store beside the warehouses emptied too: a first ingest encrypts every file
        # for it (a store left by an earlier run would spare that work).
        shutil.rmtree(root / "submissions", ignore_errors=True)
        s = settings.resolve("2024-2025", "DN", gen / "registry.xlsx", gen / "inbox", wh, root / f"out-{run}",
                             processes=args.processes)  # fmt: skip
        loads.append(os.getloadavg()[0])
        pipeline.prepare(s)
        t, cpu = time.perf_counter(), _cpu()
        step = pipeline.ingest_step(s)
        took, cpu = time.perf_counter() - t, _cpu() - cpu
        learners = int(step.facts["learner_records"])
        rates.append(learners / took)
        seconds.append(took)
        cpus.append(cpu)
        print(f"run {run + 1}: {learners} learners in {took:.2f} s = {learners / took:,.0f} learners/s, "
              f"{cpu:.2f} CPU s (load {loads[-1]:.2f})", flush=True)  # fmt: skip
    result = {"schools": args.schools, "inbox_mb": round(inbox_mb, 1), "runs": args.runs,
              "ingest_s_median": round(statistics.median(seconds), 3),
              "learners_per_s_median": round(statistics.median(rates)),
              "cpu_s_median": round(statistics.median(cpus), 3),
              "load_1min": [round(x, 2) for x in loads]}  # fmt: skip
    print(json.dumps(result))
    emit(result)


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
