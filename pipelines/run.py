"""One reporting run as a list of named steps: prepare → ingest → validate → aggregate → export.

Each step opens the warehouse, does its work and closes it, so the CLI can call them in turn and
flows.py can run each as a Prefect task. Inputs are read-only; outputs are disposable.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import aggregate, catalog, ingest, outputs, validate, warehouse, window
from pipelines.analyst import views
from pipelines.settings import Settings
from pipelines.window.completeness import STATUS_VI, plain

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

    @property
    def facts(self) -> dict[str, object]:
        """Every step's facts in one mapping (the first step that gives a name wins)."""
        merged: dict[str, object] = {}
        for step in reversed(self.steps):
            merged.update(step.facts)
        return merged


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
        ingest.load_units(con, registry, s.boundaries, s.as_of, s.run_id, ingest.crosswalk_beside(s.registry))
        # The input ledger starts with every registry row (the period's earlier runs' rows go).
        ingest.record_registry(con, registry, s.run_id, s.school_year, s.period)
    facts = {
        "schools_registered": len(registry.schools),
        "registry_problems": len(registry.problems),
        "registry_rows": len(registry.rows),
        "so_code": registry.so_code,  # the province: the run's name, tags and artifact keys
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
    with warehouse.connect(s.warehouse) as con:
        with warehouse.transaction(con):
            # A re-run rebuilds only the schools whose file or quarantine changed (None: every school).
            schools = aggregate.rebuild_plan(con, ctx, s.regime, full=s.full)
            facts["schools_rebuilt"] = None if schools is None else len(schools)
            aggregate.build_entity_tables(con, ctx, schools)
            facts["schools_in_history"] = aggregate.record_history(con, ctx)
            facts["population_rows"] = ingest.load_population(con, s.population)
            facts["seconds_entity_tables"] = time.perf_counter() - t
            forms = catalog.forms_for(s.regime, s.period)
            # A re-run redoes only the units the rebuilt schools touch (None: every unit).
            since = aggregate.touched_units(con, ctx, schools, forms)
            facts["units_touched_only"] = since is not None
            t_cells = time.perf_counter()
            # Every form's cells at once: each entity read once for all the period's forms.
            cells_of = aggregate.aggregate_forms(con, forms, ctx, schools, since)
            facts["seconds_cells"] = time.perf_counter() - t_cells
            for n, form in enumerate(forms):
                facts[f"cells_{form.form}"] = cells_of[form.form]
                _pause_after(form.form, n == 0)
            t_rel = time.perf_counter()
            # Every form's relations at once (one statement), on every unit or a re-run's touched ones.
            for form, broken in aggregate.check_forms_relations(con, forms, ctx, since).items():
                facts[f"relation_violations_{form}"] = broken
            facts["seconds_relations_all_forms"] = time.perf_counter() - t_rel
            period_forms = catalog.forms_for(s.regime, s.period)
            facts["indicators"] = aggregate.compute_indicators(con, ctx, period_forms, since)
            # Every school counted once: the forms' school totals against the distinct schools (issue 16).
            facts["school_count_mismatches"] = aggregate.check_school_counts(con, ctx, period_forms, since)
            aggregate.record_rebuild_state(con)
            warehouse.record_aggregate_run(con, s.run_id, s.school_year, s.period, s.regime, s.boundaries)
            t_views = time.perf_counter()
            views.create_views(con)  # the analysts' contract (schemas/views.yaml), with this run's tables
            facts["seconds_views"] = time.perf_counter() - t_views
        # After the commit, on the same connection (see drop_delta).
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
             "summary_text": result.summary_text, **_completeness_facts(completeness)}  # fmt: skip
    log.info("export: %d sổ tính / workbooks (%d viết lại / written) → %s", result.workbooks,
             result.workbooks_written, s.out)  # fmt: skip
    return StepResult("export", time.perf_counter() - t, facts)


def _completeness_facts(completeness: tuple[list[dict], list[dict]]) -> dict[str, object]:
    """Schools expected, missing (deadline passed, nothing received), late and pending, and the late
    and missing schools with their Phòng and deadline (JSON-ready: a Prefect table artifact)."""
    units, schools = completeness
    names = {(r["level"], r["unit_code"]): r["unit_name"] for r in units}
    count = {k: sum(r["status"] == k for r in schools) for k in ("on_time", "late", "missing", "pending")}
    late = [{"school_code": r["school_code"], "school_name": r["school_name"],
             "phong_code": r["phong_code"], "phong_name": names.get(("phong", r["phong_code"])),
             "deadline": plain(r["deadline"]), "status": r["status"],
             "status_vi": STATUS_VI[r["status"]],
             "first_arrived_at": plain(r["first_arrived_at"])}
            for r in schools if r["status"] in ("late", "missing")]  # fmt: skip
    return {"schools_expected": len(schools), **{f"schools_{k}": n for k, n in count.items()},
            "late_schools": late}  # fmt: skip


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
    facts = summary.facts  # no summary_text when the ledger stopped the run before export
    text = str(facts.get("summary_text", ""))
    lines = "\n".join(str(x) for x in facts.get("ledger_lines", ()))  # type: ignore[attr-defined]
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


# --- what the run's final state says (flows.py sets it in Prefect; the CLI's exit code follows it) --

PERIOD_PRINTED = {"DN": "ĐN", "CN": "CN"}


@dataclass(frozen=True)
class Outcome:
    """The run judged by its data: failed or not, a state name that says what happened, and why."""

    failed: bool
    name: str  # "Completed: 58/60 schools, 2 rejected" or "Failed"
    message: str  # Vietnamese / English


def outcome(summary: RunSummary) -> Outcome:
    """Failed when the input ledger does not balance, nothing was loaded, no report was produced, or
    the share of expected schools missing (deadline passed, nothing received) or rejected (file at
    ingest, school at validation) is above the settings' threshold; else Completed, with the count.

    The schools that fail the share are the expected ones not counted, less those still pending
    (deadline not passed): each once, though a school whose only file was rejected after its
    deadline is both rejected and missing."""
    f, s = summary.facts, summary.settings
    expected = int(f.get("schools_expected") or f.get("schools_registered") or 0)
    loaded = int(f.get("files_loaded") or 0)
    rejected = int(f.get("files_rejected") or 0) + int(f.get("schools_rejected") or 0)
    missing = int(f.get("schools_missing") or 0)
    counted = max(loaded - int(f.get("schools_rejected") or 0), 0)
    failing = max(expected - counted - int(f.get("schools_pending") or 0), 0)
    reasons: list[tuple[str, str]] = []
    if f.get("ledger_balanced") is False:
        reasons.append(("sổ đối chiếu đầu vào không cân", "the input ledger does not balance"))
    if loaded == 0:
        reasons.append(("không nạp được trường nào", "no school was loaded"))
    if not f.get("workbooks"):
        reasons.append(("không lập được báo cáo", "no report was produced"))
    share = failing / expected if expected else 0.0
    if expected and share > s.fail_above:
        reasons.append((f"{failing}/{expected} trường chưa nộp hoặc bị từ chối ({share:.0%} > ngưỡng "
                        f"{s.fail_above:.0%})", f"{failing}/{expected} schools missing or rejected "
                        f"({share:.0%} > threshold {s.fail_above:.0%})"))  # fmt: skip
    said = [f"{counted}/{expected} schools"]
    said += [f"{rejected} rejected"] if rejected else []
    said += [f"{missing} missing"] if missing else []
    if reasons:
        message = "; ".join(vi for vi, _ in reasons) + " / " + "; ".join(en for _, en in reasons)
        return Outcome(True, "Failed", message)
    message = (f"{counted}/{expected} trường được tính, {rejected} bị từ chối, {missing} chưa nộp quá hạn / "
               f"{', '.join(said)}")  # fmt: skip
    return Outcome(False, "Completed: " + ", ".join(said), message)


def run_name(s: Settings, province: str | None = None) -> str:
    """What a run is: "2024-2025 ĐN · Sở 66 · tt24 · ranh giới 2024" (the Sở once the registry is read)."""
    parts = [f"{s.school_year} {PERIOD_PRINTED.get(s.period, s.period)}"]
    parts += [f"Sở {province}"] if province else []
    return " · ".join([*parts, s.regime, f"ranh giới {s.boundaries}"])


def run_tags(s: Settings, province: str | None = None) -> list[str]:
    """Tags of every run however started: school year, period, regime, boundaries, province."""
    tags = ["edustat", f"school-year:{s.school_year}", f"period:{s.period}", f"regime:{s.regime}",
            f"boundaries:{s.boundaries}"]  # fmt: skip
    return [*tags, f"province:{province}"] if province else tags


def artifact_key(kind: str, s: Settings, province: str | None) -> str:
    """A Prefect artifact key per report (school year, period, regime, boundaries, Sở), so no run
    overwrites another's: each day's run of one window adds a version of the same keys."""
    key = f"{kind}-{s.school_year}-{s.period}-{s.regime}-b{s.boundaries}-so-{province or 'unknown'}"
    return re.sub(r"[^a-z0-9-]+", "-", key.lower())


def _link(path: Path, label: str) -> str:
    return f"[{label}]({path.resolve().as_uri()})"


def run_markdown(summary: RunSummary, result: Outcome, problems: list[dict[str, object]]) -> str:
    """The run's Markdown report: its state, the input ledger, problems by rule, late and missing
    schools, and links to the output folder; then the export's summary."""
    f, s = summary.facts, summary.settings
    lines = [f"# {run_name(s, f.get('so_code'))}", "", f"**{result.name}** — {result.message}", ""]
    ledger = f.get("ledger_lines")
    lines += ["## Sổ đối chiếu đầu vào / input ledger", ""]
    if ledger:
        lines += [f"- {line}" for line in ledger]  # type: ignore[union-attr]
    else:
        lines += [f"- Trường trong danh sách / schools registered: {f.get('schools_registered', '?')}",
                  f"- Tệp / files: {f.get('files', '?')}; nạp / loaded: {f.get('files_loaded', '?')}; "
                  f"bị từ chối / rejected: {f.get('files_rejected', '?')}",
                  f"- Trường bị từ chối khi kiểm tra / schools rejected by validation: {f.get('schools_rejected', '?')}"]  # fmt: skip
    lines += ["", "## Vấn đề theo quy tắc / problems by rule", ""]
    if problems:
        lines += [
            "| Quy tắc / rule | Mức / severity | Bản ghi / records | Trường / schools |",
            "|---|---|---:|---:|",
        ]
        lines += [f"| `{p.get('rule')}` | {p.get('severity')} | {p.get('records')} | {p.get('schools')} |"
                  for p in problems]  # fmt: skip
    else:
        lines.append("Không có / none")
    late = list(f.get("late_schools") or [])  # type: ignore[call-overload]
    lines += ["", f"## Trường nộp muộn hoặc chưa nộp / late and missing schools ({len(late)})", ""]
    if late:
        lines += ["| Trường / school | Phòng | Hạn / deadline | Tình trạng / status |", "|---|---|---|---|"]
        lines += [f"| {r['school_code']} {r['school_name']} | {r['phong_code'] or '—'} {r['phong_name'] or ''} "
                  f"| {r['deadline']} | {r['status_vi']} / {r['status']} |" for r in late[:50]]  # fmt: skip
        if len(late) > 50:
            lines.append(f"… {len(late) - 50} nữa / more: `completeness_schools.csv`")
    else:
        lines.append("Không có / none")
    out = s.out
    links = [_link(out, "thư mục đầu ra / output folder"), _link(out / "forms", "biểu mẫu / forms"),
             _link(out / "errors", "danh sách lỗi / error lists"),
             _link(out / "completeness.xlsx", "tiến độ nộp / completeness"), _link(out / "summary.md", "summary.md")]  # fmt: skip
    lines += ["", "## Đầu ra / outputs", "", " · ".join(links), "", "---", "", str(f.get("summary_text", ""))]
    return "\n".join(lines)
