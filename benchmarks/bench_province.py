"""Benchmark: one province (default 1,000 schools, about half a million pupils) through every stage.

Reports the median of several runs: ingest rate, validation time, aggregation time and the ratio of
all forms' cells (every form of the period, one write) to plain DuckDB scans (one
fixed scan of the columns 02-TH-ĐN reads; and, per form, a scan of exactly the columns that form
reads, summed over the period's forms), Excel export time per
workbook, and the whole run. --period CN builds the end of year from the generated start.

    .venv/bin/python benchmarks/bench_province.py [--schools 1000] [--runs 3] [--period DN|CN]
        [--dir /tmp/edustat-bench]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from _figures import emit

from pipelines import aggregate, catalog, settings, warehouse
from pipelines import run as pipeline
from pipelines.aggregate import compiler
from pipelines.synthetic import end_of_year as generate_eoy
from pipelines.synthetic import province as generate

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


def form_scan_sql(con, form) -> list[str]:
    """One plain scan per entity the form reads, of exactly the columns it reads (scope, row
    filters, column dimensions, measures): the floor the issue compares the form's cells with."""
    columns = aggregate.entity_columns(con, form)
    by_entity: dict[str, list[str]] = {}
    for row in form.cell_rows:
        cset = form.column_sets[form.sheet_of(row.sheet).column_set]
        texts = [form.scope.get(row.entity, "TRUE"), row.filter, row.measure, *cset.dims]
        texts += [c.filter for c in cset.columns]
        by_entity.setdefault(row.entity, []).extend(texts)
    for attr in form.school_attributes:
        by_entity.setdefault(attr.entity, []).extend([form.scope.get(attr.entity, "TRUE"), attr.filter])
    sqls = []
    for entity, texts in by_entity.items():
        table_columns = [c for c in columns[entity] if c not in {a.name for a in form.school_attributes}]
        cols = compiler.referenced(table_columns, texts) or ["school_code"]
        sqls.append(f"SELECT count(*), {', '.join(f'max({c})' for c in cols)} FROM {entity}")
    return sqls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/edustat-bench")
    parser.add_argument("--period", default="DN", choices=["DN", "CN"])
    args = parser.parse_args()
    root = Path(args.dir)
    os.environ.setdefault(settings.KEY_ENV, "benchmark-key")
    t = time.perf_counter()
    gen = generate.generate_province("66", "2024-2025", "DN", args.schools, 2024, root / "gen")
    registry, inbox = gen.registry, gen.inbox
    if args.period == "CN":
        eoy = generate_eoy.generate_end_of_year(root / "gen", root / "gen-cn", seed=2024)
        registry, inbox = eoy.registry, eoy.inbox
    print(f"generate: {args.schools} schools, {gen.n_learners} learners in {time.perf_counter() - t:.1f} s")

    results: dict[str, list[float]] = {}
    for run in range(args.runs):
        wh = root / f"warehouse-{run}.duckdb"
        wh.unlink(missing_ok=True)
        s = settings.resolve("2024-2025", args.period, registry, inbox, wh, root / f"out-{run}", processes=2)
        t0 = time.perf_counter()
        summary = pipeline.run_period(s)
        total = time.perf_counter() - t0
        steps = {st.step: st for st in summary.steps}
        with warehouse.connect(wh) as con:
            t1 = time.perf_counter()
            con.execute(SCAN_SQL).fetchall()
            scan = time.perf_counter() - t1
            # Every form's own plain scan of the columns it reads, summed over the forms.
            form_scans = 0.0
            for form in catalog.forms_for(s.regime, s.period):
                sqls = form_scan_sql(con, form)
                t2 = time.perf_counter()
                for sql in sqls:
                    con.execute(sql).fetchall()
                form_scans += time.perf_counter() - t2
        records = steps["ingest"].facts["learner_records"]
        facts = steps["aggregate"].facts
        # Every form's cells of the period come from aggregate.aggregate_forms: one figure.
        cells_s = facts["seconds_cells"]
        relations_s = sum(v for k, v in facts.items() if k.startswith("seconds_relations_"))
        workbooks = steps["export"].facts["workbooks"]
        for name, value in {
            "total_s": total,
            "ingest_s": steps["prepare"].seconds + steps["ingest"].seconds,
            "ingest_learners_per_s": records / steps["ingest"].seconds,
            "validate_s": steps["validate"].seconds,
            "aggregate_s": steps["aggregate"].seconds,
            "  typed_tables_s": steps["aggregate"].facts["seconds_entity_tables"],
            "  form_cells_all_forms_s": cells_s,
            "  relations_all_forms_s": relations_s,
            "scan_s": scan,
            "form_cells_all_over_scan": cells_s / scan,
            "forms_own_scans_s": form_scans,
            "form_cells_all_over_own_scans": cells_s / form_scans,
            "aggregate_over_scan": steps["aggregate"].seconds / scan,
            "export_s": steps["export"].seconds,
            "export_s_per_workbook": steps["export"].seconds / workbooks,
        }.items():
            results.setdefault(name, []).append(value)
        print(f"run {run + 1}: total {total:.1f} s, {workbooks} workbooks")
    print(f"\nmedian of {args.runs} runs ({args.schools} schools, {gen.n_learners} learners):")
    for name, values in results.items():
        print(f"  {name:24s} {statistics.median(values):10.3f}")
    emit({"schools": args.schools, "learners": gen.n_learners, "runs": args.runs,
          **{name.strip(): round(statistics.median(v), 4) for name, v in results.items()}})  # fmt: skip


if __name__ == "__main__":
    main()
    warehouse.exit_skipping_teardown(0)
