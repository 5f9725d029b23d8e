"""The whole run on a generated province: relations hold, injected defects are found, nothing
personal leaves ingest, and every school is accounted for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from pipelines import catalog, warehouse
from pipelines import run as pipeline

PERSONAL_FIELDS = {"LstHocSinh": ("ClientId", "MaHocSinh", "HoTen", "NgaySinh"),
                   "LstCanBo": ("ClientId", "MaCanBo", "TenCanBo", "NgaySinh")}  # fmt: skip
# Which rule each kind of injected defect must trigger (rule ids end with these).
DEFECT_RULES = {"bad_code": ".codelist", "missing_required": ".required", "duplicate_pupil": "learner.duplicate",
                "wrong_type": ".type", "class_not_found": "learner.class_not_found"}  # fmt: skip


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def province(shared_province):
    """The session's generated province (tests/conftest.py): 24 schools, a quarter of them with
    injected defects, run end to end with two processes (read only here)."""
    return shared_province


def _query(s, sql, params=None):
    with warehouse.connect(s.warehouse) as con:
        return con.execute(sql, params or []).fetchall()


def test_every_relation_of_the_form_holds_on_a_generated_province(province):
    _, s, _ = province
    assert _query(s, "SELECT count(*) FROM cells")[0][0] > 0
    broken = _query(
        s,
        "SELECT relation_id, level, unit_code, row_code, col_key, lhs, rhs FROM relation_violations LIMIT 10",
    )
    assert broken == []


def test_every_injected_defect_is_found(province):
    gen, s, _ = province
    defects = json.loads(gen.defects.read_text(encoding="utf-8"))
    assert defects, "the fixture should inject defects"
    for d in defects:
        if d["kind"] == "malformed_file":
            found = _query(
                s, "SELECT reason, school_code FROM files WHERE file = ? AND status = 'rejected'", [d["file"]]
            )
            assert found == [("file.unreadable", d["school_code"])], d
            continue
        rules = [r for (r,) in _query(
            s, "SELECT rule_id FROM validation_results WHERE file = ? AND entity = ? AND record_index = ?",
            [d["file"], d["entity"], d["record_index"]])]  # fmt: skip
        assert any(r.endswith(DEFECT_RULES[d["kind"]]) for r in rules), (d, rules)


def test_nothing_but_the_injected_defects_is_reported(province):
    """The generated province is clean apart from its defects: no rule of any kind (field,
    cross-field, cross-entity, identity, outlier) reports a record that was not damaged."""
    gen, s, _ = province
    damaged = {(d["file"], d["entity"], d["record_index"])
               for d in json.loads(gen.defects.read_text(encoding="utf-8"))}  # fmt: skip
    reported = _query(s, "SELECT DISTINCT file, entity, record_index, rule_id FROM validation_results")
    assert reported and all(r[:3] in damaged for r in reported), [r for r in reported if r[:3] not in damaged]


def test_data_docs_are_built_under_the_output_folder(province):
    _, s, _ = province
    index = s.out / pipeline.DATA_DOCS / "index.html"
    assert index.is_file()
    pages = {p.name for p in (s.out / pipeline.DATA_DOCS / "validations").rglob("*.html")}
    assert {f"warehouse-stg_{e}.html" for e in ("school", "learner", "staff")} <= pages


def test_workbooks_exist_for_every_unit_with_cells(province):
    _, s, _ = province
    units = _query(s, "SELECT DISTINCT form, level, unit_code FROM cells")
    for form, level, unit in units:
        assert (s.out / "forms" / level / unit / f"{form}.xlsx").exists(), (form, level, unit)
    # Every school's form rolls up into a workbook of its parent unit (Phòng, or the Sở for the
    # schools it runs) and of the Sở.
    have = set(units)
    parents = dict(
        _query(s, "SELECT unit_code, parent_level || ':' || parent_code FROM units WHERE level = 'school'")
    )
    for form, level, unit in units:
        if level == "school":
            parent_level, parent_code = parents[unit].split(":")
            assert (form, parent_level, parent_code) in have, (form, unit)
            assert (form, "so", "66") in have
    assert {"01-MN-DN", "02-TH-DN", "03-THCS-DN", "05-GDTX-DN"} <= {form for form, _, _ in units}
    with (s.out / "cells.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "school_year",
        "period",
        "regime",
        "form",
        "level",
        "unit_code",
        "row_code",
        "col_key",
        "value",
        "boundaries",
    ]


def _personal_values(inbox: Path) -> set[str]:
    values = set()
    for path in inbox.glob("*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        for list_name, fields in PERSONAL_FIELDS.items():
            for record in data.get(list_name, []):
                values.update(str(record[f]) for f in fields if record.get(f) not in (None, ""))
    # An injected "wrong type" birth date ("not a date") is no personal data.
    return {v for v in values if v != "not a date"}


def test_no_input_name_or_identifier_reaches_the_warehouse_or_the_outputs(province):
    gen, s, _ = province
    personal = _personal_values(gen.inbox)
    assert len(personal) > 1000
    with warehouse.connect(s.warehouse) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            cols = con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND data_type = 'VARCHAR'",
                [table],
            ).fetchall()
            for (col,) in cols:
                stored = {v for (v,) in con.execute(f'SELECT DISTINCT "{col}" FROM {table}').fetchall() if v}
                assert not stored & personal, (table, col, sorted(stored & personal)[:3])
    for path in s.out.rglob("*"):
        if path.suffix == ".xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            texts = {
                str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v
            }
            wb.close()
        elif path.suffix in (".csv", ".md"):
            texts = set(path.read_text(encoding="utf-8").replace(",", "\n").splitlines())
        else:
            continue
        assert not texts & personal, (path, sorted(texts & personal)[:3])


def test_every_record_is_loaded_or_quarantined(province):
    _, s, _ = province
    for source in catalog.sources():
        sent = _query(s, f"SELECT coalesce(sum(n_{source.entity}), 0) FROM files WHERE status = 'loaded'")[0][
            0
        ]
        staged = _query(s, f"SELECT count(*) FROM {source.table}")[0][0]
        quarantined = _query(s, "SELECT count(*) FROM quarantine WHERE entity = ?", [source.entity])[0][0]
        loaded = _query(s, f"SELECT count(*) FROM {source.entity}")[0][0]
        assert sent == staged == loaded + quarantined, source.entity
