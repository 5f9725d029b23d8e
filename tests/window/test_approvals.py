"""The reporting window (issue 6): submissions and versions, completeness and timeliness, approvals
with their audit trail, and Phòng/Sở reports from approved schools only.

Hand-made province (Sở 66, start of year 2024-2025, school deadline 10/10/2024):
Phòng 643 has A (on time, then resubmits), B (late) and C (never sends); Phòng 644 has D (on time).
Three simulated days, one run each:

- day 1 (9/10): A v1 (3 pupils) and D (2 pupils) arrive;
- day 2 (10/10): A sends v2 (4 pupils) under a new file name; the v1 file stays in the inbox;
- day 3 (11/10): B arrives (5 pupils), A uploads v2 again unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from pipelines import cli, settings, warehouse
from pipelines import run as pipeline
from pipelines import window as reporting_window
from pipelines.catalog import deadlines
from pipelines.ingest import store, submissions
from tests.conftest import klass, payload, pupil, school_info, write_registry

A, B, C, D = "66643001", "66643002", "66643003", "66644001"
DAY1, DAY2, DAY3 = datetime(2024, 10, 9, 9), datetime(2024, 10, 10, 15), datetime(2024, 10, 11, 10)
EVENING = {1: datetime(2024, 10, 9, 18), 2: datetime(2024, 10, 10, 18), 3: datetime(2024, 10, 11, 18)}
PUPILS = 37  # 02-TH-DN row 37 "Tổng quy mô", column T.all


def _school(code: str, n: int) -> dict:
    learners = [
        pupil(f"{code}-{i}", f"{code}-1A", 1, 2 if i % 2 else 1, "01", "2018-03-01") for i in range(n)
    ]
    return payload(code, school_info(code), [klass(f"{code}-1A", 1)], learners)


def _drop(inbox: Path, name: str, content: dict, when: datetime) -> bytes:
    """A file arriving in the inbox at `when` (its modification time)."""
    inbox.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(content, ensure_ascii=False).encode("utf-8")
    (inbox / name).write_bytes(raw)
    os.utime(inbox / name, (when.timestamp(), when.timestamp()))
    return raw


def _settings(root: Path, run: str, approved_only: bool = False) -> settings.Settings:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.KEY_ENV, "test-key-not-secret")
        return settings.resolve("2024-2025", "DN", root / "registry.xlsx", root / "inbox", root / "warehouse.duckdb",
                                root / f"out-{run}", run_id=run, processes=1,
                                approved_only=approved_only)  # fmt: skip


def _run(root: Path, run: str, approved_only: bool = False, export: bool = False) -> settings.Settings:
    s = _settings(root, run, approved_only)
    for step in (pipeline.prepare, pipeline.ingest_step, pipeline.validate_step, pipeline.aggregate_step):
        step(s)
    if export:
        pipeline.export_step(s)
    return s


def _q(s: settings.Settings, sql: str, params: list | None = None) -> list[tuple]:
    with warehouse.connect(s.warehouse) as con:
        return con.execute(sql, params or []).fetchall()


def _completeness(s: settings.Settings, now: datetime) -> tuple[dict, dict]:
    with warehouse.connect(s.warehouse) as con:
        reporting_window.record_run_states(con, s, now)
        rows, schools = reporting_window.completeness(con, s, now)
    return {(r["level"], r["unit_code"]): r for r in rows}, {r["school_code"]: r for r in schools}


def _pupils(s: settings.Settings, level: str, code: str) -> int | None:
    rows = _q(s, "SELECT value FROM cells WHERE school_year = '2024-2025' AND period = 'DN' AND form = '02-TH-DN' "
              "AND level = ? AND unit_code = ? AND row_code = ? AND col_key = 'T.all'", [level, code, PUPILS])  # fmt: skip
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    root = tmp_path_factory.mktemp("window")
    rows = [{"MA_TRUONG": code, "TEN_TRUONG_HOC": f"Trường {code}", "CAP_HOC": "1", "TRANG_THAI": 1, "ID_SO": "66",
             "ID_PHONG": code[2:5]} for code in (A, B, C, D)]  # fmt: skip
    write_registry(root / "registry.xlsx", rows)
    inbox = root / "inbox"
    days: dict = {"raw": {}}
    days["raw"]["A1"] = _drop(inbox, f"{A}_2024_1.json", _school(A, 3), DAY1)
    _drop(inbox, f"{D}_2024_1.json", _school(D, 2), DAY1)
    s1 = _run(root, "day1")
    days[1] = (s1, *_completeness(s1, EVENING[1]))
    days["after1"] = _pupils(s1, "school", A)
    days["raw"]["A2"] = _drop(inbox, f"{A}_2024_1_v2.json", _school(A, 4), DAY2)
    s2 = _run(root, "day2")
    days[2] = (s2, *_completeness(s2, EVENING[2]))
    days["after2"] = _pupils(s2, "school", A)
    _drop(inbox, f"{B}_2024_1.json", _school(B, 5), DAY3)
    _drop(inbox, f"{A}_2024_1_v2.json", _school(A, 4), datetime(2024, 10, 11, 8))  # unchanged re-upload
    s3 = _run(root, "day3", export=True)
    days[3] = (s3, *_completeness(s3, EVENING[3]))
    days["totals3"] = (_pupils(s3, "phong", "643"), _pupils(s3, "phong", "644"), _pupils(s3, "so", "66"))
    return root, days


# --- submissions ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_new_version_supersedes_the_old_one_and_both_stay_retrievable(window):
    _, days = window
    s = days[3][0]
    versions = _q(s, "SELECT version, file, arrived_at, superseded_at, run_id FROM submissions "
                  "WHERE school_code = ? ORDER BY version", [A])  # fmt: skip
    assert versions == [
        (1, f"{A}_2024_1.json", DAY1, DAY2, "day1"),
        (2, f"{A}_2024_1_v2.json", DAY2, None, "day2"),
    ]
    with warehouse.connect(s.warehouse) as con:
        assert submissions.submission_bytes(con, "2024-2025", "DN", A, 1) == days["raw"]["A1"]
        assert submissions.submission_bytes(con, "2024-2025", "DN", A, 2) == days["raw"]["A2"]
    sha1 = _q(s, "SELECT sha256 FROM submissions WHERE school_code = ? AND version = 1", [A])[0][0]
    # The store keeps the bytes encrypted (pipelines/ingest/store.py): nothing of them in clear.
    stored = (s.warehouse.parent / "submissions" / f"{sha1}.fernet").read_bytes()
    assert store.decrypt(stored) == days["raw"]["A1"] and days["raw"]["A1"][:40] not in stored


@pytest.mark.slow
def test_the_staging_tables_hold_exactly_the_current_version(window):
    _, days = window
    assert (days["after1"], days["after2"]) == (3, 4)
    s = days[3][0]
    staged = _q(s, "SELECT school_code, file, count(*) FROM stg_learner GROUP BY ALL ORDER BY 1")
    assert staged == [(A, f"{A}_2024_1_v2.json", 4), (B, f"{B}_2024_1.json", 5), (D, f"{D}_2024_1.json", 2)]
    assert _pupils(s, "school", A) == 4


@pytest.mark.slow
def test_an_unchanged_reupload_is_no_new_version_and_an_old_copy_is_ignored(window):
    _, days = window
    s = days[3][0]
    assert _q(s, "SELECT school_code, max(version) FROM submissions GROUP BY 1 ORDER BY 1") == [
        (A, 2),
        (B, 1),
        (D, 1),
    ]
    files = dict(_q(s, "SELECT file, status FROM files WHERE run_id = 'day3' AND school_code = ?", [A]))
    assert files == {f"{A}_2024_1_v2.json": "loaded", f"{A}_2024_1.json": "superseded"}
    # Day 2 staged v2 and listed the v1 file, still in the inbox, as superseded.
    assert dict(_q(s, "SELECT file, status FROM files WHERE run_id = 'day2' AND school_code = ?", [A])) == {
        f"{A}_2024_1_v2.json": "loaded", f"{A}_2024_1.json": "superseded"}  # fmt: skip


@pytest.mark.slow
def test_a_current_version_that_left_the_inbox_is_staged_from_the_store(window, tmp_path):
    root, days = window
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(root / "registry.xlsx", copy / "registry.xlsx")
    shutil.copy(root / "warehouse.duckdb", copy / "warehouse.duckdb")
    shutil.copytree(root / "submissions", copy / "submissions")
    (copy / "inbox").mkdir()  # every file gone from the inbox
    s = _settings(copy, "emptied")
    pipeline.prepare(s)
    pipeline.ingest_step(s)
    staged = _q(s, "SELECT school_code, count(*) FROM stg_learner GROUP BY 1 ORDER BY 1")
    assert staged == [(A, 4), (B, 5), (D, 2)]


# --- completeness and timeliness -------------------------------------------------------------------


def test_deadlines_come_from_the_yaml_per_level_and_regime():
    from datetime import date

    assert deadlines.deadlines(2024, "DN") == {"school": date(2024, 10, 10), "phong": date(2024, 10, 20),
                                              "so": date(2024, 10, 30)}  # fmt: skip
    assert deadlines.deadlines(2024, "CN")["so"] == date(2025, 6, 30)
    assert deadlines.deadlines(2025, "DN", "tt25")["so"] == date(2025, 10, 31)


@pytest.mark.slow
def test_three_days_on_time_late_missing_and_pending(window):
    _, days = window
    keys = ("expected", "received", "on_time", "late", "missing", "pending", "resubmitted")
    units1, _ = days[1][1:]
    assert [units1[("phong", "643")][k] for k in keys] == [3, 1, 1, 0, 0, 2, 0]
    units2, schools2 = days[2][1:]
    assert [units2[("phong", "643")][k] for k in keys] == [3, 1, 1, 0, 0, 2, 1]  # deadline day: still pending
    assert schools2[B]["status"] == "pending"
    units3, schools3 = days[3][1:]
    assert [units3[("phong", "643")][k] for k in keys] == [3, 2, 1, 1, 1, 0, 1]
    assert [units3[("phong", "644")][k] for k in keys] == [1, 1, 1, 0, 0, 0, 0]
    assert [units3[("so", "66")][k] for k in keys] == [4, 3, 2, 1, 1, 0, 1]
    assert {c: r["status"] for c, r in schools3.items()} == {
        A: "on_time",
        B: "late",
        C: "missing",
        D: "on_time",
    }
    assert (schools3[A]["first_arrived_at"], schools3[A]["current_arrived_at"], schools3[A]["versions"]) == (
        DAY1, DAY2, 2)  # fmt: skip
    assert units3[("phong", "643")]["received_pct"] == pytest.approx(66.7)
    # No Phòng report approved yet, but its deadline (20/10) has not passed.
    assert units3[("phong", "643")]["unit_timeliness"] == "pending"


@pytest.mark.slow
def test_the_run_writes_the_completeness_table_workbook_csv_and_summary(window):
    import openpyxl

    _, days = window
    s = days[3][0]
    assert (s.out / "completeness.csv").exists() and (s.out / "completeness_schools.csv").exists()
    wb = openpyxl.load_workbook(s.out / "completeness.xlsx", read_only=True)  # read-only: open until closed
    names, school_rows = wb.sheetnames, list(wb["Trường"].iter_rows(values_only=True))
    wb.close()
    assert names == ["Phòng, Sở", "Trường", "Chậm, chưa nộp"]
    assert len(school_rows) == 5  # heading + 4 schools
    summary = (s.out / "summary.md").read_text(encoding="utf-8")
    assert "completeness and timeliness" in summary and "| phong 643 | 3 | 2 |" in summary
    with warehouse.connect(s.warehouse) as con:
        rows = reporting_window.completeness_rows(con, s)
    assert [(r["level"], r["unit_code"]) for r in rows] == [("so", "66"), ("phong", "643"), ("phong", "644")]
    json.dumps(rows)  # ready for a Prefect table artifact


# --- approvals and the audit trail ------------------------------------------------------------------


def _act(s: settings.Settings, action: str, unit: str, user: str = "lan", reason: str | None = None) -> str:
    return reporting_window.act(s.warehouse, action, "2024-2025", "DN", unit, user, reason)


@pytest.fixture(scope="module")
def approvals(window):
    """After day 3: A approved, then locked and unlocked; B rejected; D approved and locked; then a
    run with --approved-only in which D sends a new file while locked."""
    root, days = window
    s = days[3][0]
    refused = {}
    _act(s, "approve", f"school:{A}")
    for name, args in {"approve_nothing": ("approve", f"school:{C}"), "lock_validated": ("lock", f"school:{B}"),
                       "unlock_unlocked": ("unlock", f"school:{A}", "lan", "vì")}.items():  # fmt: skip
        with pytest.raises(reporting_window.TransitionError) as exc:
            _act(s, *args)
        refused[name] = str(exc.value)
    _act(s, "reject", f"school:{B}", "lan", "thiếu lớp 1B / class 1B missing")
    with pytest.raises(reporting_window.TransitionError) as exc:
        _act(s, "approve", f"school:{B}")
    refused["approve_rejected"] = str(exc.value)
    _act(s, "lock", f"school:{A}", "minh")
    with pytest.raises(reporting_window.TransitionError) as exc:
        _act(s, "unlock", f"school:{A}", "minh")  # no reason
    refused["unlock_without_reason"] = str(exc.value)
    _act(s, "unlock", f"school:{A}", "minh", "trường xin sửa / the school asks to correct")
    assert cli.main(["approve", "--school-year", "2024-2025", "--period", "DN", "--unit", f"school:{D}",
                     "--user", "hoa", "--warehouse", str(s.warehouse)]) == 0  # fmt: skip
    assert cli.main(["lock", "--school-year", "2024-2025", "--period", "DN", "--unit", f"school:{D}",
                     "--user", "hoa", "--warehouse", str(s.warehouse)]) == 0  # fmt: skip
    refused["cli_exit"] = cli.main(["lock", "--school-year", "2024-2025", "--period", "DN", "--unit",
                                    f"school:{D}", "--user", "hoa", "--warehouse", str(s.warehouse)])  # fmt: skip
    _drop(root / "inbox", f"{D}_2024_1.json", _school(D, 7), datetime(2024, 10, 12, 9))  # while locked
    s4 = _run(root, "approved-only", approved_only=True)
    return s, s4, refused


@pytest.mark.slow
def test_states_follow_the_runs_and_the_users(approvals):
    s, _, _ = approvals
    states = dict(_q(s, "SELECT level || ':' || unit_code, state FROM workflow_state"))
    assert states == {f"school:{A}": "approved", f"school:{B}": "rejected", f"school:{D}": "locked",
                      "phong:643": "validated", "phong:644": "validated", "so:66": "validated"}  # fmt: skip


@pytest.mark.slow
def test_invalid_transitions_are_refused_with_a_clear_message(approvals):
    _, _, refused = approvals
    assert "Không thể duyệt" in refused["approve_nothing"] and "no report yet" in refused["approve_nothing"]
    assert "Không thể khóa" in refused["lock_validated"] and "cannot lock" in refused["lock_validated"]
    assert "đã kiểm tra" in refused["lock_validated"] and "needs 'approved'" in refused["lock_validated"]
    assert "cannot unlock" in refused["unlock_unlocked"]
    assert "its state is 'rejected'" in refused["approve_rejected"]
    assert "--reason" in refused["unlock_without_reason"]
    assert refused["cli_exit"] == 2


@pytest.mark.slow
def test_the_audit_trail_records_who_when_what_and_why(approvals):
    s, _, _ = approvals
    trail = _q(s, "SELECT user_name, action, from_state, to_state, reason FROM audit WHERE level = 'school' "
               "AND unit_code = ? ORDER BY seq", [A])  # fmt: skip
    assert [t[:4] for t in trail] == [
        ("edustat", "submit", None, "received"),
        ("edustat", "validate", "received", "validated"),
        ("edustat", "submit", "validated", "received"),  # version 2
        ("edustat", "validate", "received", "validated"),
        ("lan", "approve", "validated", "approved"),
        ("minh", "lock", "approved", "locked"),
        ("minh", "unlock", "locked", "approved"),
    ]
    assert trail[2][4] == f"phiên bản / version 2: {A}_2024_1_v2.json"
    assert trail[6][4] == "trường xin sửa / the school asks to correct"
    assert _q(s, "SELECT reason FROM audit WHERE action = 'reject'") == [("thiếu lớp 1B / class 1B missing",)]
    assert _q(s, "SELECT count(*) FROM audit WHERE changed_at IS NULL OR user_name IS NULL") == [(0,)]


@pytest.mark.slow
def test_the_audit_table_is_append_only_and_edits_show(approvals, tmp_path):
    s, _, _ = approvals
    code = Path(reporting_window.__file__).parent.parent  # every module and SQL file of pipelines/
    for path in [*code.rglob("*.py"), *code.rglob("*.sql")]:
        source = path.read_text(encoding="utf-8")
        assert "UPDATE audit" not in source and "DELETE FROM audit" not in source, path
    copy = tmp_path / "w.duckdb"
    shutil.copy(s.warehouse, copy)
    with warehouse.connect(copy) as con:
        assert reporting_window.verify_audit(con) == []
        seq = con.execute("SELECT seq FROM audit WHERE action = 'reject'").fetchall()[0][0]
        con.execute("UPDATE audit SET user_name = 'someone else' WHERE seq = ?", [seq])
        assert reporting_window.verify_audit(con) == [seq]


@pytest.mark.slow
def test_a_locked_school_takes_no_new_version(approvals):
    _, s4, _ = approvals
    files = _q(s4, "SELECT status, reason FROM files WHERE run_id = 'approved-only' AND school_code = ?", [D])
    assert sorted(files, key=str) == [("loaded", None), ("rejected", "file.locked")]
    assert _q(s4, "SELECT max(version) FROM submissions WHERE school_code = ?", [D]) == [(1,)]
    assert _pupils(s4, "school", D) == 2


@pytest.mark.slow
def test_approved_only_builds_phong_and_so_from_approved_schools(window, approvals):
    # Approved: A (4 pupils, approved after unlock) and D (2, locked). B (5) is rejected, C sent nothing.
    # Phòng 643 = A = 4; Phòng 644 = D = 2; Sở 66 = 4 + 2 = 6 (all schools: 4 + 5 + 2 = 11).
    _, days = window
    _, s4, _ = approvals
    assert days["totals3"] == (9, 2, 11)  # day 3, every school
    assert (_pupils(s4, "phong", "643"), _pupils(s4, "phong", "644"), _pupils(s4, "so", "66")) == (4, 2, 6)
    assert (_pupils(s4, "school", A), _pupils(s4, "school", B), _pupils(s4, "school", D)) == (4, 5, 2)


@pytest.mark.slow
def test_after_unlock_the_waiting_file_becomes_the_next_version(window, approvals, tmp_path):
    root, _ = window
    for name in ("registry.xlsx", "warehouse.duckdb"):
        shutil.copy(root / name, tmp_path / name)
    for folder in ("inbox", "submissions"):
        shutil.copytree(root / folder, tmp_path / folder)
    s = _settings(tmp_path, "after-unlock")
    _act(s, "unlock", f"school:{D}", "hoa", "Phòng yêu cầu / asked by the Phòng")
    pipeline.prepare(s)
    pipeline.ingest_step(s)
    assert _q(s, "SELECT version, arrived_at FROM submissions WHERE school_code = ? ORDER BY 1", [D]) == [
        (1, DAY1), (2, datetime(2024, 10, 12, 9))]  # fmt: skip
    assert _q(s, "SELECT count(*) FROM stg_learner WHERE school_code = ?", [D]) == [(7,)]
    assert _q(s, "SELECT from_state, to_state FROM workflow_state JOIN audit USING (level, unit_code) "
              "WHERE level = 'school' AND unit_code = ? ORDER BY seq DESC LIMIT 1", [D]) == [("approved", "received")]  # fmt: skip
