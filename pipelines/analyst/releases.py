"""Releases: a frozen period, published once and never changed.

`edustat release` copies what analysts need of one period out of the warehouse into its own
folder, `<releases>/<name>/` (by default `data/releases/`, settings.paths()):

    release.duckdb      cells, indicators, units, unit_tree, validation_summary, files, release, and
                        the contract views with the tables they read (pipelines/analyst/views.py)
                        (read-only on disk; open it with duckdb.connect(path, read_only=True))
    cells.parquet       the period's cells (CELLS_COLUMNS), sparse: an absent cell is 0
    indicators.parquet  the period's indicators
    manifest.json       inputs (file hashes), catalogue, code and hierarchy versions, row counts,
                        and the sha256 of each file above

The folder is written under a temporary name and renamed when complete, so a release is either
all there or not there; a name already taken is refused. Analysts read releases while runs keep
writing the warehouse: a release shares no file with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from pipelines import settings, warehouse
from pipelines.analyst import views

RELEASES_DIR = "releases"  # the folder's name under the data folder (settings.paths().releases)
RELEASE_DB = "release.duckdb"
MANIFEST = "manifest.json"
CELLS_PARQUET, INDICATORS_PARQUET = "cells.parquet", "indicators.parquet"
SCHEMAS = settings.schemas_dir()
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class ReleaseError(ValueError):
    """A release refused (name taken, no cells) or not found; the message is in Vietnamese and English."""


def releases_dir(warehouse_path: Path | str | None = None) -> Path:
    """The default releases folder, the same for every warehouse and command (settings.paths():
    data/releases/), so `release`, `diff` and `query --release` agree and `edustat demo` never
    deletes one."""
    return settings.paths().releases


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open a release's DuckDB file read-only (a release folder or the file itself)."""
    path = Path(path)
    return duckdb.connect(str(path / RELEASE_DB if path.is_dir() else path), read_only=True)


# --- versions of what made the release ----------------------------------------------------------


def code_version() -> dict[str, object]:
    """The git commit of the code (and whether the tree had changes), else the package version."""
    try:
        package = version("edustat")
    except PackageNotFoundError:
        package = None

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(settings.PROJECT_ROOT), *args], capture_output=True,
                                  text=True, timeout=20, check=True)  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "pipelines", "schemas", "flows.py")
    return {"version": commit or package, "git_commit": commit,
            "git_dirty": bool(dirty) if commit else None, "package_version": package}  # fmt: skip


# --- making a release -----------------------------------------------------------------------------


def _sql(name: str, **identifiers: str) -> str:
    return warehouse.sql("analyst/releases", name, **identifiers)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute(_sql("tables")).fetchall()}


def _last_run(con: duckdb.DuckDBPyConnection, tables: set[str], school_year: str, period: str,
              start_year: int) -> tuple[str | None, str | None]:  # fmt: skip
    """(run id, when) of the period's last run whose aggregation committed; else its last ingest."""
    if "aggregate_runs" in tables:
        rows = con.execute(_sql("last_aggregate_run"), [school_year, period]).fetchall()
        if rows:
            return rows[0][0], str(rows[0][1])
    if "files" in tables:
        rows = con.execute(_sql("last_ingest_run"), [start_year, period]).fetchall()
        if rows:
            return rows[0][0], str(rows[0][1])
    return None, None


def _copy_tables(con: duckdb.DuckDBPyConnection, tables: set[str], school_year: str, period: str,
                 start_year: int, as_of: date, run_id: str | None) -> None:  # fmt: skip
    """The period's tables into the attached release database `rel`."""
    of_period = {"school_year": school_year, "period": period}
    of_run = {**of_period, "run_id": run_id or None}
    con.execute(_sql("cells"), of_period)
    if "indicators" in tables:
        con.execute(_sql("indicators"), of_period)
    if "files" in tables:
        con.execute(
            _sql("files"), {"start_year": int(start_year), "period": period, "run_id": run_id or None}
        )
    else:
        con.execute(_sql("no_files"))
    if "validation_results" in tables:
        con.execute(_sql("validation_summary"), of_run)
    if "unit_tree" in tables:
        con.execute(_sql("unit_tree"))
        con.execute(_sql("units_on_date"), {"day": as_of})
    elif "units" in tables:
        con.execute(_sql("units"))
    _copy_view_tables(con, tables, school_year, period, run_id)


# What the contract views (pipelines/analyst/views.py, schemas/views.yaml) read, under the warehouse's names.
VIEW_TABLES = (
    "school",
    "learner",
    "staff",
    "aggregate_runs",
    "validation_results",
    "submissions",
    "workflow_state",
    "input_ledger",  # the period's last run's ledger (the view `ledger`)
)


def _copy_view_tables(con: duckdb.DuckDBPyConnection, tables: set[str], school_year: str, period: str,
                      run_id: str | None) -> None:  # fmt: skip
    """The tables the contract views read, for the period: its last run's typed records (school,
    learner, staff: the warehouse holds the last aggregated run's only, so they are copied when that
    run is this period's, else left empty), that run's validation problems, the period's
    submissions, approval states and input ledger."""
    latest = None
    if "aggregate_runs" in tables:
        rows = con.execute(_sql("latest_aggregate_run")).fetchall()
        latest = rows[0][0] if rows else None
    copy = run_id is not None and latest == run_id
    of_period = {"school_year": school_year, "period": period}
    for table in VIEW_TABLES:
        if table not in tables:
            continue
        if table in ("school", "learner", "staff"):
            con.execute(_sql("typed_records", table=table), {"copy": copy})
        elif table == "aggregate_runs":
            con.execute(_sql("aggregate_runs"), {"run_id": run_id or None})
        elif table == "validation_results":
            con.execute(_sql("validation_results"), {**of_period, "run_id": run_id or None})
        else:
            con.execute(_sql("of_period", table=table), of_period)


def create_release(school_year: str, period: str, warehouse_path: Path | str | None = None,
                   name: str | None = None, releases: Path | str | None = None) -> Path:  # fmt: skip
    """Publish one period of the warehouse as an immutable release; returns its folder.

    Holds the warehouse's writer lock while copying (warehouse.WarehouseLocked if a run is
    writing). Raises ReleaseError for a name already taken or a period with no cells.
    """
    start_year = settings.parse_school_year(school_year)
    if period not in settings.PERIODS:
        raise ValueError(f"kỳ báo cáo {period!r} không có (DN, CN) / unknown period (DN, CN)")
    wh = Path(warehouse_path or settings.paths().warehouse).resolve()
    if not wh.is_file():
        raise ReleaseError(f"không có kho dữ liệu / warehouse not found: {wh}")
    created = datetime.now().astimezone()
    name = name or f"{school_year}_{period}_{created.strftime('%Y%m%dT%H%M%S')}"
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"tên bản phát hành không hợp lệ / invalid release name {name!r} "
                         "(letters, digits, '.', '_', '-')")  # fmt: skip
    root = Path(releases).resolve() if releases else releases_dir(wh)
    final = root / name
    if final.exists():
        raise ReleaseError(
            f"bản phát hành đã có, không ghi đè / release exists and is never overwritten: {final}"
        )
    years, month, day = settings.PERIODS[period]
    as_of = date(start_year + years, month, day)
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        with warehouse.writer_lock(wh, f"release:{name}"):
            _write_release(wh, partial, name, school_year, period, start_year, as_of, created)
        for path in partial.iterdir():  # read-only on disk
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        if final.exists():
            raise ReleaseError(
                f"bản phát hành đã có, không ghi đè / release exists and is never overwritten: {final}"
            )
        os.rename(partial, final)  # the release appears whole, or not at all
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _write_release(wh: Path, folder: Path, name: str, school_year: str, period: str, start_year: int,
                   as_of: date, created: datetime) -> dict:  # fmt: skip
    db = folder / RELEASE_DB
    with warehouse.connect(wh) as con:
        tables = _tables(con)
        if "cells" not in tables or not warehouse.scalar(con, _sql("count_cells"), [school_year, period]):
            raise ReleaseError(f"kho không có ô số liệu nào của kỳ {school_year} {period} / the warehouse has no "
                               f"cells for {school_year} {period}: {wh}")  # fmt: skip
        run_id, run_at = _last_run(con, tables, school_year, period, start_year)
        con.execute(_sql("attach"), [str(db)])
        try:
            _copy_tables(con, tables, school_year, period, start_year, as_of, run_id)
            counts = {t: warehouse.scalar(con, _sql("count_rows", table=t)) for t in sorted(_rel_tables(con))}
            regimes = [r[0] for r in con.execute(_sql("regimes")).fetchall()]
            boundaries = [r[0] for r in con.execute(_sql("boundaries")).fetchall()]
            files = con.execute(_sql("release_files")).fetchall()
            # Through DuckDB's writer, not a COPY: the folder's path never enters the SQL.
            con.sql(_sql("release_cells")).write_parquet(str(folder / CELLS_PARQUET))
            if "indicators" in counts:
                con.sql(_sql("release_indicators")).write_parquet(str(folder / INDICATORS_PARQUET))
            manifest = {
                "name": name,
                "school_year": school_year,
                "period": period,
                "as_of": as_of.isoformat(),
                "created_at": created.isoformat(timespec="seconds"),
                "source": {"warehouse": str(wh), "run_id": run_id, "run_at": run_at},
                "inputs": {
                    "files": [
                        {"file": f, "school_code": c, "file_hash": h, "status": s} for f, c, h, s in files
                    ],
                    "sha256": hashlib.sha256(
                        "".join(f"{f}\0{h}\n" for f, _c, h, _s in files).encode()
                    ).hexdigest(),
                },
                "catalogue": {
                    "regimes": regimes,
                    "forms": warehouse.tree_hash(SCHEMAS / "forms"),
                    "rules": warehouse.tree_hash(SCHEMAS / "sources"),
                    "codelists": warehouse.tree_hash(SCHEMAS / "codelists"),
                },
                "code": code_version(),
                "hierarchy": {"boundaries": boundaries, **warehouse.tree_hash(SCHEMAS / "hierarchy")},
                "row_counts": counts,
            }
            con.execute(_sql("release"))
            con.execute(_sql("record_release"), [name, school_year, period, manifest["created_at"], run_id,
                                                 json.dumps(manifest, ensure_ascii=False)])  # fmt: skip
            con.execute(_sql("checkpoint"))
        finally:
            con.execute(_sql("detach"))
    with duckdb.connect(str(db)) as rcon:  # the contract views, on the release's own tables
        views.create_views(rcon)
    manifest["outputs"] = {p.name: warehouse.file_sha256(p) for p in sorted(folder.iterdir())}
    (folder / MANIFEST).write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def _rel_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(_sql("rel_tables")).fetchall()]


def read_manifest(path: Path | str) -> dict:
    return json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))


def resolve(ref: str | Path, releases: Path | str | None = None) -> Path:
    """A release folder from a path, or a name in the releases folder."""
    for candidate in (Path(ref), (Path(releases) if releases else releases_dir()) / str(ref)):
        if (candidate / MANIFEST).is_file() and (candidate / CELLS_PARQUET).is_file():
            return candidate.resolve()
    raise ReleaseError(f"không có bản phát hành / release not found: {ref}")
