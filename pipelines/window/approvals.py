"""Approvals: each unit's report (school, Phòng, Sở) moves received → validated → approved or
rejected (with a reason) → locked; unlocked on request (back to approved).

Runs move the states they own (a new version: received; a school that passes validation, a Phòng or
Sở report compiled: validated); people approve, reject, lock and unlock (`edustat approve | reject |
lock | unlock`). While a school, its Phòng or its Sở is locked, no new version of the school is
accepted (ingest refuses it).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines import settings, warehouse
from pipelines.settings import Settings
from pipelines.window.audit import AuditBatch, append_audit, audit_batch, period_states, state_of

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


class TransitionError(ValueError):
    """A state change the workflow does not allow; the message is in Vietnamese and English."""


def _unit_text(level: str, code: str) -> str:
    return f"{LEVEL_VI.get(level, level)} {code} ({level}:{code})"


def transition(con: duckdb.DuckDBPyConnection, action: str, school_year: str, period: str, level: str, code: str,
               user: str, reason: str | None = None, run_id: str | None = None,
               at: datetime | None = None, states: dict | None = None,
               batch: AuditBatch | None = None) -> tuple[str | None, str]:  # fmt: skip
    """Move a unit's state by an action, or raise TransitionError; return (from, to). A caller making
    many moves passes `states` (the period's states by (level, code), read once and kept up to date)
    and an audit `batch` (the rows written together when it closes)."""
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
    row = (at or datetime.now(), user.strip(), action, school_year, period, level, code, state, to_state, reason,
           run_id)  # fmt: skip
    if batch is not None:
        batch.append(row)
    else:
        append_audit(con, row)
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

    settings.parse_school_year(school_year)
    if period not in settings.PERIODS:
        raise TransitionError(f"kỳ báo cáo {period!r} không có / unknown period (DN, CN)")
    level, code = parse_unit(unit)
    user = user or getpass.getuser()
    lock = getattr(warehouse, "writer_lock", None)  # one writer at a time, where the warehouse has the lock
    with warehouse.connect(warehouse_path) as con:
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
    at = at or datetime.now()
    sy, period, run = s.school_year, s.period, s.run_id

    def move(action: str, level: str, code: str, reason: str) -> None:
        transition(con, action, sy, period, level, code, SYSTEM_USER, reason, run_id=run, at=at, states=states,
                   batch=batch)  # fmt: skip

    rejected = {
        r[0] for r in con.execute(warehouse.sql("window/approvals", "rejected_schools"), [run]).fetchall()
    }
    staged = [r[0] for r in con.execute(warehouse.sql("window/approvals", "staged_schools")).fetchall()]
    states = period_states(con, sy, period)
    with audit_batch(con) as batch:
        for code in staged:
            state = states.get(("school", code))
            if state is None:  # loaded before submissions were recorded
                move("submit", "school", code, f"lượt chạy / run {run}")
                state = "received"
            if state == "received" and code not in rejected:
                move("validate", "school", code, f"hợp lệ ở lượt chạy / valid in run {run}")
        changed: dict[tuple[str, str], list[str]] = {}
        for code, plv, pcode, glv, gcode in con.execute(
            warehouse.sql("window/approvals", "parents_of_new_versions"), [run, sy, period]
        ).fetchall():
            for key in ((plv, pcode), (glv, gcode)):
                if key[0] in ("phong", "so"):
                    changed.setdefault(key, []).append(code)
        for level, code in con.execute(warehouse.sql("window/approvals", "reporting_units")).fetchall():
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
    return batch.written


def record_submissions(con: duckdb.DuckDBPyConnection, school_year: str, period: str, versions: Iterable,
                       run_id: str, at: datetime) -> int:  # fmt: skip
    """Move each school that sent a new version (ingest's submissions, in order of arrival) to
    `received`; return the number of audit rows written."""
    states = period_states(con, school_year, period)
    with audit_batch(con) as batch:
        for sub in versions:
            transition(con, "submit", school_year, period, "school", sub.school_code, SYSTEM_USER,
                       f"phiên bản / version {sub.version}: {sub.file}", run_id=run_id, at=at, states=states,
                       batch=batch)  # fmt: skip
    return batch.written
