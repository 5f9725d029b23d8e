"""The staging tables: payload records as normalised text rows, appended in Arrow batches, and the
rows a re-run keeps from the last ingest."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines import catalog, warehouse
from pipelines.ingest.normalise import normaliser, pre_hash_problems
from pipelines.ingest.payload import FileOutcome, records_of

_BATCH_ROWS = 50_000
STAGE = "ingest"  # its name in the change store (warehouse.changes)


def staged_rows(outcome: FileOutcome, payload: dict[str, Any], source: catalog.Source,
                 key: bytes) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    normalisers = [(f.name, normaliser(f, key)) for f in source.fields]
    hashed = any(f.pii == "hash" for f in source.fields)
    for index, record in enumerate(records_of(payload, source)):
        values = record if isinstance(record, dict) else {}
        fields = tuple(norm(values.get(name)) for name, norm in normalisers)
        problems = pre_hash_problems(source, values) if hashed else None
        yield (outcome.school_code, outcome.file, outcome.file_hash, index, *fields, problems)


class StagingWriter:
    """Buffers normalised rows per entity and appends them to stg_<entity> in Arrow batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.buffers: dict[str, list[tuple[Any, ...]]] = {s.entity: [] for s in catalog.sources()}
        # New rows continue after the rows kept from the last ingest (row_id is unique per table).
        self.next_id = {
            s.entity: warehouse.scalar(con, warehouse.sql("ingest/staging", "next_row_id", table=s.table))
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
        self.con.execute(warehouse.sql("ingest/staging", "append_batch", table=source.table))
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
    key_id = hashlib.sha256(key).hexdigest()
    return hashlib.sha256(f"{start_year}\0{period}\0{key_id}\0{warehouse.code_digest()}".encode()).hexdigest()


@dataclass
class StagedState:
    """The staging tables as the last ingest left them, reusable per school when that ingest had the
    same fingerprint: the state each school's rows were made from, and the file of its school record."""

    reusable: dict[str, str]  # school → its state's hash (the file's sha256, or its chain's)
    names: dict[str, str]  # school → the file its school record came from

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, fingerprint: str, start_year: int, period: str, run_id: str,
             reuse: bool = True) -> StagedState:  # fmt: skip
        """The staging tables to build on; reuse=False (edustat run --full): empty ones."""
        last = warehouse.last_state(con, STAGE)
        tables = {r[0] for r in con.execute(warehouse.sql("ingest/staging", "tables")).fetchall()}
        if (
            not (reuse and last and last[1] == fingerprint)
            or not {s.table for s in catalog.sources()} <= tables
        ):
            warehouse.create_staging_tables(con)
            warehouse.save_state(con, STAGE, run_id, fingerprint)
            return cls({}, {})
        rows = con.execute(warehouse.sql("ingest/staging", "staged_files")).fetchall()
        return cls({s: h for s, h, _ in rows}, {s: f for s, _, f in rows})


def staged_learners(con: duckdb.DuckDBPyConnection) -> int:
    return int(warehouse.scalar(con, warehouse.sql("ingest/staging", "staged_learners")))
