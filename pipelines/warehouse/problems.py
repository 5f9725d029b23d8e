"""A run's problems, one model for every reader: the registry rows edustat skipped or placed by a
guess, the files ingest rejected, the records validation flagged (with what finds each record in the
school's software: its list, position from 1, class, grade and other non-personal codes) and the
broken form relations of every unit.

Validation and aggregation write the tables read here; the outputs render the same list (the
workbooks' Errors sheets, problems.csv, each school's error list), adding what needs the form
layout (the printed cell, values in the unit the workbook prints, a hint how to fix) with
dataclasses.replace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines import catalog
from pipelines.warehouse.sql import sql

KINDS = ("registry", "file", "record", "relation")
REGISTRY_FILE = "registry.xlsx"

# Non-personal fields that help a clerk find a record, besides its position, class and grade.
OTHER_IDS = {
    "site": ("MaDiemTruong", "TenDiemTruong"),
    "class": ("TenLopHoc",),
    "staff": ("LoaiCanBo", "ChucVu", "CapHoc"),
    "rooms": ("MaLoaiPhong", "LoaiCongTrinh"),
}


@dataclass(frozen=True)
class Violation:
    """A broken form relation on one cell instance, as aggregation found it (relation_violations)."""

    form: str
    row_code: int
    col_key: str | None  # a row relation's column; None for a column relation (its sides are columns)
    check: str  # e.g. "r16 = r17 + r18 + r19"
    basis: str | None  # F, L or I (see the head comment of each form YAML)
    lhs: float
    rhs: float


@dataclass(frozen=True, kw_only=True)
class Problem:
    """One problem of a run, for whichever unit it concerns."""

    rule_id: str  # a rule of the catalogue, a file rejection (file.*), registry.<outcome> or a relation id
    severity: str  # error | warning
    message_vi: str
    message_en: str
    kind: str = "record"  # one of KINDS
    level: str = "school"  # the unit it belongs to: a school, or a Phòng or Sở for their own relations
    unit_code: str | None = None
    school_code: str | None = None
    file: str | None = None  # the school's file (registry.xlsx for a registry row)
    # Where in the file: "LstHocSinh[12]" (from 0, as in JSON), "TruongHocInfo", "dòng/row 6".
    record: str | None = None
    entity: str | None = None  # the source (learner, staff …) of a record
    list_name: str | None = None  # LstHocSinh …
    position: int | None = None  # 1-based position in the list; None for TruongHocInfo or a whole file
    row_id: int | None = None  # the staging row
    class_code: str | None = None
    grade: str | None = None
    other_ids: str | None = None  # "TenLopHoc: 1A; …", or where a relation's cell is printed
    field: str | None = None
    value: str | None = None
    relation: Violation | None = None
    # Added by the outputs, which know the form layout.
    hint_vi: str | None = None
    sheet: str | None = None  # a relation's printed cell: sheet and cell (e.g. "III", "E12")
    cell: str | None = None


def read_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Problem]:
    """Every problem of a run: registry rows (by row), rejected files (by file), failing records (by
    school, file, list, position, rule) and broken relations (by form, level, unit, relation, cell)."""
    return [
        *registry_problems(con),
        *file_problems(con, run_id),
        *record_problems(con, run_id),
        *relation_problems(con, run_id),
    ]


def registry_problems(con: duckdb.DuckDBPyConnection) -> list[Problem]:
    return [
        Problem(kind="registry", unit_code=code, school_code=code, file=REGISTRY_FILE, record=f"dòng/row {row}",
                rule_id=f"registry.{outcome}", severity="warning", message_vi=vi, message_en=en)
        for row, code, outcome, vi, en in con.execute(sql("warehouse/problems", "registry")).fetchall()
    ]  # fmt: skip


def file_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Problem]:
    return [
        Problem(kind="file", unit_code=code, school_code=code, file=file, rule_id=reason, severity="error",
                message_vi=vi, message_en=en)
        for file, code, reason, vi, en in con.execute(sql("warehouse/problems", "rejected_files"), [run_id]).fetchall()
    ]  # fmt: skip


def record_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Problem]:
    """The run's failing records, each with the class, grade and other codes that find it."""
    sources = {s.entity: s for s in catalog.sources()}
    found = {(entity, row_id): ids for entity, src in sources.items()
             for row_id, ids in record_identifiers(con, run_id, src).items()}  # fmt: skip
    out = []
    rows = con.execute(sql("warehouse/problems", "records"), [run_id]).fetchall()
    for code, file, entity, index, row_id, field, value, rule, severity, vi, en in rows:
        src = sources.get(entity)
        whole = entity == "school"
        klass, grade, other = found.get((entity, row_id), (None, None, None))
        out.append(Problem(
            kind="record", unit_code=code, school_code=code, file=file,
            record=(src.json_path if src else entity) + ("" if whole else f"[{index}]"),
            entity=entity, list_name=src.json_path if src else None,
            position=None if whole or index is None else index + 1, row_id=row_id,
            class_code=klass, grade=grade, other_ids=other, field=field, value=value,
            rule_id=rule, severity=severity, message_vi=vi, message_en=en,
        ))  # fmt: skip
    return out


def record_identifiers(con: duckdb.DuckDBPyConnection, run_id: str,
                       src: catalog.Source) -> dict[int, tuple[Any, Any, str | None]]:  # fmt: skip
    """(class code, grade, other identifiers) of each staging row of a source with a problem of the
    run. Nothing a source marks `pii` is taken."""
    names = {f.name for f in src.fields if not f.pii}
    class_col = "MaLopHoc" if src.entity == "class" else "MaLopHocDn"
    others = [n for n in OTHER_IDS.get(src.entity, ()) if n in names]
    out: dict[int, tuple[Any, Any, str | None]] = {}
    for row_id, record in con.execute(
        sql("warehouse/problems", "flagged_rows", table=src.table), [run_id, src.entity]
    ).fetchall():
        parts = [f"{n}: {record[n]}" for n in others if record[n] is not None]
        klass = record[class_col] if class_col in names else None
        grade = record["KhoiHoc"] if "KhoiHoc" in names else None
        out[row_id] = (klass, grade, "; ".join(parts) or None)
    learner = {f.name: f for f in catalog.source("learner").fields}
    if out and src.entity == "result" and "ClientId" in learner and {"MaLopHocDn", "KhoiHoc"} <= set(learner):
        # A result names its pupil by the hashed ClientId: the pupil's place in LstHocSinh, class
        # and grade find it instead.
        learners = catalog.source("learner")
        pupils = {
            row_id: (index, klass, grade)
            for row_id, index, klass, grade in con.execute(
                sql("warehouse/problems", "flagged_results", table=src.table, learners=learners.table),
                [run_id, src.entity],
            ).fetchall()
        }
        for row_id, (_, _, other) in out.items():
            index, klass, grade = pupils.get(row_id, (None, None, None))
            parts = [other] if other else []
            if index is not None:
                parts.append(f"{learners.json_path} #{index + 1}")
            out[row_id] = (klass, grade, "; ".join(parts) or None)
    return out


def relation_problems(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Problem]:
    """The broken form relations of the run at every level, one problem per violated cell instance;
    a school's carries the file its cells came from."""
    files = dict(con.execute(sql("warehouse/problems", "loaded_files"), [run_id]).fetchall())
    out = []
    for form, level, unit, rid, check, basis, row, col, lhs, rhs in con.execute(
        sql("warehouse/problems", "relations"), [run_id]
    ).fetchall():
        school = unit if level == "school" else None
        where = f"Mã số {row}" + (f", cột {col}" if col else "")
        where_en = f"row {row}" + (f", column {col}" if col else "")
        out.append(Problem(
            kind="relation", level=level, unit_code=unit, school_code=school,
            file=files.get(unit) if school else None, value=f"{lhs} / {rhs}",
            relation=Violation(form, row, col, check, basis, lhs, rhs), rule_id=rid, severity="warning",
            message_vi=f"{form}: quan hệ {check} không thỏa ({where}: {lhs} so với {rhs})",
            message_en=f"{form}: relation {check} does not hold ({where_en}: {lhs} against {rhs})",
        ))  # fmt: skip
    return out
