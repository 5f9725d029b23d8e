"""Validation reports: what each school must fix, what each Phòng and the Sở must chase, and the rules.

Written by every run under its output folder (export.export_period calls `write_reports`):

- `errors/<parent_code>/<school_code>.xlsx` and `.csv`: one row per problem of the run (rejected
  file, validation problem, or broken form relation of the school's own compiled forms) of one
  school, in Vietnamese (English in a second heading row of the
  workbook, in brackets in the CSV heading), with what a school clerk needs to find the record in
  the school's software: the file, the list (LstHocSinh …), the record's position in it counted
  from 1, the class code, the grade and other non-personal codes. `<parent_code>` is the school's
  Phòng, or the Sở for the schools it runs and for files of schools not in the registry.
  Only schools with problems get a file: the Phòng and Sở summaries list every school, so a school
  with no file is a school with 0 errors and 0 warnings there;
- `errors/summary_<level>_<code>.xlsx` (sheets "Theo quy tắc" and "Theo trường") with the same two
  tables as `summary_<level>_<code>_rules.csv` and `summary_<level>_<code>_schools.csv`, for each
  Phòng and the Sở;
- `rules.md`, `rules.html`: the rule catalogue (also `edustat rules` into docs/): every rule of
  schemas/sources/*.yaml, every whole-file rejection of ingest and every form relation of
  schemas/forms/*/*.yaml (kind `form_relation`, always a warning: a broken relation excludes no
  record);
- `fields.md`: the field dictionary of schemas/sources/*.yaml (also `edustat rules` into docs/).

Names and personal identifiers are pseudonymised at ingest (keyed hashes). Nothing here prints a
field a source YAML marks `pii`: neither as an identifier nor as the value of a problem. Reports
hold no run id or time, so the same inputs give the same contents. CSV files are UTF-8 with a BOM
(so Excel shows Vietnamese correctly) and CRLF line ends.
"""

from __future__ import annotations

import csv
import html
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from pipelines import catalog, validate
from pipelines.export import (
    LINE_HEIGHT,
    NO_PROBLEMS,
    SEVERITY_VI,
    _add_styles,
    _Cells,
    cell_ref,
    printed_value,
)
from pipelines.settings import PROJECT_ROOT, REGIMES, Settings

ERRORS_DIR = "errors"
DOCS_DIR = PROJECT_ROOT / "docs"
PERIOD_VI = {"DN": "đầu năm học", "CN": "cuối năm học"}
HIDDEN = "[ẩn: dữ liệu cá nhân / hidden: personal data]"
FILE_ENTITY_VI = "Tệp dữ liệu"
UNKNOWN_SCHOOL = "(không rõ / unknown)"
YES, NO = "Có", "Không"

# Rejections of a whole file by ingest (pipelines/ingest.py check_payload): (id, vi, en). The
# messages ingest writes name the file's own values; these are the generic meanings.
# tests/test_quality.py checks that this list and ingest.py name the same ids.
FILE_RULES = (
    ("file.unreadable", "Tệp JSON hỏng, không đọc được", "Malformed JSON file, cannot be read"),
    ("file.shape", "Tệp không phải đối tượng JSON có TruongHocInfo",
     "The file is not a JSON object with a TruongHocInfo object"),
    ("file.no_school_code", "Tệp không có MaTruongHoc", "The file has no MaTruongHoc"),
    ("file.wrong_period", "Tệp thuộc năm học hoặc loại đồng bộ (LoaiDongBo) khác với kỳ báo cáo",
     "The file is for another school year or sync type (LoaiDongBo) than the period"),
    ("file.not_in_registry", "Trường không có trong danh sách trường (registry)",
     "The school is not in the school registry"),
    ("file.locked", "Báo cáo của trường (hoặc Phòng, Sở của trường) đã khóa; tệp mới không được nhận",
     "The report of the school (or of its Phòng or Sở) is locked; no new file is taken"),
)  # fmt: skip

# Non-personal fields that help a clerk find a record, besides its position, class and grade.
OTHER_IDS = {
    "site": ("MaDiemTruong", "TenDiemTruong"),
    "class": ("TenLopHoc",),
    "staff": ("LoaiCanBo", "ChucVu", "CapHoc"),
    "rooms": ("MaLoaiPhong", "LoaiCongTrinh"),
}

# How to fix, by rule kind (generated field rules and declared record rules).
HINTS_VI = {
    "required": "Nhập giá trị cho {field}",
    "codelist": "Chọn một mã có trong danh mục của {field}",
    "type": "Nhập {field} đúng kiểu dữ liệu (xem nội dung lỗi)",
    "date_range": "Kiểm tra và nhập lại ngày {field}",
    "length": "Rút ngắn {field}",
    "pattern": "Nhập {field} đúng định dạng mã",
    "text": "Gõ lại {field} (bỏ ký tự lạ, lưu tệp bằng UTF-8)",
    "range": "Nhập {field} trong khoảng cho phép",
    "duplicate": "Bản ghi trùng với một bản ghi đứng trước: xóa bản ghi thừa hoặc sửa {field}",
    "missing_in": "Sửa {field} cho khớp với danh sách tương ứng của trường, hoặc bổ sung bản ghi còn thiếu",
    "grade_matches": "Kiểm tra khối (KhoiHoc) của bản ghi và của lớp",
    "school_rejected": "Sửa các lỗi của Thông tin trường (TruongHocInfo) rồi gửi lại tệp",
    "file": "Sửa tệp theo nội dung lỗi rồi gửi lại",
    "form_relation": (
        "Kiểm tra các bản ghi (hoặc số đã nhập) được tính vào các ô {field}: các phần phải cộng khớp với "
        "tổng; không bản ghi nào bị loại"
    ),
}
HINT_DEFAULT = "Sửa {field} theo nội dung lỗi"


@dataclass(frozen=True)
class Problem:
    """One row of a school's error list."""

    severity: str  # error | warning
    rule_id: str
    entity_vi: str  # label_vi of the source, or "Tệp dữ liệu" for a rejected file
    file: str | None
    list_name: str | None  # LstHocSinh …; None for a whole file
    position: int | None  # 1-based position in the list; None for TruongHocInfo or a whole file
    class_code: str | None
    grade: str | None
    other_ids: str | None
    field: str | None
    value: str | None
    message_vi: str
    hint_vi: str
    message_en: str


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


# ------------------------------------------------------------------------------ problems


def pii_fields() -> dict[str, frozenset[str]]:
    """Fields each source marks `pii` (hashed or cut at ingest): never printed."""
    return {s.entity: frozenset(f.name for f in s.fields if f.pii) for s in catalog.sources()}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _identifier_sql(src: catalog.Source) -> tuple[str, str, str, str]:
    """(extra FROM clause, class code, grade, other identifiers) SQL of a source's staging row `s`."""
    names = {f.name for f in src.fields if not f.pii}
    class_col = "MaLopHoc" if src.entity == "class" else "MaLopHocDn"
    class_sql = f"s.{_q(class_col)}" if class_col in names else "NULL"
    grade_sql = "s.KhoiHoc" if "KhoiHoc" in names else "NULL"
    others = [f"CASE WHEN s.{_q(n)} IS NOT NULL THEN '{n}: ' || s.{_q(n)} END"
              for n in OTHER_IDS.get(src.entity, ()) if n in names]  # fmt: skip
    join = ""
    learner = {f.name: f for f in catalog.source("learner").fields}
    if src.entity == "result" and "ClientId" in learner and {"MaLopHocDn", "KhoiHoc"} <= set(learner):
        # A result names its pupil by the hashed ClientId: show the pupil's place in LstHocSinh,
        # class and grade instead (the hash itself never leaves the warehouse).
        join = (
            " LEFT JOIN (SELECT school_code, ClientId, min(record_index) AS li, "
            "arg_min(MaLopHocDn, record_index) AS lc, arg_min(KhoiHoc, record_index) AS lg "
            "FROM stg_learner GROUP BY school_code, ClientId) AS l "
            "ON l.school_code = s.school_code AND l.ClientId = s.ClientId"
        )
        path = catalog.source("learner").json_path
        class_sql, grade_sql = "l.lc", "l.lg"
        others.append(f"CASE WHEN l.li IS NOT NULL THEN '{path} #' || (l.li + 1) END")
    other_sql = f"nullif(concat_ws('; ', {', '.join(others)}), '')" if others else "NULL"
    return join, class_sql, grade_sql, other_sql


def _rule_kinds() -> dict[str, str]:
    return {r["id"]: r["kind"] for r in validate.rule_catalogue()}


def _hint(kind: str | None, field: str | None) -> str:
    return HINTS_VI.get(kind or "", HINT_DEFAULT).format(field=field or "dữ liệu")


def run_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str | None, list[Problem]]:
    """Every rejected file and validation problem of a run, by school code, sorted: errors first,
    then by file, list, position, rule and field."""
    kinds = _rule_kinds()
    pii = pii_fields()
    order = {e: i for i, e in enumerate(catalog.ENTITIES)}
    keyed: list[tuple[tuple, str | None, Problem]] = []
    for file, code, reason, vi, en in con.execute(
        "SELECT file, school_code, reason, message_vi, message_en FROM files "
        "WHERE run_id = ? AND status = 'rejected'",
        [run_id],
    ).fetchall():
        p = Problem("error", reason, FILE_ENTITY_VI, file, None, None, None, None, None, None, None,
                    vi, _hint("file", None), en)  # fmt: skip
        keyed.append(((0, file or "", -1, -1, reason, "", 0), code, p))
    for src in catalog.sources():
        join, class_sql, grade_sql, other_sql = _identifier_sql(src)
        rows = con.execute(
            f"SELECT v.school_code, v.severity, v.rule_id, v.file, v.record_index, v.row_id, v.field, "
            f"v.value, v.message_vi, v.message_en, {class_sql}, {grade_sql}, {other_sql} "
            f"FROM validation_results AS v LEFT JOIN {src.table} AS s ON s.row_id = v.row_id{join} "
            "WHERE v.run_id = ? AND v.entity = ?",
            [run_id, src.entity],
        ).fetchall()
        for code, sev, rule, file, index, row_id, field, value, vi, en, klass, grade, other in rows:
            whole = src.entity == "school"
            hidden = field in pii[src.entity]
            p = Problem(
                severity=sev,
                rule_id=rule,
                entity_vi=src.label_vi,
                file=file,
                list_name=src.json_path,
                position=None if whole or index is None else index + 1,
                class_code=klass,
                grade=grade,
                other_ids=other,
                field=field,
                value=(HIDDEN if value is not None else None) if hidden else value,
                message_vi=vi,
                hint_vi=_hint(kinds.get(rule), field),
                message_en=en,
            )
            key = (0 if sev == "error" else 1, file or "", order.get(src.entity, 99), index or 0, rule,
                   field or "", row_id or 0)  # fmt: skip
            keyed.append((key, code, p))
    keyed += _relation_problems(con, run_id)
    keyed.sort(key=lambda k: (k[0], k[1] or ""))
    out: dict[str | None, list[Problem]] = {}
    for _, code, p in keyed:
        out.setdefault(code, []).append(p)
    return out


# ------------------------------------------------------------------------------ form relations

RELATION_KIND = "form_relation"
BASIS = {  # the `basis` of a form relation (see the head comment of each form YAML): (vi, en)
    "F": ("F: công thức trong tệp biểu mẫu gốc", "F: formula in the source workbook"),
    "L": ("L: suy từ lời văn của biểu (Chia ra, Trong đó)", "L: implied by the wording (Chia ra, Trong đó)"),
    "I": ("I: edustat suy luận", "I: inferred by edustat"),
}
OP_VI = {"=": "bằng", "<=": "không lớn hơn", ">=": "không nhỏ hơn"}
OP_EN = {"=": "equal to", "<=": "at most", ">=": "at least"}


@dataclass(frozen=True)
class FormRelation:
    """One declared relation of a form, under the id aggregate.relation_instances gives it: a row
    relation (`<form>.r<code>.<n>`, checked in every printed column of its row) or a column relation
    (`<form>.<column set>.<n>`, checked on every row of the sheets using that column set)."""

    id: str
    n: int  # the relation's place (from 1) in its row's relations or its column set's
    form: catalog.Form
    relation: catalog.Relation
    row: catalog.Row | None  # a row relation's row
    column_set: str | None  # a column relation's column set
    paths: tuple[str, ...]  # the form YAML files that use this form id (one per regime)
    base_path: str | None  # the YAML whose grid an `extends` form borrows

    @property
    def place(self) -> str:
        if self.row is not None:
            return f"row {self.row.code}, relation {self.n}"
        return f"column_relations.{self.column_set}, relation {self.n}"


def _form_files() -> list[tuple[str, Path]]:
    """(regime, path) of every form YAML of the catalogue, regimes in date order."""
    regimes = sorted(REGIMES, key=REGIMES.get)
    return [(rg, p) for rg in regimes for p in sorted((catalog.SCHEMAS / "forms" / rg).glob("*.yaml"))]


def _rel(path: Path) -> str:
    return path.relative_to(PROJECT_ROOT).as_posix()


@cache
def form_relations() -> tuple[FormRelation, ...]:
    """Every relation of every form of every regime, once per relation id (a form id shared by two
    regimes, e.g. tt24/01-MN-CN and tt25/01-MN-CN, is one grid: its relations are listed once)."""
    files = _form_files()
    by_form: dict[str, tuple[catalog.Form, list[str], str | None]] = {}
    for regime, path in files:
        form = catalog.form(regime, path.stem)
        if form.form in by_form:
            by_form[form.form][1].append(_rel(path))
            continue
        base = None
        if form.base_form:
            base = next((_rel(p) for rg, p in files if p.stem == form.base_form and rg != regime), None)
        by_form[form.form] = (form, [_rel(path)], base)
    out: list[FormRelation] = []
    for form, paths, base in by_form.values():
        for row in form.cell_rows:
            for i, rel in enumerate(row.relations):
                rid = f"{form.form}.r{row.code}.{i + 1}"
                out.append(FormRelation(rid, i + 1, form, rel, row, None, tuple(paths), base))
        for set_name, rels in form.column_relations.items():
            for i, rel in enumerate(rels):
                rid = f"{form.form}.{set_name}.{i + 1}"
                out.append(FormRelation(rid, i + 1, form, rel, None, set_name, tuple(paths), base))
    return tuple(out)


def _forms_by_id() -> dict[str, catalog.Form]:
    return {r.form.form: r.form for r in form_relations()}


def _basis(rel: catalog.Relation) -> tuple[str, str]:
    return BASIS.get(rel.basis or "", (f"{rel.basis or 'không ghi'}", f"{rel.basis or 'not given'}"))


def relation_catalogue() -> list[dict[str, Any]]:
    """One catalogue row per form relation id (kind form_relation, severity warning)."""
    return [dict(r) for r in _relation_catalogue()]


@cache
def _relation_catalogue() -> tuple[dict[str, Any], ...]:
    rows = []
    for fr in form_relations():
        rel, form = fr.relation, fr.form
        basis_vi, basis_en = _basis(rel)
        if fr.row is not None:
            field = f"Mã số {fr.row.code}"
            vi = f"Mã số {fr.row.code} ({fr.row.label_vi}): {rel.check}, ở mỗi cột; cơ sở {basis_vi}"
            en = f"Row {fr.row.code} ({fr.row.label_en}): {rel.check}, in every column; basis {basis_en}"
        else:
            field = f"cột {' + '.join(rel.lhs)}"
            vi = f"{rel.check}, ở mỗi dòng dùng bộ cột {fr.column_set}; cơ sở {basis_vi}"
            en = f"{rel.check}, on every row with column set {fr.column_set}; basis {basis_en}"
        source = fr.paths[0] + (f" (grid of {fr.base_path})" if fr.base_path else "") + f", {fr.place}"
        if len(fr.paths) > 1:
            source += f"; also {', '.join(fr.paths[1:])}"
        rows.append({"id": fr.id, "entity": "form", "form": form.form, "field": field, "kind": RELATION_KIND,
                     "severity": "warning", "message_vi": vi, "message_en": en, "source": source})  # fmt: skip
    return tuple(rows)


def _relation_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[tuple, str, Problem]]:
    """The broken relations of each school's own compiled forms (relation_violations at level
    school), one problem per violated cell instance, as (sort key, school code, problem)."""
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'relation_violations'"
    ).fetchall()[0][0]:
        return []
    forms = _forms_by_id()
    order = {name: i for i, name in enumerate(forms)}
    files = dict(con.execute(
        "SELECT school_code, min(file) FROM files WHERE run_id = ? AND status = 'loaded' GROUP BY ALL", [run_id]
    ).fetchall())  # fmt: skip
    out = []
    for form_name, code, rid, check, basis, row_code, col, lhs, rhs in con.execute(
        "SELECT form, unit_code, relation_id, check_text, basis, row_code, col_key, lhs, rhs "
        "FROM relation_violations WHERE run_id = ? AND level = 'school' ORDER BY ALL",
        [run_id],
    ).fetchall():
        form = forms.get(form_name)
        if form is None:  # a form no longer in the catalogue: nothing to point at
            continue
        rel = catalog.parse_relation(check, basis)
        row = next((r for r in form.cell_rows if r.code == row_code), None)
        label_vi = f" ({row.label_vi})" if row else ""
        label_en = f" ({row.label_en})" if row else ""
        # The cell the clerk looks at: a row relation's own column; a column relation's left side.
        key = col or rel.lhs[0]
        headers = {c.key: c.header_vi for c in form.columns_for(row)} if row else {}
        head = f" ({headers[key]})" if key in headers else ""
        try:
            sheet, cell = cell_ref(form, row_code, key)
            where = f"biểu {form.code_printed}, trang {sheet}, ô {cell}"
        except KeyError:
            where = f"biểu {form.code_printed}"
        if form.display_scale != 1:  # as the workbook prints it (e.g. triệu đồng)
            unit = (row.unit if row else None) or ""
            lhs, rhs = (f"{printed_value(form, v)} {unit}".strip() for v in (lhs, rhs))
        left, right = " + ".join(rel.lhs), " + ".join(rel.rhs)
        if col:
            field = f"Mã số {row_code}, cột {col}"
            cells = f"{left} và {right} của cột {col}"
        else:
            field = f"Mã số {row_code}, cột {left}"
            cells = f"{left} và {right} của Mã số {row_code}"
        basis_vi, basis_en = _basis(rel)
        vi = (f"Biểu {form.code_printed}, Mã số {row_code}{label_vi}, cột {key}{head}: quan hệ {check} không thỏa: "
              f"vế trái ({left}) = {lhs}, vế phải ({right}) = {rhs}, phải {OP_VI[rel.op]} (cơ sở {basis_vi})")  # fmt: skip
        en = (f"Form {form.code_printed}, row {row_code}{label_en}, column {key}: relation {check} does not hold: "
              f"left ({left}) = {lhs}, right ({right}) = {rhs}, must be {OP_EN[rel.op]} (basis {basis_en})")  # fmt: skip
        p = Problem(
            severity="warning",
            rule_id=rid,
            entity_vi=f"Biểu {form.code_printed}",
            file=files.get(code),
            list_name=None,
            position=None,
            class_code=None,
            grade=None,
            other_ids=where,
            field=field,
            value=f"{lhs} / {rhs}",
            message_vi=vi,
            hint_vi=_hint(RELATION_KIND, cells),
            message_en=en,
        )
        sort_key = (1, files.get(code) or "", 100 + order.get(form_name, 0), row_code, rid, col or "", 0)
        out.append((sort_key, code, p))
    return out


# ------------------------------------------------------------------------------ writing


def _write_csv(path: Path, heads: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> None:
    """UTF-8 with a BOM (Excel then reads Vietnamese right), one heading row "vi (en)"."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f"{vi} ({en})" for vi, en in heads])
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])


def _write_table(wb: Workbook, title: str, lines: Sequence[str], columns: Sequence[tuple[str, str, int]],
                 rows: Sequence[Sequence[Any]]) -> None:  # fmt: skip
    """One sheet: title lines, a note, a blank row, Vietnamese and English headings, the rows."""
    ws = wb.create_sheet(title)
    cell = _Cells(ws)
    for col, (_, _, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    # Write-only: the sheet's view (frozen panes) is written with the first row, so set it first.
    vi_row = len(lines) + 2
    ws.freeze_panes = f"A{vi_row + 2}"
    ws.print_title_rows = f"{vi_row}:{vi_row + 1}"
    for i, line in enumerate(lines):
        ws.append(
            [cell(line, "es_title" if i == 0 else "es_text_italic" if i == len(lines) - 1 else "es_text")]
        )
    ws.append([])
    ws.row_dimensions[vi_row].height = 2 * LINE_HEIGHT + 4
    ws.append([cell(vi, "es_head") for vi, _, _ in columns])
    ws.append([cell(en, "es_colno") for _, en, _ in columns])
    last = get_column_letter(len(columns))
    ws.auto_filter.ref = f"A{vi_row + 1}:{last}{vi_row + 1 + max(len(rows), 1)}"
    if not rows:
        ws.append([cell(NO_PROBLEMS, "es_text")])
    for row in rows:
        ws.append([cell(None if v is None else v, "es_err") for v in row])


def _save(wb: Workbook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _new_workbook(title: str) -> Workbook:
    wb = Workbook(write_only=True)
    wb.properties.creator = "edustat"
    wb.properties.title = title
    _add_styles(wb)
    return wb


def write_school_report(folder: Path, school_code: str, school_name: str | None, s: Settings,
                        problems: Sequence[Problem]) -> tuple[Path, Path]:  # fmt: skip
    """`<school_code>.xlsx` and `.csv` in folder: the school's problems, one row each."""
    rows = [(i, SEVERITY_VI.get(p.severity, p.severity), *astuple(p)[1:]) for i, p in enumerate(problems, 1)]
    xlsx, csv_path = folder / f"{school_code}.xlsx", folder / f"{school_code}.csv"
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(csv_path, [(vi, en) for _, vi, en, _ in SCHOOL_COLUMNS], rows)
    wb = _new_workbook(f"Lỗi dữ liệu {school_code}")
    n_err = sum(p.severity == "error" for p in problems)
    lines = [
        f"Danh sách lỗi dữ liệu / Data problems — {school_name or UNKNOWN_SCHOOL} ({school_code})",
        f"Năm học {s.school_year}, {PERIOD_VI.get(s.period, s.period)} ({s.period}): {n_err} lỗi / errors, "
        f"{len(problems) - n_err} cảnh báo / warnings",
        SCHOOL_NOTE,
    ]
    _write_table(wb, "Lỗi", lines, [(vi, en, w) for _, vi, en, w in SCHOOL_COLUMNS], rows)
    _save(wb, xlsx)
    return xlsx, csv_path


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


def _counts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Counter:
    out: Counter = Counter()
    for key, n in con.execute(sql, params).fetchall():
        out[key] += n
    return out


def school_stats(con: duckdb.DuckDBPyConnection, run_id: str,
                 problems: dict[str | None, list[Problem]]) -> dict[str | None, SchoolStats]:  # fmt: skip
    """Every registered school and every school named by a file of the run, with its counts."""
    records_in: Counter = Counter()
    loaded: Counter = Counter()
    for src in catalog.sources():
        records_in += _counts(con, f"SELECT school_code, count(*) FROM {src.table} GROUP BY ALL", [])
        loaded += _counts(
            con,
            f"SELECT school_code, count(*) FROM {src.table} AS s WHERE NOT EXISTS (SELECT 1 FROM quarantine "
            "AS q WHERE q.run_id = ? AND q.entity = ? AND q.row_id = s.row_id) GROUP BY ALL",
            [run_id, src.entity],
        )
    quarantined = _counts(
        con, "SELECT school_code, count(*) FROM quarantine WHERE run_id = ? GROUP BY ALL", [run_id]
    )
    n_cols = " + ".join(f"coalesce(n_{e}, 0)" for e in catalog.ENTITIES)
    files: dict[str | None, list[tuple[str, int]]] = {}
    for code, status, n in con.execute(
        f"SELECT school_code, status, {n_cols} FROM files WHERE run_id = ?", [run_id]
    ).fetchall():
        files.setdefault(code, []).append((status, n))
    units = {code: (name, plv, pcode) for code, name, plv, pcode in con.execute(
        "SELECT unit_code, name_vi, parent_level, parent_code FROM units WHERE level = 'school'").fetchall()}  # fmt: skip
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
    form_names = {f.form: f.code_printed for f in _forms_by_id().values()}
    out.update({r["id"]: ("warning", f"Biểu {form_names[r['form']]}, {r['message_vi']}",
                          f"Form {form_names[r['form']]}, {r['message_en']}") for r in relation_catalogue()})  # fmt: skip
    return out


def unit_rule_rows(con: duckdb.DuckDBPyConnection, run_id: str, schools: Sequence[str | None],
                   problems: dict[str | None, list[Problem]]) -> list[tuple]:  # fmt: skip
    """By rule, over the given schools: id, severity, record type, meaning vi/en, problems, schools
    affected, records excluded (quarantined for the rule; for a rejected file, its records)."""
    meanings = _rule_meanings()
    wanted = set(schools)
    excluded: Counter = Counter()
    for code, rule, n in con.execute(
        "SELECT school_code, rule, count(*) FROM (SELECT school_code, unnest(string_split(rule_ids, ',')) "
        "AS rule FROM quarantine WHERE run_id = ?) GROUP BY ALL",
        [run_id],
    ).fetchall():
        if code in wanted:
            excluded[rule] += n
    n_cols = " + ".join(f"coalesce(n_{e}, 0)" for e in catalog.ENTITIES)
    for code, reason, n in con.execute(
        f"SELECT school_code, reason, {n_cols} FROM files WHERE run_id = ? AND status = 'rejected'", [run_id]
    ).fetchall():
        if code in wanted:
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
        rows.append((rule, SEVERITY_VI.get(severity, severity), p.entity_vi, vi, en, count[rule],
                     len(affected[rule]), excluded[rule]))  # fmt: skip
    # Errors first, the most frequent first, then by id.
    rows.sort(key=lambda r: (r[1] != SEVERITY_VI["error"], -r[5], r[0]))
    return rows


def _school_row(st: SchoolStats) -> tuple:
    return (st.code or UNKNOWN_SCHOOL, st.name, st.phong, st.records_in, st.loaded, st.quarantined, st.errors,
            st.warnings, YES if st.file_received else NO, YES if st.file_rejected else NO,
            st.records_rejected_files)  # fmt: skip


def write_unit_summary(folder: Path, level: str, code: str, unit_name: str, s: Settings,
                       rule_rows: Sequence[tuple], schools: Sequence[SchoolStats]) -> list[Path]:  # fmt: skip
    """summary_<level>_<code>.xlsx (two sheets) and its two CSV files."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"summary_{level}_{code}"
    school_rows = [_school_row(st) for st in schools]
    paths = [folder / f"{stem}.xlsx", folder / f"{stem}_rules.csv", folder / f"{stem}_schools.csv"]
    _write_csv(paths[1], [(vi, en) for vi, en, _ in RULE_COLUMNS], rule_rows)
    _write_csv(paths[2], [(vi, en) for vi, en, _ in SCHOOL_SUMMARY_COLUMNS], school_rows)
    wb = _new_workbook(f"Tổng hợp lỗi dữ liệu {unit_name}")
    n_bad = sum(1 for st in schools if st.errors or st.warnings)
    head = [
        f"Tổng hợp lỗi dữ liệu / Data problems summary — {unit_name}",
        f"Năm học {s.school_year}, {PERIOD_VI.get(s.period, s.period)} ({s.period}): {len(schools)} trường / "
        f"schools, {n_bad} có lỗi hoặc cảnh báo / with problems",
    ]
    _write_table(wb, "Theo quy tắc", [*head, SUMMARY_NOTE], RULE_COLUMNS, rule_rows)
    _write_table(wb, "Theo trường", [*head, SUMMARY_NOTE], SCHOOL_SUMMARY_COLUMNS, school_rows)
    _save(wb, paths[0])
    return paths


@dataclass(frozen=True)
class QualityResult:
    school_reports: int
    unit_summaries: int
    paths: tuple[Path, ...]


def write_reports(con: duckdb.DuckDBPyConnection, s: Settings) -> QualityResult:
    """Write OUT/errors/ (per school, per Phòng and Sở) and OUT/rules.md|.html, OUT/fields.md."""
    folder = s.out / ERRORS_DIR
    # Start from nothing: a school that fixed its problems must not keep last run's file.
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    problems = run_problems(con, s.run_id)
    stats = school_stats(con, s.run_id, problems)
    units = {(lv, code): (name, plv, pcode) for lv, code, name, plv, pcode in con.execute(
        "SELECT level, unit_code, name_vi, parent_level, parent_code FROM units").fetchall()}  # fmt: skip
    so = sorted(code for lv, code in units if lv == "so")
    so_code = so[0] if so else "so"
    paths: list[Path] = []
    n_schools = 0
    for code in sorted(c for c in problems if c is not None):
        _, plv, pcode = units.get(("school", code), (None, None, None))
        parent = pcode if plv in ("phong", "so") else so_code
        paths += write_school_report(folder / parent, code, stats[code].name if code in stats else None, s,
                                     problems[code])  # fmt: skip
        n_schools += 1
    n_units = 0
    for (lv, code), (name, _, _) in sorted(units.items()):
        if lv == "phong":
            members = [st for st in stats.values() if st.phong == code]
        elif lv == "so":
            members = list(stats.values())  # every school of the province, and files of no known school
        else:
            continue
        rule_rows = unit_rule_rows(con, s.run_id, [st.code for st in members], problems)
        paths += write_unit_summary(folder, lv, code, name, s, rule_rows, members)
        n_units += 1
    (folder / "README.md").write_text(_ERRORS_README, encoding="utf-8")
    paths += write_catalogue(s.out)
    return QualityResult(n_schools, n_units, tuple(paths))


_ERRORS_README = """# Lỗi dữ liệu / data problems

- `<mã Phòng hoặc Sở>/<mã trường>.xlsx`, `.csv`: lỗi và cảnh báo của một trường, mỗi dòng một lỗi,
  kèm tệp, danh sách, thứ tự bản ghi (tính từ 1), mã lớp, khối để tìm bản ghi. Chỉ trường có lỗi
  mới có tệp. / One school's problems, one row each, with what finds the record in the school's
  software; only schools with problems get a file (every school is in the summaries).
- `summary_phong_<mã>.xlsx`, `summary_so_<mã>.xlsx`: tổng hợp theo quy tắc và theo trường, cùng nội
  dung trong `summary_<cấp>_<mã>_rules.csv` và `_schools.csv`. / Summary by rule and by school.
- Quan hệ biểu mẫu / form relations: dòng có Đối tượng "Biểu …" là các ô của biểu của trường
  (tổng hợp từ dữ liệu của trường) không cộng khớp; chỉ là cảnh báo. / Rows of record type
  "Biểu …" are cells of the school's own compiled form that do not add up; warnings only.
- Danh mục quy tắc / rule catalogue: `../rules.md`, `../rules.html`; từ điển trường dữ liệu /
  field dictionary: `../fields.md`.

CSV: UTF-8 có BOM / with a BOM. Không in họ tên, mã định danh cá nhân, ngày sinh / no names,
personal identifiers or birth dates.
"""


# ------------------------------------------------------------------------------ rule catalogue


def catalogue() -> list[dict[str, Any]]:
    """validate.rule_catalogue() (each rule with its source), the file rejections of ingest, then
    every form relation of every form of the catalogue."""
    rows = [dict(r) for r in validate.rule_catalogue()]
    for rid, vi, en in FILE_RULES:
        rows.append({"id": rid, "entity": "file", "field": None, "kind": "file", "severity": "error",
                     "message_vi": vi, "message_en": en, "source": "pipelines/ingest.py (check_payload)"})  # fmt: skip
    return rows + relation_catalogue()


_CATALOGUE_HEADS = ("Mã quy tắc / Rule", "Trường / Field", "Loại / Kind", "Mức độ / Severity",
                    "Nội dung / Meaning", "Meaning (English)", "Nguồn / Source")  # fmt: skip
_INTRO_VI = (
    "Mỗi quy tắc kiểm tra một bản ghi của tệp trường gửi lên. **Lỗi**: bản ghi bị loại khỏi báo cáo "
    "(lỗi ở Thông tin trường loại cả trường); **cảnh báo**: bản ghi vẫn được tính. **Quan hệ biểu "
    "mẫu** (loại form_relation, từ các tệp biểu mẫu) kiểm tra các ô của biểu đã tổng hợp của mỗi "
    "trường, Phòng và Sở (tổng bằng tổng các phần, …): luôn là cảnh báo, không loại bản ghi nào; vi "
    "phạm ở biểu của một trường có trong danh sách lỗi của trường đó, mỗi ô một dòng."
)
_INTRO_EN = (
    "Each rule checks a record of a school's file. **Error**: the record is excluded from the report "
    "(an error in the school record excludes the whole school); **warning**: the record still counts. "
    "**Form relations** (kind form_relation, from the form files) check the cells of each school's, "
    "Phòng's and the Sở's compiled form (a total equals the sum of its parts, …): always a warning, "
    "they exclude no record; a broken relation in a school's own form is in that school's error "
    "list, one row per cell."
)
_BASIS_LINE = (
    "Cơ sở / basis: " + "; ".join(f"{vi} / {en.split(': ', 1)[1]}" for vi, en in BASIS.values()) + "."
)


def _groups(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(heading, where the rules come from, rules) per entity in catalogue order, files last."""
    out = []
    for src in catalog.sources():
        its = [r for r in rows if r["entity"] == src.entity]
        if its:
            out.append(
                (
                    f"{src.label_vi} / {src.label_en}",
                    f"`{src.json_path}`, `schemas/sources/{src.entity}.yaml`",
                    its,
                )
            )
    files = [r for r in rows if r["entity"] == "file"]
    if files:
        out.append(("Tệp dữ liệu / Files", "`pipelines/ingest.py`: the whole file is rejected", files))
    forms = {fr.form.form: fr for fr in form_relations()}
    by_form: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["entity"] == "form":
            by_form.setdefault(r["form"], []).append(r)
    for name, its in by_form.items():
        fr = forms[name]
        files_ = ", ".join(f"`{p}`" for p in fr.paths) + (
            f" (grid: `{fr.base_path}`)" if fr.base_path else ""
        )
        out.append(
            (
                f"Quan hệ biểu mẫu {fr.form.code_printed} / Form relations of {name}",
                f"{files_}: cảnh báo, không loại bản ghi nào / warnings, no record is excluded",
                its,
            )
        )
    return out


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    severity = f"{SEVERITY_VI.get(r['severity'], r['severity'])} / {r['severity']}"
    return (r["id"], r["field"] or "", r["kind"], severity, r["message_vi"], r["message_en"], r["source"])


def _counts_line(rows: Sequence[dict[str, Any]]) -> str:
    n_err = sum(r["severity"] == "error" for r in rows)
    n_rel = sum(r["kind"] == RELATION_KIND for r in rows)
    return (f"{len(rows)} quy tắc / rules: {n_err} lỗi / errors, {len(rows) - n_err} cảnh báo / warnings "
            f"(trong đó {n_rel} quan hệ biểu mẫu / of which {n_rel} form relations).")  # fmt: skip


def render_markdown(rows: Sequence[dict[str, Any]]) -> str:
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue",
        "",
        "<!-- Generated by `edustat rules` from schemas/sources/*.yaml (pipelines/validate.py),",
        "     pipelines/ingest.py and schemas/forms/*/*.yaml. Do not edit by hand: run `edustat rules`",
        "     after changing a rule or a form relation. -->",
        "",
        _INTRO_VI,
        "",
        _INTRO_EN,
        "",
        _BASIS_LINE,
        "",
        _counts_line(rows),
    ]
    for heading, where, its in _groups(rows):
        lines += ["", f"## {heading}", "", f"{where} — {len(its)} quy tắc / rules", ""]
        lines.append("| " + " | ".join(_CATALOGUE_HEADS) + " |")
        lines.append("|" + "---|" * len(_CATALOGUE_HEADS))
        for r in its:
            c = _cells(r)
            lines.append("| " + " | ".join([f"`{esc(c[0])}`", *(esc(x) for x in c[1:])]) + " |")
    return "\n".join(lines) + "\n"


def render_html(rows: Sequence[dict[str, Any]]) -> str:
    def para(text: str) -> str:
        parts = html.escape(text).split("**")
        return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))

    def code(text: str) -> str:
        parts = html.escape(text).split("`")
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

    out = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        "<title>Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
        "th,td{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}"
        "th{background:#eee}td.error{color:#c00000}</style>",
        "</head>",
        "<body>",
        "<!-- Generated by `edustat rules`; do not edit by hand. -->",
        "<h1>Danh mục quy tắc kiểm tra dữ liệu / Validation rule catalogue</h1>",
        f"<p>{para(_INTRO_VI)}</p>",
        f"<p>{para(_INTRO_EN)}</p>",
        f"<p>{html.escape(_BASIS_LINE)}</p>",
        f"<p>{html.escape(_counts_line(rows))}</p>",
    ]
    for heading, where, its in _groups(rows):
        out.append(f"<h2>{html.escape(heading)}</h2>")
        out.append(f"<p>{code(where)} — {len(its)} quy tắc / rules</p>")
        out.append("<table>")
        out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in _CATALOGUE_HEADS) + "</tr>")
        for r in its:
            c = _cells(r)
            tds = [f'<td id="{html.escape(c[0])}"><code>{html.escape(c[0])}</code></td>']
            tds += [f"<td>{html.escape(x)}</td>" for x in c[1:3]]
            tds.append(f'<td class="{html.escape(r["severity"])}">{html.escape(c[3])}</td>')
            tds += [f"<td>{html.escape(x)}</td>" for x in c[4:]]
            out.append("<tr>" + "".join(tds) + "</tr>")
        out.append("</table>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ field dictionary

PII_VI = {
    "hash": "mã hóa (băm có khóa) khi nhập, không bao giờ in / keyed hash at ingest, never printed",
    "year_month": "chỉ giữ năm-tháng khi nhập, không in / cut to year-month at ingest, never printed",
}
_FIELD_HEADS = ("Trường / Field", "Kiểu / Type", "Bắt buộc / Required", "Dài tối đa / Max length",
                "Danh mục / Code list", "Mẫu / Pattern", "Khoảng / Range", "Dữ liệu cá nhân / PII",
                "Ghi chú / Note")  # fmt: skip


def _codelist_file(name: str) -> str:
    """Where a code list's CSV is, relative to schemas/ (codelists/<name>.csv, or another folder of
    schemas/ such as the lists of administrative units)."""
    found = sorted(catalog.SCHEMAS.glob(f"*/{name}.csv"), key=lambda p: (p.parent.name != "codelists", p))
    return found[0].relative_to(catalog.SCHEMAS).as_posix() if found else f"codelists/{name}.csv"


def codelist_link(name: str | None, schemas: str) -> str:
    """A doc table's code-list cell: the list linked to its CSV under `schemas`, with its size."""
    if not name:
        return ""
    return f"[{name}]({schemas}/{_codelist_file(name)}) ({len(catalog.codelist(name).codes)} mã / codes)"


def render_fields(schemas: str = "../schemas") -> str:
    """docs/fields.md: every field of every source (schemas/sources/*.yaml), the same properties
    ingest types and validate compiles into the GX suites. Code lists link to their CSV under
    `schemas` (the schemas/ folder, relative to the page)."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    def code(text: str) -> str:
        return f"`{esc(text)}`"

    n_fields = sum(len(s.fields) for s in catalog.sources())
    lines = [
        "# Từ điển trường dữ liệu / Field dictionary",
        "",
        "<!-- Generated by `edustat rules` from schemas/sources/*.yaml. Do not edit by hand: run",
        "     `edustat rules` after changing a source. -->",
        "",
        "Mọi trường của các danh sách trong tệp trường gửi lên, đúng như `schemas/sources/*.yaml` khai "
        "báo: cùng các khai báo này sinh ra kiểu dữ liệu khi nhập (`pipelines/ingest.py`), các bộ "
        "kiểm tra Great Expectations (`pipelines/validate.py`, xem [rules.md](rules.md)) và tài liệu này.",
        "",
        "Every field of the lists of a school's file, as `schemas/sources/*.yaml` declares it: the same "
        "declarations give the types of ingest (`pipelines/ingest.py`), the Great Expectations suites "
        "(`pipelines/validate.py`, see [rules.md](rules.md)) and this page.",
        "",
        f"{len(catalog.ENTITIES)} nguồn / sources, {n_fields} trường / fields. Khoảng / range: [min, max], "
        "∞ = không giới hạn / unbounded. Mẫu / pattern: biểu thức chính quy cả giá trị phải khớp / a "
        "regular expression the whole value must match.",
    ]
    for src in catalog.sources():
        lines += [
            "",
            f"## {src.label_vi} / {src.label_en} (`{src.entity}`)",
            "",
            f"JSON: `{src.json_path}`; `schemas/sources/{src.entity}.yaml`; bảng / table `stg_{src.entity}`; "
            f"{len(src.fields)} trường / fields, {len(src.rules)} quy tắc khai báo / declared rules.",
            "",
            "| " + " | ".join(_FIELD_HEADS) + " |",
            "|" + "---|" * len(_FIELD_HEADS),
        ]
        for f in src.fields:
            cl = codelist_link(f.codelist, schemas)
            bounds = validate._bounds(f) if f.min is not None or f.max is not None else ""
            cells = [
                code(f.name),
                f.type,
                "Có / yes" if f.required else "",
                str(f.max_length) if f.max_length is not None else "",
                cl,
                code(f.pattern) if f.pattern else "",
                bounds,
                PII_VI.get(f.pii, f.pii) if f.pii else "",
                esc(f.note or ""),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _link(target: Path, folder: Path) -> str:
    """target relative to folder, with forward slashes (absolute if on another drive)."""
    try:
        return Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix()
    except ValueError:
        return target.resolve().as_posix()


def write_catalogue(folder: Path = DOCS_DIR) -> list[Path]:
    """Write folder/rules.md and folder/rules.html from the current rules and form relations, and
    folder/fields.md from the sources (code lists linked relative to folder)."""
    rows = catalogue()
    folder.mkdir(parents=True, exist_ok=True)
    md, page, fields = folder / "rules.md", folder / "rules.html", folder / "fields.md"
    md.write_text(render_markdown(rows), encoding="utf-8")
    page.write_text(render_html(rows), encoding="utf-8")
    fields.write_text(render_fields(_link(catalog.SCHEMAS, folder)), encoding="utf-8")
    return [md, page, fields]
