"""Benchmark: every form's cells of a period, against one pass per form and the forms' own scans.

On a copy of a warehouse a province run has aggregated (bench_province.py keeps
/tmp/edustat-bench/warehouse-0.duckdb), one process times, alternately, --runs times each:

- one pass: `aggregate.aggregate_forms` of the period's forms (each form's cells read off its scoped
  records, one delete/insert/rollup for all forms), as the aggregate step runs;
- cut: the same forms' school cells computed (aggregate.compile_forms, one statement per form) into
  temporary tables, not stored: one pass without its delete/insert/rollup;
- per form: `aggregate.aggregate_form` of each form in turn (a delete/insert/rollup per form);
- own scans: for each form, a plain scan of exactly the columns it reads, summed over the forms
  (bench_province.form_scan_sql: the floor the issue compares the cells with).

and prints the medians (wall time, and the process's CPU time, which a loaded machine moves less)
and the ratios, with the machine's load, as JSON last. The cells both ways are compared (they must be
equal), and their checksum printed (md5 of every cell of the period, ordered): the same before and
after a change to the compiler means the same cells.

    .venv/bin/python benchmarks/bench_cells.py --warehouse /tmp/edustat-bench/warehouse-0.duckdb
        [--runs 5] [--school-year 2024-2025] [--period DN] [--against /path/to/earlier/checkout]

--against: before and after in one run. Each of --runs rounds runs this benchmark once (--runs 1) with
the earlier checkout's code, then once with this checkout's, each in a process of its own (PYTHONPATH
set to the checkout), on the same warehouse; the medians of both and their ratios are printed, and the
cells of both must have the same checksum. A loaded machine then moves both alike.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from _figures import MARKER, emit
from bench_province import form_scan_sql

from pipelines import aggregate, catalog, settings, warehouse


def _context(school_year: str, period: str) -> tuple[aggregate.RunContext, str]:
    s = settings.resolve(school_year, period, Path("registry"), Path("inbox"))
    ctx = aggregate.RunContext("bench-cells", s.school_year, s.start_year, s.period, s.as_of, s.boundaries)
    return ctx, s.regime


def _cells(con, ctx: aggregate.RunContext) -> list[tuple]:
    return con.execute(
        "SELECT form, level, unit_code, row_code, col_key, value FROM cells "
        "WHERE school_year = ? AND period = ? ORDER BY ALL",
        [ctx.school_year, ctx.period],
    ).fetchall()


def checksum(cells: list[tuple]) -> str:
    """md5 of the cells in order (form, level, unit, row, column, value)."""
    return hashlib.md5(repr(cells).encode()).hexdigest()


def _one_run(checkout: Path, args: argparse.Namespace) -> dict:
    """This benchmark once (--runs 1) with the code of `checkout`, in a process of its own."""
    script = checkout / "benchmarks" / "bench_cells.py"
    cmd = [sys.executable, str(script), "--warehouse", args.warehouse, "--runs", "1",
           "--school-year", args.school_year, "--period", args.period]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith(MARKER))[len(MARKER) :])


def compare(args: argparse.Namespace) -> None:
    """Before (--against) and after (this checkout), alternately, --runs times each."""
    sides = {"before": Path(args.against).resolve(), "after": Path(__file__).resolve().parents[1]}
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    for _ in range(args.runs):
        for side, checkout in sides.items():
            runs[side].append(_one_run(checkout, args))
    names = ("one_pass_s", "cut_s", "own_scans_s", "one_pass_cpu_s", "cut_cpu_s", "own_scans_cpu_s",
             "one_pass_over_own_scans", "cut_over_own_scans", "one_pass_over_own_scans_cpu")  # fmt: skip
    med = {side: {n: statistics.median(r[n] for r in rs) for n in names} for side, rs in runs.items()}
    loads = [r["load_1min"] for rs in runs.values() for r in rs]
    sums = {r["cells_checksum"] for rs in runs.values() for r in rs}
    print(f"before {sides['before']} / after {sides['after']}: median of {args.runs} runs each, alternately, "
          f"load {min(loads)}-{max(loads)}")  # fmt: skip
    print(f"  {'':30s} {'before':>9s} {'after':>9s} {'after/before':>12s}")
    for n in names:
        print(
            f"  {n:30s} {med['before'][n]:9.3f} {med['after'][n]:9.3f} {med['after'][n] / med['before'][n]:12.2f}"
        )
    print(f"  cells checksum: {' '.join(sorted(sums))} ({'the same' if len(sums) == 1 else 'DIFFERENT'})")
    figures = {"runs": args.runs, "before": med["before"], "after": med["after"], "same_cells": len(sums) == 1,
               "load_1min_min": min(loads), "load_1min_max": max(loads)}  # fmt: skip
    print(json.dumps(figures))
    emit(figures)
    if len(sums) != 1:
        raise SystemExit("the cells before and after differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default="/tmp/edustat-bench/warehouse-0.duckdb")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--school-year", default="2024-2025")
    parser.add_argument("--period", default="DN", choices=["DN", "CN"])
    parser.add_argument("--against", help="an earlier checkout: before and after in one run")
    args = parser.parse_args()
    if args.against:
        compare(args)
        return
    ctx, regime = _context(args.school_year, args.period)
    forms = list(catalog.forms_for(regime, ctx.period))
    work = Path(args.warehouse).with_name("bench-cells.duckdb")
    shutil.copy(args.warehouse, work)
    names = ("one_pass", "cut", "per_form", "own_scans")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}

    def timed(name: str, job) -> None:
        t, c = time.perf_counter(), time.process_time()
        job()
        wall[name].append(time.perf_counter() - t)
        cpu[name].append(time.process_time() - c)

    try:
        with warehouse.connect(work) as con:
            stored = _cells(con, ctx)
            scans = [sql for form in forms for sql in form_scan_sql(con, form)]
            # The cut as the aggregate step runs it: each form's cells into a temporary table.
            cuts = [
                f"CREATE OR REPLACE TEMP TABLE _bench_cut{i} AS {aggregate.compile_forms([form], first_index=i)}"
                for i, form in enumerate(forms)
            ]
            for _ in range(args.runs):
                timed("one_pass", lambda: aggregate.aggregate_forms(con, forms, ctx))
                one_pass = _cells(con, ctx)
                timed("cut", lambda: [con.execute(sql) for sql in cuts])
                timed("per_form", lambda: [aggregate.aggregate_form(con, form, ctx) for form in forms])
                if _cells(con, ctx) != one_pass:
                    raise SystemExit("the cells of one pass differ from the cells of one pass per form")
                timed("own_scans", lambda: [con.execute(sql).fetchall() for sql in scans])
            learners = warehouse.scalar(con, "SELECT count(*) FROM learner")
    finally:
        work.unlink(missing_ok=True)
        Path(str(work) + ".wal").unlink(missing_ok=True)
    med = {f"{n}_s": statistics.median(wall[n]) for n in names}
    med_cpu = {f"{n}_cpu_s": statistics.median(cpu[n]) for n in names}
    figures = {
        "forms": len(forms),
        "learners": learners,
        "school_cells": sum(1 for c in one_pass if c[1] == "school"),
        "runs": args.runs,
        **{k: round(v, 4) for k, v in {**med, **med_cpu}.items()},
        "one_pass_over_own_scans": round(med["one_pass_s"] / med["own_scans_s"], 2),
        "cut_over_own_scans": round(med["cut_s"] / med["own_scans_s"], 2),
        "per_form_over_own_scans": round(med["per_form_s"] / med["own_scans_s"], 2),
        "one_pass_over_per_form": round(med["one_pass_s"] / med["per_form_s"], 2),
        "one_pass_over_own_scans_cpu": round(med_cpu["one_pass_cpu_s"] / med_cpu["own_scans_cpu_s"], 2),
        "cut_over_own_scans_cpu": round(med_cpu["cut_cpu_s"] / med_cpu["own_scans_cpu_s"], 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "date": date.today().isoformat(),
        "cells_checksum": checksum(one_pass),
        "cells_as_stored_before": checksum(one_pass) == checksum(stored),
    }
    print(
        f"{len(forms)} forms, {learners} learners, median of {args.runs} runs (load {figures['load_1min']}):"
    )
    print(f"  {'':28s} {'wall s':>8s} {'CPU s':>8s}")
    for n in names:
        print(f"  {n:28s} {med[n + '_s']:8.3f} {med_cpu[n + '_cpu_s']:8.3f}")
    for name in ("one_pass_over_own_scans", "cut_over_own_scans", "per_form_over_own_scans",
                 "one_pass_over_per_form", "one_pass_over_own_scans_cpu", "cut_over_own_scans_cpu"):  # fmt: skip
        print(f"  {name:28s} {figures[name]:8.2f}")
    print(f"  cells checksum {figures['cells_checksum']} (equal to the cells the warehouse held before: "
          f"{figures['cells_as_stored_before']})")  # fmt: skip
    print(json.dumps(figures))
    emit(figures)


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
