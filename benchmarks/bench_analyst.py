"""Benchmark: five typical analyst queries on the contract views at national scale (issue 7).

Builds a national warehouse (kept in --dir, reused while its parameters are unchanged):

- a generated province (--profile-schools schools of Đắk Lắk, --defect-rate) run through the whole
  pipeline: its warehouse is the profile, and the source of every record copied below;
- the national units and cells of bench_boundaries.py (imported, not copied): the reference units
  of both boundary versions, --schools schools over every Phòng and Sở with their memberships, and
  their 2023-2024 DN cells drawn from the profile's cells, with the Phòng and Sở sums; then the
  2024-2025 DN cells (each school's cells times a drawn growth of -5 % to +8 %, with their sums) so
  that a year-over-year query has two years; the indicators of both years on both boundary versions
  by the pipeline's own aggregate.compute_indicators;
- the typed records of the current year (2024-2025 DN, as the last aggregated run leaves them):
  each national school copies the school, learner and staff records, validation results,
  submissions and approval states of a profile school of the same kind (same placement and forms),
  under its own code, with new pseudonyms; learners are copied as often as needed for --learners
  records in all (national scale: 24,000,000, as in bench_validate.py) and thinned by a seeded draw;
  and --problem-rate of the learners get one validation problem each (a drawn learner rule of the
  catalogue), since a generated province is clean but for its few injected defects;
- the contract views and data dictionary (pipelines/views.py, `views.create_views`).

Then opens the warehouse read-only, as `edustat query` and an analyst do, with --threads threads,
and times each query (the first run, and the median of --runs runs). A query over 1 s is profiled
(DuckDB's profiler, operators by time) to show where the time goes.

    .venv/bin/python benchmarks/bench_analyst.py [--schools 45000] [--learners 24000000] [--runs 5]
        [--profile-schools 60] [--defect-rate 0.05] [--problem-rate 0.01] [--seed 1] [--threads 2] [--memory-limit 6GB]
        [--dir /tmp/edustat-bench-analyst] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from datetime import date
from pathlib import Path

import bench_boundaries  # the sibling benchmarks (the script's folder is on sys.path)
import bench_validate
import duckdb
from _figures import emit

from pipelines import aggregate, catalog, settings, validate, warehouse
from pipelines import run as pipeline
from pipelines.analyst import views
from pipelines.ingest import units
from pipelines.synthetic import province as generate

PREVIOUS, CURRENT, PERIOD = "2023-2024", "2024-2025", "DN"
TARGET_SECONDS = 1.0

# Each national school copies the records of a profile school that reports where it does (Phòng
# or Sở) and fills the same forms (bench_boundaries drew the national schools' form sets from the
# profile's), chosen by a seeded hash among them.
BASE_MAP_SQL = """
CREATE OR REPLACE TABLE bench_base AS
WITH base AS (
    SELECT u.parent_level AS placement, c.unit_code AS base_code, list_sort(list(DISTINCT c.form)) AS forms
    FROM prof.cells c JOIN prof.units u ON u.level = 'school' AND u.unit_code = c.unit_code
    WHERE c.level = 'school' GROUP BY ALL),
numbered AS (
    SELECT *, row_number() OVER (PARTITION BY placement, forms ORDER BY base_code) - 1 AS i,
           count(*) OVER (PARTITION BY placement, forms) AS n
    FROM base)
SELECT s.school_code, s.parent_level, s.parent_code, b.base_code
FROM bench_schools s JOIN numbered b ON b.placement = s.parent_level AND b.forms = s.forms
    AND b.i = hash({seed}, 'base', s.school_code) % b.n
"""

# The current year's cells: each school's previous cells times its growth, and the Phòng and Sở
# sums (as bench_boundaries stores them next to the school cells).
CURRENT_CELLS_SQL = """
INSERT INTO cells
SELECT '{current}', period, regime, form, level, unit_code, row_code, col_key,
       CAST(round(value * (0.95 + (hash({seed}, 'growth', unit_code) % 1301) / 10000.0)) AS BIGINT), boundaries
FROM cells WHERE school_year = '{previous}' AND period = '{period}' AND level = 'school';
INSERT INTO cells
WITH placed AS (
    SELECT c.*, s.parent_level, s.parent_code, s.old_so FROM cells c JOIN bench_schools s ON s.school_code = c.unit_code
    WHERE c.school_year = '{current}' AND c.period = '{period}' AND c.level = 'school')
SELECT school_year, period, regime, form, 'phong', parent_code, row_code, col_key, sum(value), boundaries
FROM placed WHERE parent_level = 'phong' GROUP BY ALL
UNION ALL
SELECT school_year, period, regime, form, 'so', old_so, row_code, col_key, sum(value), boundaries
FROM placed GROUP BY ALL;
INSERT INTO unit_membership
SELECT boundaries, school_code, DATE '{current_as_of}', name_vi, parent_level, parent_code, run_id
FROM unit_membership WHERE as_of = DATE '{previous_as_of}';
"""

# The typed records of the current year, copied school by school; {copies} copies of each learner,
# staff member and validation result, kept with probability {keep_ppm} in a million so that the learners number
# about --learners.
RECORDS_SQL = """
CREATE OR REPLACE TABLE school AS
SELECT b.* REPLACE (m.school_code AS school_code, m.school_code || '.json' AS file)
FROM prof.school b JOIN bench_base m ON m.base_code = b.school_code;
CREATE OR REPLACE TABLE learner AS
SELECT l.* REPLACE (m.school_code AS school_code,
                    left(md5(l.learner_key || m.school_code || k.range), 24) AS learner_key)
FROM prof.learner l JOIN bench_base m ON m.base_code = l.school_code, range({copies}) k
WHERE hash({seed}, 'keep', m.school_code, l.learner_key, k.range) % 1000000 < {keep_ppm};
CREATE OR REPLACE TABLE staff AS
SELECT s.* REPLACE (m.school_code AS school_code, left(md5(s.staff_key || m.school_code || k.range), 24) AS staff_key)
FROM prof.staff s JOIN bench_base m ON m.base_code = s.school_code, range({copies}) k
WHERE hash({seed}, 'keep', m.school_code, s.staff_key, k.range) % 1000000 < {keep_ppm};
CREATE OR REPLACE TABLE validation_results AS
SELECT v.* REPLACE (m.school_code AS school_code, m.school_code || '.json' AS file,
                    v.record_index + 100000 * k.range AS record_index)
FROM prof.validation_results v JOIN bench_base m ON m.base_code = v.school_code, range({copies}) k
WHERE hash({seed}, 'keep', m.school_code, v.record_index, v.rule_id, k.range) % 1000000 < {keep_ppm};
CREATE OR REPLACE TABLE submissions AS
SELECT s.* REPLACE (m.school_code AS school_code, m.school_code || '.json' AS file,
                    md5(s.sha256 || m.school_code) AS sha256)
FROM prof.submissions s JOIN bench_base m ON m.base_code = s.school_code;
CREATE OR REPLACE TABLE audit AS
SELECT a.* REPLACE (row_number() OVER (ORDER BY m.school_code, a.seq) AS seq, m.school_code AS unit_code)
FROM prof.audit a JOIN bench_base m ON a.level = 'school' AND m.base_code = a.unit_code;
CREATE OR REPLACE TABLE aggregate_runs AS SELECT * FROM prof.aggregate_runs;
"""

# A generated province is clean but for its injected defects (one per defective file), while real
# submissions carry warnings by the thousand: a seeded draw of learner records (--problem-rate)
# gets one problem each, of a learner rule of the real catalogue (validate.compile_rules).
PROBLEMS_SQL = """
INSERT INTO validation_results BY NAME
SELECT 'bench' AS run_id, '{year}' AS school_year, '{period}' AS period, r.rule_id, r.severity, 'learner' AS entity,
       l.school_code, l.school_code || '.json' AS file, 1000000 + row_number() OVER () AS record_index,
       r.field, r.message_vi, r.message_en, TIMESTAMP '{year_start}-10-10 06:00:00' AS checked_at
FROM learner l JOIN bench_rules r ON r.i = hash({seed}, 'rule', l.learner_key) % {n_rules}
WHERE hash({seed}, 'problem', l.learner_key) % 1000000 < {problem_ppm}
"""

# The five queries, written against the contract views only.
QUERIES = {
    "1 totals by province and grade (learner_counts)": """
        SELECT so_code, grade, sum(learners) AS learners, sum(learners) FILTER (WHERE female) AS female
        FROM learner_counts
        WHERE enrolled
        GROUP BY ALL ORDER BY ALL""",
    "2 indicator ranking of the Phòng (pupils per class, 2024 boundaries)": f"""
        SELECT unit_code, unit_name, numerator, denominator, value,
               rank() OVER (ORDER BY value DESC) AS rank
        FROM indicator_values
        WHERE school_year = '{CURRENT}' AND period = '{PERIOD}' AND boundaries = '2024' AND level = 'phong'
          AND indicator_id = '2106.1' AND value IS NOT NULL
        ORDER BY rank, unit_code""",
    "3 quality summary by rule and province (validation_problems × schools)": f"""
        SELECT s.so_code, v.rule_id, v.severity, count(*) AS problems, count(DISTINCT v.school_code) AS schools
        FROM validation_problems v JOIN schools s USING (school_code)
        WHERE v.school_year = '{CURRENT}' AND v.period = '{PERIOD}'
        GROUP BY ALL ORDER BY problems DESC, s.so_code, v.rule_id""",
    "4 learners by sex and ethnicity per grade (learner_counts)": """
        SELECT grade, female, ethnic, sum(learners) AS learners
        FROM learner_counts WHERE enrolled
        GROUP BY ALL ORDER BY ALL""",
    "5 year-over-year change of primary enrolment by Sở (form_cells)": f"""
        WITH t AS (
            SELECT unit_code, unit_name, school_year, value
            FROM form_cells
            WHERE form = '02-TH-DN' AND row_code = 37 AND col_key = 'T.all' AND level = 'so'
              AND period = '{PERIOD}' AND boundaries = '2024' AND school_year IN ('{PREVIOUS}', '{CURRENT}'))
        SELECT a.unit_code, a.unit_name, a.value AS previous, b.value AS current, b.value - a.value AS change,
               round(100.0 * (b.value - a.value) / a.value, 1) AS change_pct
        FROM t a JOIN t b ON b.unit_code = a.unit_code AND a.school_year = '{PREVIOUS}' AND b.school_year = '{CURRENT}'
        ORDER BY change_pct DESC, a.unit_code""",
}

# The same totals counted from the 24 M learner records (the `learners` view), for comparison: what
# learner_counts (a support table built once per run, schemas/views.yaml) saves at every query.
RECORD_QUERIES = {
    "1 from the learner records (learners × schools)": """
        SELECT s.so_code, l.grade, count(*) AS learners, count(*) FILTER (WHERE l.female) AS female
        FROM learners l JOIN schools s USING (school_code)
        WHERE l.enrolled
        GROUP BY ALL ORDER BY ALL""",
    "4 from the learner records": """
        SELECT grade, female, ethnic, count(*) AS learners
        FROM learners WHERE enrolled
        GROUP BY ALL ORDER BY ALL""",
}


def _log(text: str) -> None:
    print(text, flush=True)


def profile_province(root: Path, n_schools: int, seed: int, defect_rate: float) -> Path:
    """A generated province through the whole pipeline (kept in root and reused)."""
    wh = root / f"profile-{n_schools}-{seed}-{defect_rate}.duckdb"
    if wh.exists():
        return wh
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    t = time.perf_counter()
    gen = generate.generate_province(
        "66", CURRENT, PERIOD, n_schools, seed, root / "profile-gen", defect_rate
    )
    tmp = wh.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    s = settings.resolve(CURRENT, PERIOD, gen.registry, gen.inbox, tmp, root / "profile-out", processes=2)
    pipeline.run_period(s)
    tmp.rename(wh)
    _log(f"profile: {n_schools} generated schools through the pipeline in {time.perf_counter() - t:.0f} s")
    return wh


def build(db: Path, profile: Path, args: argparse.Namespace) -> dict:
    """The national warehouse (see the module docstring); returns its sizes."""
    t0 = time.perf_counter()
    tmp = db.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    con = warehouse.connect(tmp)
    con.execute(f"SET threads = {args.threads}; SET memory_limit = '{args.memory_limit}'")
    con.execute(f"ATTACH '{profile}' AS prof (READ_ONLY)")
    con.execute(bench_boundaries.PROFILE_SQL)
    units.load_reference(con)
    n_so = round(args.schools * 0.15)  # bench_boundaries' default share of schools straight under a Sở
    fmt = {"year": PREVIOUS, "period": PERIOD, "as_of": "2023-09-30", "seed": args.seed}
    con.execute(bench_boundaries.BUILD_SQL.format(**fmt, n_phong=args.schools - n_so, n_so=n_so))
    _log(f"  units and {PREVIOUS} cells: {time.perf_counter() - t0:.0f} s")
    con.execute(CURRENT_CELLS_SQL.format(current=CURRENT, previous=PREVIOUS, period=PERIOD, seed=args.seed,
                                         current_as_of="2024-09-30", previous_as_of="2023-09-30"))  # fmt: skip
    _log(f"  {CURRENT} cells: {time.perf_counter() - t0:.0f} s")
    forms = catalog.forms_for("tt24", PERIOD)
    for year in (PREVIOUS, CURRENT):
        start = settings.parse_school_year(year)
        ctx = aggregate.RunContext("bench", year, start, PERIOD, date(start, 9, 30), "2024")
        aggregate.compute_indicators(con, ctx, forms)
    _log(f"  indicators: {time.perf_counter() - t0:.0f} s")
    con.execute(BASE_MAP_SQL.format(seed=args.seed))
    natural = warehouse.scalar(
        con, "SELECT count(*) FROM prof.learner l JOIN bench_base m ON m.base_code = l.school_code"
    )
    copies = math.ceil(args.learners / natural)
    keep = args.learners / (natural * copies)
    con.execute(RECORDS_SQL.format(seed=args.seed, copies=copies, keep_ppm=round(keep * 1_000_000)))
    _log(f"  records ({copies} copies, kept with p = {keep:.4f}): {time.perf_counter() - t0:.0f} s")
    start = settings.parse_school_year(CURRENT)
    rules = [r for r in validate.compile_rules(start) if r.entity == "learner"]
    con.execute("CREATE OR REPLACE TEMP TABLE bench_rules (i INTEGER, rule_id VARCHAR, severity VARCHAR, "
                "field VARCHAR, message_vi VARCHAR, message_en VARCHAR)")  # fmt: skip
    warehouse.insert_rows(
        con,
        "bench_rules",
        [(i, r.id, r.severity, r.field, r.message_vi, r.message_en) for i, r in enumerate(rules)],
    )
    con.execute(PROBLEMS_SQL.format(year=CURRENT, period=PERIOD, year_start=start, seed=args.seed,
                                    n_rules=len(rules), problem_ppm=round(args.problem_rate * 1_000_000)))  # fmt: skip
    _log(f"  validation problems: {time.perf_counter() - t0:.0f} s")
    con.execute("DETACH prof")

    warehouse.ensure_schema(con)  # the workflow_state view over the copied audit, the series views
    con.execute("CHECKPOINT")
    sizes = {
        name: warehouse.scalar(con, f"SELECT count(*) FROM {name}")
        for name in ("learner", "staff", "school", "validation_results", "cells", "indicators", "submissions")
    }
    sizes["cells_by_year"] = dict(
        con.execute("SELECT school_year, count(*) FROM cells GROUP BY ALL ORDER BY ALL").fetchall()
    )
    con.close()
    tmp.rename(db)
    sizes["file_gib"] = round(db.stat().st_size / 2**30, 2)
    sizes["build_s"] = round(time.perf_counter() - t0, 1)
    sizes["build_peak_rss_gib"] = round(bench_validate._status("VmHWM") / 2**20, 2)
    return sizes


def create_views(db: Path) -> float:
    """The contract views and their support tables of this code version on the built data (views are
    code; data is kept), as the end of a run's aggregate step makes them."""

    t = time.perf_counter()
    with warehouse.connect(db) as con:
        views.create_views(con)
        con.execute("CHECKPOINT")
    return time.perf_counter() - t


def _time(con: duckdb.DuckDBPyConnection, label: str, sql: str, runs: int) -> dict:
    times, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    _log(f"  {label:72s} median {median:6.3f} s  first {times[0]:6.3f} s  rows {rows:,}  "
         f"{'ok' if median < TARGET_SECONDS else 'OVER 1 s'}  (load {os.getloadavg()[0]:.2f})")  # fmt: skip
    return {"first_s": times[0], "median_s": median, "runs_s": times, "rows": rows}


def time_queries(db: Path, args: argparse.Namespace) -> dict[str, dict]:
    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"SET threads = {args.threads}; SET memory_limit = '{args.memory_limit}'")
    results = {label: _time(con, label, sql, args.runs) for label, sql in QUERIES.items()}
    _log("\nfor comparison, the same totals from the learner records:")
    for label, sql in RECORD_QUERIES.items():
        results[label] = _time(con, label, sql, args.runs)
    for label, sql in QUERIES.items():
        if results[label]["median_s"] >= TARGET_SECONDS or args.profile_all:
            # Materialised into a temp table, so the whole result is produced while profiling.
            cpu, ops = bench_boundaries.profile_operators(
                con, f"CREATE OR REPLACE TEMP TABLE _profiled AS {sql}", db.parent / "analyst-profile.json"
            )
            _log(f"\n{label}: CPU {cpu:.2f} s; operators by time (summed over threads):")
            for seconds, name, cardinality, info in ops:
                _log(f"  {seconds:6.3f} s  {name:22s} {cardinality:>12,} rows  {info}")
    con.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=45000)
    parser.add_argument("--learners", type=int, default=24_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile-schools", type=int, default=60)
    parser.add_argument("--defect-rate", type=float, default=0.05, help="generator defects of the profile")
    parser.add_argument(
        "--problem-rate", type=float, default=0.01, help="learner records with a drawn problem"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="6GB")
    parser.add_argument("--dir", default="/tmp/edustat-bench-analyst")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument(
        "--profile-all", action="store_true", help="profile every query, not only the slow ones"
    )
    args = parser.parse_args()
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    tag = f"{args.schools}-{args.learners}-{args.profile_schools}-{args.seed}-{args.defect_rate}-{args.problem_rate}"
    db, meta_path = root / f"national-{tag}.duckdb", root / f"national-{tag}.json"
    if args.rebuild or not (db.exists() and meta_path.exists()):
        db.unlink(missing_ok=True)
        profile = profile_province(root, args.profile_schools, args.seed, args.defect_rate)
        _log(f"building the national warehouse {db} …")
        meta_path.write_text(json.dumps(build(db, profile, args), indent=1))
    sizes = json.loads(meta_path.read_text())
    _log(f"national warehouse {db} ({sizes['file_gib']} GiB; built in {sizes['build_s']} s, "
         f"peak RSS {sizes['build_peak_rss_gib']} GiB):")  # fmt: skip
    for name, n in sizes.items():
        if name not in ("file_gib", "build_s", "build_peak_rss_gib"):
            _log(f"  {name:20s} {n if isinstance(n, dict) else f'{n:,}'}")
    _log(f"contract views created in {create_views(db):.1f} s")
    load = os.getloadavg()
    _log(f"\nqueries on the contract views ({args.threads} threads, read-only; load average before "
         f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; target < {TARGET_SECONDS:.0f} s each):")  # fmt: skip
    results = time_queries(db, args)
    _log(f"\npeak RSS of this process {bench_validate._status('VmHWM') / 2**20:.2f} GiB; "
         f"load average after {os.getloadavg()[0]:.2f}")  # fmt: skip
    missed = [label for label in QUERIES if results[label]["median_s"] >= TARGET_SECONDS]
    _log("all five under 1 s" if not missed else f"over 1 s: {', '.join(missed)}")
    (root / "analyst-results.json").write_text(json.dumps({"sizes": sizes, "queries": results}, indent=1))
    emit({"sizes": sizes, "queries": results})


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
