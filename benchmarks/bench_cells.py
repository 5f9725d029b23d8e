"""Benchmark: every form's cells in one pass per entity, against one pass per form and the forms' own scans.

On a copy of a warehouse a province run has aggregated (bench_province.py keeps
/tmp/edustat-bench/warehouse-0.duckdb), one process times, alternately, --runs times each:

- one pass: `aggregate.aggregate_forms` of the period's forms (each entity grouped once into a
  shared cube, each form's cells cut from it, one delete/insert/rollup), as the aggregate step runs;
- per form: `aggregate.aggregate_form` of each form in turn (each form groups its entities itself:
  the aggregation as it was before issue 17);
- own scans: for each form, a plain scan of exactly the columns it reads, summed over the forms
  (bench_province.form_scan_sql: the floor the issue compares the cells with).

and prints the medians and the ratios, with the machine's load, as JSON last. The cells both ways
are compared (they must be equal).

    .venv/bin/python benchmarks/bench_cells.py --warehouse /tmp/edustat-bench/warehouse-0.duckdb
        [--runs 5] [--school-year 2024-2025] [--period DN]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default="/tmp/edustat-bench/warehouse-0.duckdb")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--school-year", default="2024-2025")
    parser.add_argument("--period", default="DN", choices=["DN", "CN"])
    args = parser.parse_args()
    ctx, regime = _context(args.school_year, args.period)
    forms = list(catalog.forms_for(regime, ctx.period))
    work = Path(args.warehouse).with_name("bench-cells.duckdb")
    shutil.copy(args.warehouse, work)
    times: dict[str, list[float]] = {"one_pass_s": [], "per_form_s": [], "own_scans_s": []}
    try:
        with warehouse.connect(work) as con:
            scans = [sql for form in forms for sql in form_scan_sql(con, form)]
            for _ in range(args.runs):
                t = time.perf_counter()
                aggregate.aggregate_forms(con, forms, ctx)
                times["one_pass_s"].append(time.perf_counter() - t)
                one_pass = _cells(con, ctx)
                t = time.perf_counter()
                for form in forms:
                    aggregate.aggregate_form(con, form, ctx)
                times["per_form_s"].append(time.perf_counter() - t)
                if _cells(con, ctx) != one_pass:
                    raise SystemExit("the cells of one pass differ from the cells of one pass per form")
                t = time.perf_counter()
                for sql in scans:
                    con.execute(sql).fetchall()
                times["own_scans_s"].append(time.perf_counter() - t)
            learners = warehouse.scalar(con, "SELECT count(*) FROM learner")
    finally:
        work.unlink(missing_ok=True)
        Path(str(work) + ".wal").unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    figures = {
        "forms": len(forms),
        "learners": learners,
        "runs": args.runs,
        **{k: round(v, 4) for k, v in med.items()},
        "one_pass_over_own_scans": round(med["one_pass_s"] / med["own_scans_s"], 2),
        "per_form_over_own_scans": round(med["per_form_s"] / med["own_scans_s"], 2),
        "one_pass_over_per_form": round(med["one_pass_s"] / med["per_form_s"], 2),
        "load_1min": round(os.getloadavg()[0], 2),
        "date": date.today().isoformat(),
    }
    print(
        f"{len(forms)} forms, {learners} learners, median of {args.runs} runs (load {figures['load_1min']}):"
    )
    for name in ("one_pass_s", "per_form_s", "own_scans_s"):
        print(f"  {name:28s} {med[name]:8.3f}")
    for name in ("one_pass_over_own_scans", "per_form_over_own_scans", "one_pass_over_per_form"):
        print(f"  {name:28s} {figures[name]:8.2f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
