"""Validation reports: what each school must fix and what each Phòng and the Sở must chase.

Written by every run under its output folder:

- `errors/<parent_code>/<school_code>.xlsx` and `.csv`: one row per problem of the run (rejected
  file, validation problem, or broken form relation of the school's own compiled forms) of one
  school, in Vietnamese (English in a second heading row of the workbook, in brackets in the CSV
  heading), with what a school clerk needs to find the record in the school's software: the file,
  the list (LstHocSinh …), the record's position in it counted from 1, the class code, the grade
  and other non-personal codes. `<parent_code>` is the school's Phòng, or the Sở for the schools it
  runs and for files of schools not in the registry. Only schools with problems get a file: the
  Phòng and Sở summaries list every school, so a school with no file is a school with 0 errors and
  0 warnings there;
- `errors/summary_<level>_<code>.xlsx` (sheets "Theo quy tắc" and "Theo trường") with the same two
  tables as `summary_<level>_<code>_rules.csv` and `summary_<level>_<code>_schools.csv`, for each
  Phòng and the Sở.

Reports hold no run id or time, so the same inputs give the same contents. CSV files are UTF-8 with
a BOM (so Excel shows Vietnamese correctly) and CRLF line ends.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines import catalog, validate, warehouse
from pipelines.outputs import printing, xlsx
from pipelines.outputs.csvsafe import write_csv
from pipelines.outputs.docs import write_catalogue
from pipelines.outputs.ledger import ledger_rows, ledger_sheet, not_counted_rows, not_counted_sheet
from pipelines.outputs.lists import Column, list_sheet, sheet_name
from pipelines.outputs.problems import (
    FILE_RULES,
    forms_by_id,
    record_type_vi,
    relation_catalogue,
    run_problems,
    school_line,
    school_lists,
)
from pipelines.outputs.rewrite import Outputs, digest
from pipelines.outputs.styles import SEVERITY_VI
from pipelines.settings import Settings
from pipelines.warehouse import Problem

ERRORS_DIR = "errors"
FIELD_LABELS = Path(__file__).with_name("field_labels.csv")
FILL_BAD, FILL_WARN = "F8CBAD", "FFE699"  # a school with errors, with warnings only
PERIOD_VI = {"DN": "đầu năm học", "CN": "cuối năm học"}
UNKNOWN_SCHOOL = "(không rõ / unknown)"
YES, NO = "Có", "Không"

# (attribute, heading vi, heading en, width); the CSV heading is "vi (en)".
SCHOOL_COLUMNS = (
    ("stt", "STT", "No.", 6),
    ("severity", "Mức độ", "Severity", 10),
    ("rule_id", "Mã quy tắc", "Rule", 30),
    ("entity_vi", "Đối tượng", "Record type", 16),
    ("file", "Tệp", "File", 26),
    ("list_name", "Danh sách", "List", 16),
    ("position", "Thứ tự bản ghi", "Record position, from 1", 10),
    ("class_code", "Mã lớp", "Class code", 12),
    ("grade", "Khối", "Grade", 7),
    ("other_ids", "Thông tin nhận dạng khác", "Other identifiers", 26),
    ("field", "Trường dữ liệu", "Field", 20),
    ("value", "Giá trị", "Value", 16),
    ("message_vi", "Nội dung lỗi", "Problem", 50),
    ("hint_vi", "Cách sửa", "How to fix", 40),
    ("message_en", "Nội dung lỗi tiếng Anh", "Problem in English", 50),
)
RULE_COLUMNS = (
    ("Mã quy tắc", "Rule", 30),
    ("Mức độ", "Severity", 10),
    ("Đối tượng", "Record type", 18),
    ("Nội dung", "Meaning", 50),
    ("Nội dung tiếng Anh", "Meaning in English", 50),
    ("Số lỗi", "Problems", 10),
    ("Số trường", "Schools affected", 10),
    ("Số bản ghi bị loại", "Records excluded", 12),
)
SCHOOL_SUMMARY_COLUMNS = (
    ("Mã trường", "School code", 12),
    ("Tên trường", "School name", 40),
    ("Phòng GDĐT", "Phòng", 10),
    ("Bản ghi nhận", "Records in", 10),
    ("Đã nạp", "Loaded", 10),
    ("Bị loại", "Quarantined", 10),
    ("Lỗi", "Errors", 8),
    ("Cảnh báo", "Warnings", 9),
    ("Đã nhận tệp", "File received", 10),
    ("Tệp bị từ chối", "File rejected", 10),
    ("Bản ghi trong tệp bị từ chối", "Records in rejected files", 12),
)
SCHOOL_NOTE = (
    "Thứ tự bản ghi: vị trí của bản ghi trong danh sách của tệp, tính từ 1. Họ tên, mã định danh cá "
    "nhân và ngày sinh không được in (đã mã hóa khi nhập). Lỗi: bản ghi bị loại khỏi báo cáo; "
    'cảnh báo: bản ghi vẫn được tính. Đối tượng "Biểu …": các ô của biểu tổng hợp từ dữ liệu của '
    "trường không cộng khớp (quan hệ biểu mẫu; ô in trong biểu của trường ghi ở Thông tin nhận dạng "
    "khác), chỉ là cảnh báo. / Record position: the record's place in the file's list, "
    "counted from 1. Names, personal identifiers and birth dates are not printed (pseudonymised at "
    "ingest). Error: the record is excluded from the report; warning: it is still counted. Record "
    'type "Biểu …": cells of the school\'s compiled form that do not add up (a form relation; the '
    "printed cell is under Other identifiers), a warning only."
)
SUMMARY_NOTE = (
    "Bản ghi nhận = đã nạp + bị loại (mọi danh sách của tệp, kể cả Thông tin trường). Một bản ghi "
    "vi phạm nhiều quy tắc được tính ở mỗi quy tắc. / Records in = loaded + quarantined (every list "
    "of the file, the school record included). A record breaking several rules counts under each."
)


# ------------------------------------------------------------------------------ writing

# A school's workbook: one sheet per form it reports (the broken relations of its figures) and one
# for its file and records, each problem with what finds it in the school's software.
FILES_SHEET = "Tệp và hồ sơ"
SCHOOL_SHEET_COLUMNS = (
    Column("STT", "No.", 5),
    Column("Mức độ", "Severity", 8),
    Column("Danh sách", "List", 11),
    Column("Thứ tự bản ghi", "Record no., from 1", 8),
    Column("Lớp hoặc mã", "Class or code", 12),
    Column("Trường dữ liệu", "Field", 18),
    Column("Giá trị", "Value", 12),
    Column("Lỗi", "Problem", 36),
    Column("Cách sửa", "How to fix", 30),
    Column("Mã quy tắc", "Rule", 17),
)
RULE_SHEET_COLUMNS = tuple(Column(vi, en, w) for vi, en, w in RULE_COLUMNS)
SCHOOL_SUMMARY_SHEET_COLUMNS = tuple(Column(vi, en, w) for vi, en, w in SCHOOL_SUMMARY_COLUMNS)


def _write_csv(path: Path, heads: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM (Excel then reads Vietnamese right), one heading row "vi (en)", every field
    safe to open (csvsafe)."""
    write_csv(path, [f"{vi} ({en})" for vi, en in heads], rows)


@cache
def field_labels() -> dict[tuple[str, str], str]:
    """(entity, field) → the field's Vietnamese name (field_labels.csv: the 2020 sync spec's words)."""
    with FIELD_LABELS.open(encoding="utf-8") as fh:
        return {(r["entity"], r["field"]): r["label_vi"] for r in csv.DictReader(fh)}


def school_sheet_row(stt: int, p: Problem) -> tuple:
    """A row of a school's workbook: no., severity, list, record no. (from 1), class or own code,
    the field's Vietnamese name, value (a personal one hidden), problem, how to fix, rule."""
    severity, rule, record_type, file, _, position, klass, _, other, fld, value, vi, hint_vi, _ = school_line(
        p
    )
    if p.kind == "record" and fld:
        fld = f"{field_labels().get((p.entity, fld), fld)} ({fld})"
    if p.kind == "file":
        value = value or file
    return (stt, severity, record_type, position, klass or other, fld, value, vi, hint_vi, rule)


def _school_sheets(
    problems: Sequence[Problem], forms: Sequence[catalog.Form]
) -> list[tuple[str, list[Problem]]]:
    """(sheet name, problems) of a school's workbook: a sheet per form (its broken relations; a form
    printed in another's workbook goes on that form's sheet), then the file and record problems."""
    by_id = {f.form: f for f in forms}
    order = [f.form for f in forms if f.printed_in is None]
    sheets: dict[str, list[Problem]] = {name: [] for name in order}
    files: list[Problem] = []
    for p in problems:
        if p.relation is not None:
            form = by_id.get(p.relation.form)
            home = form.printed_in or form.form if form is not None else None
            if home is not None:
                sheets.setdefault(home, []).append(p)
                continue
        files.append(p)
    out = [
        (sheet_name(by_id[name].code_printed if name in by_id else name), its) for name, its in sheets.items()
    ]
    return [*out, (FILES_SHEET, files)]


def write_school_report(folder: Path, school_code: str, school_name: str | None, s: Settings,
                        problems: Sequence[Problem], forms: Sequence[catalog.Form] = ()) -> tuple[Path, Path]:  # fmt: skip
    """`<school_code>.xlsx` and `.csv` in folder: the school's problems. The CSV lists them all, one
    row each; the workbook has a sheet per form the school reports (`forms`) and "Tệp và hồ sơ"."""
    rows = [(i, *school_line(p)) for i, p in enumerate(problems, 1)]
    xlsx_path, csv_path = folder / f"{school_code}.xlsx", folder / f"{school_code}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(csv_path, [(vi, en) for _, vi, en, _ in SCHOOL_COLUMNS], rows)
    book = xlsx.StyleSheet()
    n_err = sum(p.severity == "error" for p in problems)
    name = f"{school_name or UNKNOWN_SCHOOL} ({school_code})"
    files = sorted({p.file for p in problems if p.file})
    sheets = []
    for title, its in _school_sheets(problems, forms):
        what = "các ô của biểu không cộng khớp" if title != FILES_SHEET else "tệp và bản ghi"
        lines = [
            f"Danh sách lỗi dữ liệu — {name} — {title}",
            f"Năm học {s.school_year}, {PERIOD_VI.get(s.period, s.period)} ({s.period}): {what}; cả trường "
            f"{n_err} lỗi, {len(problems) - n_err} cảnh báo"
            + (f"; tệp: {', '.join(files)}" if files else ""),
            SCHOOL_NOTE,
        ]
        body = [school_sheet_row(i, p) for i, p in enumerate(its, 1)]
        header = printing.header(f"Lỗi dữ liệu — {title}", name, f"{s.school_year} {s.period}")
        sheets.append(list_sheet(book, title, lines, SCHOOL_SHEET_COLUMNS, body, header=header))
    xlsx.write_workbook(xlsx_path, sheets, book, f"Lỗi dữ liệu {school_code}")
    return xlsx_path, csv_path


@dataclass(frozen=True)
class SchoolStats:
    code: str | None
    name: str
    phong: str | None
    records_in: int
    loaded: int
    quarantined: int
    errors: int
    warnings: int
    file_received: bool
    file_rejected: bool
    records_rejected_files: int


def _counts(con: duckdb.DuckDBPyConnection, statement: str, params: list[Any], **identifiers: str) -> Counter:
    out: Counter = Counter()
    for key, n in con.execute(warehouse.sql("outputs/errors", statement, **identifiers), params).fetchall():
        out[key] += n
    return out


def _file_records(
    con: duckdb.DuckDBPyConnection, run_id: str
) -> list[tuple[str | None, str, str | None, int]]:
    """(school code, status, reason, records in all its lists) of every file of the run."""
    result = con.execute(warehouse.sql("outputs/errors", "files"), [run_id])
    names = [d[0] for d in result.description]
    counts = [names.index(f"n_{e}") for e in catalog.ENTITIES]
    return [(row[0], row[1], row[2], sum(row[i] or 0 for i in counts)) for row in result.fetchall()]


def school_stats(con: duckdb.DuckDBPyConnection, run_id: str,
                 problems: dict[str | None, list[Problem]]) -> dict[str | None, SchoolStats]:  # fmt: skip
    """Every registered school and every school named by a file of the run, with its counts."""
    records_in: Counter = Counter()
    loaded: Counter = Counter()
    for src in catalog.sources():
        records_in += _counts(con, "records_in", [], table=src.table)
        loaded += _counts(con, "records_loaded", [run_id, src.entity], table=src.table)
    quarantined = _counts(con, "quarantined", [run_id])
    files: dict[str | None, list[tuple[str, int]]] = {}
    for code, status, _, n in _file_records(con, run_id):
        files.setdefault(code, []).append((status, n))
    units = {code: (name, plv, pcode) for code, name, plv, pcode in con.execute(
        warehouse.sql("outputs/errors", "schools")).fetchall()}  # fmt: skip
    out = {}
    for code in sorted(set(units) | set(files) | set(problems), key=lambda c: (c is None, c or "")):
        name, plv, pcode = units.get(code, (None, None, None))
        if name is None:
            name = "(không có trong danh sách trường / not in the registry)" if code else UNKNOWN_SCHOOL
        severities = Counter(p.severity for p in problems.get(code, []))
        its_files = files.get(code, [])
        out[code] = SchoolStats(
            code=code,
            name=name,
            phong=pcode if plv == "phong" else None,
            records_in=records_in[code],
            loaded=loaded[code],
            quarantined=quarantined[code],
            errors=severities["error"],
            warnings=severities["warning"],
            file_received=bool(its_files),
            file_rejected=any(st == "rejected" for st, _ in its_files),
            records_rejected_files=sum(n for st, n in its_files if st == "rejected"),
        )
    return out


def _rule_meanings() -> dict[str, tuple[str, str, str]]:
    """Rule id → (severity, message vi, message en) of the catalogue and the file rules."""
    out = {r["id"]: (r["severity"], r["message_vi"], r["message_en"]) for r in validate.rule_catalogue()}
    out.update({rid: ("error", vi, en) for rid, vi, en in FILE_RULES})
    form_names = {f.form: f.code_printed for f in forms_by_id().values()}
    out.update({r["id"]: ("warning", f"Biểu {form_names[r['form']]}, {r['message_vi']}",
                          f"Form {form_names[r['form']]}, {r['message_en']}") for r in relation_catalogue()})  # fmt: skip
    return out


def run_facts(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[dict, list[tuple], list[tuple]]:
    """What unit_rule_rows reads of the whole run (the rules' meanings, records quarantined by school
    and rule, the files): read once for every unit."""
    quarantined = con.execute(warehouse.sql("outputs/errors", "quarantined_by_rule"), [run_id]).fetchall()
    return _rule_meanings(), quarantined, _file_records(con, run_id)


def unit_rule_rows(con: duckdb.DuckDBPyConnection, run_id: str, schools: Sequence[str | None],
                   problems: dict[str | None, list[Problem]], facts: tuple | None = None) -> list[tuple]:  # fmt: skip
    """By rule, over the given schools: id, severity, record type, meaning vi/en, problems, schools
    affected, records excluded (quarantined for the rule; for a rejected file, its records).
    `facts`: run_facts, if already read."""
    meanings, quarantined, files = facts or run_facts(con, run_id)
    wanted = set(schools)
    excluded: Counter = Counter()
    for code, rule, n in quarantined:
        if code in wanted:
            excluded[rule] += n
    for code, status, reason, n in files:
        if status == "rejected" and code in wanted:
            excluded[reason] += n
    count: Counter = Counter()
    affected: dict[str, set[str | None]] = {}
    first: dict[str, Problem] = {}
    for code in schools:
        for p in problems.get(code, []):
            count[p.rule_id] += 1
            affected.setdefault(p.rule_id, set()).add(code)
            first.setdefault(p.rule_id, p)
    rows = []
    for rule in count:
        p = first[rule]
        severity, vi, en = meanings.get(rule, (p.severity, p.message_vi, p.message_en))
        rows.append((rule, SEVERITY_VI.get(severity, severity), record_type_vi(p), vi, en, count[rule],
                     len(affected[rule]), excluded[rule]))  # fmt: skip
    # Errors first, the most frequent first, then by id.
    rows.sort(key=lambda r: (r[1] != SEVERITY_VI["error"], -r[5], r[0]))
    return rows


def _school_row(st: SchoolStats) -> tuple:
    return (st.code or UNKNOWN_SCHOOL, st.name, st.phong, st.records_in, st.loaded, st.quarantined, st.errors,
            st.warnings, YES if st.file_received else NO, YES if st.file_rejected else NO,
            st.records_rejected_files)  # fmt: skip


def write_unit_summary(folder: Path, level: str, code: str, unit_name: str, s: Settings,
                       rule_rows: Sequence[tuple], schools: Sequence[SchoolStats],
                       ledger: Sequence[tuple] | None = None,
                       not_counted: tuple[Sequence[tuple], bool] | None = None) -> list[Path]:  # fmt: skip
    """summary_<level>_<code>.xlsx and its two CSV files: the rules by number of problems (errors
    first), the schools by number of problems, and (`ledger`, the Sở's) the input ledger and
    (`not_counted`: its rows, whether cut short) every input not counted, one line each."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"summary_{level}_{code}"
    ranked = sorted(
        schools, key=lambda st: (-(st.errors + st.warnings), -st.errors, st.code is None, st.code or "")
    )
    school_rows = [_school_row(st) for st in ranked]
    paths = [folder / f"{stem}.xlsx", folder / f"{stem}_rules.csv", folder / f"{stem}_schools.csv"]
    _write_csv(paths[1], [(vi, en) for vi, en, _ in RULE_COLUMNS], rule_rows)
    _write_csv(paths[2], [(vi, en) for vi, en, _ in SCHOOL_SUMMARY_COLUMNS], school_rows)
    n_bad = sum(1 for st in schools if st.errors or st.warnings)
    head = [
        f"Tổng hợp lỗi dữ liệu — {unit_name}",
        f"Năm học {s.school_year}, {PERIOD_VI.get(s.period, s.period)} ({s.period}): {len(schools)} trường, "
        f"{n_bad} trường có lỗi hoặc cảnh báo / {len(schools)} schools, {n_bad} with problems",
    ]
    book = xlsx.StyleSheet()
    header = printing.header("Tổng hợp lỗi dữ liệu", unit_name, f"{s.school_year} {s.period}")
    sheets = [
        list_sheet(book, "Theo quy tắc", [*head, SUMMARY_NOTE], RULE_SHEET_COLUMNS, rule_rows, header=header),
        list_sheet(book, "Theo trường", [*head, SUMMARY_NOTE], SCHOOL_SUMMARY_SHEET_COLUMNS, school_rows,
                   header=header, fill=lambda r: FILL_BAD if r[6] else FILL_WARN if r[7] else None),
    ]  # fmt: skip
    if ledger is not None:
        sheets.append(ledger_sheet(book, unit_name, s, ledger))
    if not_counted is not None:
        sheets.append(not_counted_sheet(book, unit_name, s, *not_counted))
    xlsx.write_workbook(paths[0], sheets, book, f"Tổng hợp lỗi dữ liệu {unit_name}")
    return paths


@dataclass(frozen=True)
class QualityResult:
    school_reports: int
    unit_summaries: int
    paths: tuple[Path, ...]


def write_reports(
    con: duckdb.DuckDBPyConnection,
    s: Settings,
    problems: Sequence[Problem] | None = None,
    code_digest: str | None = None,
) -> QualityResult:
    """Write OUT/errors/ (per school, per Phòng and Sở) and OUT/rules.md|.html, OUT/fields.md from
    the run's problems (as export read them; else read here). A file whose inputs are those it was
    last written from (rewrite.Outputs; `code_digest`: warehouse.code_digest()) is kept; a file no
    longer due (a school that fixed its problems) is removed."""
    folder = s.out / ERRORS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    digest_of_code = code_digest or warehouse.code_digest()
    done = Outputs(con, folder, full=s.full)
    keep: set[Path] = {folder / "README.md"}

    def fresh(rel: str, inputs: str, *paths: Path) -> bool:
        keep.update(paths)
        return done.fresh(rel, inputs, *paths)

    lists = school_lists(run_problems(con, s.run_id) if problems is None else problems)
    stats = school_stats(con, s.run_id, lists)
    units = {(lv, code): (name, plv, pcode) for lv, code, name, plv, pcode in con.execute(
        warehouse.sql("outputs/errors", "units")).fetchall()}  # fmt: skip
    so = sorted(code for lv, code in units if lv == "so")
    so_code = so[0] if so else "so"
    paths: list[Path] = []
    n_schools = 0
    forms = {f.form: f for f in catalog.forms_for(s.regime, s.period)}
    reported: dict[str, list[catalog.Form]] = {}
    for code, form in con.execute(warehouse.sql("outputs/errors", "school_forms"),
                                  [s.school_year, s.period]).fetchall():  # fmt: skip
        if form in forms:
            reported.setdefault(code, []).append(forms[form])
    for code in sorted(c for c in lists if c is not None):
        _, plv, pcode = units.get(("school", code), (None, None, None))
        parent = pcode if plv in ("phong", "so") else so_code
        name = stats[code].name if code in stats else None
        its_forms = tuple(reported.get(code, ()))
        rel = f"{parent}/{code}.xlsx"
        inputs = digest(
            digest_of_code, s.school_year, s.period, name, lists[code], [f.form for f in its_forms]
        )
        if not fresh(rel, inputs, folder / rel, folder / parent / f"{code}.csv"):
            write_school_report(folder / parent, code, name, s, lists[code], its_forms)
            done.written(rel, inputs)
        paths += [folder / rel, folder / parent / f"{code}.csv"]
        n_schools += 1
    n_units = 0
    facts = run_facts(con, s.run_id)
    for (lv, code), (name, _, _) in sorted(units.items()):
        if lv == "phong":
            members = [st for st in stats.values() if st.phong == code]
        elif lv == "so":
            members = list(stats.values())  # every school of the province, and files of no known school
        else:
            continue
        rule_rows = unit_rule_rows(con, s.run_id, [st.code for st in members], lists, facts)
        ledger = ledger_rows(con, s.run_id, facts[0]) if lv == "so" else None
        not_counted = not_counted_rows(con, s.run_id) if lv == "so" else None
        stem = f"summary_{lv}_{code}"
        its = [folder / f"{stem}.xlsx", folder / f"{stem}_rules.csv", folder / f"{stem}_schools.csv"]
        inputs = digest(digest_of_code, s.school_year, s.period, lv, code, name, rule_rows, members, ledger,
                        not_counted)  # fmt: skip
        if not fresh(its[0].name, inputs, *its):
            write_unit_summary(folder, lv, code, name, s, rule_rows, members, ledger, not_counted)
            done.written(its[0].name, inputs)
        paths += its
        n_units += 1
    # A file no longer due (a school that fixed its problems, a unit gone) must not stay.
    for old in sorted(p for p in folder.rglob("*") if p.is_file() and p not in keep):
        old.unlink()
    (folder / "README.md").write_text(_ERRORS_README, encoding="utf-8")
    catalogue = [s.out / "rules.md", s.out / "rules.html", s.out / "fields.md"]
    where = (str(s.out.resolve()), str(catalog.SCHEMAS.resolve()))  # fields.md links schemas/ from out
    inputs = digest(digest_of_code, *where)
    if not done.fresh("../rules.md", inputs, *catalogue):
        write_catalogue(s.out)
        done.written("../rules.md", inputs)
    done.save()
    paths += catalogue
    return QualityResult(n_schools, n_units, tuple(paths))


_ERRORS_README = """# Lỗi dữ liệu / data problems

- `<mã Phòng hoặc Sở>/<mã trường>.xlsx`, `.csv`: lỗi và cảnh báo của một trường, mỗi dòng một lỗi,
  kèm tệp, danh sách, thứ tự bản ghi (tính từ 1), mã lớp, khối để tìm bản ghi. Sổ tính: một trang
  cho mỗi biểu của trường (các ô không cộng khớp) và trang "Tệp và hồ sơ" (tệp, bản ghi). Chỉ
  trường có lỗi mới có tệp. / One school's problems, one row each, with what finds the record in
  the school's software (workbook: a sheet per form, and "Tệp và hồ sơ" for the file and records);
  only schools with problems get a file (every school is in the summaries).
- `summary_phong_<mã>.xlsx`, `summary_so_<mã>.xlsx`: tổng hợp theo quy tắc và theo trường (trường
  nhiều lỗi nhất trước), cùng nội dung trong `summary_<cấp>_<mã>_rules.csv` và `_schools.csv`; của
  Sở thêm trang "Sổ đầu vào" (mọi đầu vào của lượt chạy theo kết quả và lý do) và trang "Đầu vào
  không được tính" (mỗi đầu vào bị loại, bị từ chối, bị thay thế, không thuộc diện báo cáo hoặc
  không đọc, một dòng, kèm mã lý do). / Summary by rule and by school (most problems first); the
  Sở's also the input ledger by outcome and reason, and every input not counted, one line each,
  with its reason.
- Quan hệ biểu mẫu / form relations: dòng có Đối tượng "Biểu …" là các ô của biểu của trường
  (tổng hợp từ dữ liệu của trường) không cộng khớp; chỉ là cảnh báo. / Rows of record type
  "Biểu …" are cells of the school's own compiled form that do not add up; warnings only.
- Danh mục quy tắc / rule catalogue: `../rules.md`, `../rules.html`; từ điển trường dữ liệu /
  field dictionary: `../fields.md`.

CSV: UTF-8 có BOM / with a BOM. Không in họ tên, mã định danh cá nhân, ngày sinh / no names,
personal identifiers or birth dates.
"""
