"""One reporting run as a list of named steps: prepare → ingest → validate → aggregate → export.

Each step opens the warehouse, does its work and closes it, so the CLI can call them in turn and
flows.py can run each as a Prefect task. Inputs are read-only; outputs are disposable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines import aggregate, catalog, export, hierarchy, ingest, validate, warehouse
from pipelines.settings import Settings

Progress = Callable[[str], None]
DATA_DOCS = "data_docs"  # GX Data Docs of the run's validation, under the output folder


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


def _context(s: Settings) -> aggregate.RunContext:
    return aggregate.RunContext(s.run_id, s.school_year, s.start_year, s.period, s.as_of, s.boundaries)


def prepare(s: Settings) -> StepResult:
    """Read the registry and write the unit tree (school → Phòng → Sở → Bộ) for this run."""
    t = time.perf_counter()
    registry = hierarchy.read_registry(s.registry, s.as_of)
    with warehouse.connect(s.warehouse) as con:
        hierarchy.load_units(con, registry, s.boundaries, s.as_of, s.run_id)
    facts = {
        "schools_registered": len(registry.schools),
        "registry_problems": len(registry.problems),
    }
    return StepResult("prepare", time.perf_counter() - t, facts)


def ingest_step(s: Settings, progress: Progress | None = None) -> StepResult:
    t = time.perf_counter()
    with warehouse.connect(s.warehouse) as con:
        registered = {
            r[0] for r in con.execute("SELECT unit_code FROM units WHERE level = 'school'").fetchall()
        }
        summary = ingest.ingest_inbox(con, s.inbox, s.start_year, s.period, registered, s.pseudonym_key,
                                      s.run_id, progress)  # fmt: skip
        records = warehouse.scalar(con, "SELECT count(*) FROM stg_learner")
    facts = {"files": len(summary.files), "files_loaded": summary.loaded,
             "files_rejected": len(summary.rejected), "learner_records": records}  # fmt: skip
    return StepResult("ingest", time.perf_counter() - t, facts)


def validate_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    summary = validate.validate_warehouse(s.warehouse, s.run_id, s.school_year, s.period, s.start_year,
                                          docs_dir=s.out / DATA_DOCS)  # fmt: skip
    facts = {"rules": summary.n_rules, "problems": summary.n_problems,
             "records_quarantined": summary.n_quarantined,
             "schools_rejected": len(summary.schools_rejected)}  # fmt: skip
    return StepResult("validate", time.perf_counter() - t, facts)


def aggregate_step(s: Settings) -> StepResult:
    t = time.perf_counter()
    ctx = _context(s)
    facts: dict[str, object] = {}
    with warehouse.connect(s.warehouse) as con:
        aggregate.build_entity_tables(con, ctx)
        facts["schools_in_history"] = aggregate.record_history(con, ctx)
        facts["population_rows"] = aggregate.load_population(con, s.population)
        facts["seconds_entity_tables"] = time.perf_counter() - t
        for form in catalog.forms_for(s.regime, s.period):
            t_form = time.perf_counter()
            facts[f"cells_{form.form}"] = aggregate.aggregate_form(con, form, ctx)
            facts[f"seconds_cells_{form.form}"] = time.perf_counter() - t_form
            t_rel = time.perf_counter()
            facts[f"relation_violations_{form.form}"] = aggregate.check_relations(con, form, ctx)
            facts[f"seconds_relations_{form.form}"] = time.perf_counter() - t_rel
        facts["indicators"] = aggregate.compute_indicators(con, ctx, catalog.forms_for(s.regime, s.period))
    return StepResult("aggregate", time.perf_counter() - t, facts)


def export_step(s: Settings, progress: Progress | None = None) -> StepResult:
    t = time.perf_counter()
    with warehouse.connect(s.warehouse) as con:
        result = export.export_period(con, s, catalog.forms_for(s.regime, s.period), progress)
    facts = {"workbooks": result.workbooks, "out": str(s.out), "summary_text": result.summary_text}
    return StepResult("export", time.perf_counter() - t, facts)


def run_period(s: Settings, progress: Progress | None = None) -> RunSummary:
    """The whole run without Prefect (the CLI's `edustat run`)."""
    say = progress or (lambda _msg: None)
    steps = []
    for name, step in (
        ("prepare", lambda: prepare(s)),
        ("ingest", lambda: ingest_step(s, progress)),
        ("validate", lambda: validate_step(s)),
        ("aggregate", lambda: aggregate_step(s)),
        ("export", lambda: export_step(s, progress)),
    ):
        say(f"{name} …")
        steps.append(step())
    return RunSummary(s, tuple(steps))
