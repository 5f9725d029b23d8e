"""What changed since the last run of a period: the one store every stage asks.

A stage that redoes only what changed keeps, per stage, the fingerprint it last worked under (code,
schemas, settings) and the staged files it worked from; a re-run compares both with now.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from pipelines import settings


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


def tree_hash(*folders: Path) -> dict[str, object]:
    """sha256 over the relative paths and contents of every file under the folders, and the count."""
    digest, n = hashlib.sha256(), 0
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            rel = path.relative_to(folder.parent).as_posix()  # e.g. forms/tt24/02-TH-DN.yaml
            digest.update(f"{rel}\0{file_sha256(path)}\n".encode())
            n += 1
    return {"sha256": digest.hexdigest(), "files": n}


def code_digest() -> str:
    """sha256 of the code and schemas (pipelines/, schemas/): what a re-run's reuse of staged rows,
    validation results, typed rows and workbooks is made under (a change makes a run redo it all)."""
    return str(tree_hash(settings.PROJECT_ROOT / "pipelines", settings.PROJECT_ROOT / "schemas")["sha256"])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
