"""Every rule of the end-of-year results (schemas/sources/result.yaml: the declared rules and the
field rules generated from its fields) and the learner rules of the end-of-year period (status date,
dropout reason, national pupil code twice): one hand-made failing record each, one passing record
each, on hand-made staging tables validated with Great Expectations (as tests/test_validate.py).

Schools: A 66643001, a PTCS (MaNhomCapHoc 09: grades 1-9); G 66000001, a provincial GDTX centre
(12). Each result entry gets its own pupil (grade as listed) unless the case says otherwise, so a
failing entry trips exactly its own rule. Codes are staged as ingest writes them (learner codes
padded, result codes as the code lists spell them, flags 0/1). School year 2024-2025, period CN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines import catalog, validate, warehouse

A, G = "66643001", "66000001"
RUN = dict(school_year="2024-2025", period="CN", start_year=2024)
CLASS_OF = {"05": "5A", "06": "6A", "09": "9A", "13": "G10", "23": "G9"}
BORN = {"05": "2013-05", "06": "2012-05", "09": "2009-05", "13": "2009-02", "23": "2009-03"}
OK5 = {"KetQuaHocTap": "HTT", "LenLop": "1"}  # a valid primary result
OK6 = {"KetQuaHocTap": "2", "RenLuyen": "1", "LenLop": "1"}  # a valid secondary (TT 22) result


# (case, school, grade of its pupil (None: no pupil), result fields, rule, severity, field, value)
FAILING: list[tuple[str, str, str | None, dict[str, Any], str, str, str, str | None]] = [
    ("no pupil id", A, None, {**OK6, "ClientId": None}, "result.ClientId.required", "error", "ClientId", None),
    ("no result", A, "06", {**OK6, "KetQuaHocTap": None}, "result.KetQuaHocTap.required", "error",
     "KetQuaHocTap", None),
    ("unknown result", A, "06", {**OK6, "KetQuaHocTap": "Gioi"}, "result.KetQuaHocTap.codelist", "error",
     "KetQuaHocTap", "Gioi"),
    ("unknown conduct", A, "06", {**OK6, "RenLuyen": "7"}, "result.RenLuyen.codelist", "error", "RenLuyen", "7"),
    ("no promotion", A, "06", {**OK6, "LenLop": None}, "result.LenLop.required", "error", "LenLop", None),
    ("unknown promotion", A, "06", {**OK6, "LenLop": "5"}, "result.LenLop.codelist", "error", "LenLop", "5"),
    ("completion not a flag", A, "05", {**OK5, "HoanThanhChuongTrinh": "x"}, "result.HoanThanhChuongTrinh.type",
     "error", "HoanThanhChuongTrinh", "x"),
    ("graduation not a flag", A, "09", {**OK6, "TotNghiep": "2"}, "result.TotNghiep.type", "error", "TotNghiep",
     "2"),
    ("pupil not in the list", A, None, {**OK6, "ClientId": "hs-ghost"}, "result.learner_not_found", "error",
     "ClientId", "hs-ghost"),
    ("primary pupil on the TT 22 scale", A, "05", {**OK5, "KetQuaHocTap": "2"}, "result.scheme_mismatch", "error",
     "KetQuaHocTap", "2"),
    ("secondary pupil on the TT 27 scale", A, "06", {**OK6, "KetQuaHocTap": "HT"}, "result.scheme_mismatch",
     "error", "KetQuaHocTap", "HT"),
    ("secondary pupil without conduct", A, "09", {**OK6, "RenLuyen": None}, "result.conduct_missing", "error",
     "RenLuyen", None),
    ("completion outside grade 5", A, "09", {**OK6, "HoanThanhChuongTrinh": "1"}, "result.completion_not_grade_5",
     "warning", "HoanThanhChuongTrinh", "1"),
    ("graduation outside grade 9", A, "05", {**OK5, "TotNghiep": "1"}, "result.graduation_not_grade_9", "warning",
     "TotNghiep", "1"),
    ("GDTX learner on the TT 27 scale", G, "13", {**OK6, "KetQuaHocTap": "HTT"}, "result.gdtx_scheme_mismatch",
     "error", "KetQuaHocTap", "HTT"),
    ("lớp 9 GDTX learner without conduct", G, "23", {**OK6, "RenLuyen": None}, "result.gdtx_conduct_missing",
     "error", "RenLuyen", None),
]  # fmt: skip

# (case, school, grade, result fields): each passes every rule (the rule it is the counterpart of
# in the comment).
PASSING: list[tuple[str, str, str, dict[str, Any]]] = [
    ("grade 5 completes primary", A, "05", {**OK5, "HoanThanhChuongTrinh": "1"}),  # completion_not_grade_5
    ("grade 5 repeats, no conduct", A, "05", {"KetQuaHocTap": "CHT", "LenLop": "2"}),  # conduct_missing
    ("grade 9 graduates", A, "09", {**OK6, "TotNghiep": "1"}),  # graduation_not_grade_9
    ("grade 9 not completing primary", A, "09", {**OK6, "HoanThanhChuongTrinh": "0"}),  # flag 0 is fine
    ("grade 6 re-assessed in summer", A, "06", {"KetQuaHocTap": "4", "RenLuyen": "3", "LenLop": "3"}),
    ("lớp 10 GDTX", G, "13", {"KetQuaHocTap": "3", "RenLuyen": "2", "LenLop": "1"}),  # gdtx_scheme_mismatch
    (
        "lớp 9 GDTX graduates",
        G,
        "23",
        {**OK6, "TotNghiep": "1"},
    ),  # gdtx_conduct_missing, graduation_not_grade_9
]
DUPLICATE = "result.duplicate"

# Learner rules of the end-of-year period: (case, fields, rule or None, field, value).
LEARNERS: list[tuple[str, dict[str, Any], str | None, str | None, str | None]] = [
    ("transferred out without a date", {"TrangThai": "04"}, "learner.status_date_missing", "NgayTrangThai", None),
    ("transferred out with a date", {"TrangThai": "08", "NgayTrangThai": "2025-03-03"}, None, None, None),
    ("dropped out without a reason", {"TrangThai": "09", "NgayTrangThai": "2025-02-20"},
     "learner.dropout_reason_missing", "MaLyDoThoiHoc", None),
    ("dropped out with a reason", {"TrangThai": "05", "NgayTrangThai": "2024-11-11", "MaLyDoThoiHoc": "03"},
     None, None, None),
    ("left in the summer without a reason", {"TrangThai": "12", "NgayTrangThai": "2025-06-20"},
     "learner.dropout_reason_missing", "MaLyDoThoiHoc", None),
    ("transferred in with a date", {"TrangThai": "06", "NgayTrangThai": "2025-03-01", "LoaiNhapHoc": "1"},
     None, None, None),
]  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, entity: str, values: dict[str, Any]) -> None:
    cols = ", ".join(f'"{c}"' for c in values)
    con.execute(
        f"INSERT INTO stg_{entity} ({cols}) VALUES ({', '.join('?' for _ in values)})", list(values.values())
    )


class _Builder:
    """Staging rows with lineage (file, record index per school and entity, unique row ids)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.row_id, self.index = con, 0, {}

    def add(self, entity: str, school: str, **fields: Any) -> tuple[int, int]:
        self.row_id += 1
        record_index = self.index[(entity, school)] = self.index.get((entity, school), -1) + 1
        _insert(self.con, entity, {"row_id": self.row_id, "school_code": school, "file": f"{school}_2024_2.json",
                                   "file_hash": "h", "record_index": record_index, **fields})  # fmt: skip
        return self.row_id, record_index

    def pupil(self, school: str, pid: str, grade: str, n: int, **fields: Any) -> tuple[int, int]:
        values = {"ClientId": pid, "MaHocSinh": f"{school[:2]}{n:08d}", "HoTen": f"h-{pid}", "MaDanToc": "01",
                  "GioiTinh": "01" if n % 2 else "02", "NgaySinh": BORN[grade], "KhoiHoc": grade,
                  "MaLopHocDn": CLASS_OF[grade], "TrangThai": "01", "LoaiNhapHoc": "4", "KhuyetTat": "0"}  # fmt: skip
        return self.add("learner", school, **{**values, **fields})


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path: Path = tmp_path_factory.mktemp("result_rules") / "warehouse.duckdb"
    con = warehouse.connect(path)
    warehouse.create_staging_tables(con)
    b = _Builder(con)
    info = {"NamHoc": "2024", "LoaiHinhDaoTao": "01", "MaVung": "02"}
    b.add("school", A, MaTruongHoc=A, TenTruongHoc="Trường PTCS Hòa Bình", MaNhomCapHoc="09", **info)
    b.add("school", G, MaTruongHoc=G, TenTruongHoc="Trung tâm GDTX tỉnh", MaNhomCapHoc="12", **info)
    for grade, code in CLASS_OF.items():
        b.add("class", G if grade in ("13", "23") else A, ClientId=f"c-{code}", MaLopHoc=code, TenLopHoc=code,
              KhoiHoc=grade, LopGhep="0", LopBanTru="0")  # fmt: skip
    rows: dict[str, tuple[int, int]] = {}  # case → (row id, record index) of its result or learner row
    n = 0
    for case, school, grade, fields, *_ in FAILING:
        result = dict(fields)
        if grade is not None:
            n += 1
            result.setdefault("ClientId", f"hs{n}")
            b.pupil(school, result["ClientId"], grade, n)
        rows[case] = b.add("result", school, **result)
    for case, school, grade, fields in PASSING:
        n += 1
        b.pupil(school, f"hs{n}", grade, n)
        rows[case] = b.add("result", school, ClientId=f"hs{n}", **fields)
    # A pupil with two result entries: the second one is the duplicate.
    n += 1
    b.pupil(A, "hs-twice", "06", n)
    rows["first entry"] = b.add("result", A, ClientId="hs-twice", **OK6)
    rows["second entry"] = b.add("result", A, ClientId="hs-twice", **{**OK6, "KetQuaHocTap": "1"})
    for case, fields, *_ in LEARNERS:
        n += 1
        rows[case] = b.pupil(A, f"hs{n}", "06", n, **fields)
    # Two pupils with one national pupil code: the second one is reported.
    rows["national code first"] = b.pupil(A, "hs-same-1", "09", 900)
    rows["national code second"] = b.pupil(A, "hs-same-2", "09", 900)
    con.close()
    summary = validate.validate_warehouse(path, run_id="run-r", **RUN)
    with warehouse.connect(path) as con:
        problems = con.execute(
            "SELECT entity, row_id, rule_id, severity, school_code, file, record_index, field, value "
            "FROM validation_results WHERE run_id = 'run-r' AND entity IN ('result', 'learner')"
        ).fetchall()
        quarantine = con.execute(
            "SELECT entity, row_id, rule_ids FROM quarantine WHERE run_id = 'run-r'"
        ).fetchall()
    return {"rows": rows, "problems": problems, "quarantine": quarantine, "summary": summary}


def _problems(validated, entity: str, case: str) -> list[tuple]:
    row_id = validated["rows"][case][0]
    return sorted(p[2:] for p in validated["problems"] if (p[0], p[1]) == (entity, row_id))


def _quarantined(validated, entity: str, case: str) -> str | None:
    row_id = validated["rows"][case][0]
    return next((q[2] for q in validated["quarantine"] if (q[0], q[1]) == (entity, row_id)), None)


@pytest.mark.slow
def test_schools_are_accepted(validated):
    assert validated["summary"].schools_rejected == ()


def test_every_declared_result_rule_has_a_failing_case():
    declared = {r.id: r.severity for r in catalog.source("result").rules}
    cases = {rule: severity for *_, rule, severity, _, _ in FAILING if rule in declared} | {
        DUPLICATE: "error"
    }
    assert cases == declared  # a new rule in result.yaml needs a case here, with its severity
    generated = {r.id for r in validate.compile_rules(2024) if r.entity == "result" and r.id not in declared}
    tested = {rule for *_, rule, _, _, _ in FAILING}
    # Field rules of the result fields (required, code list, flag type) all have a case.
    kinds = (".required", ".codelist", ".type")
    assert {r for r in generated if r.endswith(kinds)} <= tested


@pytest.mark.slow
@pytest.mark.parametrize(("case", "school", "grade", "fields", "rule", "severity", "field", "value"), FAILING,
                         ids=[c[0] for c in FAILING])  # fmt: skip
def test_failing_entry_reports_its_rule_once(
    validated, case, school, grade, fields, rule, severity, field, value
):
    _, record_index = validated["rows"][case]
    assert _problems(validated, "result", case) == [
        (rule, severity, school, f"{school}_2024_2.json", record_index, field, value)
    ]
    # An error excludes the entry (the pupil is then "not assessed"); a warning keeps it.
    assert _quarantined(validated, "result", case) == (rule if severity == "error" else None)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "school", "grade", "fields"), PASSING, ids=[c[0] for c in PASSING])
def test_passing_entry_reports_nothing(validated, case, school, grade, fields):
    assert _problems(validated, "result", case) == []
    assert _quarantined(validated, "result", case) is None


@pytest.mark.slow
def test_second_entry_of_a_pupil_is_the_duplicate(validated):
    _, index = validated["rows"]["second entry"]
    assert _problems(validated, "result", "first entry") == []
    assert _quarantined(validated, "result", "first entry") is None
    assert _problems(validated, "result", "second entry") == [
        (DUPLICATE, "error", A, f"{A}_2024_2.json", index, "ClientId", "hs-twice")
    ]
    assert _quarantined(validated, "result", "second entry") == DUPLICATE


@pytest.mark.slow
@pytest.mark.parametrize(("case", "fields", "rule", "field", "value"), LEARNERS, ids=[c[0] for c in LEARNERS])
def test_learner_status_rules(validated, case, fields, rule, field, value):
    _, record_index = validated["rows"][case]
    reported = [p for p in _problems(validated, "learner", case) if p[1] == "error"]
    if rule is None:
        assert reported == [] and _quarantined(validated, "learner", case) is None
    else:
        assert reported == [(rule, "error", A, f"{A}_2024_2.json", record_index, field, value)]
        assert _quarantined(validated, "learner", case) == rule


@pytest.mark.slow
def test_second_pupil_with_a_national_code_is_reported(validated):
    _, index = validated["rows"]["national code second"]
    assert [p for p in _problems(validated, "learner", "national code first") if p[1] == "error"] == []
    assert [p for p in _problems(validated, "learner", "national code second") if p[1] == "error"] == [
        ("learner.duplicate_national_id", "error", A, f"{A}_2024_2.json", index, "MaHocSinh", "6600000900")
    ]
    assert _quarantined(validated, "learner", "national code second") == "learner.duplicate_national_id"
