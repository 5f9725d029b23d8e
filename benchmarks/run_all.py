"""`make bench`: every benchmark under benchmarks/, one JSON of figures, a table against the last run.

Runs each script (BENCHMARKS below) in a process of its own, at quick sizes by default (minutes on 2
cores) or at the issues' full sizes with --full (or EDUSTAT_BENCH_FULL=1; hours), collects the
figures each prints last (`_figures.emit`: a `BENCH_FIGURES {json}` line), and writes them with the
machine, the load average before and after each benchmark, the commit and the seeds to
benchmarks/results/latest.json (the run before it is kept as previous.json, and every run as
results/<UTC time>.json). Then prints, figure by figure, the previous run's value, this run's and
their ratio now/prev (a run at the other size, or a benchmark that failed, is shown without ratios).
Every input is seeded (the generators' fixed seeds, --seed below), so two runs at one size measure
the same data. A benchmark that fails is reported and the others still run; the exit status is 1.

    .venv/bin/python benchmarks/run_all.py [--full] [--only cells,province] [--dir /tmp/edustat-bench-all]
        [--results benchmarks/results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from _figures import MARKER

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name: (script, arguments at quick size, arguments at full size); {dir} is the benchmark's folder,
# {province} the warehouse the province benchmark leaves (cells and scaling read it: run after it).
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "province": ("bench_province.py", ["--schools", "50", "--runs", "1"], ["--schools", "1000", "--runs", "3"]),
    "cells": ("bench_cells.py", ["--warehouse", "{province}", "--runs", "5"],
              ["--warehouse", "{province}", "--runs", "5"]),
    "aggregate_scaling": ("bench_aggregate_scaling.py", ["--warehouse", "{province}", "--factors", "1,2", "--runs", "3"],
                          ["--warehouse", "{province}", "--factors", "1,4,16", "--runs", "5"]),
    "resubmit": ("bench_resubmit.py", ["--schools", "50", "--runs", "1"], ["--schools", "1000", "--runs", "3"]),
    "ingest": ("bench_ingest.py", ["--schools", "50", "--runs", "1"], ["--schools", "1000", "--runs", "3"]),
    "export": ("bench_export.py", ["--schools", "50", "--runs", "1"], ["--schools", "1000", "--runs", "3"]),
    "validate": ("bench_validate.py", ["--rows", "200000", "--runs", "1", "--skip-pandas"],
                 ["--rows", "24000000", "--runs", "3"]),
    "analyst": ("bench_analyst.py", ["--schools", "500", "--learners", "200000", "--profile-schools", "12",
                                     "--runs", "3", "--seed", "1"],
                ["--schools", "45000", "--learners", "24000000", "--runs", "5", "--seed", "1"]),
    "boundaries": ("bench_boundaries.py", ["--schools", "500", "--profile-schools", "0", "--runs", "3", "--seed", "1"],
                   ["--schools", "45000", "--runs", "5", "--seed", "1"]),
    "prefect": ("bench_prefect.py", ["--schools", "20", "--runs", "1"], ["--schools", "1000", "--runs", "2"]),
    # A generated country through the bucket (moto's local S3 server): issue 17's national run; the full
    # size is 13 provinces of 1,000 schools (5.3 M learners), extrapolated per learner to 24 M.
    "national": ("bench_national.py", ["--provinces", "3", "--schools", "5", "--workers", "2"],
                 ["--provinces", "13", "--schools", "1000", "--workers", "2"]),
    "reliability": ("reliability.py", ["--kill-trials", "2", "--skip-tests", "--seed", "13"],
                    ["--kill-trials", "20", "--seed", "13"]),
}  # fmt: skip
# The benchmarks that read the province benchmark's warehouse.
NEEDS_PROVINCE = {"cells", "aggregate_scaling"}


def flatten(figures: dict, prefix: str = "") -> dict[str, float]:
    """The numeric figures, nested names joined with '.' (lists and text are kept in the JSON only)."""
    out: dict[str, float] = {}
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out


def machine() -> dict:
    """What the figures were measured on."""
    cpu = ""
    try:
        cpu = next(
            (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
             if ln.startswith("model name")), "")  # fmt: skip
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import duckdb

    return {"platform": platform.platform(), "python": platform.python_version(), "duckdb": duckdb.__version__,
            "cpus": os.cpu_count(), "cpu_model": cpu, "memory_gib": round(mem_gib, 1)}  # fmt: skip


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return done.stdout.strip() + ("+changes" if dirty.strip() else "")


def run_one(name: str, argv: list[str], log: Path) -> dict:
    """Run one benchmark script; its figures (the last BENCH_FIGURES line), time, load and outcome."""
    script = argv[0]
    load = os.getloadavg()
    t = time.perf_counter()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    with log.open("w", encoding="utf-8") as out:
        done = subprocess.run([sys.executable, str(HERE / script), *argv[1:]], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
        out.write(done.stdout)
    figures: dict = {}
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            figures = json.loads(line[len(MARKER) :])
    result = {"script": script, "args": argv[1:], "ok": done.returncode == 0 and bool(figures),
              "returncode": done.returncode, "seconds": round(time.perf_counter() - t, 1),
              "load_1min_start": round(load[0], 2), "load_1min_end": round(os.getloadavg()[0], 2),
              "figures": figures, "log": str(log)}  # fmt: skip
    if not result["ok"]:
        result["error"] = done.stdout.splitlines()[-15:]
    return result


def table(now: dict, prev: dict | None) -> list[str]:
    """Figure by figure: previous value, this run's, now/prev."""
    lines = [f"{'benchmark.figure':58s} {'previous':>12s} {'now':>12s} {'now/prev':>9s}"]
    same_size = prev is not None and prev.get("mode") == now["mode"]
    if prev is None:
        lines.append("(no previous run: nothing to compare)")
    elif not same_size:
        lines.append(f"(the previous run was at the {prev.get('mode')} size: no ratios)")
    for name, bench in now["benchmarks"].items():
        before = (prev or {}).get("benchmarks", {}).get(name, {})
        old = flatten(before.get("figures", {})) if before.get("ok") else {}
        if not bench["ok"]:
            lines.append(f"{name:58s} FAILED (exit {bench['returncode']}, log {bench['log']})")
            continue
        for key, value in flatten(bench["figures"]).items():
            p = old.get(key)
            ratio = f"{value / p:9.2f}" if same_size and p else f"{'':>9s}"
            shown = f"{p:12.4g}" if p is not None else f"{'–':>12s}"
            lines.append(f"{name + '.' + key:58s} {shown} {value:12.4g} {ratio}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", default=os.environ.get("EDUSTAT_BENCH_FULL") == "1",
                        help="the issues' full sizes (hours); default: quick sizes (minutes)")  # fmt: skip
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--dir", default="/tmp/edustat-bench-all", help="scratch folder of the benchmarks")
    parser.add_argument("--results", default=str(HERE / "results"))
    args = parser.parse_args()
    mode = "full" if args.full else "quick"
    names = list(BENCHMARKS) if not args.only else args.only.split(",")
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(sorted(unknown))} (known: {', '.join(BENCHMARKS)})")
    if NEEDS_PROVINCE & set(names):
        names = ["province", *[n for n in names if n != "province"]]
    root = Path(args.dir) / mode
    root.mkdir(parents=True, exist_ok=True)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    now = {"mode": mode, "started": started.isoformat(timespec="seconds"), "commit": commit(),
           "machine": machine(), "load_1min_start": round(os.getloadavg()[0], 2),
           "seeds": "every input is generated with a fixed seed (province 2024, end of year 2024; "
                    "analyst and boundaries --seed 1; reliability --seed 13)",
           "benchmarks": {}}  # fmt: skip
    province = root / "province" / "warehouse-0.duckdb"
    for name in names:
        script, quick, full = BENCHMARKS[name]
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        argv = [script, *[a.format(province=province) for a in (full if args.full else quick)]]
        if name not in NEEDS_PROVINCE:
            argv += ["--dir", str(folder)]
        print(f"{name}: {' '.join(argv)}", flush=True)
        if name in NEEDS_PROVINCE and not province.exists():
            result = {"script": script, "args": argv[1:], "ok": False, "returncode": None, "figures": {},
                      "log": "", "error": [f"no province warehouse {province}: run the province benchmark"]}  # fmt: skip
        else:
            result = run_one(name, argv, folder / "output.txt")
        now["benchmarks"][name] = result
        print(f"  {'ok' if result['ok'] else 'FAILED'} in {result.get('seconds', 0)} s", flush=True)
    now["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    now["load_1min_end"] = round(os.getloadavg()[0], 2)
    latest, previous = results / "latest.json", results / "previous.json"
    prev = json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else None
    if prev is not None:
        shutil.copy(latest, previous)
    text = json.dumps(now, indent=1, ensure_ascii=False) + "\n"
    latest.write_text(text, encoding="utf-8")
    (results / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{mode}.json").write_text(text, encoding="utf-8")
    print("\n" + "\n".join(table(now, prev)))
    print(f"\nfigures: {latest} (previous run: {previous if prev else 'none'})")
    if not all(b["ok"] for b in now["benchmarks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
