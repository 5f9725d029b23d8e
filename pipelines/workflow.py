"""The reporting window (issue 6): submissions, approvals with their audit trail, completeness.

**Submissions.** Every file a school sends for a period is a submission. Its arrival time is the
file's modification time (never later than the moment ingest first sees it). A file that arrived
after the school's current version, and whose bytes differ from it, becomes the next version
(1, 2, …) and supersedes the previous one; an unchanged re-upload is no new version; a file older
than the current version (a copy left in the inbox) is ignored. Every version's bytes are kept in a
content-addressed store beside the warehouse (`<warehouse dir>/submissions/<sha256>.json`) and
listed in `submissions`; ingest stages exactly the current version of each school (from the inbox,
or from the store when the file has left the inbox).

**Approvals.** Each unit (school, Phòng, Sở) has, per period, a state: received → validated →
approved or rejected (with a reason) → locked; unlocked on request (back to approved). Runs move
the states they own (a new version: received; a school that passes validation, a Phòng or Sở report
compiled: validated); people approve, reject, lock and unlock (`edustat approve | reject | lock |
unlock`). While a school, its Phòng or its Sở is locked, no new version of the school is accepted.

**Audit.** Every state change is a row of `audit` (who, when, what, from-state, to-state, why, run).
The tool only ever appends to it, never updates or deletes, and each row carries the hash of the
previous one (`prev_hash`, `row_hash`), so an edit made outside the tool shows (`verify_audit`).
The current state of a unit is its last audit row (view `workflow_state`).

**Completeness and timeliness** (`completeness`): per Phòng and Sở, the registry's schools
expected, received, on time, late, missing (deadline passed, nothing received) and pending (not yet
due), against the deadlines of `schemas/deadlines.yaml`; each run writes it to the warehouse and to
`OUT/completeness.xlsx` and `.csv`.
"""

from __future__ import annotations

import calendar
import csv
import getpass
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.settings import PROJECT_ROOT, Settings

DEADLINES = PROJECT_ROOT / "schemas" / "deadlines.yaml"
STORE = "submissions"  # folder of the content-addressed store, beside the warehouse file
SYSTEM_USER = "edustat"  # the user of the state changes a run makes
LEVELS = ("school", "phong", "so")
# action → (states it may start from, state it leads to). None: the unit has no state yet.
ACTIONS: dict[str, tuple[frozenset, str]] = {
    "submit": (frozenset({None, "received", "validated", "approved", "rejected"}), "received"),  # a run
    "validate": (frozenset({"received"}), "validated"),  # a run
    "approve": (frozenset({"validated"}), "approved"),
    "reject": (frozenset({"received", "validated", "approved"}), "rejected"),
    "lock": (frozenset({"approved"}), "locked"),
    "unlock": (frozenset({"locked"}), "approved"),
}
USER_ACTIONS = ("approve", "reject", "lock", "unlock")
NEEDS_REASON = frozenset({"reject", "unlock"})
STATE_VI = {None: "chưa có báo cáo", "received": "đã nhận", "validated": "đã kiểm tra", "approved": "đã duyệt",
            "rejected": "bị trả lại", "locked": "đã khóa"}  # fmt: skip
STATE_EN = {None: "no report yet", "received": "received", "validated": "validated", "approved": "approved",
            "rejected": "rejected", "locked": "locked"}  # fmt: skip
ACTION_VI = {"submit": "nhận", "validate": "kiểm tra", "approve": "duyệt", "reject": "trả lại", "lock": "khóa",
             "unlock": "mở khóa"}  # fmt: skip
LEVEL_VI = {"school": "trường", "phong": "Phòng GDĐT", "so": "Sở GDĐT"}

DDL = """
CREATE TABLE IF NOT EXISTS submissions (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    version INTEGER, file VARCHAR, sha256 VARCHAR, arrived_at TIMESTAMP, recorded_at TIMESTAMP,
    superseded_at TIMESTAMP, run_id VARCHAR);
-- Append only: the tool inserts rows and never updates or deletes them.
CREATE TABLE IF NOT EXISTS audit (seq BIGINT, changed_at TIMESTAMP, user_name VARCHAR, action VARCHAR,
    school_year VARCHAR, period VARCHAR, level VARCHAR, unit_code VARCHAR, from_state VARCHAR,
    to_state VARCHAR, reason VARCHAR, run_id VARCHAR, prev_hash VARCHAR, row_hash VARCHAR);
CREATE OR REPLACE VIEW workflow_state AS
    SELECT school_year, period, level, unit_code, to_state AS state, changed_at AS since, user_name, action, reason
    FROM audit QUALIFY row_number() OVER (PARTITION BY school_year, period, level, unit_code ORDER BY seq DESC) = 1;
"""


class TransitionError(ValueError):
    """A state change the workflow does not allow; the message is in Vietnamese and English."""


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


# --- submissions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    school_code: str
    version: int
    file: str
    sha256: str
    arrived_at: datetime


@dataclass(frozen=True)
class Arrival:
    """An accepted file of the inbox that arrived after its school's current version."""

    school_code: str
    file: str
    sha256: str
    arrived_at: datetime


def store_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """The content-addressed store beside the warehouse file (a temporary folder for :memory:)."""
    path = warehouse.scalar(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    )
    if not path:
        import tempfile

        return Path(tempfile.gettempdir()) / "edustat-submissions"
    return Path(path).resolve().parent / STORE


def store_put(store: Path, sha256: str, raw: bytes) -> Path:
    """Keep a file's bytes under their hash (written once, atomically)."""
    path = store / f"{sha256}.json"
    if not path.exists():
        store.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return path


def store_get(store: Path, sha256: str) -> bytes:
    return (store / f"{sha256}.json").read_bytes()


def arrival_time(path: Path, now: datetime) -> datetime:
    """A file's arrival: its modification time, never later than when ingest first sees it."""
    return min(datetime.fromtimestamp(path.stat().st_mtime), now)


def current_submissions(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str
) -> dict[str, Submission]:
    create_tables(con)
    rows = con.execute(
        "SELECT school_code, version, file, sha256, arrived_at FROM submissions "
        "WHERE school_year = ? AND period = ? AND superseded_at IS NULL",
        [school_year, period],
    ).fetchall()
    return {r[0]: Submission(*r) for r in rows}


def submission_versions(con: duckdb.DuckDBPyConnection, school_year: str, period: str,
                        school_code: str) -> list[tuple]:  # fmt: skip
    """Every version of a school's file: (version, file, sha256, arrived_at, superseded_at)."""
    return con.execute(
        "SELECT version, file, sha256, arrived_at, superseded_at FROM submissions "
        "WHERE school_year = ? AND period = ? AND school_code = ? ORDER BY version",
        [school_year, period, school_code],
    ).fetchall()


def submission_bytes(con: duckdb.DuckDBPyConnection, school_year: str, period: str, school_code: str,
                     version: int) -> bytes:  # fmt: skip
    """The file of one version, as the school sent it."""
    sha = warehouse.scalar(
        con,
        "SELECT sha256 FROM submissions WHERE school_year = ? AND period = ? AND school_code = ? AND version = ?",
        [school_year, period, school_code, version],
    )
    if sha is None:
        raise KeyError(f"{school_code} {school_year} {period} v{version}")
    return store_get(store_dir(con), sha)


def register_versions(con: duckdb.DuckDBPyConnection, school_year: str, period: str, arrivals: Iterable[Arrival],
                      run_id: str, now: datetime | None = None) -> list[Submission]:  # fmt: skip
    """Record the arrivals that are new versions (in order of arrival) and move those schools to
    `received`; return the new versions."""
    now = now or datetime.now()
    current = current_submissions(con, school_year, period)
    states = period_states(con, school_year, period)
    new: list[Submission] = []
    for a in sorted(arrivals, key=lambda a: (a.arrived_at, a.file)):
        cur = current.get(a.school_code)
        if cur is not None and (a.arrived_at <= cur.arrived_at or a.sha256 == cur.sha256):
            continue  # an older file, or the current version sent again
        version = (cur.version if cur else 0) + 1
        if cur is not None:
            con.execute(
                "UPDATE submissions SET superseded_at = ? WHERE school_year = ? AND period = ? AND school_code = ? "
                "AND version = ?",
                [a.arrived_at, school_year, period, a.school_code, cur.version],
            )
        con.execute(
            "INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            [school_year, period, a.school_code, version, a.file, a.sha256, a.arrived_at, now, run_id],
        )
        transition(con, "submit", school_year, period, "school", a.school_code, SYSTEM_USER,
                   f"phiên bản / version {version}: {a.file}", run_id=run_id, at=now, states=states)  # fmt: skip
        current[a.school_code] = Submission(a.school_code, version, a.file, a.sha256, a.arrived_at)
        new.append(current[a.school_code])
    return new


def locked_schools(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> set[str]:
    """Schools of the run's unit tree that take no new version: locked, or under a locked Phòng or Sở."""
    create_tables(con)
    rows = con.execute(
        """WITH locked AS (SELECT level, unit_code FROM workflow_state
                           WHERE school_year = ? AND period = ? AND state = 'locked')
        SELECT s.unit_code FROM units s
        LEFT JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
        WHERE s.level = 'school' AND ((s.level, s.unit_code) IN (SELECT * FROM locked)
            OR (s.parent_level, s.parent_code) IN (SELECT * FROM locked)
            OR (p.parent_level, p.parent_code) IN (SELECT * FROM locked))""",
        [school_year, period],
    ).fetchall()
    return {r[0] for r in rows}


# --- approvals and the audit trail --------------------------------------------------------------


def state_of(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str, level: str, code: str
) -> str | None:
    create_tables(con)
    return warehouse.scalar(
        con,
        "SELECT state FROM workflow_state WHERE school_year = ? AND period = ? AND level = ? AND unit_code = ?",
        [school_year, period, level, code],
    )


def period_states(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str
) -> dict[tuple[str, str], str]:
    """Every unit's current state for a period: {(level, code): state}."""
    create_tables(con)
    rows = con.execute(
        "SELECT level, unit_code, state FROM workflow_state WHERE school_year = ? AND period = ?",
        [school_year, period],
    ).fetchall()
    return {(lv, c): st for lv, c, st in rows}


def _row_hash(prev: str, values: tuple) -> str:
    text = json.dumps(
        [prev, *(v.isoformat() if isinstance(v, datetime) else v for v in values)], ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _append_audit(con: duckdb.DuckDBPyConnection, values: tuple) -> None:
    """Append one audit row chained to the previous one (the only write the tool makes to audit)."""
    last = con.execute("SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1").fetchall()
    seq, prev = (last[0][0] + 1, last[0][1]) if last else (1, "")
    row = (seq, *values)
    con.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*row, prev, _row_hash(prev, row)])  # fmt: skip


def verify_audit(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The seq of every audit row whose chain is broken (edited, inserted or deleted outside the tool)."""
    create_tables(con)
    broken, prev = [], ""
    for *row, prev_hash, row_hash in con.execute("SELECT * FROM audit ORDER BY seq").fetchall():
        if prev_hash != prev or row_hash != _row_hash(prev, tuple(row)):
            broken.append(row[0])
        prev = row_hash
    return broken


def _unit_text(level: str, code: str) -> str:
    return f"{LEVEL_VI.get(level, level)} {code} ({level}:{code})"


def transition(con: duckdb.DuckDBPyConnection, action: str, school_year: str, period: str, level: str, code: str,
               user: str, reason: str | None = None, run_id: str | None = None,
               at: datetime | None = None, states: dict | None = None) -> tuple[str | None, str]:  # fmt: skip
    """Move a unit's state by an action, or raise TransitionError; return (from, to). `states`: the
    period's states by (level, code), read once by a caller making many moves, and kept up to date."""
    if action not in ACTIONS:
        raise TransitionError(f"thao tác không có / unknown action: {action}")
    if level not in LEVELS:
        raise TransitionError(
            f"cấp đơn vị phải là school, phong hoặc so / unit level must be school, phong or so: {level!r}"
        )
    if not user or not user.strip():
        raise TransitionError("cần người thực hiện (--user) / the acting user is required (--user)")
    if action in NEEDS_REASON and not (reason and reason.strip()):
        raise TransitionError(
            f"cần lý do để {ACTION_VI[action]} (--reason) / {action} needs a reason (--reason)"
        )
    allowed, to_state = ACTIONS[action]
    state = (
        states.get((level, code)) if states is not None else state_of(con, school_year, period, level, code)
    )
    if state not in allowed:
        needs_vi = " hoặc ".join(STATE_VI[s] for s in sorted(allowed, key=str))
        needs_en = " or ".join(STATE_EN[s] for s in sorted(allowed, key=str))
        raise TransitionError(
            f"Không thể {ACTION_VI[action]} {_unit_text(level, code)} kỳ {school_year} {period}: trạng thái hiện tại "
            f"là «{STATE_VI[state]}», cần «{needs_vi}» / cannot {action} {level}:{code} for {school_year} {period}: "
            f"its state is '{STATE_EN[state]}', {action} needs '{needs_en}'"
        )
    _append_audit(con, (at or datetime.now(), user.strip(), action, school_year, period, level, code, state,
                        to_state, reason, run_id))  # fmt: skip
    if states is not None:
        states[(level, code)] = to_state
    return state, to_state


def parse_unit(text: str) -> tuple[str, str]:
    """'school:66643001' → ('school', '66643001')."""
    level, sep, code = text.partition(":")
    level, code = level.strip().lower(), code.strip()
    if not sep or level not in LEVELS or not code:
        raise TransitionError(
            f"--unit phải có dạng LEVEL:CODE với LEVEL là school, phong hoặc so (vd. school:66643001) / "
            f"--unit must be LEVEL:CODE with LEVEL school, phong or so (e.g. school:66643001): {text!r}"
        )
    return level, code


def act(warehouse_path: Path, action: str, school_year: str, period: str, unit: str, user: str | None,
        reason: str | None = None) -> str:  # fmt: skip
    """One person's action on a unit (the CLI's approve | reject | lock | unlock); returns a message."""
    if action not in USER_ACTIONS:
        raise TransitionError(f"thao tác không có / unknown action: {action}")
    from pipelines import settings

    settings.parse_school_year(school_year)
    if period not in settings.PERIODS:
        raise TransitionError(f"kỳ báo cáo {period!r} không có / unknown period (DN, CN)")
    level, code = parse_unit(unit)
    user = user or getpass.getuser()
    lock = getattr(warehouse, "writer_lock", None)  # one writer at a time, where the warehouse has the lock
    with warehouse.connect(warehouse_path) as con:
        create_tables(con)
        if lock is not None:
            with lock(warehouse_path, f"{action}-{user}"):
                before, after = transition(con, action, school_year, period, level, code, user, reason)
        else:
            before, after = transition(con, action, school_year, period, level, code, user, reason)
    return (f"{_unit_text(level, code)} {school_year} {period}: {STATE_VI[before]} → {STATE_VI[after]} "
            f"/ {STATE_EN[before]} → {STATE_EN[after]} ({user})")  # fmt: skip


def record_run_states(con: duckdb.DuckDBPyConnection, s: Settings, at: datetime | None = None) -> int:
    """The state changes a run makes: each school it loaded that passed validation → validated; each
    Phòng and Sở report it compiled → received → validated (again when one of its schools sent a new
    version in this run). Return the number of audit rows written."""
    create_tables(con)
    at = at or datetime.now()
    sy, period, run = s.school_year, s.period, s.run_id
    n = 0

    def move(action: str, level: str, code: str, reason: str) -> None:
        nonlocal n
        transition(
            con, action, sy, period, level, code, SYSTEM_USER, reason, run_id=run, at=at, states=states
        )
        n += 1

    rejected = {r[0] for r in con.execute(
        "SELECT DISTINCT school_code FROM quarantine WHERE run_id = ? AND entity = 'school'", [run]).fetchall()}  # fmt: skip
    staged = [r[0] for r in con.execute(
        "SELECT DISTINCT school_code FROM stg_school WHERE school_code IN "
        "(SELECT unit_code FROM units WHERE level = 'school') ORDER BY 1").fetchall()]  # fmt: skip
    states = period_states(con, sy, period)
    for code in staged:
        state = states.get(("school", code))
        if state is None:  # loaded before submissions were recorded
            move("submit", "school", code, f"lượt chạy / run {run}")
            state = "received"
        if state == "received" and code not in rejected:
            move("validate", "school", code, f"hợp lệ ở lượt chạy / valid in run {run}")
    changed: dict[tuple[str, str], list[str]] = {}
    for code, plv, pcode, glv, gcode in con.execute(
        """SELECT s.unit_code, p.level, p.unit_code, g.level, g.unit_code FROM units s
           JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
           LEFT JOIN units g ON g.level = p.parent_level AND g.unit_code = p.parent_code
           WHERE s.level = 'school' AND s.unit_code IN
               (SELECT school_code FROM submissions WHERE run_id = ? AND school_year = ? AND period = ?)""",
        [run, sy, period],
    ).fetchall():
        for key in ((plv, pcode), (glv, gcode)):
            if key[0] in ("phong", "so"):
                changed.setdefault(key, []).append(code)
    for level, code in con.execute(
        "SELECT level, unit_code FROM units WHERE level IN ('phong', 'so') ORDER BY level DESC, unit_code"
    ).fetchall():
        state = states.get((level, code))
        if state is None or ((level, code) in changed and state != "locked"):
            schools = changed.get((level, code))
            why = (f"số liệu mới của trường / new data from schools {', '.join(sorted(schools))}" if schools
                   else f"báo cáo tổng hợp ở lượt chạy / report compiled in run {run}")  # fmt: skip
            if state != "received":
                move("submit", level, code, why)
            state = "received"
        if state == "received":
            move("validate", level, code, f"báo cáo tổng hợp ở lượt chạy / report compiled in run {run}")
    return n


def restrict_to_approved(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> str:
    """A temporary view of `units` without the schools whose report is not approved (or locked) for
    the period: the unit tree the Phòng and Sở rollup reads with --approved-only. Returns its name."""
    create_tables(con)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _approved_units AS SELECT * FROM units
        WHERE level <> 'school' OR unit_code IN (
            SELECT unit_code FROM workflow_state WHERE school_year = '{school_year}' AND period = '{period}'
            AND level = 'school' AND state IN ('approved', 'locked'))"""
    )
    return "_approved_units"


# --- completeness and timeliness ----------------------------------------------------------------


def _deadline_config() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(DEADLINES.read_text(encoding="utf-8"))


def deadlines(start_year: int, period: str, regime: str = "tt24") -> dict[str, date]:
    """The last day each level may send its report for a period (schemas/deadlines.yaml)."""
    cfg = _deadline_config()
    p = cfg["periods"][period]
    year, month = start_year + int(p["year_offset"]), int(p["month"])
    last = calendar.monthrange(year, month)[1]
    out = {}
    for level, spec in cfg["levels"].items():
        day = cfg.get("regimes", {}).get(regime, {}).get(period, {}).get(level, spec)["day"]
        out[level] = date(year, month, min(int(day), last))
    return out


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59, 999999))


def _timeliness(delivered: datetime | None, deadline: date, now: datetime) -> str:
    if delivered is not None:
        return "on_time" if delivered <= _end_of(deadline) else "late"
    return "missing" if now > _end_of(deadline) else "pending"


UNIT_COLUMNS = (
    ("school_year", "VARCHAR", "Năm học / school year"),
    ("period", "VARCHAR", "Kỳ / period"),
    ("level", "VARCHAR", "Cấp / level"),
    ("unit_code", "VARCHAR", "Mã đơn vị / unit code"),
    ("unit_name", "VARCHAR", "Tên đơn vị / unit name"),
    ("expected", "INTEGER", "Trường phải nộp / schools expected"),
    ("received", "INTEGER", "Đã nhận / received"),
    ("on_time", "INTEGER", "Đúng hạn / on time"),
    ("late", "INTEGER", "Muộn / late"),
    ("missing", "INTEGER", "Chưa nộp, quá hạn / missing"),
    ("pending", "INTEGER", "Chưa nộp, chưa đến hạn / pending"),
    ("resubmitted", "INTEGER", "Nộp lại / resubmitted"),
    ("approved", "INTEGER", "Trường đã duyệt / schools approved"),
    ("received_pct", "DOUBLE", "Tỷ lệ đã nhận (%) / received (%)"),
    ("school_deadline", "DATE", "Hạn của trường / school deadline"),
    ("unit_deadline", "DATE", "Hạn của đơn vị / unit deadline"),
    ("unit_state", "VARCHAR", "Trạng thái báo cáo / report state"),
    ("unit_approved_at", "TIMESTAMP", "Duyệt lúc / approved at"),
    ("unit_timeliness", "VARCHAR", "Đơn vị nộp / unit timeliness"),
    ("evaluated_at", "TIMESTAMP", "Tính lúc / evaluated at"),
)
SCHOOL_COLUMNS = (
    ("school_year", "VARCHAR", "Năm học / school year"),
    ("period", "VARCHAR", "Kỳ / period"),
    ("school_code", "VARCHAR", "Mã trường / school code"),
    ("school_name", "VARCHAR", "Tên trường / school name"),
    ("phong_code", "VARCHAR", "Phòng GDĐT"),
    ("so_code", "VARCHAR", "Sở GDĐT"),
    ("deadline", "DATE", "Hạn nộp / deadline"),
    ("status", "VARCHAR", "Tình trạng / status"),
    ("first_arrived_at", "TIMESTAMP", "Nộp lần đầu / first arrival"),
    ("versions", "INTEGER", "Số phiên bản / versions"),
    ("current_arrived_at", "TIMESTAMP", "Phiên bản hiện hành / current version arrived"),
    ("state", "VARCHAR", "Trạng thái / state"),
    ("evaluated_at", "TIMESTAMP", "Tính lúc / evaluated at"),
)
STATUS_VI = {"on_time": "đúng hạn", "late": "muộn", "missing": "chưa nộp (quá hạn)",
             "pending": "chưa nộp (chưa đến hạn)"}  # fmt: skip


def _replace_rows(con: duckdb.DuckDBPyConnection, table: str, columns: tuple, key_sql: str, s: Settings,
                  rows: list[dict]) -> None:  # fmt: skip
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(f'{c} {t}' for c, t, _ in columns)})")
    con.execute(
        f"DELETE FROM {table} WHERE school_year = ? AND period = ? AND {key_sql}", [s.school_year, s.period]
    )
    # Through Arrow: executemany costs ~0.3 ms a row (seconds for a province's schools).
    warehouse.insert_rows(con, table, [tuple(r[c] for c, _, _ in columns) for r in rows])


def completeness(con: duckdb.DuckDBPyConnection, s: Settings,
                 now: datetime | None = None) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Completeness and timeliness of the run's units at `now`: (per Phòng and Sở, per school).
    Writes both to the warehouse (`completeness`, `completeness_schools`), replacing the period's
    rows of the run's units."""
    create_tables(con)
    now = now or datetime.now()
    due = deadlines(s.start_year, s.period, s.regime)
    units = {
        (lv, c): (name, plv, pc) for lv, c, name, plv, pc in con.execute("SELECT * FROM units").fetchall()
    }
    subs = {code: (first, n, cur) for code, first, n, cur in con.execute(
        "SELECT school_code, min(arrived_at), max(version), max(arrived_at) FILTER (superseded_at IS NULL) "
        "FROM submissions WHERE school_year = ? AND period = ? GROUP BY school_code",
        [s.school_year, s.period]).fetchall()}  # fmt: skip
    states = {(lv, c): st for lv, c, st in con.execute(
        "SELECT level, unit_code, state FROM workflow_state WHERE school_year = ? AND period = ?",
        [s.school_year, s.period]).fetchall()}  # fmt: skip
    approved_at = dict(((lv, c), at) for lv, c, at in con.execute(
        "SELECT level, unit_code, max(changed_at) FROM audit WHERE school_year = ? AND period = ? AND action = 'approve' "
        "GROUP BY ALL", [s.school_year, s.period]).fetchall())  # fmt: skip
    schools = []
    for (level, code), (name, plv, pcode) in sorted(units.items()):
        if level != "school":
            continue
        phong = pcode if plv == "phong" else None
        so = pcode if plv == "so" else (units.get(("phong", pcode), (None, None, None))[2] if phong else None)
        first, n, cur = subs.get(code, (None, 0, None))
        schools.append({"school_year": s.school_year, "period": s.period, "school_code": code, "school_name": name,
                        "phong_code": phong, "so_code": so, "deadline": due["school"],
                        "status": _timeliness(first, due["school"], now), "first_arrived_at": first,
                        "versions": n, "current_arrived_at": cur, "state": states.get(("school", code)),
                        "evaluated_at": now})  # fmt: skip
    rows = []
    for (level, code), (name, _, _) in sorted(units.items(), key=lambda u: (u[0][0] != "so", u[0][1])):
        if level not in ("phong", "so"):
            continue
        mine = [r for r in schools if r[f"{level}_code"] == code]
        count = {k: sum(r["status"] == k for r in mine) for k in ("on_time", "late", "missing", "pending")}
        received = count["on_time"] + count["late"]
        state = states.get((level, code))
        delivered = approved_at.get((level, code)) if state in ("approved", "locked") else None
        rows.append({"school_year": s.school_year, "period": s.period, "level": level, "unit_code": code,
                     "unit_name": name, "expected": len(mine), "received": received, **count,
                     "resubmitted": sum(r["versions"] > 1 for r in mine),
                     "approved": sum(r["state"] in ("approved", "locked") for r in mine),
                     "received_pct": round(100 * received / len(mine), 1) if mine else None,
                     "school_deadline": due["school"], "unit_deadline": due[level], "unit_state": state,
                     "unit_approved_at": delivered, "unit_timeliness": _timeliness(delivered, due[level], now),
                     "evaluated_at": now})  # fmt: skip
    mine_sql = "(level, unit_code) IN (SELECT level, unit_code FROM units)"
    _replace_rows(con, "completeness", UNIT_COLUMNS, mine_sql, s, rows)
    school_sql = "school_code IN (SELECT unit_code FROM units WHERE level = 'school')"
    _replace_rows(con, "completeness_schools", SCHOOL_COLUMNS, school_sql, s, schools)
    return rows, schools


def _plain(value: Any) -> Any:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else (
        value.isoformat() if isinstance(value, date) else value)  # fmt: skip


def write_outputs(out: Path, rows: list[dict], schools: list[dict]) -> list[Path]:
    """OUT/completeness.xlsx (sheets "Phòng, Sở" and "Trường") and completeness.csv /
    completeness_schools.csv (UTF-8 with a BOM for Excel)."""
    import openpyxl
    from openpyxl.styles import Font

    out.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    for ws, columns, data in ((wb.active, UNIT_COLUMNS, rows), (wb.create_sheet(), SCHOOL_COLUMNS, schools)):
        ws.title = "Phòng, Sở" if columns is UNIT_COLUMNS else "Trường"
        ws.append([h for _, _, h in columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in data:
            ws.append([STATUS_VI.get(r[c], r[c]) if c == "status" else _plain(r[c]) for c, _, _ in columns])
        ws.freeze_panes = "A2"
    paths = [out / "completeness.xlsx", out / "completeness.csv", out / "completeness_schools.csv"]
    wb.save(paths[0])
    for path, columns, data in ((paths[1], UNIT_COLUMNS, rows), (paths[2], SCHOOL_COLUMNS, schools)):
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([c for c, _, _ in columns])
            w.writerows([_plain(r[c]) for c, _, _ in columns] for r in data)
    return paths


def publish(con: duckdb.DuckDBPyConnection, s: Settings, now: datetime | None = None) -> list[dict]:
    """The export step's hook: the run's state changes, then the completeness table, workbook and CSV."""
    record_run_states(con, s, now)
    rows, schools = completeness(con, s, now)
    write_outputs(s.out, rows, schools)
    return rows


def completeness_rows(con: duckdb.DuckDBPyConnection, s: Settings) -> list[dict]:
    """The run's completeness table as JSON-ready dicts (for a Prefect table artifact)."""
    names = [c for c, _, _ in UNIT_COLUMNS]
    exists = warehouse.scalar(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'completeness'"
    )
    if not exists:
        return [{k: _plain(v) for k, v in r.items()} for r in completeness(con, s)[0]]
    rows = con.execute(
        f"SELECT {', '.join(names)} FROM completeness WHERE school_year = ? AND period = ? "
        "AND (level, unit_code) IN (SELECT level, unit_code FROM units) "
        "ORDER BY level = 'phong', unit_code",
        [s.school_year, s.period],
    ).fetchall()
    return [{k: _plain(v) for k, v in zip(names, r, strict=True)} for r in rows]


def summary_lines(rows: list[dict]) -> list[str]:
    """The completeness table for the run's Markdown summary."""
    if not rows:
        return []
    lines = ["", "## Tiến độ nộp báo cáo / completeness and timeliness", "",
             f"Hạn của trường / school deadline: {rows[0]['school_deadline']}; `completeness.xlsx`", "",
             "| Đơn vị / unit | Phải nộp / expected | Đã nhận / received | Đúng hạn / on time | Muộn / late "
             "| Quá hạn / missing | Chưa đến hạn / pending | Nộp lại / resubmitted | Đã duyệt / approved "
             "| Báo cáo đơn vị / unit report |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in rows:
        lines.append(
            f"| {r['level']} {r['unit_code']} | {r['expected']} | {r['received']} | {r['on_time']} | {r['late']} "
            f"| {r['missing']} | {r['pending']} | {r['resubmitted']} | {r['approved']} "
            f"| {STATE_EN[r['unit_state']]}, {r['unit_timeliness']} (hạn / due {r['unit_deadline']}) |"
        )
    return lines
