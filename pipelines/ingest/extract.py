"""Raw record columns (parse.py) → normalised staging text, in DuckDB: the fast path of ingest. A
parse worker normalises its large batches in its own in-memory DuckDB (worker_batch); the main
process the small ones, then stages every list's rows (stage).

A generator (tests/warehouse/test_sql.py lists it): one SELECT per entity and per combination of
the raw columns' Arrow types, each field's expression following pipelines/ingest/normalise.py
exactly: Unicode NFC and outer white space cut (both in the parse workers, parse.py), codes with
their leading zeros, flags, whole numbers, dates in the accepted forms, names and identifiers
replaced by the keyed hash (HMAC-SHA256, its first 24 hex digits; computed by the parse workers
where they know the text, here for the rest: tests/ingest/test_extract.py checks both agree on
random values), and the format problems of hashed fields judged before hashing. Each row also says the first limit it
breaks (a text longer than the limit, a number beyond the bound, not finite): its file is
rejected whole (inbox.py).
"""

from __future__ import annotations

import os
from functools import cache

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import catalog, warehouse
from pipelines.ingest import parse
from pipelines.ingest.limits import Limits
from pipelines.ingest.normalise import DATE_FORMATS
from pipelines.ingest.sync import CHANGE_KEYS

_BAD_TEXT = "[\\x00-\\x1f\\x7f\\x{fffd}]"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def layout() -> tuple:
    """The catalogue's lists for the workers (parse.Layout): list fields carry their code width."""
    out = []
    for s in catalog.sources():
        fields = []
        for f in s.fields:
            if f.type in ("subject_list", "code_list"):
                width = catalog.codelist(f.codelist or "subject").width
                fields.append((f.name, f"list:{width}"))
            else:
                fields.append((f.name, "hash" if f.pii == "hash" else "value"))
        out.append((s.entity, s.json_path, tuple(fields)))
    return tuple(out)


def _raw_text(col: str, typ: pa.DataType) -> str:
    """A raw column as text_of gives it."""
    if typ == pa.string():  # NFC, trimmed and empty → NULL already (parse.py: columns, trimmed)
        return col
    if typ == pa.int64():
        return f"CAST({col} AS VARCHAR)"
    if typ == pa.float64():
        return (f"CASE WHEN isfinite({col}) AND {col} = trunc({col}) AND abs({col}) < 1e18 "
                f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END")  # fmt: skip
    if typ == pa.bool_():
        return f"CASE WHEN {col} THEN '1' WHEN NOT {col} THEN '0' END"
    return "CAST(NULL AS VARCHAR)"


def _normalised(f: catalog.Field, x: str, hashed: tuple[str, ...] = ()) -> str:
    """A field's normalisation of its text x (normalise.normaliser); the hash the worker computed
    (h_<field>) where it did (parse.keyed_hashes)."""
    if f.name in hashed:
        return warehouse.ident("h_" + f.name)
    if f.type == "code":
        width = catalog.codelist(f.codelist).width if f.codelist else 0
        return f"edu_code({x}, {width})"
    if f.type == "flag":
        return f"edu_flag({x})"
    if f.type == "integer":
        return f"edu_integer({x})"
    if f.type == "date":
        fmt = "'%Y-%m'" if f.pii == "year_month" else "'%Y-%m-%d'"
        formats = "[" + ", ".join(_lit(d) for d in DATE_FORMATS) + "]"
        return f"edu_date({x}, {fmt}, {formats})"
    if f.pii == "hash":
        return f"CASE WHEN {x} IS NOT NULL THEN substr(sha256($opad || unhex(sha256($ipad || encode({x})))), 1, 24) END"
    return x


def _pre_hash(source: catalog.Source) -> str:
    """normalise.pre_hash_problems in SQL: "Field:check,…" of the hashed fields, or NULL."""
    parts = []
    for f in source.fields:
        if f.pii != "hash":
            continue
        x = f"t_{f.name}"
        if f.max_length is not None:
            parts.append(f"CASE WHEN length({x}) > {f.max_length} THEN '{f.name}:length' END")
        if f.pattern is not None:
            parts.append(
                f"CASE WHEN NOT regexp_full_match({x}, {_lit(f.pattern)}) THEN '{f.name}:pattern' END"
            )
        parts.append(f"CASE WHEN regexp_matches({x}, '{_BAD_TEXT}') THEN '{f.name}:text' END")
    return f"nullif(concat_ws(',', {', '.join(parts)}), '')" if parts else "CAST(NULL AS VARCHAR)"


def _limit(source: catalog.Source, limits: Limits) -> str:
    """The first limit a row breaks ("Field:text" | "Field:number"), or NULL."""
    cases = []
    for f in source.fields:
        x = f"t_{f.name}"
        cases.append(f"WHEN length({x}) > {limits.max_text_chars} THEN '{f.name}:text'")
        if f.type in ("integer", "number"):
            v = f"TRY_CAST({x} AS DOUBLE)"
            cases.append(
                f"WHEN {v} IS NOT NULL AND NOT (abs({v}) <= {limits.max_number}) THEN '{f.name}:number'"
            )
    return "CASE " + " ".join(cases) + " END"


def text_sql(entity: str, types: tuple[str, ...], hashed: tuple[str, ...] = ()) -> str:
    """The raw batch `_raw` of an entity as text (text_of), with the hashes the workers computed."""
    source = catalog.source(entity)
    by_name = dict(zip((f.name for f in source.fields), types, strict=True))
    texts = ", ".join(f"{_raw_text(warehouse.ident('v_' + f.name), _ARROW[by_name[f.name]])} AS {warehouse.ident('t_' + f.name)}"
                      for f in source.fields)  # fmt: skip
    texts += "".join(f", {warehouse.ident('h_' + name)}" for name in hashed)
    return f"SELECT file_id, record_index, {texts} FROM _raw"


@cache
def select_sql(entity: str, types: tuple[str, ...], limits: Limits, hashed: tuple[str, ...] = ()) -> str:
    """The SELECT turning the raw batch `_raw` into normalised rows (the columns of _x_<entity>), with
    their pre-hash problems and limits broken: over its text (text_sql), computed once per row."""
    source = catalog.source(entity)
    values = ", ".join(f"{_normalised(f, warehouse.ident('t_' + f.name), hashed)} AS {warehouse.ident(f.name)}"
                       for f in source.fields)  # fmt: skip
    return (f"SELECT file_id, record_index, {values}, {_pre_hash(source)} AS pre_hash_problems, "
            f"{_limit(source, limits)} AS over_limit FROM ({text_sql(entity, types, hashed)}) _t")  # fmt: skip


_ARROW = {str(t): t for t in (pa.string(), pa.int64(), pa.float64(), pa.bool_(), pa.null())}


def hmac_pads(key: bytes) -> dict[str, bytes]:
    """The inner and outer pads of HMAC-SHA256 for a key (RFC 2104), as the SQL's parameters."""
    ipad, opad = parse.hmac_pads(key)
    return {"ipad": ipad, "opad": opad}


def create_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The scratch tables _x_<entity> of one ingest (normalised rows by file id)."""
    for source in catalog.sources():
        cols = ", ".join(f"{warehouse.ident(f.name)} VARCHAR" for f in source.fields)
        con.execute(warehouse.sql("ingest/extract", "create_scratch", table=f"_x_{source.entity}").replace(
            "__FIELDS__", cols))  # fmt: skip


_WORKER: dict[int, duckdb.DuckDBPyConnection] = {}


def worker_connection() -> duckdb.DuckDBPyConnection:
    """This process's own in-memory DuckDB for normalising (one thread: the parse workers are the
    parallelism), with the normalising macros. Keyed by process id: a forked worker never uses the
    connection of the process it was forked from."""
    con = _WORKER.get(os.getpid())
    if con is None:
        con = duckdb.connect(":memory:", config={"threads": 1})
        con.execute(warehouse.sql("ingest/extract", "macros"))
        _WORKER[os.getpid()] = con
    return con


def normalised(
    con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table, key: bytes, limits: Limits
) -> pa.Table:
    """A raw batch of an entity (parse.columns) → its normalised rows, the columns of _x_<entity>
    (in a parse worker, worker_connection: the main process only appends them)."""
    fields = catalog.source(entity).fields
    types = tuple(str(table.schema.field(f"v_{f.name}").type) for f in fields)
    hashed = tuple(f.name for f in fields if f"h_{f.name}" in table.column_names)
    params = hmac_pads(key) if any(f.pii == "hash" and f.name not in hashed for f in fields) else None
    con.register("_raw", table)
    try:
        return con.sql(select_sql(entity, types, limits, hashed), params=params).to_arrow_table()
    finally:
        con.unregister("_raw")


# A batch of at least this many rows is normalised in its parse worker; smaller ones in the main
# process, the batches of one column-type signature together: a statement costs about 1 ms per
# column whatever its rows (regular expressions and date formats set up), so the school, class and
# staff lists of each worker's 40 files would cost more there than their rows.
WORKER_ROWS = 5_000


def worker_batch(con: duckdb.DuckDBPyConnection, entity: str, table: pa.Table, key: bytes,
                 limits: Limits) -> tuple[bool, bytes]:  # fmt: skip
    """A parse worker's batch of an entity as it goes to the main process: (normalised, Arrow IPC)."""
    if table.num_rows >= WORKER_ROWS:
        return True, parse.to_ipc(normalised(con, entity, table, key, limits))
    return False, parse.to_ipc(table)


def append_all(con: duckdb.DuckDBPyConnection, entity: str, batches: list[tuple[bool, bytes]], key: bytes,
               limits: Limits, needed: set[int]) -> pa.Table | None:  # fmt: skip
    """The workers' batches of an entity (the rows of the files needed) → _x_<entity>: the raw ones
    normalised here, those of one column-type signature together. Returns the rows (or None)."""
    wanted = pa.array(sorted(needed), pa.int32())
    done: list[pa.Table] = []
    raw: dict[str, list[pa.Table]] = {}
    for is_normalised, data in batches:
        table = pa.ipc.open_stream(data).read_all()
        keep = pc.is_in(table.column("file_id"), value_set=wanted)
        if not pc.all(keep).as_py():  # a copy of the rows only when some are not needed (a re-run)
            table = table.filter(keep)
        if not table.num_rows:
            continue
        if is_normalised:
            done.append(table)
        else:
            raw.setdefault(str(table.schema), []).append(table)
    done += [normalised(con, entity, pa.concat_tables(tables), key, limits) for tables in raw.values()]
    if not done:
        return None
    # The rows as they are, no copy: the Arrow table registered under the scratch table's name.
    table = pa.concat_tables(done)
    con.execute(warehouse.sql("ingest/extract", "drop_scratch", table=f"_x_{entity}"))
    con.register(f"_x_{entity}", table)
    return table


def drop_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The scratch tables _x_<entity> gone (tables, or Arrow tables registered under their names)."""
    for source in catalog.sources():
        con.unregister(f"_x_{source.entity}")
        con.execute(warehouse.sql("ingest/extract", "drop_scratch", table=f"_x_{source.entity}"))


def over_limit(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str, int]]:
    """file id → (entity, "Field:limit", record index) of the first row over a limit."""
    found: dict[int, tuple[str, str, int]] = {}
    for source in catalog.sources():
        rows = con.execute(
            warehouse.sql("ingest/extract", "over_limit", table=f"_x_{source.entity}")
        ).fetchall()
        for file_id, what, index in rows:
            found.setdefault(file_id, (source.entity, what, index))
    return found


# --- staging the states: one file, or a start and its changes applied in order (sync.py) ---------


def _key(entity: str) -> str:
    """The key a change file's record replaces a state's record by (NULL: none, the list is whole)."""
    keys = CHANGE_KEYS.get(entity)
    if not keys:
        return "CAST(NULL AS VARCHAR)"
    first = warehouse.ident(keys[0])
    rest = ", ".join(f"coalesce({warehouse.ident(k)}, '')" for k in keys)
    return f"CASE WHEN {first} IS NOT NULL THEN concat_ws(chr(31), {rest}) END"


def stage(con: duckdb.DuckDBPyConnection, entity: str, rows: pa.Table | None = None) -> None:
    """_x_<entity> rows of the files in _chain → stg_<entity>; the records a later file of a state
    replaced → _replaced (for the ledger). `rows`: the Arrow table registered as _x_<entity>
    (append_all), for _stage_in_order."""
    source = catalog.source(entity)
    fields = ", ".join(warehouse.ident(f.name) for f in source.fields)
    whole = entity not in CHANGE_KEYS
    partition = (
        "school_code" if whole else "school_code, coalesce(k, 'row:' || file_id || ':' || record_index)"
    )
    path = _lit(source.json_path)
    position = path if entity == "school" else f"{path} || '[' || record_index || ']'"
    ranked = (f"CREATE OR REPLACE TEMP TABLE _ranked AS SELECT *, max(pos) OVER (PARTITION BY {partition}) AS top, "
              f"arg_max(file, pos) OVER (PARTITION BY {partition}) AS by_file FROM (SELECT c.school_code, c.file, "
              f"c.state_hash, c.pos, c.n_files, x.*, {_key(entity)} AS k FROM {warehouse.ident('_x_' + entity)} x "
              f"JOIN _chain c USING (file_id))")  # fmt: skip
    table = warehouse.ident(source.table)
    x = warehouse.ident("_x_" + entity)
    # A state of one file: all its rows, without the windows.
    next_id = warehouse.scalar(con, warehouse.sql("ingest/staging", "next_row_id", table=source.table))
    values = f"{', '.join('x.' + warehouse.ident(f.name) for f in source.fields)}, x.pre_hash_problems"
    # Each file's records are numbered 0…n-1 (parse.columns; a file goes on whole or not at all), so
    # the row_number() over (school, record) is the school's offset plus the record's index: a sort
    # of two numbers, not a window over the whole rows (3x the time). Checked, else the window.
    counts = (f"SELECT c.file_id, c.school_code, count(*) AS n, min(x.record_index) AS lo, max(x.record_index) AS hi "
              f"FROM {x} x JOIN _chain c USING (file_id) WHERE c.n_files = 1 GROUP BY ALL")  # fmt: skip
    if rows is not None and _stage_in_order(con, source, rows, int(next_id)):
        pass
    elif con.execute(f"SELECT coalesce(bool_and(lo = 0 AND hi = n - 1), true) FROM ({counts})").fetchone()[0]:
        con.execute(f"INSERT INTO {table} WITH counts AS ({counts}), offsets AS (SELECT file_id, "
                    f"sum(n) OVER (ORDER BY school_code ROWS UNBOUNDED PRECEDING) - n AS offset_ FROM counts) "
                    f"SELECT {int(next_id)} + o.offset_ + x.record_index AS row_id_, c.school_code, c.file, c.state_hash, "
                    f"x.record_index, {values} FROM {x} x JOIN _chain c USING (file_id) JOIN offsets o USING (file_id) "
                    f"WHERE c.n_files = 1 ORDER BY row_id_")  # fmt: skip
    else:
        con.execute(f"INSERT INTO {table} SELECT {int(next_id)} + row_number() OVER (ORDER BY c.school_code, "
                    f"x.record_index) - 1, c.school_code, c.file, c.state_hash, x.record_index, {values} "
                    f"FROM {x} x JOIN _chain c USING (file_id) WHERE c.n_files = 1")  # fmt: skip
    con.execute(
        ranked.replace("JOIN _chain c USING (file_id))", "JOIN _chain c USING (file_id) WHERE c.n_files > 1)")
    )
    next_id = warehouse.scalar(con, warehouse.sql("ingest/staging", "next_row_id", table=source.table))
    con.execute(f"INSERT INTO {table} SELECT {int(next_id)} + row_number() OVER (ORDER BY school_code, pos, "
                f"record_index) - 1, school_code, file, state_hash, record_index, {fields}, pre_hash_problems "
                f"FROM _ranked WHERE pos = top")  # fmt: skip
    con.execute(
        f"INSERT INTO _replaced SELECT school_code, file, {position}, by_file FROM _ranked WHERE pos < top"
    )
    con.execute(warehouse.sql("ingest/extract", "drop_scratch", table="_ranked"))


def _stage_in_order(
    con: duckdb.DuckDBPyConnection, source: catalog.Source, rows: pa.Table, next_id: int
) -> bool:
    """The one-file states' rows inserted straight from Arrow, without the SQL's sort, when they
    already stand in its order: their row ids (next id + the school's offset + the record's index,
    as stage's SQL numbers them) are exactly next_id, next_id + 1, … in the table's order (so each
    file's records are 0…n-1 too). The parse workers send each file's records in order and the files
    in the inbox's order (by name, the school code first), so a whole run's lists usually are; else
    False and nothing written."""
    chain = con.sql(warehouse.sql("ingest/extract", "single_files")).to_arrow_table()
    if not chain.num_rows or not rows.num_rows:
        return False
    pos = pc.index_in(rows.column("file_id"), value_set=chain.column("file_id"))
    if pos.null_count:
        keep = pc.is_valid(pos)
        rows, pos = rows.filter(keep), pos.filter(keep)
    at = pos.to_numpy(zero_copy_only=False).astype(np.int64)
    n = np.bincount(at, minlength=chain.num_rows)
    offset = np.cumsum(n) - n  # the files in school code order (single_files), as the SQL's offsets
    index = rows.column("record_index").to_numpy().astype(np.int64)
    if not np.array_equal(offset[at] + index, np.arange(len(at))):
        return False
    fields = [f.name for f in source.fields]
    batch = pa.table([pa.array(next_id + np.arange(len(at)), pa.int64()), chain.column("school_code").take(pos),
                      chain.column("file").take(pos), chain.column("state_hash").take(pos), rows.column("record_index"),
                      *(rows.column(name) for name in fields), rows.column("pre_hash_problems")],
                     names=["row_id", "school_code", "file", "file_hash", "record_index", *fields, "pre_hash_problems"])  # fmt: skip
    con.register("_batch", batch)
    try:
        con.execute(warehouse.sql("ingest/staging", "append_batch", table=source.table))
    finally:
        con.unregister("_batch")
    return True
