"""A run's problems as a school reads them: every rejected file, every failing record (with what
finds it in the school's software: list, position from 1, class, grade) and every broken relation
of the school's own forms, each with a hint how to fix it. Nothing a source YAML marks `pii` is
ever printed, neither as an identifier nor as a value."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb

from pipelines import catalog, validate
from pipelines.outputs.layout import cell_ref
from pipelines.outputs.styles import printed_value

HIDDEN = "[ẩn: dữ liệu cá nhân / hidden: personal data]"
FILE_ENTITY_VI = "Tệp dữ liệu"

# Rejections of a whole file by ingest (pipelines/ingest/payload.py check_payload): (id, vi, en). The
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


def hint(kind: str | None, field: str | None) -> str:
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
                    vi, hint("file", None), en)  # fmt: skip
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
                hint_vi=hint(kinds.get(rule), field),
                message_en=en,
            )
            key = (0 if sev == "error" else 1, file or "", order.get(src.entity, 99), index or 0, rule,
                   field or "", row_id or 0)  # fmt: skip
            keyed.append((key, code, p))
    keyed += relation_problems(con, run_id)
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


def relation_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[tuple[tuple, str, Problem]]:
    """The broken relations of each school's own compiled forms (relation_violations at level
    school), one problem per violated cell instance, as (sort key, school code, problem)."""
    if not con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'relation_violations'"
    ).fetchall()[0][0]:
        return []
    forms = forms_by_id()
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
        basis_vi, basis_en = basis_texts(rel)
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
            hint_vi=hint(RELATION_KIND, cells),
            message_en=en,
        )
        sort_key = (1, files.get(code) or "", 100 + order.get(form_name, 0), row_code, rid, col or "", 0)
        out.append((sort_key, code, p))
    return out


