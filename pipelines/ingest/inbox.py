"""Ingest: every entry under the inbox to exactly one outcome; each school's state for the period
staged, every new version kept as a submission.

The walk (walk.py) lists every entry; the data files are parsed in a process pool (parse.py:
identity, shape, limits; records as Arrow columns, names and identifiers hashed; each loadable
file encrypted ahead for the submission store; large lists normalised there too), normalised in
DuckDB (extract.py) and staged per school as its state for the period (sync.py: a whole state, or a
start of year and its change files applied in order). A file that cannot be read, that names another school than its name
does, that belongs to another period or to no registered school, or that is over a limit, is
rejected whole and listed; the other schools go on. Every entry, and every record of the files
rejected or superseded, goes to the input ledger (ledger.py); the staged records go there after
validation.

A re-run stages again only the schools whose state changed (a school keeps its staged rows when
its state is made of the same files, under the same staging fingerprint).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines import catalog, warehouse
from pipelines.ingest import extract, ledger, parse, submissions, sync
from pipelines.ingest.limits import Limits, from_environment
from pipelines.ingest.normalise import normalise_code, normalise_integer
from pipelines.ingest.payload import FileOutcome
from pipelines.ingest.staging import StagedState, read_file, staging_fingerprint
from pipelines.ingest.walk import Entry, walk_inbox
from pipelines.processes import worker_pool
from pipelines.progress import track

log = logging.getLogger(__name__)
BATCH_FILES = 40  # files per worker task
# A file name that starts with a school code (6-15 letters and digits, at least one digit, then "_" or
# "."), as the national database's export names them ("66643001_2024_1.json"): that code must be the
# file's MaTruongHoc (status: inferred, the sync spec names no file convention). Other names
# ("truong-a.json") say nothing.
_NAMED = re.compile(r"(?=[0-9A-Za-z]*[0-9])[0-9A-Za-z]{6,15}")


@dataclass(frozen=True)
class IngestSummary:
    files: tuple[FileOutcome, ...]
    parsed: int = 0  # files parsed (every data file of the inbox, and stored versions a state needs)
    changed_schools: tuple[str, ...] = ()  # schools whose staged rows this ingest replaced, added or removed
    # The files that became a school's new version, in order of arrival, recorded at `recorded_at`
    # (the reporting window moves those schools to `received`).
    new_versions: tuple[submissions.Submission, ...] = ()
    recorded_at: datetime | None = None
    entries: int = 0  # entries found under the inbox (each has one ledger row)

    @property
    def loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def rejected(self) -> tuple[FileOutcome, ...]:
        return tuple(f for f in self.files if f.status == "rejected")


@dataclass
class _File:
    """One file of the run: an inbox entry, or a stored version a state needs."""

    file_id: int
    name: str
    stamp: datetime
    entry: Entry | None = None
    stored: bytes | None = None
    parsed: parse.Parsed | None = None
    school: str | None = None
    sync: int | None = None
    outcome: str | None = None  # ledger outcome once decided
    reason: str | None = None
    vi: str | None = None
    en: str | None = None

    def decide(self, outcome: str, reason: str | None, vi: str | None, en: str | None) -> None:
        self.outcome, self.reason, self.vi, self.en = outcome, reason, vi, en


def _read_job(job: tuple) -> tuple[int, bytes | None, str | None]:
    from pipelines.ingest.staging import read_file
    from pipelines.ingest.walk import read_entry

    file_id, entry, stored, limits = job
    if stored is not None:
        return file_id, stored, None
    try:
        raw = read_file(entry.path) if entry.member is None else read_entry(entry, limits)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the same outcome for the user
        return file_id, None, str(exc)
    return file_id, raw, None


def _parse_jobs(
    jobs: list[tuple],
    limits: Limits,
    layout: parse.Layout,
    store: Path | None = None,
    key: bytes = b"",
) -> tuple[list[parse.Parsed], dict[str, tuple[bool, bytes]]]:
    """A worker's task: read its files, parse them (parse.parse_tables) and normalise their records
    in its own DuckDB (extract.normalised: the main process only appends them); the inbox files that
    could be loaded are encrypted for the store ahead (submissions.store_prepare)."""
    read, failed = [], []
    for job in jobs:
        file_id, raw, error = _read_job((*job, limits))
        if raw is None:
            p = parse.Parsed(file_id, "")
            failed.append(parse.reject(p, "file.unreadable", f"Không đọc được tệp ({error})",
                                        f"The file cannot be read ({error})"))  # fmt: skip
        else:
            read.append((file_id, raw))
    found, tables = parse.parse_tables(read, limits, layout, key)
    con = extract.worker_connection()
    ipc = {e: extract.worker_batch(con, e, t, key, limits) for e, t in tables.items()}
    if store is not None:
        inbox = {job[0] for job in jobs if job[2] is None}
        raws = dict(read)
        for p in found:
            if p.ok and p.file_id in inbox:
                submissions.store_prepare(store, p.sha256, raws[p.file_id])
    return failed + found, ipc


def _parse_all(
    files: list[_File], limits: Limits, processes: int, store: Path | None = None, key: bytes = b""
) -> dict[str, list[tuple[bool, bytes]]]:
    """Parse every file (in a pool of processes when there are enough); sets each file's `parsed`."""
    layout = extract.layout()
    jobs = [(f.file_id, f.entry, f.stored) for f in files]
    batches = [jobs[i : i + BATCH_FILES] for i in range(0, len(jobs), BATCH_FILES)]
    by_id = {f.file_id: f for f in files}
    ipcs: dict[str, list[tuple[bool, bytes]]] = {}

    def take(result: tuple[list[parse.Parsed], dict[str, tuple[bool, bytes]]]) -> None:
        for p in result[0]:
            by_id[p.file_id].parsed = p
        for entity, data in result[1].items():
            ipcs.setdefault(entity, []).append(data)

    with track("ingest: đọc tệp / parsing files", len(batches)) as advance:
        if processes > 1 and len(batches) > 1:
            # fork: the workers inherit the loaded modules; they touch no DuckDB connection.
            with worker_pool(processes, "fork") as pool:  # workers die with this process
                n = len(batches)
                for result in pool.map(
                    _parse_jobs, batches, [limits] * n, [layout] * n, [store] * n, [key] * n
                ):
                    advance()
                    take(result)
        else:
            for batch in batches:
                advance()
                take(_parse_jobs(batch, limits, layout, store, key))
    return ipcs


def _stamp(value: object, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", ""))
        except ValueError:
            return fallback
    return fallback


def _identify(f: _File, start_year: int, period: str, registered: set[str],
              not_expected: dict[str, tuple[str, str, str]]) -> None:  # fmt: skip
    """Decide what a parsed file is: its school and sync type, or its rejection."""
    p = f.parsed
    assert p is not None
    if not p.ok:
        f.decide("rejected", p.reason, p.message_vi, p.message_en)
        return
    top, info = normalise_code(p.school, 0), normalise_code(p.info_school, 0)
    if top and info and top != info:
        f.decide("rejected", "file.code_mismatch",
                 f"MaTruongHoc của tệp ({top}) khác MaTruongHoc trong TruongHocInfo ({info}); không nạp gì",
                 f"The file's MaTruongHoc ({top}) differs from TruongHocInfo's ({info}); nothing is loaded")  # fmt: skip
        return
    code = top or info
    if code is None:
        f.decide("rejected", "file.no_school_code", "Tệp không có MaTruongHoc", "The file has no MaTruongHoc")
        return
    if code not in registered and code.isdigit():  # a code that lost its leading zeros
        match = [r for r in registered if r.lstrip("0") == code.lstrip("0")]
        code = match[0] if len(match) == 1 else code
    stem = f.name.rsplit("/", 1)[-1].rsplit("!", 1)[-1].split("_")[0].split(".")[0]
    if f.entry is not None and _NAMED.fullmatch(stem) and stem.lstrip("0") != code.lstrip("0"):
        f.school = stem if stem in registered else None
        f.decide("rejected", "file.name_mismatch",
                 f"Tên tệp ghi trường {stem} nhưng MaTruongHoc trong tệp là {code}; không nạp gì của tệp",
                 f"The file's name says school {stem} but its MaTruongHoc is {code}; nothing of it is loaded")  # fmt: skip
        return
    f.school = code
    year, sync_text = normalise_integer(p.year), normalise_integer(p.sync)
    if year != str(start_year):
        f.decide("rejected", "file.wrong_period", f"Tệp thuộc năm học {year}; kỳ này cần {start_year}",
                 f"The file is for school year {year}; this run needs {start_year}")  # fmt: skip
        return
    kind = int(sync_text) if sync_text in ("1", "2", "3", "4") else None
    f.sync = kind
    if kind is None:
        f.decide("rejected", "file.sync_type", f"Loại đồng bộ (LoaiDongBo) {sync_text} không hợp lệ (1, 2, 3, 4)",
                 f"Sync type (LoaiDongBo) {sync_text} is not valid (1, 2, 3, 4)")  # fmt: skip
        return
    if kind == sync.EARLIER:
        f.decide("not_expected", "sync.earlier_years",
                 "Dữ liệu các năm trước (LoaiDongBo 4): không nạp; báo cáo năm đó bằng kỳ của năm đó",
                 "Earlier years' data (LoaiDongBo 4): not loaded; report that year with its own period")  # fmt: skip
        return
    if period == "DN" and kind != sync.START:
        what = (
            "phát sinh trong năm, áp dụng khi lập cuối năm",
            "changes during the year, applied to the end of year",
        )
        if kind == sync.END:
            what = ("cuối năm", "the end of year")
        f.decide("not_expected", "sync.other_period", f"Tệp {what[0]} (LoaiDongBo {kind}): không thuộc kỳ đầu năm",
                 f"A file of {what[1]} (LoaiDongBo {kind}): not part of the start of year")  # fmt: skip
        return
    if period == "CN" and kind == sync.START:
        f.decide("not_expected", "sync.other_period", "Tệp đầu năm (LoaiDongBo 1): không thuộc kỳ cuối năm",
                 "A start-of-year file (LoaiDongBo 1): not part of the end of year")  # fmt: skip
        return
    if code in not_expected:
        reason, vi, en = not_expected[code]
        f.decide("not_expected", "school.not_expected", f"Trường {code}: {vi}", f"School {code}: {en}")
        return
    if code not in registered:
        f.decide("rejected", "file.not_in_registry", f"Trường {code} không có trong danh sách trường (registry)",
                 f"School {code} is not in the school registry")  # fmt: skip


def ingest_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, start_year: int, period: str,
                 registered: set[str], key: bytes, run_id: str, reuse: bool = True, processes: int = 1,
                 limits: Limits | None = None) -> IngestSummary:  # fmt: skip
    """Every entry of the inbox to one outcome; each registered school's state for the period staged
    (only the schools whose state changed, on a re-run); new versions recorded; the ledger written
    (entries, and the records of files not loaded; the loaded records follow validation)."""
    limits = limits or from_environment()
    school_year = f"{start_year}-{start_year + 1}"
    now = datetime.now()
    fingerprint = hashlib.sha256(
        f"{staging_fingerprint(start_year, period, key)}\0{limits}".encode()
    ).hexdigest()
    before = StagedState.read(con, fingerprint, start_year, period, run_id, reuse)
    not_expected = _registry_not_expected(con, run_id)
    entries = walk_inbox(inbox, limits)
    files = [_File(i, e.name, min(e.mtime or now, now), entry=e) for i, e in enumerate(entries)]
    for f in files:
        if f.entry.kind != "data":
            f.decide(f.entry.kind, f.entry.reason, f.entry.message_vi, f.entry.message_en)
    # A file loaded before in the period (by its bytes' hash) is not parsed again when its school
    # keeps its staged state (the start of year only: there one sync type is loadable).
    known = _loaded_before(con, start_year, period) if reuse and period == "DN" else {}
    cached: set[int] = set()
    for f in files:
        if known and f.outcome is None and f.entry.member is None and f.entry.path is not None:
            try:
                raw = read_file(f.entry.path)
            except OSError:
                continue
            digest = hashlib.sha256(raw).hexdigest()
            if digest in known and len(raw) <= limits.max_file_bytes:
                _from_cache(f, digest, known, start_year, cached)
    store = submissions.store_dir(con)
    ipcs = _parse_all(
        [f for f in files if f.outcome is None and f.parsed is None], limits, processes, store, key
    )
    for f in files:
        if f.outcome is None:
            _identify(f, start_year, period, registered, not_expected)
            f.stamp = _stamp(f.parsed.stamp, f.stamp) if f.parsed and f.parsed.ok else f.stamp
    # Stored versions a state needs: this period's versions no longer in the inbox, and for the end
    # of year the start-of-year version changes apply to.
    in_inbox = {f.parsed.sha256 for f in files if f.parsed and f.parsed.ok}
    names = {f.name for f in files}
    extra: list[_File] = []
    wanted = [
        (s, False) for s in submissions.period_versions(con, school_year, period) if s.sha256 not in in_inbox
    ]
    if period == "CN":
        wanted += [(s, True) for s in submissions.current_submissions(con, school_year, "DN").values()]
    for sub, base in wanted:
        if sub.school_code not in registered:
            continue
        try:
            raw = submissions.store_get(store, sub.sha256)
        except OSError:
            continue
        name = sub.file if sub.file not in names else f"{sub.file}@v{sub.version}"
        extra.append(_File(len(files) + len(extra), name, sub.arrived_at, stored=raw))
        extra[-1].sync = -1 if base else None  # marks the base until identified
        if not base and sub.sha256 in known:
            _from_cache(extra[-1], sub.sha256, known, start_year, cached)
    if extra:
        for entity, data in _parse_all([f for f in extra if f.parsed is None], limits, 1, None, key).items():
            ipcs.setdefault(entity, []).extend(data)
    bases: dict[str, _File] = {}
    for f in extra:
        is_base = f.sync == -1
        _identify(f, start_year, "DN" if is_base else period, registered, {})
        if f.outcome is None and is_base:
            bases[f.school] = f
    # The candidates of each school, and its state.
    current = submissions.current_submissions(con, school_year, period)
    locked = submissions.locked_schools(con, school_year, period)
    if cached:  # files taken from the cache whose school's state may change are parsed after all
        redo = _redo(files, extra, cached, bases, locked)
        for entity, data in _parse_all(redo, limits, processes, store, key).items():
            ipcs.setdefault(entity, []).extend(data)
        for f in redo:
            _identify(f, start_year, period, registered, not_expected if f.entry is not None else {})
            if f.entry is not None:
                f.stamp = _stamp(f.parsed.stamp, f.stamp) if f.parsed and f.parsed.ok else f.stamp
    by_school: dict[str, list[sync.Candidate]] = {}
    by_id = {f.file_id: f for f in (*files, *extra)}
    for f in (*files, *extra):
        if f.outcome is not None or f.school is None or f.file_id in {b.file_id for b in bases.values()}:
            continue
        cur = current.get(f.school)
        if (
            f.entry is not None
            and f.school in locked
            and (cur is None or (f.parsed.sha256 != cur.sha256 and f.stamp > cur.arrived_at))
        ):
            f.decide("rejected", "file.locked",
                     f"Báo cáo của trường {f.school} (hoặc Phòng, Sở của trường) đã khóa; tệp mới không được nhận "
                     "cho đến khi mở khóa",
                     f"The report of school {f.school} (or of its Phòng or Sở) is locked; no new file is taken "
                     "until it is unlocked")  # fmt: skip
            continue
        by_school.setdefault(f.school, []).append(
            sync.Candidate(f.file_id, f.name, f.parsed.sha256, f.sync, f.stamp, from_store=f.entry is None)
        )
    plans = {s: _plan(cands, period, bases.get(s), by_id) for s, cands in by_school.items()}
    # Normalise the files of the schools whose state changed; a file over a limit is rejected and its
    # school planned again without it.
    restage = {s for s, p in plans.items() if not _reusable(before, s, p)}
    # The cached files of a state staged again: parsed now for their records (their identity stays).
    late = [by_id[c.file_id] for s in sorted(restage) for c in plans[s].chain if c.file_id in cached]
    if late:
        cached.difference_update(f.file_id for f in late)
        for f in late:
            f.parsed = None
        for entity, data in _parse_all(late, limits, processes, store, key).items():
            ipcs.setdefault(entity, []).extend(data)
    needed = {c.file_id for s in restage for c in by_school[s]} | {
        bases[s].file_id for s in restage if s in bases
    }
    extract.create_tables(con)
    con.execute(warehouse.sql("ingest/extract", "macros"))
    rows = {e: extract.append_all(con, e, batches, key, limits, needed) for e, batches in ipcs.items()}
    for file_id, (entity, what, index) in extract.over_limit(con).items():
        f = by_id[file_id]
        field_name, kind = what.split(":")
        path = catalog.source(entity).json_path
        if kind == "text":
            vi, en = _limit_text(f"{path}[{index}].{field_name}", "text", limits)
        else:
            vi, en = _limit_text(f"{path}[{index}].{field_name}", "number", limits)
        f.decide("rejected", f"limit.{kind}", vi, en)
        if f.school in by_school:
            by_school[f.school] = [c for c in by_school[f.school] if c.file_id != file_id]
            plans[f.school] = _plan(by_school[f.school], period, bases.get(f.school), by_id)
    # Versions: every inbox file of a state that arrived after the school's current version.
    arrivals = [submissions.Arrival(s, by_id[c.file_id].name, c.sha256, c.stamp)
                for s, p in sorted(plans.items()) for c in p.chain if not c.from_store and not c.base]  # fmt: skip
    for p in plans.values():
        for c in p.chain:
            if not c.from_store and not c.base:
                if not submissions.store_take(store, c.sha256):
                    submissions.store_put(store, c.sha256, _bytes_of(by_id[c.file_id], limits))
    submissions.store_drop_pending(store)
    new_versions = submissions.register_versions(con, school_year, period, arrivals, run_id, now)
    # Stage the changed states.
    chain_rows, staged = [], {}
    for s, p in sorted(plans.items()):
        if not p.chain:
            continue
        state = _state_hash(p)
        staged[s] = state
        if s in restage:
            chain_rows += [
                (c.file_id, s, by_id[c.file_id].name, state, i, len(p.chain)) for i, c in enumerate(p.chain)
            ]
    changed = sorted({c for c, h in before.reusable.items() if staged.get(c) != h} | (restage & set(staged)))
    con.execute(warehouse.sql("ingest/extract", "chain"))
    warehouse.insert_rows(con, "_chain", chain_rows)
    for source in catalog.sources():
        con.execute(warehouse.sql("ingest/staging", "delete_schools", table=source.table), [changed])
        extract.stage(con, source.entity, rows.get(source.entity))
    replaced = con.execute(warehouse.sql("ingest/extract", "replaced")).fetchall()
    extract.drop_tables(con)
    # Outcomes: files table, ledger.
    outcomes, rows = _outcomes(files, extra, plans, by_id, bases)
    rows += [("record", f, pos, s, "superseded", "record.changed", f"Được thay bằng bản ghi của tệp {by}",
              f"Replaced by a record of the file {by}") for s, f, pos, by in replaced]  # fmt: skip
    ledger.clear_input(con, run_id, "inbox_entry")
    con.execute(warehouse.sql("ingest/ledger", "clear_ingest_records"), [run_id])
    ledger.add(con, run_id, school_year, period, rows)
    _record_files(con, outcomes, run_id, start_year, period)
    n_parsed = sum(1 for f in (*files, *extra) if f.parsed is not None and f.file_id not in cached)
    log.info("ingest: %d mục / entries, %d tệp đọc / files parsed, %d trường nạp lại / schools restaged",
             len(entries), n_parsed, len(restage))  # fmt: skip
    return IngestSummary(files=tuple(outcomes), parsed=n_parsed, changed_schools=tuple(changed),
                         new_versions=tuple(new_versions), recorded_at=now, entries=len(entries))  # fmt: skip


def _loaded_before(con: duckdb.DuckDBPyConnection, start_year: int, period: str) -> dict[str, tuple]:
    """sha256 → (school, {entity: records}) of every file loaded before in the period."""
    entities = [s.entity for s in catalog.sources()]
    rows = con.execute(
        warehouse.sql("ingest/staging", "loaded_before"), {"start_year": start_year, "period": period}
    )
    return {digest: (school, {e: int(n or 0) for e, n in zip(entities, ns, strict=True)})
            for digest, school, *ns in rows.fetchall() if school is not None}  # fmt: skip


def _from_cache(f: _File, digest: str, known: dict[str, tuple], start_year: int, cached: set[int]) -> None:
    """What a file loaded before was, without parsing it: its school, year, sync type and records."""
    school, records = known[digest]
    f.parsed = parse.Parsed(f.file_id, digest, school=school, info_school=school, year=start_year,
                            sync=sync.START, records=dict(records))  # fmt: skip
    cached.add(f.file_id)


def _redo(files: list[_File], extra: list[_File], cached: set[int], bases: dict[str, _File],
          locked: set[str]) -> list[_File]:  # fmt: skip
    """The cached inbox files to parse before planning (reset): those of a school with another
    candidate file, or locked. (Those of a state staged again are parsed after planning.)"""
    base_ids = {b.file_id for b in bases.values()}
    candidates = [f for f in (*files, *extra) if f.outcome is None and f.school and f.file_id not in base_ids]
    count: dict[str, int] = {}
    for f in candidates:
        count[f.school] = count.get(f.school, 0) + 1
    redo = []
    for f in candidates:
        if f.file_id not in cached:
            continue
        # An inbox file's place among its school's files needs its own time stamp (a stored
        # version's is its arrival); a locked school's files are judged by it too.
        if f.entry is not None and (count[f.school] > 1 or f.school in locked):
            redo.append(f)
    for f in redo:
        cached.discard(f.file_id)
        f.parsed, f.school, f.sync = None, None, None
    return redo


def _limit_text(where: str, kind: str, limits: Limits) -> tuple[str, str]:
    if kind == "text":
        return (f"{where}: chuỗi dài quá {limits.max_text_chars:,} ký tự (đặt EDUSTAT_MAX_TEXT_CHARS, tối đa 32.767)",
                f"{where}: text longer than {limits.max_text_chars:,} characters (set EDUSTAT_MAX_TEXT_CHARS, at most 32,767)")  # fmt: skip
    return (f"{where}: số vượt giới hạn ±{limits.max_number:,} hoặc không hữu hạn (đặt EDUSTAT_MAX_NUMBER)",
            f"{where}: a number beyond ±{limits.max_number:,} or not finite (set EDUSTAT_MAX_NUMBER)")  # fmt: skip


def _plan(cands: list[sync.Candidate], period: str, base: _File | None, by_id: dict[int, _File]) -> sync.Plan:
    b = None
    if base is not None and period == "CN":
        b = sync.Candidate(
            base.file_id, base.name, base.parsed.sha256, sync.START, base.stamp, True, base=True
        )
    return sync.plan(list(cands), period, b)


def _state_hash(p: sync.Plan) -> str:
    if len(p.chain) == 1:
        return p.chain[0].sha256
    return hashlib.sha256("\n".join(f"{c.name}\0{c.sha256}" for c in p.chain).encode()).hexdigest()


def _reusable(before: StagedState, school: str, p: sync.Plan) -> bool:
    """A school keeps its staged rows when its state is made of the same files (bytes and names)."""
    return (
        bool(p.chain)
        and before.reusable.get(school) == _state_hash(p)
        and (before.names.get(school) in {c.name for c in p.chain})
    )


def _bytes_of(f: _File, limits: Limits) -> bytes:
    if f.stored is not None:
        return f.stored
    return _read_job((f.file_id, f.entry, None, limits))[1] or b""


def _registry_not_expected(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[str, str, str]]:
    rows = con.execute(warehouse.sql("ingest/ledger", "not_expected_schools"), [run_id]).fetchall()
    return {code: (reason, vi, en) for code, reason, vi, en in rows}


def _outcomes(files: list[_File], extra: list[_File], plans: dict[str, sync.Plan], by_id: dict[int, _File],
              bases: dict[str, _File]) -> tuple[list[FileOutcome], list[ledger.Row]]:  # fmt: skip
    """Each file's outcome (the `files` table) and the ledger rows of the inbox entries and of the
    records of files not loaded."""
    for p in plans.values():
        for c in p.chain:
            f = by_id[c.file_id]
            vi = en = None
            if c.converted:
                vi = (
                    "LoaiDongBo 2 không có trạng thái nào để áp dụng: đọc như trạng thái cuối năm đầy đủ "
                    "(tệp mẫu cũ của edustat; xem pipelines/ingest/sync.py)"
                )
                en = (
                    "LoaiDongBo 2 with no state to apply it to: read as a whole end-of-year state (edustat's "
                    "earlier demo files; see pipelines/ingest/sync.py)"
                )
            f.decide("counted", None, vi, en)
        for c, by in p.superseded:
            f, newer = by_id[c.file_id], by_id[by.file_id]
            if c.sha256 == by.sha256:
                f.decide(
                    "superseded",
                    "version.copy",
                    f"Bản sao của tệp {newer.name}",
                    f"A copy of the file {newer.name}",
                )
            else:
                f.decide("superseded", "version.superseded",
                         f"Phiên bản cũ hơn; tệp mới hơn của trường là {newer.name} (theo thời điểm của tệp, rồi tên)",
                         f"An older version; the school's newer file is {newer.name} (by the file's time, then name)")  # fmt: skip
    for b in bases.values():
        if b.outcome is None:
            b.decide("counted", None, None, None)
    outcomes, rows = [], []
    status = {
        "counted": "loaded",
        "superseded": "superseded",
        "rejected": "rejected",
        "not_expected": "rejected",
    }
    for f in (*files, *extra):
        if f.outcome is None:  # a stored version no state uses (an older version)
            f.decide("superseded", "version.superseded", "Phiên bản cũ hơn", "An older version")
        p = f.parsed
        if f.entry is not None:
            rows.append(("inbox_entry", "inbox", f.name, f.school, f.outcome, f.reason, f.vi, f.en))
        if p is None or f.outcome == "not_read":
            continue
        if f.entry is None and f.outcome != "counted":
            continue  # stored versions not used now are not inputs of this run
        outcomes.append(
            FileOutcome(f.name, p.sha256, f.school, status[f.outcome], f.reason, f.vi, f.en, dict(p.records))
        )
        if f.outcome != "counted":
            rows += ledger.record_rows(f.name, f.school, p.records, f.outcome, f.reason or "file", f.vi, f.en)
    return outcomes, rows


def _record_files(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], run_id: str,
                  start_year: int, period: str) -> None:  # fmt: skip
    """Append each file's outcome to the `files` history table (one row per file and run)."""
    entities = [s.entity for s in catalog.sources()]
    now = datetime.now()
    warehouse.insert_rows(con, "files", [(run_id, start_year, period, o.file, o.file_hash, o.school_code, o.status,
                                          o.reason, o.message_vi, o.message_en, now,
                                          *(o.records.get(e) for e in entities)) for o in outcomes])  # fmt: skip
