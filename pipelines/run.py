"""One reporting run as a list of named steps: prepare → ingest → validate → aggregate → export.

Each step opens the warehouse, does its work and closes it, so the CLI can call them in turn and
flows.py can run each as a Prefect task. Inputs are read-only; outputs are disposable.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines import aggregate, catalog, ingest, outputs, validate, warehouse, window
from pipelines.analyst import views
from pipelines.settings import Settings

log = logging.getLogger(__name__)
DATA_DOCS = "data_docs"  # GX Data Docs of the run's validation, under the output folder
# Test hook (tests/analyst/test_releases.py): the aggregate step sleeps inside its transaction after this
# form ("first": after the first form) so that a test can kill the run mid-aggregation.
PAUSE_ENV, PAUSE_SECONDS_ENV = "EDUSTAT_TEST_AGGREGATE_PAUSE", "EDUSTAT_TEST_AGGREGATE_PAUSE_SECONDS"


@dataclass(frozen=True)
class StepResult:
    step: str
    seconds: float
    facts: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    settings: Settings
    steps: tuple[StepResult, ...]

    def fact(self, name: str) -> object:
        for step in self.steps:
            if name in step.facts:
                return step.facts[name]
        raise KeyError(name)


def _writer(step: Callable[..., StepResult]) -> Callable[..., StepResult]:
    """Run a step under the warehouse's writer lock (re-entrant for the run that holds it)."""

    @functools.wraps(step)
    def locked(s: Settings, *args: object, **kwargs: object) -> StepResult:
        with warehouse.writer_lock(s.warehouse, s.run_id):
            return step(s, *args, **kwargs)

    return locked


def _pause_after(form: str, first: bool) -> None:
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and (wanted == form or (first and wanted == "first")):
        print(f"aggregate: paused after {form} ({PAUSE_ENV})", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "300")))


def _context(s: Settings) -> aggregate.RunContext:
    return aggregate.RunContext(
        s.run_id, s.school_year, s.start_year, s.period, s.as_of, s.boundaries, s.approved_only
    )


@_writer
def prepare(s: Settings) -> StepResult:
    """Read the registry and write the unit tree (school → Phòng → Sở → Bộ) for this run."""
    t = time.perf_counter()
    registry = ingest.read_registry(s.registry, s.as_of)
    with warehouse.connect(s.warehouse) as con, warehouse.transaction(con):
        ingest.load_units(con, registry, s.boundaries, s.as_of, s.run_id)
        # The input ledger starts with every registry row (the period's earlier runs' rows go).
        ingest.record_registry(con, registry, s.run_id, s.school_year, s.period)
    facts = {
        "schools_registered": len(registry.schools),
        "registry_problems": len(registry.problems),
        "registry_rows": len(registry.rows),
    }
    log.info("prepare: %d trường trong danh sách / schools registered, %d vấn đề / registry problems",
             len(registry.schools), len(registry.problems))  # fmt: skip
    return StepResult("prepare", time.perf_counter() - t, facts)


@_writer
def ingest_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    with warehouse.connect(s.warehouse) as con, warehouse.transaction(con):
        registered = ingest.registered_schools(con)
        summary = ingest.ingest_inbox(con, s.inbox, s.start_year, s.period, registered, s.pseudonym_key,
                                      s.run_id, reuse=not s.full, processes=s.processes)  # fmt: skip
        # The schools that sent a new version move to `received` (the reporting window's states).
        window.record_submissions(con, s.school_year, s.period, summary.new_versions, s.run_id,
                                  summary.recorded_at)  # fmt: skip
        records = ingest.staged_learners(con)
    facts = {"inbox_entries": summary.entries, "files": len(summary.files), "files_loaded": summary.loaded,
             "files_rejected": len(summary.rejected), "files_parsed": summary.parsed,
             "schools_changed": len(summary.changed_schools), "learner_records": records}  # fmt: skip
    log.info("ingest: %d tệp / files, %d nạp / loaded, %d bị từ chối / rejected (%d đọc lại / parsed); "
             "%d học sinh / learner records", len(summary.files), summary.loaded, len(summary.rejected),
             summary.parsed, records)  # fmt: skip
    return StepResult("ingest", time.perf_counter() - t, facts)


@_writer
def validate_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    summary = validate.validate_warehouse(s.warehouse, s.run_id, s.school_year, s.period, s.start_year,
                                          docs_dir=s.out / DATA_DOCS, incremental=not s.full)  # fmt: skip
    # The input ledger's records: every staged record counted, or excluded by this run's quarantine.
    with warehouse.connect(s.warehouse) as con, warehouse.transaction(con):
        ingest.complete_records(con, s.run_id, s.school_year, s.period)
        ledger = ingest.ledger_summary(con, s.run_id)
    facts = {"rules": summary.n_rules, "problems": summary.n_problems, "schools_checked": summary.schools_checked,
             "records_quarantined": summary.n_quarantined,
             "schools_rejected": len(summary.schools_rejected), "ledger_balanced": ledger.balanced,
             "ledger_lines": list(ledger.lines), "ledger_problems": list(ledger.problems),
             "ledger_counts": {i: {f"{o}:{r or ''}": n for (o, r), n in c.items()}
                               for i, c in ledger.counts.items()}}  # fmt: skip
    for line in ledger.lines:
        log.info("ledger: %s", line)
    log.info("validate: %d quy tắc / rules, %d vấn đề / problems, %d bản ghi bị loại / records quarantined, "
             "%d trường bị từ chối / schools rejected", summary.n_rules, summary.n_problems,
             summary.n_quarantined, len(summary.schools_rejected))  # fmt: skip
    result = StepResult("validate", time.perf_counter() - t, facts)
    check_ledger(result)  # the run (and the Prefect flow's task) fails here when the books do not balance
    return result


@_writer
def aggregate_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    ctx = _context(s)
    facts: dict[str, object] = {}
    # One transaction: the period's cells, indicators and history are replaced all at once or not at all.
    with warehouse.connect(s.warehouse) as con, warehouse.transaction(con):
        # A re-run rebuilds only the schools whose file or quarantine changed (None: every school).
        schools = aggregate.rebuild_plan(con, ctx, s.regime, full=s.full)
        facts["schools_rebuilt"] = None if schools is None else len(schools)
        aggregate.build_entity_tables(con, ctx, schools)
        facts["schools_in_history"] = aggregate.record_history(con, ctx)
        facts["population_rows"] = ingest.load_population(con, s.population)
        facts["seconds_entity_tables"] = time.perf_counter() - t
        for n, form in enumerate(catalog.forms_for(s.regime, s.period)):
            t_form = time.perf_counter()
            facts[f"cells_{form.form}"] = aggregate.aggregate_form(con, form, ctx, schools)
            _pause_after(form.form, n == 0)
            facts[f"seconds_cells_{form.form}"] = time.perf_counter() - t_form
            t_rel = time.perf_counter()
            facts[f"relation_violations_{form.form}"] = aggregate.check_relations(con, form, ctx)
            facts[f"seconds_relations_{form.form}"] = time.perf_counter() - t_rel
        facts["indicators"] = aggregate.compute_indicators(con, ctx, catalog.forms_for(s.regime, s.period))
        aggregate.record_rebuild_state(con)
        warehouse.record_aggregate_run(con, s.run_id, s.school_year, s.period, s.regime, s.boundaries)
        t_views = time.perf_counter()
        views.create_views(con)  # the analysts' contract (schemas/views.yaml), with this run's tables
        facts["seconds_views"] = time.perf_counter() - t_views
    with warehouse.connect(s.warehouse) as con:
        aggregate.drop_delta(con)
    cells = sum(v for k, v in facts.items() if k.startswith("cells_"))
    broken = sum(v for k, v in facts.items() if k.startswith("relation_violations_"))
    log.info("aggregate: %d ô / cells, %d quan hệ không thỏa / broken relations, %d chỉ tiêu / indicators",
             cells, broken, facts["indicators"] or 0)  # fmt: skip
    return StepResult("aggregate", time.perf_counter() - t, facts)


@_writer
def export_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    with warehouse.connect(s.warehouse) as con:
        # The run's approval states, then completeness and timeliness (written with the outputs).
        window.record_run_states(con, s)
        completeness = window.completeness(con, s)
        result = outputs.export_period(con, s, catalog.forms_for(s.regime, s.period), completeness)
    facts = {"workbooks": result.workbooks, "workbooks_written": result.workbooks_written, "out": str(s.out),
             "summary_text": result.summary_text}  # fmt: skip
    log.info("export: %d sổ tính / workbooks (%d viết lại / written) → %s", result.workbooks,
             result.workbooks_written, s.out)  # fmt: skip
    return StepResult("export", time.perf_counter() - t, facts)


STEPS = (prepare, ingest_step, validate_step, aggregate_step, export_step)


def run_period(s: Settings) -> RunSummary:
    """The whole run without Prefect (the CLI's `edustat run`), holding the warehouse's writer lock
    throughout (warehouse.WarehouseLocked if another run holds it)."""
    with warehouse.writer_lock(s.warehouse, s.run_id):
        results = [step(s) for step in STEPS]
        summary = RunSummary(s, tuple(results))
    results[-1].facts["summary_text"] = summary_text(summary)
    return summary


def summary_text(summary: RunSummary) -> str:
    """The run's summary text ending with the input ledger's lines (`edustat run` prints it; the
    Prefect flow publishes it as the run-summary artifact)."""
    text = str(summary.fact("summary_text"))
    try:
        lines = "\n".join(str(x) for x in summary.fact("ledger_lines"))  # type: ignore[union-attr]
    except KeyError:
        lines = ""
    return text if not lines or lines in text else f"{text}\n\n{lines}\n"


def check_ledger(validated: StepResult) -> None:
    """Raise ingest.LedgerUnbalanced (bilingual) when the run's ledger does not balance: some input
    has no outcome or two, or records of a loaded file are missing. Nothing is aggregated then."""
    if not validated.facts.get("ledger_balanced", True):
        problems = "; ".join(str(p) for p in validated.facts.get("ledger_problems", []))
        raise ingest.LedgerUnbalanced(
            f"Sổ nhập liệu không cân, không lập báo cáo / the input ledger does not balance, no report is made: {problems}"
        )


# --- what a run reports besides its outputs (flows.py publishes these as Prefect artifacts) --------

TOP_PROBLEMS = 10


def key_figures(summary: RunSummary) -> list[dict[str, object]]:
    """The run's key figures as table rows (figure, value)."""
    names = [
        ("schools_registered", "Trường trong danh sách / schools registered"),
        ("files", "Tệp nhận được / files received"),
        ("files_loaded", "Trường đã nạp / schools received and loaded"),
        ("files_rejected", "Tệp bị từ chối khi nạp / files rejected at ingest"),
        ("schools_rejected", "Trường bị từ chối khi kiểm tra / schools rejected by validation"),
        ("learner_records", "Bản ghi học sinh / learner records"),
        ("records_quarantined", "Bản ghi cách ly / records quarantined"),
        ("problems", "Lỗi kiểm tra / validation problems"),
    ]
    rows: list[dict[str, object]] = []
    for name, label in names:
        try:
            rows.append({"figure": label, "value": summary.fact(name)})
        except KeyError:
            continue
    return rows


def top_problems(s: Settings, limit: int = TOP_PROBLEMS) -> list[dict[str, object]]:
    """The run's most frequent validation problems: rule, severity, records, schools, message."""
    with warehouse.connect(s.warehouse) as con:
        return validate.top_problems(con, s.run_id, limit)


def completeness_table(s: Settings) -> list[dict[str, object]]:
    """The run's completeness and timeliness per Phòng and Sở, as JSON-ready rows."""
    with warehouse.connect(s.warehouse) as con:
        return window.completeness_rows(con, s)
