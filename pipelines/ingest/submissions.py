"""Submissions: every file a school sends for a period, kept by version in a content-addressed store.

A file's arrival time is its modification time (never later than the moment ingest first sees it).
A file that arrived after the school's current version, and whose bytes differ from it, becomes the
next version (1, 2, …) and supersedes the previous one; an unchanged re-upload is no new version; a
file older than the current version (a copy left in the inbox) is ignored. Every version's bytes
are kept beside the warehouse (`<warehouse dir>/submissions/<sha256>.fernet`), encrypted (store.py:
Fernet, with a key kept outside the warehouse folder), and listed in `submissions`; ingest stages
the current state of each school (from the inbox, or from the store when the file has left it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import warehouse
from pipelines.ingest import store as crypt

STORE = "submissions"  # folder of the content-addressed store, beside the warehouse file


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
    path = warehouse.scalar(con, warehouse.sql("ingest/submissions", "database_path"))
    if not path:
        import tempfile

        return Path(tempfile.gettempdir()) / "edustat-submissions"
    return Path(path).resolve().parent / STORE


def store_put(store: Path, sha256: str, raw: bytes) -> Path:
    """Keep a file's bytes under their hash, encrypted (written once, atomically)."""
    path = store / f"{sha256}{crypt.SUFFIX}"
    if not path.exists():
        store.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(crypt.encrypt(raw))
        tmp.replace(path)
    plain = store / f"{sha256}.json"  # a store written before encryption: its plain copy goes
    plain.unlink(missing_ok=True)
    return path


# A file's bytes encrypted ahead by a parse worker (in parallel), before ingest knows whether it
# becomes a version: store_take moves it into place, store_drop_pending deletes the ones not taken.
PENDING = ".pending"


def store_prepare(store: Path, sha256: str, raw: bytes) -> None:
    """In a parse worker: a file's bytes encrypted beside the store, unless the store has them."""
    path = store / f"{sha256}{crypt.SUFFIX}"
    pending = store / f".{sha256}{PENDING}"
    if path.exists() or pending.exists():
        return
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".{sha256}.tmp{os.getpid()}"  # two workers may hold copies of one file
    tmp.write_bytes(crypt.encrypt(raw))
    tmp.replace(pending)


def store_take(store: Path, sha256: str) -> bool:
    """store_put with the bytes a worker encrypted ahead; False when there are none (then store_put)."""
    path = store / f"{sha256}{crypt.SUFFIX}"
    pending = store / f".{sha256}{PENDING}"
    if not path.exists():
        try:
            pending.replace(path)
        except FileNotFoundError:
            return False
    (store / f"{sha256}.json").unlink(missing_ok=True)  # as store_put: an older store's plain copy goes
    return True


def store_drop_pending(store: Path) -> None:
    """Delete what the workers encrypted ahead and no version took (rejected or superseded files)."""
    for path in store.glob(f".*{PENDING}"):
        path.unlink(missing_ok=True)


def store_get(store: Path, sha256: str) -> bytes:
    """A version's bytes as the school sent them (a plain copy of an older store is encrypted now)."""
    path = store / f"{sha256}{crypt.SUFFIX}"
    if path.exists():
        return crypt.decrypt(path.read_bytes())
    plain = store / f"{sha256}.json"
    raw = plain.read_bytes()
    store_put(store, sha256, raw)
    return raw


def arrival_time(path: Path, now: datetime) -> datetime:
    """A file's arrival: its modification time, never later than when ingest first sees it."""
    return min(datetime.fromtimestamp(path.stat().st_mtime), now)


def current_submissions(
    con: duckdb.DuckDBPyConnection, school_year: str, period: str
) -> dict[str, Submission]:
    rows = con.execute(
        warehouse.sql("ingest/submissions", "current"), {"school_year": school_year, "period": period}
    ).fetchall()
    return {r[0]: Submission(*r) for r in rows}


def period_versions(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> list[Submission]:
    """Every version of every school for a period, oldest first."""
    rows = con.execute(
        warehouse.sql("ingest/submissions", "period_versions"), {"school_year": school_year, "period": period}
    ).fetchall()
    return [Submission(*r) for r in rows]


def submission_versions(con: duckdb.DuckDBPyConnection, school_year: str, period: str,
                        school_code: str) -> list[tuple]:  # fmt: skip
    """Every version of a school's file: (version, file, sha256, arrived_at, superseded_at)."""
    return con.execute(
        warehouse.sql("ingest/submissions", "versions"),
        {"school_year": school_year, "period": period, "school_code": school_code},
    ).fetchall()


def submission_bytes(con: duckdb.DuckDBPyConnection, school_year: str, period: str, school_code: str,
                     version: int) -> bytes:  # fmt: skip
    """The file of one version, as the school sent it."""
    sha = warehouse.scalar(
        con,
        warehouse.sql("ingest/submissions", "sha256_of_version"),
        {"school_year": school_year, "period": period, "school_code": school_code, "version": version},
    )
    if sha is None:
        raise KeyError(f"{school_code} {school_year} {period} v{version}")
    return store_get(store_dir(con), sha)


def register_versions(con: duckdb.DuckDBPyConnection, school_year: str, period: str, arrivals: Iterable[Arrival],
                      run_id: str, now: datetime | None = None) -> list[Submission]:  # fmt: skip
    """Record the arrivals that are new versions, in order of arrival; return the new versions (the
    reporting window moves those schools to `received`)."""
    now = now or datetime.now()
    current = current_submissions(con, school_year, period)
    new: list[Submission] = []
    added: dict[tuple[str, int], list] = {}  # this call's rows, inserted at once at the end
    for a in sorted(arrivals, key=lambda a: (a.arrived_at, a.file)):
        cur = current.get(a.school_code)
        if cur is not None and (a.arrived_at <= cur.arrived_at or a.sha256 == cur.sha256):
            continue  # an older file, or the current version sent again
        version = (cur.version if cur else 0) + 1
        if cur is not None and (a.school_code, cur.version) in added:
            added[(a.school_code, cur.version)][8] = a.arrived_at  # superseded within this call
        elif cur is not None:
            con.execute(warehouse.sql("ingest/submissions", "supersede"),
                        {"school_year": school_year, "period": period, "school_code": a.school_code,
                         "at": a.arrived_at, "version": cur.version})  # fmt: skip
        # The columns of `submissions` (schema.sql), in order.
        added[(a.school_code, version)] = [school_year, period, a.school_code, version, a.file, a.sha256,
                                           a.arrived_at, now, None, run_id]  # fmt: skip
        current[a.school_code] = Submission(a.school_code, version, a.file, a.sha256, a.arrived_at)
        new.append(current[a.school_code])
    _add(con, list(added.values()))
    return new


def _add(con: duckdb.DuckDBPyConnection, added: list[list]) -> None:
    """Insert version rows: in one statement, not one per version (about 0.8 ms each), when every
    time is naive (an aware one is bound as DuckDB binds it, row by row, as before)."""
    if any(isinstance(v, datetime) and v.tzinfo is not None for row in added for v in row):
        names = ("school_year", "period", "school_code", "version", "file", "sha256", "arrived_at", "recorded_at",
                 "superseded_at", "run_id")  # fmt: skip
        for row in added:
            values = dict(zip(names, row, strict=True))
            at = values.pop("superseded_at")
            con.execute(warehouse.sql("ingest/submissions", "add"), values)
            if at is not None:
                keys = ("school_year", "period", "school_code", "version")
                con.execute(
                    warehouse.sql("ingest/submissions", "supersede"),
                    {**{k: values[k] for k in keys}, "at": at},
                )
        return
    if added:
        rows = list(zip(*added, strict=True))
        types = [pa.string(), pa.string(), pa.string(), pa.int32(), pa.string(), pa.string(), pa.timestamp("us"),
                 pa.timestamp("us"), pa.timestamp("us"), pa.string()]  # fmt: skip
        batch = pa.table(
            {f"c{i}": pa.array(col, t) for i, (col, t) in enumerate(zip(rows, types, strict=True))}
        )
        con.register("_versions", batch)
        try:
            con.execute(warehouse.sql("ingest/submissions", "add_all"))
        finally:
            con.unregister("_versions")


def locked_schools(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> set[str]:
    """Schools of the run's unit tree that take no new version: locked, or under a locked Phòng or Sở."""
    rows = con.execute(
        warehouse.sql("ingest/submissions", "locked_schools"), {"school_year": school_year, "period": period}
    ).fetchall()
    return {r[0] for r in rows}
