"""The DuckDB warehouse: one connection configuration, and the tables every stage shares.

Great Expectations opens the same file through duckdb-engine (SQLAlchemy) while the pipeline
holds its own connection. DuckDB refuses a second connection to a file with a different
configuration in one process, so every connection here carries the configuration duckdb-engine
uses (its user-agent string).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import catalog

LINEAGE_COLUMNS = (
    ("row_id", "BIGINT"),  # unique within a staging table for one load
    ("school_code", "VARCHAR"),  # MaTruongHoc of the payload
    ("file", "VARCHAR"),  # file name in the inbox
    ("file_hash", "VARCHAR"),  # sha256 of the file bytes
    ("record_index", "INTEGER"),  # position in the payload's list (0-based); 0 for TruongHocInfo
)


def _engine_config() -> dict[str, str]:
    agent = f"duckdb_engine/{version('duckdb-engine')}(sqlalchemy/{version('sqlalchemy')})"
    return {"custom_user_agent": agent}


MEMORY_LIMIT_ENV = "EDUSTAT_MEMORY_LIMIT"


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the configuration shared with Great Expectations."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config=_engine_config())
    # A cap on DuckDB's memory (it spills to disk beyond it), e.g. "3GB" on a small machine; by
    # default DuckDB takes up to 80 % of the RAM. The setting is the database's, so the connection
    # Great Expectations opens on the same file in this process shares it.
    limit = os.environ.get(MEMORY_LIMIT_ENV)
    if limit:
        con.execute("SET GLOBAL memory_limit = ?", [limit])
    return con


# "Field:check" items (check: length | pattern | text), comma-separated; NULL when none.
PRE_HASH_COLUMN = "pre_hash_problems"


def staging_columns(source: catalog.Source) -> list[tuple[str, str]]:
    """Lineage columns, every declared field as normalised text (validation types them), then the
    format problems ingest found in pseudonymised fields before hashing them (see ingest)."""
    return [*LINEAGE_COLUMNS, *((f.name, "VARCHAR") for f in source.fields), (PRE_HASH_COLUMN, "VARCHAR")]


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the empty stg_<entity> tables; they hold the current load only."""
    for source in catalog.sources():
        cols = ", ".join(f'"{name}" {typ}' for name, typ in staging_columns(source))
        con.execute(f"CREATE OR REPLACE TABLE {source.table} ({cols})")


def schools_whose_staged_file_changed(con: duckdb.DuckDBPyConnection, snapshot: str) -> set[str]:
    """Schools whose staged file (stg_school's school_code, file_hash) differs from `snapshot`, a table
    of the same two columns a step wrote with snapshot_staged_files: changed, new or gone."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {snapshot} (school_code VARCHAR, file_hash VARCHAR)")
    rows = con.execute(
        f"""WITH now AS (SELECT DISTINCT school_code, file_hash FROM stg_school)
        SELECT school_code FROM ((SELECT * FROM now EXCEPT SELECT * FROM {snapshot})
                                 UNION ALL (SELECT * FROM {snapshot} EXCEPT SELECT * FROM now))"""
    ).fetchall()
    return {c for (c,) in rows}


def snapshot_staged_files(con: duckdb.DuckDBPyConnection, snapshot: str) -> None:
    """Replace `snapshot` with the staged files a step has just worked from (for the next re-run)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {snapshot} (school_code VARCHAR, file_hash VARCHAR)")
    con.execute(f"DELETE FROM {snapshot}")
    con.execute(f"INSERT INTO {snapshot} SELECT DISTINCT school_code, file_hash FROM stg_school")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """INSERT many rows through Arrow (executemany costs ~0.3 ms a row and refuses an empty list)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    batch = pa.table({f"c{i}": pa.array(col) for i, col in enumerate(columns)})
    con.register("_insert_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):  # noqa: ANN201
    """First value of a query (fetches the whole result: DuckDB 2 refuses unfinished results)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def exit_skipping_teardown(code: int) -> None:
    """Run the exit handlers, then end the process without interpreter teardown.

    After Great Expectations has run, DuckDB type objects stay referenced until teardown, where
    DuckDB's binding layer (nanobind) prints a long, harmless "leaked instances" report. Exit
    handlers (e.g. Prefect stopping its temporary server) still run; only that report is skipped.
    """
    import atexit
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def load_codelists(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Copy code lists into cl_<name> tables, as text, for SQL that joins to them."""
    for name in sorted(set(names)):
        path = catalog.codelist_path(name)
        con.execute(
            f"CREATE OR REPLACE TABLE cl_{name} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )


# DM_TRANG_THAI_HOC_SINH: 02/06/10 chuyển đến and 03/07 nghỉ học xin học lại bring a pupil in;
# 04/08/11 chuyển đi and 05/09/12 thôi học take them out. A pupil is enrolled on a day unless
# a leaving status is dated on or before it, or an arriving status after it (issue 2). One
# definition for the typed tables (sql/entities.sql, sql/results.sql) and the validation rules.
MACROS = """
CREATE OR REPLACE MACRO is_arrival(status) AS status IN ('02', '03', '06', '07', '10');
CREATE OR REPLACE MACRO is_departure(status) AS status IN ('04', '05', '08', '09', '11', '12');
-- Continuing education (05-GDTX, status: inferred): the programme and the general-education grade
-- a DM_KHOI GDTX code stands for (13-15 = lớp 10-12, 20-23 = lớp 6-9, 24-28 = lớp 1-5; 18 xóa mù
-- chữ and 19 giáo dục tiếp tục sau khi biết chữ have no grade).
CREATE OR REPLACE MACRO gdtx_programme(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN 'upper_secondary'
    WHEN code IN ('20', '21', '22', '23') THEN 'lower_secondary'
    WHEN code IN ('24', '25', '26', '27', '28') THEN 'primary'
    WHEN code = '18' THEN 'literacy'
    WHEN code = '19' THEN 'post_literacy' END;
CREATE OR REPLACE MACRO gdtx_grade(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN CAST(code AS INTEGER) - 3
    WHEN code IN ('20', '21', '22', '23') THEN CAST(code AS INTEGER) - 14
    WHEN code IN ('24', '25', '26', '27', '28') THEN CAST(code AS INTEGER) - 23 END;
CREATE OR REPLACE MACRO enrolled_on(status, status_date, day) AS NOT coalesce(
    (is_departure(status) AND TRY_CAST(status_date AS DATE) <= day)
    OR (is_arrival(status) AND TRY_CAST(status_date AS DATE) > day), FALSE);
"""

# Per school and period, the figures the cross-period rules compare with a later run: learners
# enrolled on the as-of date, classes, active staff and teachers; per grade, learners enrolled at
# the as-of date and, at the end of the year, those promoted (LenLop 1) and kept back (2).
HISTORY_TABLES = """
CREATE TABLE IF NOT EXISTS school_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    learners BIGINT, classes BIGINT, staff BIGINT, teachers BIGINT);
CREATE TABLE IF NOT EXISTS school_grade_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    grade_code VARCHAR, learners BIGINT, promoted BIGINT, retained BIGINT);
"""


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS)


def create_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(HISTORY_TABLES)


# --- one writer at a time, atomic steps -----------------------------------------------------------

LOCK_SUFFIX = ".lock"  # the writer lock beside the warehouse: data/warehouse.duckdb.lock
_held: dict[str, list] = {}  # lock path → [run_id, depth] held by this process
_held_guard = threading.Lock()


class WarehouseLocked(RuntimeError):
    """Another run holds the warehouse's writer lock; the message is in Vietnamese and English."""


def lock_path(path: Path | str) -> Path:
    return Path(str(Path(path).resolve()) + LOCK_SUFFIX)


def _process_start(pid: int) -> str | None:
    """Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), to tell a live
    holder from another process that got its pid later; None where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def read_lock(path: Path | str) -> dict | None:
    """The holder recorded in the warehouse's lock file (pid, host, run_id, started_at), or None."""
    try:
        text = lock_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {}  # being written, or left half-written by a killed process


def _stale(holder: dict, lock: Path) -> bool:
    """A lock of a dead process on this host (or an unreadable one older than a few seconds)."""
    if not holder:
        try:
            return time.time() - lock.stat().st_mtime > 10
        except FileNotFoundError:
            return True
    if holder.get("host") != socket.gethostname():
        return False  # a process on another machine: cannot tell, never taken over
    pid = int(holder.get("pid", 0))
    if pid <= 0 or not _pid_alive(pid):
        return True
    start = holder.get("pid_start")
    return start is not None and _process_start(pid) not in (None, start)  # the pid was reused


def _take_over(lock: Path, holder: dict) -> None:
    """Move a stale lock aside; if another process replaced it meanwhile, put theirs back."""
    aside = lock.with_name(f"{lock.name}.stale-{os.getpid()}-{threading.get_ident()}")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    try:
        moved = json.loads(aside.read_text(encoding="utf-8"))
    except ValueError:
        moved = {}
    if moved != holder and moved and not _stale(moved, aside):
        try:
            os.link(aside, lock)  # fails if someone holds the lock again; theirs stands either way
        except FileExistsError:
            pass
    aside.unlink(missing_ok=True)


def _locked_message(path: Path, holder: dict) -> str:
    who = (f"run {holder.get('run_id')} (pid {holder.get('pid')} on {holder.get('host')}, "
           f"since {holder.get('started_at')})") if holder else "another run"  # fmt: skip
    lock = lock_path(path)
    return (f"kho dữ liệu đang được một lượt chạy khác ghi, hãy chờ lượt đó xong / the warehouse is being written "
            f"by {who}; wait for it to finish: {path} (lock {lock}; if no such run is alive on that machine, "
            f"delete the lock file)")  # fmt: skip


@contextmanager
def writer_lock(path: Path | str, run_id: str) -> Iterator[dict]:
    """Hold the warehouse's writer lock for a run: one writer at a time.

    The lock file beside the warehouse (`<warehouse>.lock`) is created atomically (O_EXCL) and
    records pid, host, run id and start time. A lock of a dead process on this host is taken
    over; any other holder makes this raise WarehouseLocked. Re-entrant for the same run in the
    same process (the CLI's run holds it, and each step takes it again), so flows that call the
    steps one by one are protected step by step.
    """
    path = Path(path).resolve()
    lock = lock_path(path)
    key = str(lock)
    with _held_guard:
        held = _held.get(key)
        if held is not None:
            if held[0] != run_id:
                raise WarehouseLocked(_locked_message(path, read_lock(path) or {}))
            held[1] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield read_lock(path) or {}
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id,
          "started_at": datetime.now().isoformat(timespec="seconds"), "pid_start": _process_start(os.getpid())}  # fmt: skip
    for _attempt in range(5):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_lock(path)
            if holder is None:
                continue  # released meanwhile
            if _stale(holder, lock):
                _take_over(lock, holder)
                continue
            raise WarehouseLocked(_locked_message(path, holder)) from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
            fh.flush()
            os.fsync(fh.fileno())
        break
    else:
        raise WarehouseLocked(_locked_message(path, read_lock(path) or {}))
    with _held_guard:
        _held[key] = [run_id, 1]
    try:
        yield me
    finally:
        with _held_guard:
            _held.pop(key, None)
        if read_lock(path) == me:
            lock.unlink(missing_ok=True)


_in_transaction: set[int] = set()  # id() of the connections inside transaction() now


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT around a step's writes, so a run killed at any moment leaves the warehouse
    as the last committed step left it (DuckDB discards an uncommitted transaction on reopening).
    Nested on the same connection, it joins the outer one (a second BEGIN would abort it)."""
    key = id(con)
    if key in _in_transaction:
        yield con
        return
    con.execute("BEGIN TRANSACTION")
    _in_transaction.add(key)
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass  # the connection is gone; DuckDB drops the transaction anyway
        raise
    else:
        con.execute("COMMIT")
    finally:
        _in_transaction.discard(key)
