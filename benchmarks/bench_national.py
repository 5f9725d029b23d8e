"""Benchmark: a generated country through the bucket (issue 17's national run), end to end.

Generates N provinces (distinct real Sở codes, S schools each: about 400 learners per school), then
runs them as the national run does, minus Prefect's orchestration: each province in a worker
process of its own (W at a time; a fresh process per province, so each one's peak RSS is its own)
runs every stage (run.run_period) into its own warehouse and publishes its tables to the bucket
(aggregate/national.publish_province); then the national roll-up reads the bucket into
national.duckdb with the analysts' views (what national_report's roll-up task runs). The bucket is
a local S3 server (moto's ThreadedMotoServer, --bucket moto) or a folder (--bucket file).

Figures: learners, seconds of the province phase (wall, and each province's own), of the publish
(inside each province) and of the roll-up, end to end (without generation), peak RSS per worker
(max and median over the provinces; the roll-up's own), learners per second, and the end-to-end
time extrapolated per learner to 24 M learners with the same worker count (linear: the province
phase scales with learners ÷ workers, the roll-up with learners).

    .venv/bin/python benchmarks/bench_national.py [--provinces 3] [--schools 20] [--workers 2]
        [--bucket moto|file] [--dir /tmp/edustat-bench-national] [--keep-inputs]
    .venv/bin/python benchmarks/bench_national.py --rollup-only [--provinces 6] [--runs 3] [--dir …]

--rollup-only: the roll-up alone (RUNS times, each rebuilding national.duckdb whole, views included)
over the folder bucket DIR/bucket an earlier `--bucket file` run left; figures: seconds (wall and
CPU of every thread) per run, their medians, and seconds per million learners (the learners of the
provinces' manifests).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _figures import emit

from pipelines import catalog, settings, warehouse
from pipelines import run as pipeline
from pipelines.aggregate import national
from pipelines.synthetic import province as generate

YEAR, PERIOD = "2024-2025", "DN"
COUNTRY = 24_000_000  # learners in Vietnam's schools (issue 17's national target)


def _codes(n: int) -> list[str]:
    """N Sở codes that the generator accepts (provinces of the pre-2025 map with a Sở unit)."""
    sos = {u["code"] for u in catalog.codelist("education_units_pre2025").rows if not u["parent_code"]}
    codes = [c for c in sorted(catalog.codelist("provinces_pre2025").codes) if str(int(c)) in sos]
    districts = {r["province_code"] for r in catalog.codelist("districts_pre2025").rows}
    codes = [c for c in codes if c in districts]
    if n > len(codes):
        raise SystemExit(f"only {len(codes)} provinces can be generated")
    return codes[:n]


def _province(args: tuple[str, Path, Path, str]) -> dict[str, object]:
    """One worker: the province's whole run into its own warehouse, then its tables to the bucket."""
    province, folder, root, bucket = args
    t0 = time.perf_counter()
    s = settings.resolve(YEAR, PERIOD, folder / "registry.xlsx", folder / "inbox", root / "partitions" /
                         f"{province}.duckdb", root / "output" / province, processes=1)  # fmt: skip
    summary = pipeline.run_period(s)
    t1 = time.perf_counter()
    manifest = national.publish_province(s.warehouse, bucket, YEAR, PERIOD, province, run_id=s.run_id)
    t2 = time.perf_counter()
    tables = manifest["tables"]
    return {"province": province, "run_s": t1 - t0, "publish_s": t2 - t1,
            "learners": int(tables.get("learner", {}).get("rows", 0)),  # type: ignore[union-attr]
            "bytes": sum(int(t["bytes"]) for t in tables.values()),  # type: ignore[union-attr]
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "ok": bool(summary.steps)}  # fmt: skip


def _moto() -> tuple[object, str]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                      AWS_ENDPOINT_URL=endpoint)  # fmt: skip
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="edustat-bench")
    return server, "s3://edustat-bench/national"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--provinces", type=int, default=3)
    parser.add_argument("--schools", type=int, default=20, help="schools per province")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bucket", default="moto", choices=["moto", "file"])
    parser.add_argument("--dir", default="/tmp/edustat-bench-national")
    parser.add_argument("--keep-inputs", action="store_true", help="reuse generated inputs found under --dir")
    parser.add_argument("--rollup-only", action="store_true", help="time the roll-up of DIR/bucket alone")
    parser.add_argument("--runs", type=int, default=3, help="roll-ups to time (--rollup-only)")
    args = parser.parse_args()
    root = Path(args.dir)
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    codes = _codes(args.provinces)
    if args.rollup_only:
        emit(_rollup_only(root, codes, args.runs))
        return
    inputs = root / "inputs"
    t = time.perf_counter()
    for i, code in enumerate(codes):
        if not (args.keep_inputs and (inputs / code / "registry.xlsx").is_file()):
            generate.generate_province(code, YEAR, PERIOD, args.schools, 2024 + i, inputs / code)
    generated = time.perf_counter() - t
    print(f"generate: {len(codes)} provinces × {args.schools} schools in {generated:.1f} s", flush=True)
    for stale in ("partitions", "output", "bucket", "national.duckdb"):
        path = root / stale
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    server = None
    if args.bucket == "moto":
        server, bucket = _moto()
    else:
        bucket = (root / "bucket").resolve().as_uri()
    load_start = os.getloadavg()[0]
    try:
        t0 = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.workers, max_tasks_per_child=1) as pool:
            done = []
            for result in pool.map(_province, [(c, inputs / c, root, bucket) for c in codes]):
                done.append(result)
                print(f"province {result['province']}: {result['learners']} learners, run {result['run_s']:.1f} s, "
                      f"publish {result['publish_s']:.2f} s, peak RSS {result['peak_rss_mib']:.0f} MiB "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)  # fmt: skip
        t1 = time.perf_counter()
        from pipelines.analyst import views

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        facts = national.national_rollup(bucket, codes, root / "national.duckdb", YEAR, PERIOD,
                                         root / "output" / "national", finish=views.create_views)  # fmt: skip
        t2 = time.perf_counter()
        rss_rollup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    learners = sum(int(r["learners"]) for r in done)  # type: ignore[call-overload]
    provinces_s, rollup_s = t1 - t0, t2 - t1
    total = provinces_s + rollup_s
    scale = COUNTRY / learners if learners else 0.0
    rss = [float(r["peak_rss_mib"]) for r in done]  # type: ignore[arg-type]
    figures = {
        "provinces": len(codes), "schools_per_province": args.schools, "workers": args.workers,
        "bucket": args.bucket, "learners": learners, "complete": bool(facts["complete"]),
        "seconds_generate": round(generated, 1), "seconds_provinces": round(provinces_s, 1),
        "seconds_province_median": round(statistics.median(float(r["run_s"]) for r in done), 1),  # type: ignore[arg-type]
        "seconds_publish_total": round(sum(float(r["publish_s"]) for r in done), 2),  # type: ignore[arg-type]
        "seconds_rollup": round(rollup_s, 1), "seconds_end_to_end": round(total, 1),
        "learners_per_second": round(learners / total) if total else 0,
        "bucket_mib": round(sum(int(r["bytes"]) for r in done) / 2**20, 1),  # type: ignore[call-overload]
        "peak_rss_worker_max_mib": round(max(rss)), "peak_rss_worker_median_mib": round(statistics.median(rss)),
        "peak_rss_rollup_mib": round(max(rss_rollup, rss_before)),
        "minutes_24m_extrapolated": round(total * scale / 60, 1),
        "load_1min_start": round(load_start, 2),
    }  # fmt: skip
    for name, value in figures.items():
        print(f"{name}: {value}")
    emit(figures)


def _rollup_only(root: Path, codes: list[str], runs: int) -> dict[str, object]:
    """The roll-up alone, RUNS times, over the folder bucket ROOT/bucket (a `--bucket file` run's)."""
    from pipelines.analyst import views
    from pipelines.warehouse import objects

    bucket = (root / "bucket").resolve().as_uri()
    store = objects.open_bucket(bucket)
    learners = 0
    for code in codes:
        manifest = objects.get_json(
            store, f"{national.province_prefix(YEAR, PERIOD, code)}/{national.MANIFEST}"
        )
        learners += int(((manifest or {}).get("tables") or {}).get("learner", {}).get("rows", 0))
    seconds, cpu, loads = [], [], []
    for _ in range(runs):
        load = os.getloadavg()[0]
        t, c = time.perf_counter(), time.process_time()  # CPU: every thread of the process (DuckDB's too)
        facts = national.national_rollup(bucket, codes, root / "national.duckdb", YEAR, PERIOD,
                                         root / "output" / "national", finish=views.create_views)  # fmt: skip
        seconds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        loads.append(load)
        print(f"roll-up: {seconds[-1]:.2f} s, CPU {cpu[-1]:.2f} s (load {load:.2f})", flush=True)
    median = statistics.median(seconds)
    figures = {"provinces": len(codes), "learners": learners, "complete": bool(facts["complete"]),
               "seconds_rollup_runs": [round(x, 2) for x in seconds], "seconds_rollup": round(median, 2),
               "seconds_rollup_per_million_learners": round(median * 1e6 / learners, 2) if learners else None,
               "cpu_seconds_rollup_runs": [round(x, 2) for x in cpu], "cpu_seconds_rollup": round(statistics.median(cpu), 2),
               "load_1min_runs": [round(x, 2) for x in loads]}  # fmt: skip
    for name, value in figures.items():
        print(f"{name}: {value}")
    return figures


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
