"""Benchmark (issue 6): re-running a province after one school resubmits, against a full run.

Each repetition: a full run of a generated province on a fresh warehouse (every file parsed,
every school checked, every workbook written), then one school sends a new version of its file
(a pupil's sex changed, a pupil dropped) and the period is re-run on that warehouse. Reports the
median of each, per step, and their ratio (target: the re-run under a tenth of the full run).
Great Expectations is imported before timing starts, as it is in a long-lived `edustat serve`.
The first repetition also checks that the re-run's cells equal a full run's on the same files.

    .venv/bin/python benchmarks/bench_resubmit.py [--schools 1000] [--runs 3] [--dir /tmp/edustat-resubmit]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

from _figures import emit

from pipelines import run as pipeline
from pipelines import settings, warehouse
from pipelines.synthetic import province as generate

STEPS = ("prepare", "ingest", "validate", "aggregate", "export")


def run(gen: generate.GenerateSummary, inbox: Path, wh: Path, out: Path) -> tuple[float, pipeline.RunSummary]:
    s = settings.resolve("2024-2025", "DN", gen.registry, inbox, wh, out, processes=2)
    t = time.perf_counter()
    summary = pipeline.run_period(s)
    return time.perf_counter() - t, summary


def resubmit(path: Path) -> None:
    """A new version of one school's file: one pupil's sex changed, one pupil dropped, a day later."""
    payload = json.loads(path.read_text(encoding="utf-8"))
    pupils = payload["LstHocSinh"]
    pupils[0]["GioiTinh"] = 0 if str(pupils[0]["GioiTinh"]) == "1" else 1
    del pupils[1]
    mtime = path.stat().st_mtime
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    os.utime(path, (mtime + 86400, mtime + 86400))


def cells(wh: Path) -> list[tuple]:
    with warehouse.connect(wh) as con:
        return con.execute(
            "SELECT form, level, unit_code, row_code, col_key, value FROM cells ORDER BY ALL"
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/edustat-resubmit")
    args = parser.parse_args()
    root = Path(args.dir)
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    t = time.perf_counter()
    import great_expectations  # noqa: F401  (its import, ~2 s, is paid once per process)

    print(f"import great_expectations: {time.perf_counter() - t:.1f} s (not counted below)")
    gen = generate.generate_province("66", "2024-2025", "DN", args.schools, 2024, root / "gen")
    print(f"province: {args.schools} schools, {gen.n_learners} learners")
    times: dict[str, list[float]] = {}
    for n in range(args.runs):
        inbox, wh, out = root / f"inbox-{n}", root / f"warehouse-{n}.duckdb", root / f"out-{n}"
        shutil.rmtree(inbox, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        wh.unlink(missing_ok=True)
        shutil.copytree(gen.inbox, inbox)
        full_s, full = run(gen, inbox, wh, out)
        school_file = sorted(inbox.glob("*.json"))[n]
        resubmit(school_file)
        rerun_s, rerun = run(gen, inbox, wh, out)
        for label, seconds, summary in (("full", full_s, full), ("rerun", rerun_s, rerun)):
            times.setdefault(f"{label}_s", []).append(seconds)
            for step in summary.steps:
                times.setdefault(f"{label}_{step.step}_s", []).append(step.seconds)
        times.setdefault("ratio", []).append(rerun_s / full_s)
        facts = {
            k: rerun.fact(k) for k in ("files_parsed", "schools_checked", "workbooks", "workbooks_written")
        }
        print(
            f"run {n + 1}: full {full_s:.1f} s, re-run {rerun_s:.2f} s ({rerun_s / full_s:.3f}); re-run {facts}"
        )
        if n == 0:  # the re-run ends where a full run of the same files ends
            check = root / "check.duckdb"
            check.unlink(missing_ok=True)
            run(gen, inbox, check, root / "out-check")
            same = cells(wh) == cells(check)
            print(f"  cells of the re-run equal a full run's: {same}")
            if not same:
                raise SystemExit("the re-run's cells differ from a full run's")
    print(f"\nmedian of {args.runs} runs ({args.schools} schools, {gen.n_learners} learners):")
    for name, values in times.items():
        print(f"  {name:22s} {statistics.median(values):9.3f}")
    emit({"schools": args.schools, "learners": gen.n_learners, "runs": args.runs,
          **{name: round(statistics.median(v), 4) for name, v in times.items()}})  # fmt: skip


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
