"""What changed since the last run of a period: the one store every stage asks.

A stage that redoes only what changed keeps, under its name, the fingerprint it last worked under
(code, schemas, settings; `fingerprint`) with that run's id (`last_state`, `save_state`), and the
staged files it worked from (`changed_schools`, `save_staged_files`); outputs keep the digest of the
inputs of each file they wrote (`output_digests`, `forget_outputs`, `save_output_digests`). All in
the warehouse's tables stage_state, stage_files and output_digests (schema.sql).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from pipelines import settings
from pipelines.warehouse.connection import insert_rows
from pipelines.warehouse.sql import sql


def last_state(con: duckdb.DuckDBPyConnection, stage: str) -> tuple[str, str] | None:
    """(run id, fingerprint) a stage last worked under, or None."""
    rows = con.execute(sql("warehouse/changes", "last_state"), [stage]).fetchall()
    return rows[0] if rows else None


def save_state(con: duckdb.DuckDBPyConnection, stage: str, run_id: str, fingerprint: str) -> None:
    con.execute(sql("warehouse/changes", "clear_state"), [stage])
    con.execute(sql("warehouse/changes", "save_state"), [stage, run_id, fingerprint])


def changed_schools(con: duckdb.DuckDBPyConnection, stage: str) -> set[str]:
    """Schools whose staged file (stg_school's school_code, file_hash) differs from the files the
    stage last worked from (save_staged_files): changed, new or gone."""
    return {c for (c,) in con.execute(sql("warehouse/changes", "changed_schools"), [stage]).fetchall()}


def save_staged_files(con: duckdb.DuckDBPyConnection, stage: str) -> None:
    """The staged files a stage has just worked from (for its next re-run)."""
    con.execute(sql("warehouse/changes", "clear_staged_files"), [stage])
    con.execute(sql("warehouse/changes", "save_staged_files"), [stage])


def output_digests(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, str]:
    """Path (relative to folder) → digest of the inputs of each file last written there."""
    rows = con.execute(sql("warehouse/changes", "output_digests"), [str(folder)]).fetchall()
    return dict(rows)


def forget_outputs(con: duckdb.DuckDBPyConnection, folder: Path, paths: Iterable[str] | None = None) -> None:
    """Drop the digests of files about to be rewritten (all of the folder's when paths is None), so a
    run killed half-way never leaves a new file under an old digest."""
    if paths is None:
        con.execute(sql("warehouse/changes", "forget_folder"), [str(folder)])
        return
    con.execute(sql("warehouse/changes", "forget_paths"), [str(folder), list(paths)])


def save_output_digests(con: duckdb.DuckDBPyConnection, folder: Path, digests: Mapping[str, str]) -> None:
    forget_outputs(con, folder, digests)
    insert_rows(con, "output_digests", [(str(folder), path, digest) for path, digest in digests.items()])


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
