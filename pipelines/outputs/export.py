"""One period's outputs: every unit's workbook, the tidy cells and indicators, the problem list, the
run's summary and the folder's README."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from pipelines import validate, warehouse
from pipelines.aggregate import CELLS_COLUMNS, INDICATOR_COLUMNS
from pipelines.catalog import Form
from pipelines.outputs import datadocs, sdmx
from pipelines.outputs.completeness import write_completeness
from pipelines.outputs.csvsafe import safe_relation, write_csv
from pipelines.outputs.errors import write_reports
from pipelines.outputs.problems import on_errors_sheet, run_problems
from pipelines.outputs.rewrite import Outputs, digest, rows_digest, unit_digest, write_changed_workbooks
from pipelines.outputs.workbook import IndicatorLine, UnitHeader, WorkbookJob, forks_pool
from pipelines.settings import Settings
from pipelines.warehouse import Problem
from pipelines.window.completeness import plain, summary_lines

# problems.csv: the columns of the workbooks' Errors sheets, after the unit a problem belongs to.
PROBLEM_COLUMNS = ("level", "unit_code", "school_code", "file", "record", "field", "value", "rule_id", "severity",
                   "message_vi", "message_en", "sheet", "cell")  # fmt: skip


@dataclass(frozen=True)
class ExportResult:
    workbooks: int
    summary_text: str
    workbooks_written: int = 0  # the others were unchanged since the last run (write_changed_workbooks)


def _write_problems_csv(path: Path, problems: Sequence[Problem]) -> None:
    write_csv(path, PROBLEM_COLUMNS, ([getattr(p, c) for c in PROBLEM_COLUMNS] for p in problems), bom=False,
              none=None)  # fmt: skip


def _write_table(
    rel: duckdb.DuckDBPyRelation, columns: Sequence[str], csv_path: Path, parquet_path: Path
) -> None:
    """A query's rows as CSV (a heading row; text safe to open, csvsafe) and Parquet, through DuckDB's
    writers (no path in SQL)."""
    if tuple(rel.columns) != tuple(columns):
        raise RuntimeError(
            f"pipelines/sql/outputs/export.sql gives {rel.columns}, the outputs need {columns}"
        )
    safe_relation(rel).write_csv(str(csv_path), header=True)
    rel.write_parquet(str(parquet_path))


def write_period_tables(
    con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form], code: str
) -> None:
    """cells.csv/.parquet, indicators.csv/.parquet and the SDMX files of the period."""
    PeriodTables(con, s, forms, code).finish()


class PeriodTables:
    """The period's cells.csv/.parquet, indicators.csv/.parquet and SDMX files, each written again only
    when what it is written from changed (rewrite.Outputs: the code and schemas, and an order-free
    checksum of the warehouse rows it selects), decided when made. The DuckDB work (the cells
    selected and sorted once, the CSV, Parquet and SDMX-CSV writers) then runs in a thread on a
    cursor of its own while the caller goes on with the export's Python work (DuckDB releases the
    GIL): on two cores the export's serial part overlaps it. `wait` joins the thread (before a
    process pool forks: no thread runs across a fork); `finish` also writes the SDMX structure
    (Python, here) and records the digests."""

    def __init__(self, con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form], code: str) -> None:
        period = {"school_year": s.school_year, "period": s.period}
        with_boundaries = {**period, "boundaries": s.boundaries}
        self.con, self.s, self.folder = con, s, s.out / "sdmx"
        self.done = done = Outputs(con, s.out, full=s.full)
        cells = rows_digest(con, warehouse.sql("outputs/digests", "cells"), period)
        indicators = rows_digest(con, warehouse.sql("outputs/digests", "indicators"), with_boundaries)
        units = rows_digest(con, warehouse.sql("outputs/digests", "units"), {})
        pairs = tuple(con.execute(warehouse.sql("outputs/digests", "forms"), period).fetchall())
        self.forms = sdmx.sdmx_forms(forms, pairs)
        run_forms = tuple((f.regime, f.form) for f in forms)
        out, folder = s.out, self.folder
        # name → (inputs digest, the files written with it)
        files = {
            "cells.csv": (digest(code, "cells", cells), out / "cells.csv", out / "cells.parquet"),
            "indicators.csv": (digest(code, "indicators", indicators), out / "indicators.csv",
                               out / "indicators.parquet"),
            # The structure (code lists of the catalogue and the units) is written again only when
            # those change, not when a school's figures do: it keeps the time it was prepared at.
            STRUCTURE: (digest(code, "sdmx-structure", s.school_year, s.period, run_forms, units, pairs),
                        folder / sdmx.STRUCTURE_FILE),
            SDMX_DATA: (digest(code, "sdmx", s.school_year, s.period, s.boundaries, run_forms, cells, indicators),
                        folder / sdmx.CELLS_FILE, folder / sdmx.INDICATORS_FILE),
        }  # fmt: skip
        self.wanted = {name: d for name, (d, *paths) in files.items() if not done.fresh(name, d, *paths)}
        self.failed: list[BaseException] = []
        self.thread: threading.Thread | None = None
        self.finished = False
        if self.wanted.keys() - {STRUCTURE}:
            cursor = con.cursor()
            self.thread = threading.Thread(
                target=self._write, args=(cursor,), name="period-tables", daemon=True
            )
            self.thread.start()

    def _write(self, cur: duckdb.DuckDBPyConnection) -> None:
        s, wanted = self.s, self.wanted
        try:
            staged = None
            if "cells.csv" in wanted or SDMX_DATA in wanted:  # the cells selected and sorted once
                staged = sdmx.stage_cells(cur, s.school_year, s.period)
            if "cells.csv" in wanted and staged:
                rows = cur.sql(warehouse.sql("outputs/export", "staged_rows", staged=staged))
                _write_table(rows, CELLS_COLUMNS, s.out / "cells.csv", s.out / "cells.parquet")
            if "indicators.csv" in wanted:
                params = {"school_year": s.school_year, "period": s.period, "boundaries": s.boundaries}
                rows = cur.sql(warehouse.sql("outputs/export", "indicators"), params=params)
                _write_table(rows, INDICATOR_COLUMNS, s.out / "indicators.csv", s.out / "indicators.parquet")
            if SDMX_DATA in wanted and staged:
                sdmx.write_data(cur, self.folder, s.school_year, s.period, s.boundaries, self.forms, staged)
        except BaseException as error:  # raised again by finish, in the caller's thread
            self.failed.append(error)
        finally:
            cur.close()  # its TEMP tables go with it

    def wait(self) -> None:
        if self.thread is not None:
            self.thread.join()

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.wait()
        if self.failed:
            raise self.failed[0]
        if STRUCTURE in self.wanted:
            sdmx.write_structure(self.con, self.folder, self.forms)
        for name, inputs in self.wanted.items():
            self.done.written(name, inputs)
        self.done.save()


STRUCTURE, SDMX_DATA = "sdmx/" + sdmx.STRUCTURE_FILE, "sdmx/" + sdmx.CELLS_FILE


def export_period(
    con: duckdb.DuckDBPyConnection,
    s: Settings,
    forms: Sequence[Form],
    completeness: tuple[list[dict], list[dict]],
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write every unit's workbooks, cells.csv/.parquet, problems.csv, summary.md and README.md."""
    s.out.mkdir(parents=True, exist_ok=True)
    code = warehouse.code_digest()
    tables = PeriodTables(con, s, forms, code)  # written meanwhile, in a thread
    try:
        return _export(con, s, forms, completeness, progress, code, tables)
    finally:
        tables.wait()


def _export(con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form],
            completeness: tuple[list[dict], list[dict]], progress: Callable[[str], None] | None, code: str,
            tables: PeriodTables) -> ExportResult:  # fmt: skip
    # This run's units only (the warehouse may hold other provinces' cells of the same period); the
    # indicators on the run's own boundary version.
    period = {"school_year": s.school_year, "period": s.period}
    with_boundaries = {**period, "boundaries": s.boundaries}
    unit_indicators: dict[tuple[str, str, str], list[IndicatorLine]] = {}
    for form_name, level, unit, *line in con.execute(
        warehouse.sql("outputs/export", "unit_indicators"), with_boundaries
    ).fetchall():
        unit_indicators.setdefault((form_name, level, unit), []).append(IndicatorLine(*line))

    # One list of the run's problems: problems.csv and the Errors sheets print it as the sheet does,
    # the school error lists (errors/) as each school reads it.
    problems = run_problems(con, s.run_id, forms)
    by_form = {f.form: f for f in forms}
    lines = [on_errors_sheet(p, by_form) for p in problems]
    _write_problems_csv(s.out / "problems.csv", lines)
    units = {
        (lv, code): (name, plv, pcode)
        for lv, code, name, plv, pcode in con.execute(warehouse.sql("outputs/export", "units")).fetchall()
    }
    # A form workbook's Errors sheet: the broken relations of the forms it prints, at its unit, and
    # for a school its rejected files and failing records (a Phòng's or the Sở's list their schools'
    # problems in errors/summary_<level>_<code>.xlsx).
    own: dict[tuple[str, str | None], list[Problem]] = {}
    relations: dict[tuple[str, str, str | None], list[Problem]] = {}
    for line in lines:
        if line.relation is not None:
            home = (
                by_form[line.relation.form].printed_in or line.relation.form
                if line.relation.form in by_form
                else None
            )
            relations.setdefault((home or line.relation.form, line.level, line.unit_code), []).append(line)
        elif line.level == "school" and line.kind in ("file", "record"):
            own.setdefault(("school", line.unit_code), []).append(line)

    def values_of(rows: list[tuple]) -> dict[tuple[str, str], dict[tuple[int, str], float]]:
        return {(level, unit): dict(zip(zip(codes, keys, strict=True), vals, strict=True))
                for level, unit, codes, keys, vals in rows}  # fmt: skip

    with_units: dict[str, list[tuple[str, str]]] = {}  # form → its units, in (level, unit_code) order
    for form_name, level, unit in con.execute(
        warehouse.sql("outputs/export", "form_units"), period
    ).fetchall():
        with_units.setdefault(form_name, []).append((level, unit))

    def units_of(form: Form) -> list[tuple[str, str]]:
        return with_units.get(form.form, [])

    # Each workbook's digest from a checksum of its cells (no cells read); the cells are read for the
    # workbooks to write only (with_values).
    sums = {(f, lv, u): (n, int(total)) for f, lv, u, n, total in
            con.execute(warehouse.sql("outputs/export", "unit_checksums"), period).fetchall()}  # fmt: skip
    jobs, digests = [], []
    for form in forms:
        if form.printed_in is not None and form.printed_in in by_form:
            continue  # its sheets are in the workbook of the form that prints it
        printed = [f for f in forms if f.printed_in == form.form]
        # Every unit with the form or a form printed in it (a unit without budget figures still gets the
        # budget sheet, empty).
        found = dict.fromkeys([*units_of(form), *(u for f in printed for u in units_of(f))])
        for level, unit in sorted(found, key=lambda u: ({"school": 0, "phong": 1}.get(u[0], 2), u[1])):
            name, parent_level, parent_code = units[(level, unit)]
            header = UnitHeader(level, unit, name, units[(parent_level, parent_code)][0])
            errors = [*relations.get((form.form, level, unit), []), *own.get((level, unit), [])]
            path = s.out / "forms" / level / unit / f"{form.form}.xlsx"
            indicators = tuple(unit_indicators.get((form.form, level, unit), ()))
            # A printed form's figures: None where the unit has none (its sheet then prints empty).
            extra = tuple((f, {} if (f.form, level, unit) in sums else None) for f in printed)
            jobs.append(WorkbookJob(path, form, header, {}, tuple(errors), s.start_year, indicators, extra))
            digests.append(unit_digest(jobs[-1], code, sums))

    def with_values(todo: Sequence[WorkbookJob]) -> list[WorkbookJob]:
        """The jobs with their units' non-zero cells: a form's at once when many are written, else
        each unit's own."""
        cached: dict[str, dict[tuple[str, str], dict[tuple[int, str], float]]] = {}

        def cells_of(form: Form, level: str, unit: str) -> dict[tuple[int, str], float] | None:
            if 4 * len(todo) >= len(jobs):
                if form.form not in cached:
                    cached[form.form] = values_of(con.execute(warehouse.sql("outputs/export", "form_values"),
                                                              {**period, "form": form.form}).fetchall())  # fmt: skip
                return cached[form.form].get((level, unit))
            found = values_of(con.execute(warehouse.sql("outputs/export", "unit_values"),
                                          {**period, "form": form.form, "level": level, "unit_code": unit}).fetchall())  # fmt: skip
            return found.get((level, unit))

        out = []
        for job in todo:
            lv, unit = job.header.level, job.header.unit_code
            printed = tuple((f, None if v is None else cells_of(f, lv, unit)) for f, v in job.printed)
            out.append(replace(job, values=cells_of(job.form, lv, unit) or {}, printed=printed))
        return out

    if progress:
        progress(f"export: {len(jobs)} sổ tính / workbooks …")
    if s.full:
        warehouse.forget_outputs(con, s.out / "forms")
    text = ""

    def meanwhile() -> None:  # the period's other files, written while the pool writes the workbooks
        nonlocal text
        write_completeness(s.out, *completeness)
        text = _summary(con, s, forms, jobs, lines, completeness[0])
        (s.out / "summary.md").write_text(text, encoding="utf-8")
        (s.out / "README.md").write_text(_OUTPUT_README.format(out=s.out), encoding="utf-8")
        write_reports(con, s, problems, code)  # errors/ per school, Phòng and Sở; rules.md, rules.html
        if (s.out / datadocs.DATA_DOCS).is_dir():  # GX's Data Docs of the validate step, made to work offline
            datadocs.make_offline(s.out / datadocs.DATA_DOCS, lambda: {  # rules compiled if a page needs them
                r.id: (r.message_vi, r.message_en) for r in validate.compile_rules(s.start_year, s.period)
            })  # fmt: skip
        tables.finish()  # last: when no pool forked (a re-run's few workbooks) the thread ran alongside

    def loaded(todo: Sequence[WorkbookJob]) -> list[WorkbookJob]:
        out = with_values(todo)
        if forks_pool(len(out), s.processes):
            tables.wait()  # the thread ends before the pool forks
        return out

    written = write_changed_workbooks(con, jobs, s.out / "forms", processes=s.processes, code=code, digests=digests,
                                      load=loaded, meanwhile=meanwhile)  # fmt: skip
    return ExportResult(len(jobs), text, written)


def _summary(con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form], jobs: list[WorkbookJob],
             problems: Sequence[Problem], completeness: list[dict]) -> str:  # fmt: skip
    """The run's short report: what was produced, where, what was rejected and why."""
    counts = dict(con.execute(warehouse.sql("outputs/export", "files_by_status"), [s.run_id]).fetchall())
    staged = warehouse.scalar(con, warehouse.sql("outputs/export", "learners_staged"))
    quarantined = con.execute(warehouse.sql("outputs/export", "quarantined_by_entity"), [s.run_id]).fetchall()
    top = con.execute(warehouse.sql("outputs/export", "top_rules"), [s.run_id]).fetchall()
    by_level: dict[str, int] = {}
    for job in jobs:
        by_level[job.header.level] = by_level.get(job.header.level, 0) + 1
    relations = sum(1 for p in problems if p.kind == "relation")
    lines = [
        f"# edustat {s.school_year} {s.period} — {', '.join(f.code_printed for f in forms)}",
        "",
        f"- Lượt chạy / run: `{s.run_id}`; đầu ra / outputs: `{s.out}`",
        f"- Tệp nhận / files received: {sum(counts.values())}; nạp / loaded: {counts.get('loaded', 0)}; "
        f"bị từ chối / rejected: {counts.get('rejected', 0)}",
        f"- Học sinh đã nạp / learner records staged: {staged}; bản ghi bị loại / records quarantined: "
        + (", ".join(f"{e} {n}" for e, n in quarantined) or "0"),
        f"- Sổ tính / workbooks: {len(jobs)} ({', '.join(f'{k} {v}' for k, v in sorted(by_level.items()))})",
        f"- Quan hệ biểu mẫu bị vi phạm / broken form relations: {relations}",
        f"- Danh sách vấn đề / problem list: `{s.out / 'problems.csv'}` ({len(problems)} dòng / lines)",
    ]
    rejected = [p for p in problems if p.kind == "file"]
    if rejected:
        lines += ["", "## Tệp bị từ chối / rejected files", ""]
        lines += [f"- `{r.file}` ({r.school_code or '?'}): {r.message_vi} / {r.message_en}" for r in rejected]
    if top:
        lines += ["", "## Lỗi dữ liệu thường gặp / top validation problems", ""]
        lines += [f"- `{rule}` ({sev}) × {n}: {vi} / {en}" for rule, sev, vi, en, n in top]
    lines += summary_lines([{k: plain(v) for k, v in r.items()} for r in completeness])
    return "\n".join(lines) + "\n"


_OUTPUT_README = """# edustat outputs

Folder `{out}`: one reporting period of one province.

- `forms/<level>/<unit_code>/<form>.xlsx`: the form in the official layout for each school
  (`school`), Phòng GDĐT (`phong`) and the Sở (`so`); the `Errors` sheet lists the unit's problems.
- `cells.csv`, `cells.parquet`: the non-zero cells, long format
  (`school_year, period, regime, form, level, unit_code, row_code, col_key, value, boundaries`);
  a printed cell that is absent is 0. Money (the budget form 01-MN-DN-NS) is in whole đồng; its
  workbooks print triệu đồng.
- `indicators.csv`, `indicators.parquet`: the national indicators each unit's forms feed (pupils
  per class, per teacher, teachers per class, counts), each with its numerator and denominator;
  also on the "Chỉ tiêu" sheet of the Phòng and Sở workbooks.
- `sdmx/structure.xml`, `sdmx/cells.sdmx.csv`, `sdmx/indicators.sdmx.csv`: the same cells and
  indicators for statistical-office systems: an SDMX-ML 2.1 structure message (code lists, data
  structure definitions) and SDMX-CSV 2.0 data files; TIME_PERIOD is the period's as-of date.
- `problems.csv`: every problem of the run (registry rows, rejected files, invalid records, broken
  form relations), in Vietnamese and English, with school, file, record, field and value.
- `errors/<phong_or_so_code>/<school_code>.xlsx|.csv`: each school's problems, one row each, with
  the file, list, record position (from 1), class and grade to find the record (only schools with
  problems); `errors/summary_<level>_<code>.xlsx` (+ `_rules.csv`, `_schools.csv`): each Phòng's
  and the Sở's problems by rule and by school.
- `rules.md`, `rules.html`: every validation rule with its id, severity, meaning and source;
  `fields.md`: every input field with its type, code list and treatment of personal data.
- `data_docs/index.html`: Great Expectations' Data Docs of the run's validation (work offline).
- `completeness.xlsx`, `completeness.csv`, `completeness_schools.csv`: per Phòng and Sở, schools
  expected, received, on time, late, missing and pending against the period's deadlines, and each
  unit's approval state; per school, its status, versions and state.
- `summary.md`: the run's summary.
"""
