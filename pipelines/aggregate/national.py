"""The national run's exchange through a bucket (issue 17) and the national roll-up.

Province side (`publish_province`, at the end of each province's run, on whichever machine ran it):
the period's tables of its warehouse (EXCHANGE_TABLES: cells, indicators, the typed records and the
logs the analysts' views read, the unit tree) as Parquet under BUCKET/<school-year>/<period>/<province>/,
then `manifest.json` (rows, bytes and sha256 of each file, the run id and time). The manifest is
written last and removed first when a province publishes again: a province is in the bucket when
its manifest is.

National side (`national_rollup`): for every province expected, its manifest and files from the
bucket (each file's sha256 and rows checked against the manifest before anything is loaded), its
rows into the national database but for the largest tables (KEPT_TABLES: learner, staff,
input_ledger), whose files are kept beside it (`kept_folder`) and read through views over them;
the ministry (`bo`/`BO`) cells as the sum of the Sở cells (pipelines/sql/aggregate/national.sql)
and the ministry's indicators from them (`ministry_indicators`). A province whose run failed, whose
manifest is not there (late) or is of a format this reader does not know (`FORMAT`), or whose files
do not match it is left out and reported; the roll-up of the rest is marked incomplete (tables
`national_provinces` and `national_rollup`). The database is rebuilt whole at every roll-up, so
re-running it once a late province has arrived takes it in and clears the mark.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines import catalog, settings, warehouse
from pipelines.aggregate.context import RunContext
from pipelines.aggregate.indicators import compute_indicators
from pipelines.warehouse import objects

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
# What each province publishes: the cells and indicators, and every table the analysts' views read
# (schemas/views.yaml), of the period where the table has one; the unit tree whole.
EXCHANGE_TABLES = ("cells", "indicators", "aggregate_runs", "validation_results", "submissions", "input_ledger",
                   "files", "audit", "school", "learner", "staff", "hierarchy_units", "unit_membership")  # fmt: skip
# The largest tables (rows per learner or per input): kept as the provinces' Parquet files beside the
# national database and read through views over them, never copied into it.
KEPT_TABLES = ("learner", "staff", "input_ledger")
SHARED_TABLES = ("hierarchy_units",)  # every province holds the reference units alike: each row once
STATUS_TEXT = {
    "rolled_up": ("đã tổng hợp", "rolled up"),
    "failed": ("lượt chạy của tỉnh không thành công", "the province's run failed"),
    "missing": (
        "chưa có dữ liệu trong bucket khi tổng hợp (tỉnh nộp muộn)",
        "no manifest in the bucket at roll-up time (late province)",
    ),  # fmt: skip
    "damaged": ("tệp trong bucket không khớp manifest", "a file in the bucket does not match its manifest"),
    "refused": (
        "manifest của tỉnh có định dạng mà phiên bản edustat này không đọc được, tỉnh không được tổng hợp",
        "the province's manifest is in a format this edustat does not read, the province is not rolled up",
    ),  # fmt: skip
}


def _sql(name: str, **identifiers: str) -> str:
    return warehouse.sql("aggregate/national", name, **identifiers)


def province_prefix(school_year: str, period: str, province: str) -> str:
    """The province's folder in the bucket: <school-year>/<period>/<province>."""
    return f"{school_year}/{period}/{province}"


# --- the province side ------------------------------------------------------------------------------


def withdraw_province(bucket: str, school_year: str, period: str, province: str) -> None:
    """Remove the province's manifest (a run about to publish again: its old files are not taken
    for the new run's while it runs or if it fails)."""
    objects.delete(
        objects.open_bucket(bucket), f"{province_prefix(school_year, period, province)}/{MANIFEST}"
    )


def publish_province(warehouse_path: Path, bucket: str, school_year: str, period: str, province: str,
                     run_id: str | None = None) -> dict[str, object]:  # fmt: skip
    """Write the period's EXCHANGE_TABLES of a province's warehouse as Parquet to the bucket, then
    its manifest; returns the manifest."""
    store = objects.open_bucket(bucket)
    prefix = province_prefix(school_year, period, province)
    objects.delete(store, f"{prefix}/{MANIFEST}")
    start_year = int(school_year[:4])
    tables: dict[str, dict[str, object]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="edustat-publish-") as tmp,
        warehouse.connect(warehouse_path) as con,
    ):
        columns: dict[str, set[str]] = {}
        for table, column in con.execute(_sql("table_columns")).fetchall():
            columns.setdefault(table, set()).add(column)
        for table in EXCHANGE_TABLES:
            if table not in columns:
                continue
            path = Path(tmp) / f"{table}.parquet"
            if {"school_year", "period"} <= columns[table]:
                values: dict[str, object] = {"school_year": school_year, "period": period}
                statement = _sql("export_of_period", table=table)
            elif {"start_year", "period"} <= columns[table]:
                values, statement = (
                    {"start_year": start_year, "period": period},
                    _sql("export_of_start_year", table=table),
                )
            else:
                values, statement = {}, _sql("export_whole", table=table)
            rows = warehouse.scalar(con, statement, {**values, "path": str(path)})
            key = f"{prefix}/{table}.parquet"
            objects.put_file(store, key, path)
            tables[table] = {"key": key, "rows": int(rows or 0), "bytes": path.stat().st_size,
                             "sha256": warehouse.file_sha256(path)}  # fmt: skip
    manifest = {"format": FORMAT, "province": province, "school_year": school_year, "period": period,
                "run_id": run_id, "written_at": datetime.now(UTC).isoformat(timespec="seconds"), "tables": tables}  # fmt: skip
    objects.put_json(store, f"{prefix}/{MANIFEST}", manifest)
    log.info("tỉnh %s: %d bảng → %s / province %s: %d tables → %s", province, len(tables), bucket, province,
             len(tables), bucket)  # fmt: skip
    return manifest


# --- the national side ------------------------------------------------------------------------------


def kept_folder(target: Path) -> Path:
    """Where the roll-up keeps the provinces' KEPT_TABLES files beside TARGET: <stem>_parquet/<province>/."""
    return target.with_name(f"{target.stem}_parquet")


def _fetch(con: duckdb.DuckDBPyConnection, store: object, manifest: dict, folder: Path, kept: Path,
           columns: dict[str, list]) -> tuple[dict[str, Path], str | None]:  # fmt: skip
    """The province's files downloaded (KEPT_TABLES into KEPT, the others into FOLDER), each checked
    against the manifest (sha256, then rows) and a kept table's columns against the other provinces'
    (COLUMNS: table → the first province's); (table → file, None) or ({}, what did not match)."""
    files: dict[str, Path] = {}
    for table, entry in sorted((manifest.get("tables") or {}).items()):
        if table not in EXCHANGE_TABLES:
            continue
        path = (kept if table in KEPT_TABLES else folder) / f"{table}.parquet"
        files[table] = path
        try:
            digest = objects.get_file(store, str(entry["key"]), path)
        except FileNotFoundError:
            return {}, f"{table}.parquet: không có / not found"
        if digest != entry.get("sha256"):
            return {}, f"{table}.parquet: sha256"
        if warehouse.scalar(con, _sql("parquet_rows"), [str(path)]) != entry.get("rows"):
            return {}, f"{table}.parquet: số dòng / rows"
        if table in KEPT_TABLES:
            found = con.execute(_sql("parquet_columns"), [str(path)]).fetchall()
            if columns.setdefault(table, found) != found:
                return {}, f"{table}.parquet: cột khác tỉnh trước / columns differ from earlier provinces'"
    if "cells" not in files:
        return {}, "cells.parquet: không có / not found"
    return files, None


def _load(con: duckdb.DuckDBPyConnection, province: str, files: dict[str, Path], school_year: str,
          period: str) -> int:  # fmt: skip
    """One province's files into the national database; returns its learners."""
    con.execute(_sql("collect_cells"), {"province": province, "path": str(files["cells"]), "year": school_year,
                                        "period": period})  # fmt: skip
    for table, path in files.items():
        if table == "cells" or table in KEPT_TABLES:
            continue
        if table == "indicators":
            con.execute(_sql("load_indicators"), [str(path)])
        elif table in SHARED_TABLES:
            con.execute(_sql("load_distinct", table=table), [str(path)])
        else:
            con.execute(_sql("create_like", table=table), [str(path)])
            con.execute(_sql("load_table", table=table), [str(path)])
    if "learner" not in files:
        return 0
    return int(warehouse.scalar(con, _sql("parquet_rows"), [str(files["learner"])]) or 0)


def _take(con: duckdb.DuckDBPyConnection, store: object, province: str, failed: str | None, folder: Path,
          kept: Path, columns: dict[str, list], school_year: str, period: str) -> dict[str, object]:  # fmt: skip
    """One expected province into the national database, or why not: its books' entry (status,
    why, run id, time, learners, its kept files). A province is loaded whole or not at all (one
    transaction; its kept files removed when it is not)."""
    entry: dict[str, object] = {
        "province": province,
        "run_id": None,
        "written_at": None,
        "learners": 0,
        "why": "",
        "kept": {},
    }
    if failed is not None:
        return {**entry, "status": "failed", "why": failed}
    manifest = objects.get_json(store, f"{province_prefix(school_year, period, province)}/{MANIFEST}")
    if manifest is None or (manifest.get("school_year"), manifest.get("period")) != (school_year, period):
        return {**entry, "status": "missing"}
    entry.update(run_id=manifest.get("run_id"), written_at=manifest.get("written_at"))
    if manifest.get("format") != FORMAT:
        found = manifest.get("format")
        log.warning("tỉnh %s: manifest định dạng %r, chỉ đọc định dạng %d / province %s: manifest format %r, "
                    "only format %d is read", province, found, FORMAT, province, found, FORMAT)  # fmt: skip
        why = f"định dạng / format {found!r} (đọc được / readable: {FORMAT})"
        return {**entry, "status": "refused", "why": why}
    taken = dict(columns)
    loaded = False
    try:
        files, wrong = _fetch(con, store, manifest, folder, kept, taken)
        if wrong:
            return {**entry, "status": "damaged", "why": wrong}
        try:
            with warehouse.transaction(con):
                learners = _load(con, province, files, school_year, period)
        except duckdb.Error as exc:  # e.g. a province on another edustat version: columns that do not match
            log.warning("tỉnh %s không nạp được / province %s not loaded: %s", province, province, exc)
            return {**entry, "status": "damaged", "why": str(exc).splitlines()[0][:200]}
        loaded = True
        columns.update(taken)
        kept_files = {t: p for t, p in files.items() if t in KEPT_TABLES}
        return {**entry, "status": "rolled_up", "learners": learners, "kept": kept_files}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if not loaded:
            shutil.rmtree(kept, ignore_errors=True)


def national_rollup(bucket: str, provinces: list[str], target: Path, school_year: str, period: str,
                    out: Path | None = None, failed: Mapping[str, str] | None = None,
                    finish: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> dict[str, object]:  # fmt: skip
    """Rebuild TARGET from the bucket: every province of PROVINCES whose manifest is there (and whose
    run is not in FAILED: province → why), the ministry as the sum of the Sở; the books in
    `national_provinces` and `national_rollup`; FINISH(con) at the end (the analysts' views). Writes
    OUT/cells.parquet, cells.csv (each row with its province; none on the ministry's) and
    provinces.csv. Returns the facts: schools_/cells_/learners_<province>, cells_bo, expected,
    rolled_up, missing (province → status: reason), complete."""
    failed = dict(failed or {})
    store = objects.open_bucket(bucket)
    target.unlink(missing_ok=True)
    kept = kept_folder(target)
    shutil.rmtree(kept, ignore_errors=True)
    books: list[dict[str, object]] = []
    facts: dict[str, object] = {}
    columns: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="edustat-national-") as tmp, warehouse.connect(target) as con:
        con.execute(_sql("create_national"))
        con.execute(_sql("create_books"))
        con.execute(_sql("create_rollup"))
        for province in sorted(set(provinces)):
            books.append(_take(con, store, province, failed.get(province), Path(tmp) / province, kept / province,
                               columns, school_year, period))  # fmt: skip
        _kept_views(con, [entry["kept"] for entry in books])  # type: ignore[misc]
        con.execute(_sql("add_ministry"))
        facts["indicators_bo"] = ministry_indicators(con, school_year, period)
        # Sorted once: the database's cells and both files are written in this order.
        con.execute(_sql("sort_national"))
        con.execute(_sql("store_cells"))
        counted = {p: (s, c) for p, s, c in con.execute(_sql("per_province")).fetchall()}
        missing: dict[str, str] = {}
        for entry in books:
            province, status = str(entry["province"]), str(entry["status"])
            vi, en = STATUS_TEXT[status]
            why = f": {entry['why']}" if entry["why"] else ""
            schools, cells = counted.get(province, (0, 0))
            con.execute(_sql("insert_province"), {
                "school_year": school_year, "period": period, "province": province, "status": status,
                "reason_vi": None if status == "rolled_up" else vi + why,
                "reason_en": None if status == "rolled_up" else en + why, "run_id": entry["run_id"],
                "written_at": entry["written_at"], "schools": schools, "cells": cells, "learners": entry["learners"]})  # fmt: skip
            if status == "rolled_up":
                facts.update({f"schools_{province}": schools, f"cells_{province}": cells,
                              f"learners_{province}": entry["learners"]})  # fmt: skip
            else:
                missing[province] = f"{status}{why}"
        facts["cells_bo"] = warehouse.scalar(con, _sql("count_ministry"))
        expected, rolled_up = len(books), len(books) - len(missing)
        note_vi, note_en = rollup_note(expected, rolled_up, missing)
        con.execute(_sql("insert_rollup"), {"school_year": school_year, "period": period, "bucket": bucket,
                                            "expected": expected, "rolled_up": rolled_up, "missing": len(missing),
                                            "note_vi": note_vi, "note_en": note_en})  # fmt: skip
        if finish is not None:
            finish(con)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            con.execute(_sql("write_parquet"), [str(out / "cells.parquet")])
            con.execute(_sql("write_csv"), [str(out / "cells.csv")])
            con.execute(_sql("write_books"), [str(out / "provinces.csv")])
    facts.update(expected=expected, rolled_up=rolled_up, missing=missing, complete=not missing)
    (log.info if not missing else log.warning)("%s / %s", note_vi, note_en)
    return facts


def ministry_indicators(con: duckdb.DuckDBPyConnection, school_year: str, period: str) -> int:
    """The ministry's (bo/BO) indicators of the period, from its national cells (the sum of the
    Sở cells, add_ministry) by the indicators' own definitions (schemas/indicators/,
    aggregate/indicators.py): they run on a scratch warehouse whose one unit is the ministry, so
    that every kind is computed exactly as for a province's units, on each boundary version. The
    ministry is the same unit on every version. What the national database does not hold gives no
    value, as in a province: a cohort rate's earlier year (its denominator unknown: NULL, not 0)
    and a rate over population (no ministry population: not computed). Returns the rows added."""
    rows = con.execute(_sql("ministry_cells"), [school_year, period]).fetchall()
    if not rows:
        return 0
    regimes = sorted({str(r[2]) for r in rows})
    forms = tuple(f for regime in regimes for f in catalog.forms_for(regime, period))
    start = settings.parse_school_year(school_year)
    years, month, day = settings.PERIODS[period]
    ctx = RunContext(run_id="national", school_year=school_year, start_year=start, period=period,
                     as_of=date(start + years, month, day))  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="edustat-ministry-") as tmp,
        warehouse.connect(Path(tmp) / "ministry.duckdb") as scratch,
    ):
        # The ministry's cells as the scratch warehouse's one "school": the indicators of a school are
        # its own cells, with no re-aggregation (the scratch warehouse has no unit tree).
        warehouse.insert_rows(scratch, "cells", rows)
        compute_indicators(scratch, ctx, forms)
        found = scratch.execute(_sql("ministry_indicator_rows")).fetchall()
    warehouse.insert_rows(con, "indicators", found)
    return len(found)


def _kept_views(con: duckdb.DuckDBPyConnection, kept: list[dict[str, Path]]) -> None:
    """Each of KEPT_TABLES a view over the rolled-up provinces' kept Parquet files (in province
    order), never a copy; a table no province published is left as the schema made it (or absent)."""
    for table in KEPT_TABLES:
        paths = [str(files[table].resolve()) for files in kept if table in files]
        if not paths:
            continue
        # A view takes no bound parameter: DuckDB writes the statement, each path quoted as an SQL string.
        statement = warehouse.scalar(con, _sql("parquet_view", table=table), [paths])
        con.execute(_sql("drop_table", table=table))
        con.execute(str(statement))


def rollup_note(expected: int, rolled_up: int, missing: Mapping[str, str]) -> tuple[str, str]:
    """The roll-up's books in words (Vietnamese, English): expected = rolled up + missing."""
    if not missing:
        return (
            f"Đủ: {rolled_up}/{expected} tỉnh đã tổng hợp.",
            f"Complete: {rolled_up}/{expected} provinces rolled up.",
        )
    listed = ", ".join(f"{p} ({why})" for p, why in sorted(missing.items()))
    return (f"CHƯA ĐỦ: {rolled_up}/{expected} tỉnh đã tổng hợp, thiếu {len(missing)}: {listed}. Số liệu toàn quốc "
            f"chưa gồm các tỉnh này; chạy lại tổng hợp khi dữ liệu của tỉnh đến.",
            f"INCOMPLETE: {rolled_up}/{expected} provinces rolled up, {len(missing)} missing: {listed}. The national "
            f"figures leave these provinces out; re-run the roll-up when their data arrive.")  # fmt: skip
