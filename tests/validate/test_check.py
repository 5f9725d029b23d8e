"""Validation on hand-made staging tables: every rule kind, exact failing rows, quarantine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines import validate, warehouse
from pipelines.validate import gx

RUN = dict(school_year="2024-2025", period="DN", start_year=2024)

# Valid values of every required field, per staging table (codes padded as ingest writes them).
VALID: dict[str, dict[str, str]] = {
    "school": {
        "TenTruongHoc": "Trường Tiểu học Kim Đồng",
        "NamHoc": "2024",
        "MaNhomCapHoc": "06",
        "LoaiHinhDaoTao": "01",
        "MaVung": "01",
    },
    "class": {
        "ClientId": "lop",
        "TenLopHoc": "Lớp",
        "KhoiHoc": "01",
        "LopGhep": "0",
        "LopBanTru": "0",
    },
    "learner": {
        "MaDanToc": "01",
        "GioiTinh": "02",
        "NgaySinh": "2017-09",
        "KhoiHoc": "01",
        "MaLopHocDn": "1A",
        "TrangThai": "01",
        "KhuyetTat": "0",
    },
    "rooms": {"LoaiCongTrinh": "01", "SoLuong": "4"},
}


def add(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    row_id: int,
    school: str,
    record_index: int = 0,
    **fields: str | None,
) -> None:
    """Insert one staging row: valid defaults, overridden by `fields` (None = absent)."""
    values: dict[str, Any] = {
        "row_id": row_id,
        "school_code": school,
        "file": f"{school}.json",
        "file_hash": "h",
        "record_index": record_index,
        **VALID.get(entity, {}),
        **fields,
    }
    if entity == "school":
        values.setdefault("MaTruongHoc", school)
    if entity == "learner":
        values.setdefault("ClientId", f"hs{row_id}")
        values.setdefault("HoTen", f"ten{row_id}")  # a distinct (pseudonymised) name each
    cols = ", ".join(f'"{c}"' for c in values)
    marks = ", ".join("?" for _ in values)
    con.execute(f"INSERT INTO stg_{entity} ({cols}) VALUES ({marks})", list(values.values()))


def build_warehouse(path: Path) -> Path:
    """Two schools: 79001 with one failing pupil per rule, 79002 with a bad school record."""
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    add(con, "school", 1, "79000001")
    add(con, "school", 2, "79000002", LoaiHinhDaoTao="99")  # not in school_type
    add(con, "class", 11, "79000001", MaLopHoc="1A", KhoiHoc="01")
    add(con, "class", 12, "79000001", 1, MaLopHoc="2A", KhoiHoc="02")
    add(con, "class", 13, "79000002", MaLopHoc="1A")
    learners: list[tuple[int, dict[str, str | None]]] = [
        (101, {"ClientId": "hs_same"}),  # passes every rule
        (102, {"MaDanToc": "99"}),  # pupil of unknown ethnicity
        (103, {"GioiTinh": None}),  # sex missing
        (104, {"NgaySinh": "khong ro"}),  # birth date not a date
        (105, {"NgaySinh": "1850-01"}),  # implausible birth year
        (106, {"MaLopHocCn": "x" * 51}),  # longer than 50
        (107, {"KhuyetTat": "1"}),  # disabled without disability type
        (108, {"ClientId": "hs_same"}),  # second occurrence of hs_same
        (109, {"MaLopHocDn": "9Z"}),  # class not in the school's list
        (110, {"MaLopHocDn": "2A"}),  # grade 1 pupil in a grade 2 class: warning only
        (111, {"KhuyetTat": "x"}),  # flag neither 0 nor 1
        (112, {"KhuyetTat": "1", "MaLoaiKhuyetTat": "02", "NgaySinh": "2025-06-30"}),
    ]
    for i, (row_id, fields) in enumerate(learners):
        add(con, "learner", row_id, "79000001", i, **fields)
    add(con, "learner", 201, "79000002")  # valid, but its school is rejected
    add(con, "rooms", 301, "79000001", 0, MaLoaiPhong="01")
    add(con, "rooms", 302, "79000001", 1, MaLoaiPhong="02", SoLuong="-3")
    add(con, "rooms", 303, "79000001", 2, MaLoaiPhong="03", SoLuong="bốn")
    con.close()
    return path


def query(path: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    con = warehouse.connect(path)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, validate.ValidationSummary]:
    path = build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")
    return path, validate.validate_warehouse(path, run_id="run-1", **RUN)


@pytest.mark.slow
def test_each_rule_reports_exactly_the_failing_pupils(validated):
    path, _ = validated
    rows = query(
        path,
        "SELECT rule_id, row_id, value FROM validation_results "
        "WHERE run_id = 'run-1' AND entity = 'learner' ORDER BY row_id, rule_id",
    )
    assert rows == [
        ("learner.MaDanToc.codelist", 102, "99"),
        ("learner.GioiTinh.required", 103, None),
        ("learner.NgaySinh.type", 104, "khong ro"),
        ("learner.NgaySinh.date_range", 105, "1850-01"),
        ("learner.age_for_grade", 105, "1850-01"),  # aged 174 in grade 1
        ("learner.MaLopHocCn.length", 106, "x" * 51),
        ("learner.disability_type_missing", 107, None),
        ("learner.duplicate", 108, "hs_same"),
        ("learner.class_not_found", 109, "9Z"),
        ("learner.grade_differs_from_class", 110, "01"),
        ("learner.KhuyetTat.type", 111, "x"),
        ("learner.age_for_grade", 112, "2025-06-30"),  # born after the school year started
    ]


@pytest.mark.slow
def test_results_carry_lineage_and_both_languages(validated):
    path, _ = validated
    row = query(
        path,
        "SELECT school_year, period, severity, school_code, file, record_index, field, "
        "message_vi, message_en, checked_at IS NOT NULL FROM validation_results "
        "WHERE run_id = 'run-1' AND rule_id = 'learner.MaDanToc.codelist'",
    )
    assert row == [
        (
            "2024-2025",
            "DN",
            "error",
            "79000001",
            "79000001.json",
            1,
            "MaDanToc",
            "Giá trị của MaDanToc không có trong danh mục ethnicity",
            "Value of MaDanToc not in code list ethnicity",
            True,
        )
    ]


@pytest.mark.slow
def test_integer_type_and_range_on_rooms(validated):
    path, _ = validated
    rows = query(
        path,
        "SELECT rule_id, row_id, value FROM validation_results "
        "WHERE run_id = 'run-1' AND entity = 'rooms' ORDER BY row_id",
    )
    assert rows == [("rooms.SoLuong.range", 302, "-3"), ("rooms.SoLuong.type", 303, "bốn")]


@pytest.mark.slow
def test_school_with_invalid_school_type_is_rejected_whole(validated):
    path, summary = validated
    assert summary.schools_rejected == ("79000002",)
    school_rows = query(
        path,
        "SELECT rule_id, row_id, value FROM validation_results "
        "WHERE run_id = 'run-1' AND entity = 'school' ORDER BY rule_id",
    )
    assert school_rows == [
        ("school.LoaiHinhDaoTao.codelist", 2, "99"),
        ("school.rejected", 2, None),
    ]
    quarantined = query(
        path,
        "SELECT entity, row_id, rule_ids FROM quarantine "
        "WHERE run_id = 'run-1' AND school_code = '79000002' ORDER BY entity, row_id",
    )
    assert quarantined == [
        ("class", 13, "school.rejected"),
        ("learner", 201, "school.rejected"),
        ("school", 2, "school.LoaiHinhDaoTao.codelist,school.rejected"),
    ]


@pytest.mark.slow
def test_errors_are_quarantined_and_warnings_kept(validated):
    path, summary = validated
    rows = query(
        path,
        "SELECT entity, row_id, rule_ids FROM quarantine "
        "WHERE run_id = 'run-1' AND school_code = '79000001' ORDER BY entity, row_id",
    )
    assert rows == [
        ("learner", 102, "learner.MaDanToc.codelist"),
        ("learner", 103, "learner.GioiTinh.required"),
        ("learner", 104, "learner.NgaySinh.type"),
        ("learner", 105, "learner.NgaySinh.date_range"),
        ("learner", 106, "learner.MaLopHocCn.length"),
        ("learner", 107, "learner.disability_type_missing"),
        ("learner", 108, "learner.duplicate"),
        ("learner", 109, "learner.class_not_found"),
        ("learner", 111, "learner.KhuyetTat.type"),
        ("rooms", 302, "rooms.SoLuong.range"),
        ("rooms", 303, "rooms.SoLuong.type"),
    ]  # 101, 110 (warning only) and 112 are kept
    assert summary.n_quarantined == len(rows) + 3
    assert summary.n_problems == 12 + 2 + 2  # learner (2 age warnings), rooms, school incl. school.rejected
    n = query(path, "SELECT count(*) FROM validation_results WHERE run_id = 'run-1'")
    assert n == [(summary.n_problems,)]


def test_rule_catalogue_has_every_rule_once_with_both_messages():
    rules = validate.rule_catalogue()
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids))
    for expected in (
        "learner.GioiTinh.required",
        "learner.MaDanToc.codelist",
        "learner.NgaySinh.type",
        "learner.NgaySinh.date_range",
        "learner.MaLopHocCn.length",
        "rooms.SoLuong.range",
        "learner.grade_differs_from_class",
        "school.rejected",
    ):
        assert expected in ids
    assert all(r["message_vi"] and r["message_en"] for r in rules)
    # A name is hashed at ingest: its length is judged there, before hashing, and read back from
    # pre_hash_problems.
    hoten = next(r for r in validate.compile_rules(2024) if r.id == "learner.HoTen.length")
    assert "'HoTen:length'" in hoten.sql and "pre_hash_problems" in hoten.sql
    by_id = {r["id"]: r for r in rules}
    assert by_id["learner.grade_differs_from_class"]["severity"] == "warning"
    assert by_id["learner.duplicate"]["kind"] == "duplicate"


@pytest.mark.slow
def test_history_two_runs_append_two_sets(tmp_path):
    path = build_warehouse(tmp_path / "warehouse.duckdb")
    first = validate.validate_warehouse(path, run_id="run-a", **RUN)
    second = validate.validate_warehouse(path, run_id="run-b", **RUN)
    assert first.n_problems == second.n_problems > 0
    counts = query(path, "SELECT run_id, count(*) FROM validation_results GROUP BY run_id ORDER BY run_id")
    assert counts == [("run-a", first.n_problems), ("run-b", second.n_problems)]
    # Re-running a run_id replaces its rows rather than doubling them.
    validate.validate_warehouse(path, run_id="run-b", **RUN)
    again = query(path, "SELECT count(*) FROM validation_results WHERE run_id = 'run-b'")
    assert again == [(second.n_problems,)]
    quarantine = query(path, "SELECT run_id, count(*) FROM quarantine GROUP BY 1 ORDER BY 1")
    assert quarantine == [("run-a", first.n_quarantined), ("run-b", second.n_quarantined)]


@pytest.mark.slow
def test_gx_on_duckdb_returns_complete_results(tmp_path):
    """Fails loudly if a GX upgrade breaks the DuckDB shim or the index-query bypass."""
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    add(con, "school", 1, "79000001")
    add(con, "class", 11, "79000001", MaLopHoc="1A")
    for i in range(310):  # 300 pupils of unknown ethnicity, 10 valid
        add(con, "learner", 1000 + i, "79000001", i, MaDanToc="99" if i < 300 else "01")
    rules = [r for r in validate.compile_rules(2024) if r.table == "stg_learner"]
    # The declared queries' code lists, as validate_warehouse loads them before asking GX.
    warehouse.load_codelists(con, {n for r in rules for n in re.findall(r"\bcl_(\w+)", r.sql or "")})
    con.close()

    results = gx.run_gx(path, rules)
    # One expectation for the table's rules, one query: every rule's count of the 310 rows.
    assert {r["element_count"] for r in results.values()} == {310}
    assert results["learner.MaDanToc.codelist"]["unexpected_count"] == 300
    # Running again in the process reuses GX's definitions and still reads the file afresh.
    con = warehouse.connect(path)
    con.execute("UPDATE stg_learner SET MaDanToc = '01' WHERE row_id < 1100")
    con.close()
    assert gx.run_gx(path, rules)["learner.MaDanToc.codelist"]["unexpected_count"] == 200
    con = warehouse.connect(path)
    con.execute("UPDATE stg_learner SET MaDanToc = '99' WHERE row_id < 1100")
    con.close()

    summary = validate.validate_warehouse(path, run_id="big", **RUN)
    rows = query(
        path,
        "SELECT row_id FROM validation_results WHERE run_id = 'big' "
        "AND rule_id = 'learner.MaDanToc.codelist' ORDER BY row_id",
    )
    assert [r[0] for r in rows] == list(range(1000, 1300))
    assert summary.n_problems == 300


@pytest.mark.slow
def test_duckdb_shim_is_idempotent():
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    gx.patch_gx_for_duckdb()
    gx.patch_gx_for_duckdb()
    duck = [d for d in see._PERSISTED_CONNECTION_DIALECTS if str(d) == "duckdb"]
    assert len(duck) == 1 and duck[0].value == "duckdb"


# --------------------------------------------------------------------------- a re-run after a resubmission

PROBLEM = ("SELECT rule_id, severity, entity, school_code, file, record_index, row_id, field, value "
           "FROM validation_results WHERE run_id = ? ORDER BY ALL")  # fmt: skip
RESUBMITTING, SHARING, UNCHANGED = "79000011", "79000012", "79000013"


def _resubmitting_school(con: duckdb.DuckDBPyConnection, day: int) -> None:
    """79000011 sends a new file on day 2: pupil 1's birth date becomes unreadable (a new error),
    pupil 2's ethnicity code is corrected (a fixed error) and pupil 3 now carries the pupil code
    79000012's pupil is enrolled with (a province-wide warning on both schools' rows)."""
    new = day == 2
    base = 1000 if new else 0  # a new file: new staged row ids
    add(con, "school", base + 1, RESUBMITTING, file_hash="h2" if new else "h1")
    add(con, "class", base + 2, RESUBMITTING, MaLopHoc="1A")
    add(con, "learner", base + 3, RESUBMITTING, 0, NgaySinh="khong ro" if new else "2017-09")
    add(con, "learner", base + 4, RESUBMITTING, 1, MaDanToc="01" if new else "99")
    add(con, "learner", base + 5, RESUBMITTING, 2, MaHocSinh="HS-0042" if new else "HS-0043")


def _other_schools(con: duckdb.DuckDBPyConnection) -> None:
    """79000012 and 79000013 (a pupil without sex: an error) send nothing new."""
    add(con, "school", 21, SHARING, file_hash="h1")
    add(con, "class", 22, SHARING, MaLopHoc="1A")
    add(con, "learner", 23, SHARING, 0, MaHocSinh="HS-0042")
    add(con, "school", 31, UNCHANGED, file_hash="h1")
    add(con, "class", 32, UNCHANGED, MaLopHoc="1A")
    add(con, "learner", 33, UNCHANGED, 0, GioiTinh=None)


def _province(path: Path, day: int) -> Path:
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    _resubmitting_school(con, day)
    _other_schools(con)
    con.close()
    return path


@pytest.mark.slow
def test_a_rerun_after_a_resubmission_finds_what_a_full_run_of_the_same_files_finds(tmp_path):
    rerun = _province(tmp_path / "rerun.duckdb", day=1)
    validate.validate_warehouse(rerun, run_id="day-1", **RUN)
    con = warehouse.connect(rerun)
    for table in ("stg_school", "stg_class", "stg_learner"):  # ingest replaces the school's rows
        con.execute(f"DELETE FROM {table} WHERE school_code = ?", [RESUBMITTING])
    _resubmitting_school(con, day=2)
    con.close()
    second = validate.validate_warehouse(rerun, run_id="day-2", **RUN)
    # A full run of the same files, on a fresh warehouse.
    fresh = _province(tmp_path / "fresh.duckdb", day=2)
    full = validate.validate_warehouse(fresh, run_id="day-2", **RUN)

    assert second.schools_checked == 1 and full.schools_checked is None
    found = query(rerun, PROBLEM, ["day-2"])
    assert found == query(fresh, PROBLEM, ["day-2"])
    by_rule = {(r[0], r[6]) for r in found}
    assert ("learner.NgaySinh.type", 1003) in by_rule  # the new error
    assert not any(rule == "learner.MaDanToc.codelist" for rule, _ in by_rule)  # the fixed one
    assert ("learner.GioiTinh.required", 33) in by_rule  # the unchanged school's, carried over
    # The pupil code enrolled in two schools: the resubmitted row and the unchanged school's row.
    assert {row for rule, row in by_rule if rule == "learner.enrolled_in_two_schools"} == {1005, 23}
    day1 = {(r[0], r[6]) for r in query(rerun, PROBLEM, ["day-1"])}
    assert ("learner.MaDanToc.codelist", 4) in day1 and not any(
        rule == "learner.enrolled_in_two_schools" for rule, _ in day1
    )
    quarantine = "SELECT entity, row_id, rule_ids FROM quarantine WHERE run_id = 'day-2' ORDER BY ALL"
    assert query(rerun, quarantine) == query(fresh, quarantine)


@pytest.mark.slow
def test_a_rerun_with_no_school_changed_carries_every_result_over(tmp_path):
    path = _province(tmp_path / "warehouse.duckdb", day=2)
    first = validate.validate_warehouse(path, run_id="run-1", **RUN)
    again = validate.validate_warehouse(path, run_id="run-2", **RUN)
    assert again.schools_checked == 0
    assert query(path, PROBLEM, ["run-2"]) == query(path, PROBLEM, ["run-1"])
    assert again.n_problems == first.n_problems and again.n_quarantined == first.n_quarantined
