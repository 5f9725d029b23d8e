"""Benchmark: one province (default 1,000 schools, about half a million pupils) through every stage.

Reports the median of several runs: ingest rate, validation time, aggregation time and its ratio
to a plain DuckDB scan of the same columns, Excel export time per workbook, and the whole run.

    .venv/bin/python benchmarks/bench_province.py [--schools 1000] [--runs 3] [--dir /tmp/edustat-bench]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from pipelines import generate, pipeline, settings, warehouse

# The same columns the 02-TH-DN compiler reads, grouped by school only: the cost floor of a pass.
SCAN_SQL = """
SELECT school_code, count(*), sum(grade), sum(age), count_if(female), count_if(ethnic), count_if(enrolled),
       count_if(new_entrant), count_if(repeater), count_if(disabled), count_if(class_two_sessions),
       count_if(class_informatics), count_if(policy_beneficiary), any_value(ownership), any_value(region_group)
FROM learner GROUP BY school_code;
SELECT school_code, count(*), sum(age), count_if(female), count_if(ethnic), any_value(position),
       any_value(qualification), any_value(contract_group), count_if(active)
FROM staff GROUP BY school_code;
SELECT school_code, count(*), sum(grade), count_if(two_sessions), count_if(multigrade) FROM class GROUP BY school_code;
SELECT school_code, sum(room_count), any_value(room_type), any_value(construction) FROM rooms GROUP BY school_code;
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/edustat-bench")
    args = parser.parse_args()
    root = Path(args.dir)
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    t = time.perf_counter()
    gen = generate.generate_province("66", "2024-2025", "DN", args.schools, 2024, root / "gen")
    print(f"generate: {args.schools} schools, {gen.n_learners} learners in {time.perf_counter() - t:.1f} s")

    results: dict[str, list[float]] = {}
    for run in range(args.runs):
        wh = root / f"warehouse-{run}.duckdb"
        wh.unlink(missing_ok=True)
        s = settings.resolve("2024-2025", "DN", gen.registry, gen.inbox, wh, root / f"out-{run}", processes=2)
        t0 = time.perf_counter()
        summary = pipeline.run_period(s)
        total = time.perf_counter() - t0
        steps = {st.step: st for st in summary.steps}
        with warehouse.connect(wh) as con:
            t1 = time.perf_counter()
            con.execute(SCAN_SQL).fetchall()
            scan = time.perf_counter() - t1
        records = steps["ingest"].facts["learner_records"]
        facts = steps["aggregate"].facts
        cells_s = sum(v for k, v in facts.items() if k.startswith("seconds_cells_"))
        relations_s = sum(v for k, v in facts.items() if k.startswith("seconds_relations_"))
        workbooks = steps["export"].facts["workbooks"]
        for name, value in {
            "total_s": total,
            "ingest_s": steps["prepare"].seconds + steps["ingest"].seconds,
            "ingest_learners_per_s": records / steps["ingest"].seconds,
            "validate_s": steps["validate"].seconds,
            "aggregate_s": steps["aggregate"].seconds,
            "  typed_tables_s": steps["aggregate"].facts["seconds_entity_tables"],
            "  form_cells_02_TH_DN_s": steps["aggregate"].facts["seconds_cells_02-TH-DN"],
            "  form_cells_all_forms_s": cells_s,
            "  relations_all_forms_s": relations_s,
            "scan_s": scan,
            "form_cells_02_over_scan": steps["aggregate"].facts["seconds_cells_02-TH-DN"] / scan,
            "form_cells_all_over_scan": cells_s / scan,
            "aggregate_over_scan": steps["aggregate"].seconds / scan,
            "export_s": steps["export"].seconds,
            "export_s_per_workbook": steps["export"].seconds / workbooks,
        }.items():
            results.setdefault(name, []).append(value)
        print(f"run {run + 1}: total {total:.1f} s, {workbooks} workbooks")
    print(f"\nmedian of {args.runs} runs ({args.schools} schools, {gen.n_learners} learners):")
    for name, values in results.items():
        print(f"  {name:24s} {statistics.median(values):10.3f}")


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
