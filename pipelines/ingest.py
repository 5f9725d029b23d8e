"""Ingest: read each school's JSON payload, normalise and pseudonymise it, load it into DuckDB.

Every value is stored as normalised text in stg_<entity> with its lineage (file, hash, record
index); validation types and checks it. A file that cannot be read, or that belongs to another
period or to no registered school, is rejected whole and listed; the other schools go on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines import catalog, warehouse

# LoaiDongBo (sync spec 2020): 1 = start of year (DN), 2 = changes during the year (CN, end of year).
PERIOD_SYNC_TYPE = {"DN": 1, "CN": 2}
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d/%m/%Y")
_BATCH_ROWS = 50_000


@dataclass(frozen=True)
class FileOutcome:
    file: str
    file_hash: str
    school_code: str | None
    status: str  # loaded | rejected
    reason: str | None  # rule id of the rejection
    message_vi: str | None
    message_en: str | None
    records: dict[str, int]  # entity → records in the payload (empty when unreadable)


@dataclass(frozen=True)
class IngestSummary:
    files: tuple[FileOutcome, ...]

    @property
    def loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def rejected(self) -> tuple[FileOutcome, ...]:
        return tuple(f for f in self.files if f.status == "rejected")


# --- normalisation ------------------------------------------------------------------------


def pseudonymise(value: str, key: bytes) -> str:
    """Keyed hash of an identifier or a name: stable for one key, useless without it."""
    mac = _keyed(key).copy()
    mac.update(value.encode("utf-8"))
    return mac.hexdigest()[:24]


@cache
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def normalise_code(value: Any, width: int) -> str | None:
    """1 → "01", "1.0" → "01", " 01 " → "01"; anything else stays as given (validation judges it)."""
    text = _text(value)
    if text is None:
        return None
    if "." in text and re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    if text.isdigit() and width and len(text) < width:
        text = text.zfill(width)
    return text


def normalise_flag(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("1", "1.0", "true", "có"):
        return "1"
    if lowered in ("0", "0.0", "false", "không"):
        return "0"
    return text


def normalise_integer(value: Any) -> str | None:
    text = _text(value)
    if text is not None and re.fullmatch(r"-?\d+\.0+", text):
        text = text.split(".")[0]
    return text


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]*)?")


def normalise_date(value: Any, year_month: bool) -> str | None:
    text = _text(value)
    if text is None:
        return None
    m = _ISO_DATE.fullmatch(text)
    if m:  # the common form, without strptime's cost
        try:
            parsed = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return text
        return f"{parsed:%Y-%m}" if year_month else parsed.isoformat()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return f"{parsed:%Y-%m}" if year_month else parsed.isoformat()
    return text


def normalise_field(field: catalog.Field, value: Any, key: bytes) -> str | None:
    """One payload value → normalised text for the staging table."""
    return normaliser(field, key)(value)


@cache
def normaliser(field: catalog.Field, key: bytes) -> Callable[[Any], str | None]:
    """The normalising function of one field (resolved once: ingest calls it millions of times)."""
    if field.type == "code":
        width = catalog.codelist(field.codelist).width if field.codelist else 0
        return lambda value: normalise_code(value, width)
    if field.type == "flag":
        return normalise_flag
    if field.type == "integer":
        return normalise_integer
    if field.type == "date":
        year_month = field.pii == "year_month"
        return lambda value: normalise_date(value, year_month)
    if field.type in ("subject_list", "code_list"):
        return lambda value: _normalise_list(field, value)
    if field.pii == "hash":
        return lambda value: pseudonymise(text, key) if (text := _text(value)) is not None else None
    return _text


def _normalise_list(field: catalog.Field, value: Any) -> str | None:
    """A list of codes (or of {MaMonHoc: …} objects) → comma-joined codes."""
    if value is None:
        return None
    if not isinstance(value, list):
        return _text(value)
    if field.type == "subject_list":
        value = [v.get("MaMonHoc") if isinstance(v, dict) else v for v in value]
    width = catalog.codelist(field.codelist or "subject").width
    codes = [normalise_code(v, width) for v in value]
    return ",".join(c for c in codes if c) or None


# --- files ----------------------------------------------------------------------------------


def _records(payload: dict[str, Any], source: catalog.Source) -> list[Any]:
    value = payload.get(source.json_path)
    if source.entity == "school":
        return [value] if value is not None else []
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _reject(name: str, digest: str, school: str | None, reason: str, vi: str, en: str,
            records: dict[str, int] | None = None) -> FileOutcome:  # fmt: skip
    return FileOutcome(name, digest, school, "rejected", reason, vi, en, records or {})


def check_payload(name: str, raw: bytes, start_year: int, period: str, registered: set[str],
                  seen: set[str]) -> tuple[FileOutcome, dict[str, Any] | None]:  # fmt: skip
    """Decide whether one file can be loaded; return its outcome and the parsed payload."""
    digest = hashlib.sha256(raw).hexdigest()
    # An unreadable file names no school; the usual file name <MaTruongHoc>_<NamHoc>_<LoaiDongBo>
    # still tells whose it is, so its school (and that school's Phòng) sees the rejection.
    named = name.split("_")[0].split(".")[0]
    named = named if named in registered else None
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _reject(name, digest, named, "file.unreadable",
                       f"Tệp JSON hỏng, không đọc được ({exc})",
                       f"Malformed JSON file, cannot be read ({exc})"), None  # fmt: skip
    if not isinstance(payload, dict) or not isinstance(payload.get("TruongHocInfo"), dict):
        return _reject(name, digest, named, "file.shape",
                       "Tệp không phải đối tượng JSON có TruongHocInfo",
                       "The file is not a JSON object with a TruongHocInfo object"), None  # fmt: skip
    school = normalise_code(payload.get("MaTruongHoc") or payload["TruongHocInfo"].get("MaTruongHoc"), 0)
    records = {s.entity: len(_records(payload, s)) for s in catalog.sources()}
    year = normalise_integer(payload.get("NamHoc") or payload["TruongHocInfo"].get("NamHoc"))
    sync = normalise_integer(payload.get("LoaiDongBo"))
    if school is None:
        return _reject(name, digest, None, "file.no_school_code", "Tệp không có MaTruongHoc",
                       "The file has no MaTruongHoc", records), None  # fmt: skip
    if year != str(start_year) or sync != str(PERIOD_SYNC_TYPE[period]):
        return _reject(name, digest, school, "file.wrong_period",
                       f"Tệp thuộc năm học {year}, loại đồng bộ {sync}; kỳ này cần {start_year}, {PERIOD_SYNC_TYPE[period]}",
                       f"File is for school year {year}, sync type {sync}; this run needs {start_year}, {PERIOD_SYNC_TYPE[period]}",
                       records), None  # fmt: skip
    if school not in registered:
        return _reject(name, digest, school, "file.not_in_registry",
                       f"Trường {school} không có trong danh sách trường (registry)",
                       f"School {school} is not in the school registry", records), None  # fmt: skip
    if school in seen:
        return _reject(name, digest, school, "file.duplicate_submission",
                       f"Trường {school} đã có một tệp khác trong kỳ này; tệp này bị bỏ qua",
                       f"School {school} already has another file in this period; this one is ignored",
                       records), None  # fmt: skip
    seen.add(school)
    return FileOutcome(name, digest, school, "loaded", None, None, None, records), payload


# Characters that never belong in a name or code: control characters and U+FFFD, the mark a
# wrong text encoding leaves behind.
BAD_TEXT = re.compile("[\x00-\x1f\x7f\ufffd]")


def pre_hash_problems(source: catalog.Source, values: dict[str, Any]) -> str | None:
    """Format problems of the pseudonymised fields, judged on the value before hashing (a hash
    has neither the length nor the pattern of what it replaced): "Field:check,…" or None."""
    problems = []
    for f in source.fields:
        if f.pii != "hash" or (text := _text(values.get(f.name))) is None:
            continue
        if f.max_length is not None and len(text) > f.max_length:
            problems.append(f"{f.name}:length")
        if f.pattern is not None and not re.fullmatch(f.pattern, text):
            problems.append(f"{f.name}:pattern")
        if BAD_TEXT.search(text):
            problems.append(f"{f.name}:text")
    return ",".join(problems) or None


def _staged_rows(outcome: FileOutcome, payload: dict[str, Any], source: catalog.Source,
                 key: bytes) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    normalisers = [(f.name, normaliser(f, key)) for f in source.fields]
    hashed = any(f.pii == "hash" for f in source.fields)
    for index, record in enumerate(_records(payload, source)):
        values = record if isinstance(record, dict) else {}
        fields = tuple(norm(values.get(name)) for name, norm in normalisers)
        problems = pre_hash_problems(source, values) if hashed else None
        yield (outcome.school_code, outcome.file, outcome.file_hash, index, *fields, problems)


class _StagingWriter:
    """Buffers normalised rows per entity and appends them to stg_<entity> in Arrow batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.buffers: dict[str, list[tuple[Any, ...]]] = {s.entity: [] for s in catalog.sources()}
        self.next_id = dict.fromkeys(self.buffers, 0)

    def add(self, entity: str, rows: Iterator[tuple[Any, ...]]) -> None:
        buf = self.buffers[entity]
        for row in rows:
            buf.append((self.next_id[entity], *row))
            self.next_id[entity] += 1
        if len(buf) >= _BATCH_ROWS:
            self.flush(entity)

    def flush(self, entity: str) -> None:
        buf = self.buffers[entity]
        if not buf:
            return
        source = catalog.source(entity)
        names = [n for n, _ in warehouse.staging_columns(source)]
        types = [pa.int64(), pa.string(), pa.string(), pa.string(), pa.int32()]
        types += [pa.string()] * (len(source.fields) + 1)  # the fields, then pre_hash_problems
        columns = list(zip(*buf, strict=True))
        batch = pa.table([pa.array(c, type=t) for c, t in zip(columns, types, strict=True)], names=names)
        self.con.register("_batch", batch)
        self.con.execute(f"INSERT INTO {source.table} SELECT * FROM _batch")
        self.con.unregister("_batch")
        buf.clear()

    def close(self) -> None:
        for entity in self.buffers:
            self.flush(entity)


READ_ATTEMPTS, READ_BACKOFF_SECONDS = 4, 0.1


def read_file(path: Path, attempts: int = READ_ATTEMPTS, backoff: float = READ_BACKOFF_SECONDS) -> bytes:
    """The bytes of an inbox file, retried with exponential back-off (0.1, 0.2, 0.4 s) on an OSError
    (a network share that hiccups, a file being replaced as it is read); the last error is raised."""
    for attempt in range(attempts):
        try:
            return path.read_bytes()
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


def ingest_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, start_year: int, period: str,
                 registered: set[str], key: bytes, run_id: str,
                 progress: Any = None) -> IngestSummary:  # fmt: skip
    """Load every *.json file of the inbox into fresh staging tables; record each file's outcome."""
    warehouse.create_staging_tables(con)
    writer = _StagingWriter(con)
    outcomes: list[FileOutcome] = []
    seen: set[str] = set()
    files = sorted(p for p in inbox.glob("*.json") if p.is_file())
    for n, path in enumerate(files, start=1):
        outcome, payload = check_payload(path.name, read_file(path), start_year, period, registered, seen)
        outcomes.append(outcome)
        if payload is not None:
            for source in catalog.sources():
                writer.add(source.entity, _staged_rows(outcome, payload, source, key))
        if progress and (n % 100 == 0 or n == len(files)):
            progress(f"ingest: {n}/{len(files)} tệp / files")
    writer.close()
    _record_files(con, outcomes, run_id, start_year, period)
    return IngestSummary(files=tuple(outcomes))


def _record_files(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], run_id: str,
                  start_year: int, period: str) -> None:  # fmt: skip
    """Append each file's outcome to the `files` history table (one row per file and run)."""
    entities = [s.entity for s in catalog.sources()]
    con.execute(
        "CREATE TABLE IF NOT EXISTS files (run_id VARCHAR, start_year INTEGER, period VARCHAR, "
        "file VARCHAR, file_hash VARCHAR, school_code VARCHAR, status VARCHAR, reason VARCHAR, "
        "message_vi VARCHAR, message_en VARCHAR, ingested_at TIMESTAMP, "
        + ", ".join(f"n_{e} INTEGER" for e in entities)
        + ")"
    )
    # A warehouse made before an entity was added lacks its count column (added at the end, as
    # catalog.ENTITIES lists new entities last).
    for e in entities:
        con.execute(f"ALTER TABLE files ADD COLUMN IF NOT EXISTS n_{e} INTEGER")
    now = datetime.now()
    warehouse.insert_rows(
        con,
        "files",
        [
            (
                run_id,
                start_year,
                period,
                o.file,
                o.file_hash,
                o.school_code,
                o.status,
                o.reason,
                o.message_vi,
                o.message_en,
                now,
                *(o.records.get(e) for e in entities),
            )
            for o in outcomes
        ],  # fmt: skip
    )
