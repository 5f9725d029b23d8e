"""A run's problems as the outputs print them. warehouse.read_problems gives one list (registry
rows, rejected files, failing records, broken relations); here each gets a hint how to fix it and,
for a broken relation, the cell and values as the form's workbook prints them. The same list then
renders as the workbooks' Errors sheets and problems.csv (`on_errors_sheet`) and as each school's
error list (`school_lists`, `school_line`: every rejected file, every failing record with what finds
it in the school's software, every broken relation of the school's own forms). Nothing a source
YAML marks `pii` is ever printed on a school's list, neither as an identifier nor as a value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import duckdb

from pipelines import catalog, validate, warehouse
from pipelines.outputs.layout import cell_ref
from pipelines.outputs.styles import SEVERITY_VI, printed_value
from pipelines.warehouse import Problem, Violation

HIDDEN = "[ẩn: dữ liệu cá nhân / hidden: personal data]"
FILE_ENTITY_VI = "Tệp dữ liệu"

# Rejections of a whole file by ingest (pipelines/ingest/payload.py check_payload): (id, vi, en). The
# messages ingest writes name the file's own values; these are the generic meanings.
# tests/test_quality.py checks that this list and ingest.py name the same ids.
FILE_RULES = (
    ("file.unreadable", "Tệp JSON hỏng, không đọc được", "Malformed JSON file, cannot be read"),
    ("file.empty", "Tệp rỗng", "The file is empty"),
    ("file.encoding", "Tệp không phải UTF-8/UTF-16 (có thể là mã cũ TCVN3/VNI)",
     "The file is not UTF-8/UTF-16 (perhaps the legacy TCVN3/VNI encodings)"),
    ("file.legacy_text", "Chữ trong tệp là mã cũ TCVN3/VNI đọc sai thành Unicode",
     "The file's text is legacy TCVN3/VNI read wrongly as Unicode"),
    ("file.name_mismatch", "Tên tệp ghi một mã trường khác MaTruongHoc trong tệp; không nạp gì của tệp",
     "The file's name gives another school code than its MaTruongHoc; nothing of it is loaded"),
    ("file.code_mismatch", "MaTruongHoc của tệp khác MaTruongHoc trong TruongHocInfo",
     "The file's MaTruongHoc differs from TruongHocInfo's"),
    ("file.sync_type", "Loại đồng bộ (LoaiDongBo) không hợp lệ", "The sync type (LoaiDongBo) is not valid"),
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


# ------------------------------------------------------------------------------ problems


@cache
def pii_fields() -> dict[str, frozenset[str]]:
    """Fields each source marks `pii` (hashed or cut at ingest): never printed."""
    return {s.entity: frozenset(f.name for f in s.fields if f.pii) for s in catalog.sources()}


def _rule_kinds() -> dict[str, str]:
    return {r["id"]: r["kind"] for r in validate.rule_catalogue()}


def hint(kind: str | None, field: str | None) -> str:
    return HINTS_VI.get(kind or "", HINT_DEFAULT).format(field=field or "dữ liệu")


def run_problems(
    con: duckdb.DuckDBPyConnection, run_id: str, forms: Sequence[catalog.Form] = ()
) -> list[Problem]:
    """Every problem of a run (warehouse.read_problems, in its order), each with how to fix it and, for
    a broken relation, its printed cell, its values as the workbook prints them and the messages a
    school reads. `forms` are the run's (else the catalogue's, by form id)."""
    kinds = _rule_kinds()
    by_id = {**forms_by_id(), **{f.form: f for f in forms}}
    out = []
    for p in warehouse.read_problems(con, run_id):
        if p.relation is not None:
            form = by_id.get(p.relation.form)
            out.append(p if form is None else with_layout(p, form))
        elif p.kind == "file":
            out.append(replace(p, hint_vi=hint("file", None)))
        else:
            out.append(replace(p, hint_vi=hint(kinds.get(p.rule_id), p.field)))
    return out


def school_lists(problems: Sequence[Problem]) -> dict[str | None, list[Problem]]:
    """Each school's error list (by school code): its rejected files, failing records and the broken
    relations of its own compiled forms, sorted: errors first, then by file, list, position, rule
    and field. Registry rows and the relations of a Phòng or Sở are on no school's list."""
    order = {e: i for i, e in enumerate(catalog.ENTITIES)}
    entities = {s.entity for s in catalog.sources()}
    forms = {name: i for i, name in enumerate(forms_by_id())}
    keyed: list[tuple[tuple, str | None, Problem]] = []
    for p in problems:
        if p.kind == "file":
            key: tuple = (0, p.file or "", -1, -1, p.rule_id, "", 0)
        elif p.kind == "record" and p.entity in entities:
            index = p.position - 1 if p.position is not None else 0
            key = (0 if p.severity == "error" else 1, p.file or "", order.get(p.entity, 99), index, p.rule_id,
                   p.field or "", p.row_id or 0)  # fmt: skip
        elif p.relation is not None and p.level == "school" and p.relation.form in forms:
            v = p.relation
            key = (1, p.file or "", 100 + forms[v.form], v.row_code, p.rule_id, v.col_key or "", 0)
        else:
            continue
        keyed.append((key, p.school_code, p))
    keyed.sort(key=lambda k: (k[0], k[1] or ""))
    out: dict[str | None, list[Problem]] = {}
    for _, code, p in keyed:
        out.setdefault(code, []).append(p)
    return out


def record_type_vi(p: Problem) -> str:
    """What a problem is about, as a school's list names it: the list's label, "Tệp dữ liệu" for a
    rejected file, "Biểu <form>" for a broken relation."""
    if p.relation is not None:
        return f"Biểu {forms_by_id()[p.relation.form].code_printed}"
    if p.kind == "file":
        return FILE_ENTITY_VI
    return catalog.source(p.entity).label_vi


def school_line(p: Problem) -> tuple:
    """A row of a school's error list, after its number: severity, rule, record type, file, list,
    position, class, grade, other identifiers, field, value, message, hint, message in English.
    A personal field's value is hidden."""
    value = p.value
    if p.kind == "record" and p.field in pii_fields().get(p.entity, ()):
        value = HIDDEN if value is not None else None
    return (SEVERITY_VI.get(p.severity, p.severity), p.rule_id, record_type_vi(p), p.file, p.list_name, p.position,
            p.class_code, p.grade, p.other_ids, p.field, value, p.message_vi, p.hint_vi, p.message_en)  # fmt: skip


# ------------------------------------------------------------------------------ form relations

RELATION_KIND = "form_relation"
BASIS = {  # the `basis` of a form relation (see the head comment of each form YAML): (vi, en)
    "F": ("F: công thức trong tệp biểu mẫu gốc", "F: formula in the source workbook"),
    "L": ("L: suy từ lời văn của biểu (Chia ra, Trong đó)", "L: implied by the wording (Chia ra, Trong đó)"),
    "I": ("I: edustat suy luận", "I: inferred by edustat"),
}
OP_VI = {"=": "bằng", "<=": "không lớn hơn", ">=": "không nhỏ hơn"}
OP_EN = {"=": "equal to", "<=": "at most", ">=": "at least"}


@cache
def forms_by_id() -> dict[str, catalog.Form]:
    return {r.form.form: r.form for r in catalog.form_relations()}


def basis_texts(rel: catalog.Relation) -> tuple[str, str]:
    return BASIS.get(rel.basis or "", (f"{rel.basis or 'không ghi'}", f"{rel.basis or 'not given'}"))


def relation_catalogue() -> list[dict[str, Any]]:
    """One catalogue row per form relation id (kind form_relation, severity warning)."""
    return [dict(r) for r in relation_catalogue_rows()]


@cache
def relation_catalogue_rows() -> tuple[dict[str, Any], ...]:
    rows = []
    for fr in catalog.form_relations():
        rel, form = fr.relation, fr.form
        basis_vi, basis_en = basis_texts(rel)
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


def printed_sides(form: catalog.Form, v: Violation) -> tuple[str, str]:
    """Both sides of a broken relation as the workbook prints them (e.g. "300 triệu đồng")."""
    if form.display_scale == 1:
        return str(v.lhs), str(v.rhs)
    unit = next((r.unit for r in form.cell_rows if r.code == v.row_code), None) or ""
    return tuple(f"{printed_value(form, x)} {unit}".strip() for x in (v.lhs, v.rhs))  # type: ignore[return-value]


def with_layout(p: Problem, form: catalog.Form) -> Problem:
    """A broken relation with what a school reads of it: the printed cell it concerns (a row
    relation's own column, a column relation's left side), both sides as printed, the relation
    spelled out, a hint."""
    v = p.relation
    assert v is not None
    rel = catalog.parse_relation(v.check, v.basis)
    row = next((r for r in form.cell_rows if r.code == v.row_code), None)
    label_vi = f" ({row.label_vi})" if row else ""
    label_en = f" ({row.label_en})" if row else ""
    key = v.col_key or rel.lhs[0]
    headers = {c.key: c.header_vi for c in form.columns_for(row)} if row else {}
    head = f" ({headers[key]})" if key in headers else ""
    sheet = cell = None
    try:
        sheet, cell = cell_ref(form, v.row_code, key)
        where = f"biểu {form.code_printed}, trang {sheet}, ô {cell}"
    except KeyError:
        where = f"biểu {form.code_printed}"
    lhs, rhs = printed_sides(form, v)
    left, right = " + ".join(rel.lhs), " + ".join(rel.rhs)
    if v.col_key:
        field = f"Mã số {v.row_code}, cột {v.col_key}"
        cells = f"{left} và {right} của cột {v.col_key}"
    else:
        field = f"Mã số {v.row_code}, cột {left}"
        cells = f"{left} và {right} của Mã số {v.row_code}"
    basis_vi, basis_en = basis_texts(rel)
    vi = (f"Biểu {form.code_printed}, Mã số {v.row_code}{label_vi}, cột {key}{head}: quan hệ {v.check} không "
          f"thỏa: vế trái ({left}) = {lhs}, vế phải ({right}) = {rhs}, phải {OP_VI[rel.op]} (cơ sở {basis_vi})")  # fmt: skip
    en = (f"Form {form.code_printed}, row {v.row_code}{label_en}, column {key}: relation {v.check} does not "
          f"hold: left ({left}) = {lhs}, right ({right}) = {rhs}, must be {OP_EN[rel.op]} (basis {basis_en})")  # fmt: skip
    return replace(p, value=f"{lhs} / {rhs}", field=field, other_ids=where, message_vi=vi, message_en=en,
                   hint_vi=hint(RELATION_KIND, cells), sheet=sheet, cell=cell)  # fmt: skip


def on_errors_sheet(p: Problem, forms: Mapping[str, catalog.Form]) -> Problem:
    """A problem as the workbooks' Errors sheet and problems.csv print it: as read, but a broken
    relation names no file nor field there, only a row relation's printed cell, and says in one line
    what does not hold (`forms`: the run's, by form id)."""
    v = p.relation
    if v is None:
        return p
    form = forms[v.form]
    lhs, rhs = printed_sides(form, v)
    sheet = cell = None
    if v.col_key:
        sheet, cell = cell_ref(form, v.row_code, v.col_key)
    where_vi = f"Mã số {v.row_code}" + (f", cột {v.col_key}" if v.col_key else "")
    where_en = f"row {v.row_code}" + (f", column {v.col_key}" if v.col_key else "")
    vi = (
        f"{form.code_printed}: quan hệ {v.check} không thỏa ({where_vi}: {lhs} so với {rhs}; cơ sở {v.basis})"
    )
    en = (f"{form.code_printed}: relation {v.check} does not hold ({where_en}: {lhs} against {rhs}; "
          f"basis {v.basis})")  # fmt: skip
    return replace(p, file=None, field=None, value=f"{lhs} / {rhs}", message_vi=vi, message_en=en, sheet=sheet,
                   cell=cell)  # fmt: skip
