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

from pipelines import catalog, warehouse, workflow

# LoaiDongBo (sync spec 2020): 1 = start of year (DN), 2 = changes during the year (CN, end of year).
PERIOD_SYNC_TYPE = {"DN": 1, "CN": 2}
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d/%m/%Y")
_BATCH_ROWS = 50_000


@dataclass(frozen=True)
class FileOutcome:
    file: str
    file_hash: str
    school_code: str | None
    status: str  # loaded | rejected | superseded (an older version) | unchanged (a copy of the current one)
    reason: str | None  # rule id of the rejection
    message_vi: str | None
    message_en: str | None
    records: dict[str, int]  # entity → records in the payload (empty when unreadable)


@dataclass(frozen=True)
class IngestSummary:
    files: tuple[FileOutcome, ...]
    parsed: int = 0  # files parsed; a school's unchanged, already staged file is not read again
    changed_schools: tuple[str, ...] = ()  # schools whose staged rows this ingest replaced, added or removed

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


def check_payload(name: str, raw: bytes, start_year: int, period: str,
                  registered: set[str]) -> tuple[FileOutcome, dict[str, Any] | None]:  # fmt: skip
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
    # A second file of a school is no error: it is a new version, or an older copy (ingest_inbox).
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
        # New rows continue after the rows kept from the last ingest (row_id is unique per table).
        self.next_id = {
            s.entity: warehouse.scalar(con, f"SELECT coalesce(max(row_id) + 1, 0) FROM {s.table}")
            for s in catalog.sources()
        }

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


# --- re-runs: keeping the staged rows of the schools whose file did not change --------------------


def staging_fingerprint(start_year: int, period: str, key: bytes) -> str:
    """What staged rows depend on besides a file's bytes: the period, the pseudonym key and the code
    and schemas that normalise them. Staged rows made under another fingerprint are not reused."""
    from pipelines.release import code_digest

    key_id = hashlib.sha256(key).hexdigest()
    return hashlib.sha256(f"{start_year}\0{period}\0{key_id}\0{code_digest()}".encode()).hexdigest()


@dataclass
class _Staged:
    """The staging tables as the last ingest left them: reusable per (school, file hash) when that
    ingest had the same fingerprint; and the outcome of every file loaded before in the period."""

    reusable: dict[str, str]  # school → sha256 of the file whose rows are staged
    loaded: dict[str, tuple[str, dict[str, int]]]  # sha256 → (school, records) of a file loaded before

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, fingerprint: str, start_year: int, period: str,
             reuse: bool = True) -> _Staged:  # fmt: skip
        """The staging tables to build on; reuse=False (edustat run --full): empty ones."""
        con.execute("CREATE TABLE IF NOT EXISTS staging_state (fingerprint VARCHAR)")
        same = warehouse.scalar(
            con, "SELECT count(*) FROM staging_state WHERE fingerprint = ?", [fingerprint]
        )
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if not (reuse and same) or not {s.table for s in catalog.sources()} <= tables:
            warehouse.create_staging_tables(con)
            con.execute("DELETE FROM staging_state")
            con.execute("INSERT INTO staging_state VALUES (?)", [fingerprint])
            return cls({}, {})
        reusable = dict(con.execute("SELECT DISTINCT school_code, file_hash FROM stg_school").fetchall())
        entities = [s.entity for s in catalog.sources()]
        loaded = {}
        if "files" in tables:
            latest = ", ".join(f"arg_max(n_{e}, ingested_at)" for e in entities)
            for digest, school, *n in con.execute(
                f"SELECT file_hash, arg_max(school_code, ingested_at), {latest} FROM files "
                "WHERE status = 'loaded' AND start_year = ? AND period = ? GROUP BY file_hash",
                [start_year, period],
            ).fetchall():
                loaded[digest] = (school, {e: v for e, v in zip(entities, n, strict=True) if v is not None})
        return cls(reusable, loaded)

    def outcome(self, name: str, digest: str, registered: set[str]) -> FileOutcome | None:
        """The outcome of a file loaded before (its bytes decide it), without parsing it again."""
        school, records = self.loaded.get(digest, (None, {}))
        if school is None or school not in registered:
            return None
        return FileOutcome(name, digest, school, "loaded", None, None, None, records)


def ingest_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, start_year: int, period: str,
                 registered: set[str], key: bytes, run_id: str,
                 progress: Any = None, reuse: bool = True) -> IngestSummary:  # fmt: skip
    """Load the current version of each school's file into the staging tables; record every new
    version as a submission (pipelines/workflow.py) and each file's outcome.

    A file that arrived (modification time) after the school's current version and differs from it
    is a new version; the newest one is staged. Older files and unchanged copies are listed as
    `superseded` / `unchanged`; a new file of a locked school is rejected. A school whose current
    version is no longer in the inbox is staged from the submission store.

    A re-run parses only what changed: a file loaded before is known by its hash, and a school
    whose staged rows came from the same file (under the same staging_fingerprint) keeps them."""
    fingerprint = staging_fingerprint(start_year, period, key)
    before = _Staged.read(con, fingerprint, start_year, period, reuse)
    writer = _StagingWriter(con)
    parsed = 0
    outcomes: list[FileOutcome] = []
    school_year = f"{start_year}-{start_year + 1}"
    store = workflow.store_dir(con)
    current = workflow.current_submissions(con, school_year, period)
    locked = workflow.locked_schools(con, school_year, period)
    now = datetime.now()
    arrivals: list[workflow.Arrival] = []
    staged: dict[str, str] = {}  # school → sha256 of the file staged
    # Newest first: a school's latest file is the one staged; older ones can only be versions.
    files = sorted(((workflow.arrival_time(p, now), p) for p in inbox.glob("*.json") if p.is_file()),
                   key=lambda t: (t[0], t[1].name), reverse=True)  # fmt: skip

    def check(name: str, raw: bytes) -> tuple[FileOutcome, dict[str, Any] | None]:
        """check_payload, or the known outcome of a file loaded before (payload parsed when staged)."""
        nonlocal parsed
        known = before.outcome(name, hashlib.sha256(raw).hexdigest(), registered)
        if known is not None:
            return known, None
        parsed += 1
        return check_payload(name, raw, start_year, period, registered)

    def stage(outcome: FileOutcome, payload: dict[str, Any] | None, raw: bytes) -> None:
        school = str(outcome.school_code)
        staged[school] = outcome.file_hash
        outcomes.append(outcome)
        if before.reusable.get(school) == outcome.file_hash:
            return  # its rows are staged already
        if payload is None:
            nonlocal parsed
            parsed += 1
            payload = check_payload(outcome.file, raw, start_year, period, registered)[1]
        for source in catalog.sources():
            writer.add(source.entity, _staged_rows(outcome, payload, source, key))

    for n, (arrived, path) in enumerate(files, start=1):
        raw = read_file(path)
        outcome, payload = check(path.name, raw)
        if progress and (n % 100 == 0 or n == len(files)):
            progress(f"ingest: {n}/{len(files)} tệp / files")
        if outcome.status != "loaded":
            outcomes.append(outcome)
            continue
        school, digest = str(outcome.school_code), outcome.file_hash
        cur = current.get(school)
        new = cur is None or arrived > cur.arrived_at
        if new and school in locked and (cur is None or digest != cur.sha256):
            outcomes.append(_reject(path.name, digest, school, "file.locked",
                                    f"Báo cáo của trường {school} (hoặc Phòng, Sở của trường) đã khóa; tệp mới không được nhận "
                                    "cho đến khi mở khóa",
                                    f"The report of school {school} (or of its Phòng or Sở) is locked; no new file is "
                                    "taken until it is unlocked", outcome.records))  # fmt: skip
            continue
        if new:
            workflow.store_put(store, digest, raw)
            arrivals.append(workflow.Arrival(school, path.name, digest, arrived))
        if school not in staged and (new or digest == cur.sha256):
            stage(outcome, payload, raw)
        else:
            status = (
                "unchanged" if digest == staged.get(school, cur.sha256 if cur else None) else "superseded"
            )
            outcomes.append(FileOutcome(path.name, digest, school, status, None, None, None, outcome.records))
    for sub in workflow.register_versions(con, school_year, period, arrivals, run_id, now):
        current[sub.school_code] = sub
    # Schools whose current version has left the inbox: from the store.
    for school, sub in sorted(current.items()):
        if school in staged or school not in registered:
            continue
        try:
            raw = workflow.store_get(store, sub.sha256)
        except OSError as exc:
            outcomes.append(_reject(sub.file, sub.sha256, school, "file.unreadable",
                                    f"Không đọc được bản lưu của phiên bản {sub.version} ({exc})",
                                    f"The stored copy of version {sub.version} cannot be read ({exc})"))  # fmt: skip
            continue
        outcome, payload = check(sub.file, raw)
        if outcome.status != "loaded":
            outcomes.append(outcome)
        else:
            stage(outcome, payload, raw)
    writer.close()
    # Staged rows of a school whose file changed or that is no longer staged go.
    changed = sorted(
        {c for c, h in before.reusable.items() if staged.get(c) != h}
        | {c for c, h in staged.items() if before.reusable.get(c) != h}
    )
    if before.reusable:
        con.execute("CREATE OR REPLACE TEMP TABLE _staged_now (school_code VARCHAR, file_hash VARCHAR)")
        warehouse.insert_rows(con, "_staged_now", list(staged.items()))
        for source in catalog.sources():
            con.execute(
                f"DELETE FROM {source.table} WHERE (school_code, file_hash) NOT IN "
                "(SELECT school_code, file_hash FROM _staged_now)"
            )
    _record_files(con, outcomes, run_id, start_year, period)
    return IngestSummary(files=tuple(outcomes), parsed=parsed, changed_schools=tuple(changed))


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
