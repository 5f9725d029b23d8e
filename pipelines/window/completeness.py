"""Completeness and timeliness: per Phòng and Sở, the registry's schools expected, received, on
time, late, missing (deadline passed, nothing received) and pending (not yet due), against the
deadlines of schemas/deadlines.yaml; each run writes them to the warehouse (`completeness`,
`completeness_schools`) and the outputs (pipelines/outputs/completeness.py)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import duckdb

from pipelines import warehouse
from pipelines.catalog.deadlines import deadlines
from pipelines.settings import Settings
from pipelines.window.approvals import STATE_EN


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


def completeness(con: duckdb.DuckDBPyConnection, s: Settings,
                 now: datetime | None = None) -> tuple[list[dict], list[dict]]:  # fmt: skip
    """Completeness and timeliness of the run's units at `now`: (per Phòng and Sở, per school).
    Writes both to the warehouse (`completeness`, `completeness_schools`), replacing the period's
    rows of the run's units."""
    now = now or datetime.now()
    due = deadlines(s.start_year, s.period, s.regime)
    key = [s.school_year, s.period]
    found = con.execute(warehouse.sql("window/completeness", "units")).fetchall()
    units = {(lv, c): (name, plv, pc) for lv, c, name, plv, pc in found}
    found = con.execute(warehouse.sql("window/completeness", "submissions"), key).fetchall()
    subs = {code: (first, n, cur) for code, first, n, cur in found}
    found = con.execute(warehouse.sql("window/completeness", "states"), key).fetchall()
    states = {(lv, c): st for lv, c, st in found}
    found = con.execute(warehouse.sql("window/completeness", "approved_at"), key).fetchall()
    approved_at = {(lv, c): at for lv, c, at in found}
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
    # The period's rows of the run's units replaced; inserted through Arrow (executemany costs ~0.3 ms
    # a row: seconds for a province's schools).
    con.execute(warehouse.sql("window/completeness", "delete_units"), key)
    warehouse.insert_rows(con, "completeness", [tuple(r[c] for c, _, _ in UNIT_COLUMNS) for r in rows])
    con.execute(warehouse.sql("window/completeness", "delete_schools"), key)
    warehouse.insert_rows(
        con, "completeness_schools", [tuple(r[c] for c, _, _ in SCHOOL_COLUMNS) for r in schools]
    )
    return rows, schools


def plain(value: Any) -> Any:
    return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else (
        value.isoformat() if isinstance(value, date) else value)  # fmt: skip


def completeness_rows(con: duckdb.DuckDBPyConnection, s: Settings) -> list[dict]:
    """The run's completeness table as JSON-ready dicts (for a Prefect table artifact)."""
    names = [c for c, _, _ in UNIT_COLUMNS]
    exists = warehouse.scalar(con, warehouse.sql("window/completeness", "table_exists"))
    if not exists:
        return [{k: plain(v) for k, v in r.items()} for r in completeness(con, s)[0]]
    rows = con.execute(
        warehouse.sql("window/completeness", "unit_rows"), [s.school_year, s.period]
    ).fetchall()
    return [{k: plain(v) for k, v in zip(names, r, strict=True)} for r in rows]


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
