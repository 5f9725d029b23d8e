"""Benchmark: the export step of a generated province (default 1,000 schools).

Generates the province and runs it up to aggregation once (kept in --dir between invocations), then
runs the export step --runs times with every workbook rewritten (`full`), and reports the median:

- the whole export step (workbooks, error lists, summaries, completeness, CSV, Parquet, SDMX, docs),
- the form workbooks (outputs.workbook.write_workbooks: the process pool and the writer; the period's
  other files are written in this process meanwhile, their time given apart as meanwhile_s),
- ms per form workbook (both ways) and KB per form workbook (mean and median size on disk, largest),
- a re-run with nothing changed (no workbook rewritten),
- the CPU of this process and of the pool's workers (their children's usage, collected when the pool
  ends) per run,

each with the machine's load average when it ran (a shared machine makes figures noisy).

    .venv/bin/python benchmarks/bench_export.py [--schools 1000] [--runs 3] [--processes 2]
        [--dir /tmp/edustat-bench-export] [--json figures.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from dataclasses import replace
from pathlib import Path

from _figures import emit

from pipelines import run as pipeline
from pipelines import settings, warehouse
from pipelines.outputs import workbook
from pipelines.synthetic import province as generate


def _prepared(root: Path, schools: int, processes: int) -> settings.Settings:
    """The province generated and run up to aggregation (once; reused while --dir is kept)."""
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    gen_dir, wh = root / "gen", root / "warehouse.duckdb"
    done = root / f".aggregated-{schools}"
    if not done.exists():
        t = time.perf_counter()
        gen = generate.generate_province("66", "2024-2025", "DN", schools, 2024, gen_dir)
        print(f"generate: {schools} schools, {gen.n_learners} learners in {time.perf_counter() - t:.1f} s")
    s = settings.resolve("2024-2025", "DN", gen_dir / "registry.xlsx", gen_dir / "inbox", wh, root / "out",
                         processes=processes)  # fmt: skip
    if not done.exists():
        wh.unlink(missing_ok=True)
        t = time.perf_counter()
        for step in pipeline.STEPS[:-1]:
            step(s)
        print(f"prepare → aggregate in {time.perf_counter() - t:.1f} s")
        done.write_text(s.run_id, encoding="utf-8")
    return replace(s, run_id=done.read_text(encoding="utf-8"))


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/edustat-bench-export")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    s = _prepared(root, args.schools, args.processes)

    # Time the form workbooks alone: wrap the pool the export step calls.
    writer_seconds: list[float] = []
    write_workbooks = workbook.write_workbooks

    meanwhile_seconds: list[float] = []

    def timed(jobs, processes=2, meanwhile=None):  # type: ignore[no-untyped-def]
        # The pool writes the workbooks while this process writes the period's other files
        # (`meanwhile`): writer_s is the whole call, meanwhile_s the other files' share of it.
        def other_files() -> None:
            t0 = time.perf_counter()
            if meanwhile is not None:
                meanwhile()
            meanwhile_seconds.append(time.perf_counter() - t0)

        t = time.perf_counter()
        write_workbooks(jobs, processes, meanwhile=other_files)
        writer_seconds.append(time.perf_counter() - t)

    workbook.write_workbooks = timed  # type: ignore[assignment]
    runs = []
    for i in range(args.runs):
        load = os.getloadavg()[0]
        cpu, workers = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        result = pipeline.export_step(replace(s, full=True))
        total = time.perf_counter() - t
        cpu, workers = _cpu(resource.RUSAGE_SELF) - cpu, _cpu(resource.RUSAGE_CHILDREN) - workers
        books = sorted((s.out / "forms").rglob("*.xlsx"))
        sizes = [p.stat().st_size for p in books]
        runs.append({"export_s": total, "writer_s": writer_seconds[-1], "meanwhile_s": meanwhile_seconds[-1],
                     "workbooks": len(books),
                     "kb_per_workbook": sum(sizes) / len(sizes) / 1024, "max_kb": max(sizes) / 1024,
                     "median_kb": statistics.median(sizes) / 1024,
                     "load": load, "written": result.facts["workbooks_written"], "cpu_main_s": cpu,
                     "cpu_workers_s": workers})  # fmt: skip
        print(f"run {i + 1}: export {total:.2f} s, workbooks {writer_seconds[-1]:.2f} s for {len(books)} "
              f"({runs[-1]['kb_per_workbook']:.1f} KB each), CPU {cpu:.2f} s here + {workers:.2f} s in the pool, "
              f"load {load:.2f}")  # fmt: skip
    load = os.getloadavg()[0]
    t = time.perf_counter()
    again = pipeline.export_step(s)
    rerun = time.perf_counter() - t
    n = runs[0]["workbooks"]
    figures = {
        "schools": args.schools,
        "processes": args.processes,
        "runs": len(runs),
        "workbooks": n,
        "export_s_median": statistics.median(r["export_s"] for r in runs),
        "export_ms_per_workbook": 1000 * statistics.median(r["export_s"] for r in runs) / n,
        "writer_s_median": statistics.median(r["writer_s"] for r in runs),
        "writer_ms_per_workbook": 1000 * statistics.median(r["writer_s"] for r in runs) / n,
        "meanwhile_s_median": statistics.median(r["meanwhile_s"] for r in runs),
        # CPU (user + system) of this process (all its threads, DuckDB's too) and of the pool's workers:
        # steadier than wall times on a shared machine.
        "cpu_main_s_median": statistics.median(r["cpu_main_s"] for r in runs),
        "cpu_workers_s_median": statistics.median(r["cpu_workers_s"] for r in runs),
        "kb_per_workbook": statistics.median(r["kb_per_workbook"] for r in runs),
        "median_kb_per_workbook": statistics.median(r["median_kb"] for r in runs),
        "max_kb": max(r["max_kb"] for r in runs),
        "load_during_runs": [round(r["load"], 2) for r in runs],
        "rerun_unchanged_s": rerun,
        "rerun_workbooks_written": again.facts["workbooks_written"],
        "rerun_load": round(load, 2),
    }
    print(json.dumps(figures, indent=1))
    emit(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
