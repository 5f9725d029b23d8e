"""Benchmark: the form compiler against a plain scan as the warehouse grows.

Copies the typed record tables of a benchmark warehouse (from bench_province.py) k times over,
with new school codes, then times the compiled 02-TH-DN statement (cells per school) and a plain
group-by-school scan of the same columns. Medians of several runs.

    .venv/bin/python benchmarks/bench_aggregate_scaling.py --warehouse /tmp/edustat-bench/warehouse-0.duckdb
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from _figures import emit
from bench_province import SCAN_SQL

from pipelines import aggregate, catalog, warehouse

TABLES = ("school", "site", "class", "learner", "staff", "rooms")


def _median_seconds(con, sql: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--factors", default="1,4,16")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    form = catalog.form("tt24", "02-TH-DN")
    work = Path(args.warehouse).with_name("scaling.duckdb")
    print(f"{'factor':>6} {'learners':>10} {'form_s':>8} {'scan_s':>8} {'ratio':>6}")
    figures: dict = {}
    for factor in (int(f) for f in args.factors.split(",")):
        shutil.copy(args.warehouse, work)
        with warehouse.connect(work) as con:
            for table in TABLES:
                con.execute(
                    f"INSERT INTO {table} SELECT t.* REPLACE (t.school_code || '-' || k AS school_code) "
                    f"FROM {table} AS t, (SELECT range AS k FROM range(1, {factor})) AS copies"
                )
            sql = f"SELECT count(*), sum(value) FROM ({aggregate.compile_form(form)})"
            learners = warehouse.scalar(con, "SELECT count(*) FROM learner")
            form_s = _median_seconds(con, sql, args.runs)
            scan_s = _median_seconds(con, SCAN_SQL, args.runs)
        print(f"{factor:>6} {learners:>10} {form_s:>8.3f} {scan_s:>8.3f} {form_s / scan_s:>6.1f}")
        figures[f"x{factor}"] = {"learners": learners, "form_s": round(form_s, 4), "scan_s": round(scan_s, 4),
                                 "form_over_scan": round(form_s / scan_s, 2)}  # fmt: skip
    work.unlink(missing_ok=True)
    emit(figures)


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
