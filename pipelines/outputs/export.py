"""One period's outputs: every unit's workbook, the tidy cells and indicators, the problem list, the
run's summary and the folder's README."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines import catalog, warehouse
from pipelines.aggregate import CELLS_COLUMNS, INDICATOR_COLUMNS
from pipelines.catalog import Form
from pipelines.outputs import sdmx
from pipelines.outputs.completeness import write_completeness
from pipelines.outputs.errors import write_reports
from pipelines.outputs.layout import cell_ref
from pipelines.outputs.styles import printed_value
from pipelines.outputs.workbook import (
    ErrorLine,
    IndicatorLine,
    UnitHeader,
    WorkbookJob,
    write_changed_workbooks,
)
from pipelines.settings import Settings
from pipelines.window.completeness import plain, summary_lines

PROBLEM_COLUMNS = ("level", "unit_code", *ErrorLine.__dataclass_fields__)
_LEVEL_ORDER = "CASE level WHEN 'school' THEN 0 WHEN 'phong' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class ExportResult:
    workbooks: int
    summary_text: str
    workbooks_written: int = 0  # the others were unchanged since the last run (write_changed_workbooks)


def _record_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[str, str, ErrorLine]]:
    """Registry, file and record problems of a run, each tied to its school."""
    paths = {s.entity: s.json_path for s in catalog.sources()}
    out = []
    for row, code, outcome, vi, en in con.execute(
        "SELECT excel_row, school_code, outcome, message_vi, message_en FROM registry_problems ORDER BY excel_row"
    ).fetchall():
        line = ErrorLine(
            code,
            "registry.xlsx",
            f"dòng/row {row}",
            None,
            None,
            f"registry.{outcome}",
            "warning",
            vi,
            en,
        )
        out.append(("school", code, line))
    for file, code, reason, vi, en in con.execute(
        "SELECT file, school_code, reason, message_vi, message_en FROM files "
        "WHERE run_id = ? AND status = 'rejected' ORDER BY file",
        [run_id],
    ).fetchall():
        out.append(("school", code, ErrorLine(code, file, None, None, None, reason, "error", vi, en)))
    for code, file, entity, index, field_, value, rule, severity, vi, en in con.execute(
        "SELECT school_code, file, entity, record_index, field, value, rule_id, severity, message_vi, message_en "
        "FROM validation_results WHERE run_id = ? ORDER BY school_code, file, entity, record_index, rule_id",
        [run_id],
    ).fetchall():
        record = paths.get(entity, entity) + ("" if entity == "school" else f"[{index}]")
        out.append(("school", code, ErrorLine(code, file, record, field_, value, rule, severity, vi, en)))
    return out


def _relation_problems(
    con: duckdb.DuckDBPyConnection, run_id: str, forms: Sequence[Form]
) -> list[tuple[str, str, ErrorLine]]:
    """Broken form relations, each pointing at the printed cell of its unit's workbook."""
    by_name = {f.form: f for f in forms}
    out = []
    for form_name, level, unit, rel, check, basis, row, col, lhs, rhs in con.execute(
        "SELECT form, level, unit_code, relation_id, check_text, basis, row_code, col_key, lhs, rhs "
        "FROM relation_violations WHERE run_id = ? ORDER BY ALL",
        [run_id],
    ).fetchall():
        form = by_name[form_name]
        if form.display_scale != 1:  # in the unit the workbook prints (e.g. triệu đồng)
            money = next((r.unit for r in form.cell_rows if r.code == row), None) or ""
            lhs, rhs = (f"{printed_value(form, v)} {money}".strip() for v in (lhs, rhs))
        where_vi = f"Mã số {row}" + (f", cột {col}" if col else "")
        sheet = cell = None
        if col:
            sheet, cell = cell_ref(form, row, col)
        vi = (
            f"{form.code_printed}: quan hệ {check} không thỏa ({where_vi}: {lhs} so với {rhs}; cơ sở {basis})"
        )
        en = f"{form.code_printed}: relation {check} does not hold (row {row}{', column ' + col if col else ''}: {lhs} against {rhs}; basis {basis})"
        school = unit if level == "school" else None
        out.append(
            (
                level,
                unit,
                ErrorLine(school, None, None, None, f"{lhs} / {rhs}", rel, "warning", vi, en, sheet, cell),
            )
        )
    return out


def _write_problems_csv(path: Path, problems: list[tuple[str, str, ErrorLine]]) -> None:
    import csv

    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PROBLEM_COLUMNS)
        for level, unit, line in problems:
            writer.writerow([level, unit, *(getattr(line, f) for f in ErrorLine.__dataclass_fields__)])


def export_period(
    con: duckdb.DuckDBPyConnection,
    s: Settings,
    forms: Sequence[Form],
    completeness: tuple[list[dict], list[dict]],
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write every unit's workbooks, cells.csv/.parquet, problems.csv, summary.md and README.md."""
    s.out.mkdir(parents=True, exist_ok=True)
    # This run's units only: the warehouse may hold other provinces' cells of the same period.
    period_sql = (f"school_year = '{s.school_year}' AND period = '{s.period}' "
                  "AND (level, unit_code) IN (SELECT level, unit_code FROM units)")  # fmt: skip
    cells_sql = (f"SELECT {', '.join(CELLS_COLUMNS)} FROM cells WHERE {period_sql} "
                 f"ORDER BY form, {_LEVEL_ORDER}, unit_code, row_code, col_key")  # fmt: skip
    con.execute(f"COPY ({cells_sql}) TO '{s.out / 'cells.csv'}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY ({cells_sql}) TO '{s.out / 'cells.parquet'}' (FORMAT parquet)")
    # Indicators exist on both boundary versions; the run's outputs give those of its own.
    indicator_sql = f"{period_sql} AND boundaries = '{s.boundaries}'"
    indicators_sql = (f"SELECT {', '.join(INDICATOR_COLUMNS)} FROM indicators WHERE {indicator_sql} "
                      f"ORDER BY form, {_LEVEL_ORDER}, unit_code, indicator_id")  # fmt: skip
    con.execute(f"COPY ({indicators_sql}) TO '{s.out / 'indicators.csv'}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY ({indicators_sql}) TO '{s.out / 'indicators.parquet'}' (FORMAT parquet)")
    # The same cells and indicators for statistical-office systems: SDMX structure + SDMX-CSV.
    sdmx.export_sdmx(con, s.out / "sdmx", s.school_year, s.period, s.boundaries, forms)
    unit_indicators: dict[tuple[str, str, str], list[IndicatorLine]] = {}
    for form_name, level, unit, *line in con.execute(
        f"SELECT form, level, unit_code, indicator_id, name_vi, name_en, numerator, denominator, value, status "
        f"FROM indicators WHERE {indicator_sql} AND level IN ('phong', 'so') ORDER BY ALL"
    ).fetchall():
        unit_indicators.setdefault((form_name, level, unit), []).append(IndicatorLine(*line))

    problems = _record_problems(con, s.run_id) + _relation_problems(con, s.run_id, forms)
    _write_problems_csv(s.out / "problems.csv", problems)
    units = {
        (lv, code): (name, plv, pcode)
        for lv, code, name, plv, pcode in con.execute("SELECT * FROM units").fetchall()
    }
    # A unit's Errors sheet lists the problems of the schools below it and its own broken relations.
    by_unit: dict[tuple[str, str], list[ErrorLine]] = {}
    for level, unit, line in problems:
        by_unit.setdefault((level, unit), []).append(line)
        if level == "school":
            parent = units.get(("school", unit), (None, None, None))
            if parent[1] == "phong":
                by_unit.setdefault(("phong", parent[2]), []).append(line)
            by_unit.setdefault(("so", "*"), []).append(line)

    jobs = []
    for form in forms:
        values: dict[tuple[str, str], dict[tuple[int, str], float]] = {}
        for level, unit, row, col, value in con.execute(
            f"SELECT level, unit_code, row_code, col_key, value FROM cells WHERE {period_sql} AND form = ? AND value <> 0",
            [form.form],
        ).fetchall():
            values.setdefault((level, unit), {})[(row, col)] = value
        for level, unit in con.execute(
            f"SELECT DISTINCT level, unit_code FROM cells WHERE {period_sql} AND form = ? ORDER BY ALL",
            [form.form],
        ).fetchall():
            name, parent_level, parent_code = units[(level, unit)]
            header = UnitHeader(level, unit, name, units[(parent_level, parent_code)][0])
            errors = by_unit.get((level, unit), []) + (by_unit.get(("so", "*"), []) if level == "so" else [])
            path = s.out / "forms" / level / unit / f"{form.form}.xlsx"
            indicators = tuple(unit_indicators.get((form.form, level, unit), ()))
            jobs.append(
                WorkbookJob(
                    path, form, header, values.get((level, unit), {}), tuple(errors), s.start_year, indicators
                )
            )
    if progress:
        progress(f"export: {len(jobs)} sổ tính / workbooks …")
    if s.full:
        warehouse.forget_outputs(con, s.out / "forms")
    written = write_changed_workbooks(con, jobs, s.out / "forms", processes=s.processes)
    write_completeness(s.out, *completeness)
    text = _summary(con, s, forms, jobs, problems, completeness[0])
    (s.out / "summary.md").write_text(text, encoding="utf-8")
    (s.out / "README.md").write_text(_OUTPUT_README.format(out=s.out), encoding="utf-8")
    write_reports(con, s)  # errors/ per school, Phòng and Sở; rules.md, rules.html
    return ExportResult(len(jobs), text, written)


def _summary(con: duckdb.DuckDBPyConnection, s: Settings, forms: Sequence[Form], jobs: list[WorkbookJob],
             problems: list[tuple[str, str, ErrorLine]], completeness: list[dict]) -> str:  # fmt: skip
    """The run's short report: what was produced, where, what was rejected and why."""
    files = con.execute(
        "SELECT status, count(*) FROM files WHERE run_id = ? GROUP BY status", [s.run_id]
    ).fetchall()
    counts = dict(files)
    staged = con.execute("SELECT count(*) FROM stg_learner").fetchall()[0][0]
    quarantined = con.execute(
        "SELECT entity, count(*) FROM quarantine WHERE run_id = ? GROUP BY entity ORDER BY entity",
        [s.run_id],
    ).fetchall()
    top = con.execute(
        "SELECT rule_id, severity, any_value(message_vi), any_value(message_en), count(*) AS n "
        "FROM validation_results WHERE run_id = ? GROUP BY rule_id, severity ORDER BY n DESC, rule_id LIMIT 10",
        [s.run_id],
    ).fetchall()
    by_level: dict[str, int] = {}
    for job in jobs:
        by_level[job.header.level] = by_level.get(job.header.level, 0) + 1
    relations = sum(1 for lv, _, line in problems if line.rule_id.startswith(tuple(f.form for f in forms)))
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
    rejected = [line for _, _, line in problems if line.rule_id.startswith("file.")]
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
- `data_docs/index.html`: Great Expectations' Data Docs of the run's validation.
- `completeness.xlsx`, `completeness.csv`, `completeness_schools.csv`: per Phòng and Sở, schools
  expected, received, on time, late, missing and pending against the period's deadlines, and each
  unit's approval state; per school, its status, versions and state.
- `summary.md`: the run's summary.
"""
