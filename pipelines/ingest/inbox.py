"""Ingest: walk the inbox, load the current version of each school's file into the staging tables.

Every value is stored as normalised text in stg_<entity> with its lineage (file, hash, record
index); validation types and checks it. A file that cannot be read, or that belongs to another
period or to no registered school, is rejected whole and listed; the other schools go on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines import catalog, warehouse
from pipelines.ingest import submissions
from pipelines.ingest.payload import FileOutcome, check_payload, rejected
from pipelines.ingest.staging import StagedState, StagingWriter, read_file, staged_rows, staging_fingerprint
from pipelines.progress import track


@dataclass(frozen=True)
class IngestSummary:
    files: tuple[FileOutcome, ...]
    parsed: int = 0  # files parsed; a school's unchanged, already staged file is not read again
    changed_schools: tuple[str, ...] = ()  # schools whose staged rows this ingest replaced, added or removed
    # The files that became a school's new version, in order of arrival, recorded at `recorded_at`
    # (the reporting window moves those schools to `received`).
    new_versions: tuple[submissions.Submission, ...] = ()
    recorded_at: datetime | None = None

    @property
    def loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def rejected(self) -> tuple[FileOutcome, ...]:
        return tuple(f for f in self.files if f.status == "rejected")


def ingest_inbox(con: duckdb.DuckDBPyConnection, inbox: Path, start_year: int, period: str,
                 registered: set[str], key: bytes, run_id: str, reuse: bool = True) -> IngestSummary:  # fmt: skip
    """Load the current version of each school's file into the staging tables; record every new
    version as a submission (pipelines/ingest/submissions.py) and each file's outcome.

    A file that arrived (modification time) after the school's current version and differs from it
    is a new version; the newest one is staged. Older files and unchanged copies are listed as
    `superseded` / `unchanged`; a new file of a locked school is rejected. A school whose current
    version is no longer in the inbox is staged from the submission store.

    A re-run parses only what changed: a file loaded before is known by its hash, and a school
    whose staged rows came from the same file (under the same staging_fingerprint) keeps them."""
    fingerprint = staging_fingerprint(start_year, period, key)
    before = StagedState.read(con, fingerprint, start_year, period, run_id, reuse)
    writer = StagingWriter(con)
    parsed = 0
    outcomes: list[FileOutcome] = []
    school_year = f"{start_year}-{start_year + 1}"
    store = submissions.store_dir(con)
    current = submissions.current_submissions(con, school_year, period)
    locked = submissions.locked_schools(con, school_year, period)
    now = datetime.now()
    arrivals: list[submissions.Arrival] = []
    staged: dict[str, str] = {}  # school → sha256 of the file staged
    # Newest first: a school's latest file is the one staged; older ones can only be versions.
    files = sorted(((submissions.arrival_time(p, now), p) for p in inbox.glob("*.json") if p.is_file()),
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
            writer.add(source.entity, staged_rows(outcome, payload, source, key))

    with track("ingest: tệp / files", len(files)) as advance:
        for arrived, path in files:
            advance()
            raw = read_file(path)
            outcome, payload = check(path.name, raw)
            if outcome.status != "loaded":
                outcomes.append(outcome)
                continue
            school, digest = str(outcome.school_code), outcome.file_hash
            cur = current.get(school)
            new = cur is None or arrived > cur.arrived_at
            if new and school in locked and (cur is None or digest != cur.sha256):
                outcomes.append(rejected(path.name, digest, school, "file.locked",
                                        f"Báo cáo của trường {school} (hoặc Phòng, Sở của trường) đã khóa; tệp mới không được nhận "
                                        "cho đến khi mở khóa",
                                        f"The report of school {school} (or of its Phòng or Sở) is locked; no new file is "
                                        "taken until it is unlocked", outcome.records))  # fmt: skip
                continue
            if new:
                submissions.store_put(store, digest, raw)
                arrivals.append(submissions.Arrival(school, path.name, digest, arrived))
            if school not in staged and (new or digest == cur.sha256):
                stage(outcome, payload, raw)
            else:
                status = (
                    "unchanged" if digest == staged.get(school, cur.sha256 if cur else None) else "superseded"
                )
                outcomes.append(
                    FileOutcome(path.name, digest, school, status, None, None, None, outcome.records)
                )
    new_versions = submissions.register_versions(con, school_year, period, arrivals, run_id, now)
    for sub in new_versions:
        current[sub.school_code] = sub
    # Schools whose current version has left the inbox: from the store.
    for school, sub in sorted(current.items()):
        if school in staged or school not in registered:
            continue
        try:
            raw = submissions.store_get(store, sub.sha256)
        except OSError as exc:
            outcomes.append(rejected(sub.file, sub.sha256, school, "file.unreadable",
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
        con.execute(warehouse.sql("ingest/staging", "staged_now"))
        warehouse.insert_rows(con, "_staged_now", list(staged.items()))
        for source in catalog.sources():
            con.execute(warehouse.sql("ingest/staging", "keep_staged", table=source.table))
    _record_files(con, outcomes, run_id, start_year, period)
    return IngestSummary(files=tuple(outcomes), parsed=parsed, changed_schools=tuple(changed),
                         new_versions=tuple(new_versions), recorded_at=now)  # fmt: skip


def _record_files(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], run_id: str,
                  start_year: int, period: str) -> None:  # fmt: skip
    """Append each file's outcome to the `files` history table (one row per file and run)."""
    entities = [s.entity for s in catalog.sources()]
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
