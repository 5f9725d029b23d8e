"""Read-only SQL for analysts (`edustat query`): the warehouse or a release, printed or written out.

The database is opened read-only in a sandbox: DuckDB's external access disabled and its
configuration locked (SANDBOX), so a query can change nothing, read no other file (read_csv,
ATTACH, INSTALL, LOAD) and write none (COPY … TO, EXPORT); `--out` is written by edustat itself,
text as text (never a formula; CSV fields that begin with a formula character neutralised, as
OWASP's CSV-injection guidance says). It does not take the warehouse's writer lock (a run's lock
file does not stop it). DuckDB itself lets no other process open a file while a run's step has it
open for writing: then the query waits a little and, if the step goes on, says so (query a
release instead, or again when the step is done).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import settings, warehouse
from pipelines.analyst import releases as release

OUT_FORMATS = (".csv", ".parquet", ".xlsx")
EXCEL_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header
BATCH_ROWS = 65_536
MAX_WIDTH = 40  # printed characters of a column at most (files keep whole values)
# No file but the database: no read_csv, ATTACH, COPY TO, INSTALL or LOAD; no SET or PRAGMA to undo it.
SANDBOX = {"enable_external_access": False, "lock_configuration": True}
EXCEL_MAX_CHARS = 32_767  # characters in an Excel cell


class QueryError(ValueError):
    """Bad SQL, a write attempt or an unusable output; the message is in Vietnamese and English."""


class DatabaseBusy(RuntimeError):
    """A run is writing the warehouse file right now (DuckDB's own lock); bilingual message."""


@dataclass(frozen=True)
class Printed:
    columns: list[str]
    rows: list[tuple]  # at most the limit
    total: int


def check_out(out: Path) -> Path:
    """Refuse, before the query runs, an --out of an unknown format or that cannot be written."""
    if out.suffix.lower() not in OUT_FORMATS:
        raise QueryError(
            f"định dạng tệp không hỗ trợ / unsupported output {out.suffix!r} ({', '.join(OUT_FORMATS)})"
        )
    try:
        return settings.check_writable(out, "tệp --out", "the --out file", is_file=True)
    except settings.NotWritable as exc:
        raise QueryError(str(exc)) from None


def database_path(warehouse_path: Path | str | None, release_ref: Path | str | None, default: Path) -> Path:
    """The DuckDB file to query: a release (its folder, its release.duckdb, or a name in the
    releases folder), else the warehouse (default: `default`, settings.paths().warehouse)."""
    if release_ref is not None:
        ref = Path(release_ref)
        if ref.is_file():
            return ref
        try:
            return release.resolve(release_ref) / release.RELEASE_DB
        except release.ReleaseError as exc:
            raise QueryError(str(exc)) from None
    path = Path(warehouse_path) if warehouse_path else default
    if not path.is_file():
        demo = settings.paths().demo / "warehouse.duckdb"
        hint = "" if warehouse_path else (
            f" (kho của bản mẫu / the demo's warehouse: --warehouse {demo})" if demo.is_file()
            else " (chạy / run `make demo`, or give --warehouse or --release)")  # fmt: skip
        raise QueryError(f"không có kho dữ liệu / warehouse not found: {path}{hint}")
    return path


def connect_read_only(path: Path, wait_seconds: float = 10.0) -> duckdb.DuckDBPyConnection:
    """Open the file read-only in the sandbox (SANDBOX, with the warehouse's connection configuration);
    while a run's step holds the file, retry for `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path), read_only=True, config={**warehouse.engine_config(), **SANDBOX})
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise QueryError(f"không mở được / cannot open {path}: {exc}") from None
            if time.monotonic() >= deadline:
                holder = warehouse.read_lock(path)
                who = f" (run {holder.get('run_id')}, pid {holder.get('pid')})" if holder else ""
                raise DatabaseBusy(
                    f"một lượt chạy đang ghi kho dữ liệu{who}; hãy truy vấn một bản phát hành (--release) hoặc "
                    f"thử lại khi bước đó xong / a run is writing the warehouse{who}; query a release "
                    f"(--release) or try again when its step is done: {path}"
                ) from None
            time.sleep(0.5)


def _relation(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation | None:
    try:
        return con.sql(sql)
    except duckdb.Error as exc:
        text = str(exc)
        if isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in text:
            raise QueryError(
                f"edustat query chỉ đọc kho dữ liệu: không đọc, ghi tệp khác hay đổi cấu hình; dùng --out để ghi "
                f"kết quả / edustat query reads the database only: no other file read or written, no setting "
                f"changed; write results with --out: {text}"
            ) from None
        if "read-only" in text:
            raise QueryError(
                f"edustat query chỉ đọc, không thay đổi được dữ liệu / edustat query is read-only and changes "
                f"nothing: {text}"
            ) from None
        raise QueryError(f"câu lệnh SQL lỗi / bad SQL: {text}") from None


def batches(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], Iterator[pa.RecordBatch]] | None:
    """The result's column names and its record batches (streamed), or None for a statement
    without a result (SET …)."""
    rel = _relation(con, sql)
    if rel is None:
        return None
    reader = rel.to_arrow_reader(batch_size=BATCH_ROWS)

    def stream() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except duckdb.Error as exc:  # a runtime error (a failed cast …) surfaces while reading
            raise QueryError(f"câu lệnh SQL lỗi / bad SQL: {exc}") from None

    return list(rel.columns), stream()


def _rows(batch: pa.RecordBatch) -> Iterator[tuple]:
    return zip(*(col.to_pylist() for col in batch.columns), strict=True)


def collect(columns: list[str], stream: Iterator[pa.RecordBatch], limit: int) -> Printed:
    """The first `limit` rows (0: all) and the number of rows in all."""
    rows: list[tuple] = []
    total = 0
    for batch in stream:
        if limit <= 0 or len(rows) < limit:
            rows.extend(list(_rows(batch))[: (limit - len(rows)) if limit > 0 else None])
        total += batch.num_rows
    return Printed(columns, rows, total)


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def format_table(p: Printed) -> str:
    """An aligned text table (numbers to the right), then how many rows were shown of how many."""
    texts = [[_text(v) for v in row] for row in p.rows]
    texts = [[t if len(t) <= MAX_WIDTH else t[: MAX_WIDTH - 1] + "…" for t in row] for row in texts]
    numeric = [
        bool(p.rows) and all(isinstance(r[i], int | float | Decimal) and not isinstance(r[i], bool)
                             for r in p.rows if r[i] is not None)
        for i in range(len(p.columns))
    ]  # fmt: skip
    widths = [max([len(c), *(len(r[i]) for r in texts)]) for i, c in enumerate(p.columns)]

    def line(values: list[str]) -> str:
        cells = [
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out = [line(list(p.columns)), line(["-" * w for w in widths]), *(line(r) for r in texts)]
    if len(p.rows) < p.total:
        out.append(
            f"… {len(p.rows)} / {p.total} dòng / rows (--limit 0 hoặc --out để có tất cả / or --out for all)"
        )
    else:
        out.append(f"{p.total} dòng / rows")
    return "\n".join(out)


def write(columns: list[str], stream: Iterator[pa.RecordBatch], out: Path) -> int:
    """Write the result to out (.csv UTF-8 with a BOM for Excel, .parquet, .xlsx); return the rows."""
    suffix = check_out(out).suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        n = {".csv": _write_csv, ".parquet": _write_parquet, ".xlsx": _write_xlsx}[suffix](
            columns, stream, partial
        )
        partial.replace(out)  # a file is either whole or absent
    finally:
        partial.unlink(missing_ok=True)
    return n


def _csv_field(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # text (from inputs, the registry or the query) is the only risk
        return settings.neutralise(value)
    return _text(value)


def _write_csv(columns: list[str], stream: Iterator[pa.RecordBatch], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([settings.neutralise(c) for c in columns])
        for batch in stream:
            writer.writerows(tuple(_csv_field(v) for v in row) for row in _rows(batch))
            n += batch.num_rows
    return n


def _write_parquet(columns: list[str], stream: Iterator[pa.RecordBatch], path: Path) -> int:
    import pyarrow.parquet as pq

    n, writer = 0, None
    try:
        for batch in stream:
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_batch(batch)
            n += batch.num_rows
        if writer is None:  # no rows: an empty file with the columns (as text)
            pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), path)
    finally:
        if writer is not None:
            writer.close()
    return n


def _write_xlsx(columns: list[str], stream: Iterator[pa.RecordBatch], path: Path) -> int:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("query")

    def cells(values: Iterator[object] | list[object]) -> list[object]:
        out = []
        for value in values:
            value = _cell(value)
            if isinstance(value, str):  # a string cell, whatever it starts with: never a formula
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_MAX_CHARS])
                cell.data_type = "s"
                out.append(cell)
            else:
                out.append(value)
        return out

    ws.append(cells(columns))
    n = 0
    for batch in stream:
        n += batch.num_rows
        if n > EXCEL_MAX_ROWS:
            raise QueryError(f"quá nhiều dòng cho Excel (tối đa {EXCEL_MAX_ROWS}); hãy dùng .csv hoặc .parquet / too "
                             f"many rows for Excel (at most {EXCEL_MAX_ROWS}): use .csv or .parquet")  # fmt: skip
        for row in _rows(batch):
            ws.append(cells(row))
    wb.save(path)
    return n


def _cell(value: object) -> object:
    """A value openpyxl writes as such (numbers, booleans, dates without a time zone), else its text."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat(sep=" ")
    if value is None or isinstance(value, int | float | str | bool | date | Decimal):
        return value
    return str(value)
