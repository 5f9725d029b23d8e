"""Connections to the DuckDB warehouse: one configuration, transactions, and bulk inserts.

Great Expectations opens the same file through duckdb-engine (SQLAlchemy) while the pipeline
holds its own connection. DuckDB refuses a second connection to a file with a different
configuration in one process, so every connection here carries the configuration duckdb-engine
uses (its user-agent string).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines.warehouse.sql import sql


def engine_config() -> dict[str, str]:
    agent = f"duckdb_engine/{version('duckdb-engine')}(sqlalchemy/{version('sqlalchemy')})"
    return {"custom_user_agent": agent}


MEMORY_LIMIT_ENV = "EDUSTAT_MEMORY_LIMIT"


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the configuration shared with Great Expectations, its schema brought
    up to date (warehouse/schema.py)."""
    from pipelines.warehouse.schema import ensure_schema

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config=engine_config())
    # A cap on DuckDB's memory (it spills to disk beyond it), e.g. "3GB" on a small machine; by
    # default DuckDB takes up to 80 % of the RAM. The setting is the database's, so the connection
    # Great Expectations opens on the same file in this process shares it.
    limit = os.environ.get(MEMORY_LIMIT_ENV)
    if limit:
        con.execute(sql("warehouse/connection", "memory_limit"), [limit])
    ensure_schema(con)
    return con


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """INSERT many rows through Arrow (executemany costs ~0.3 ms a row and refuses an empty list)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    batch = pa.table({f"c{i}": pa.array(col) for i, col in enumerate(columns)})
    con.register("_insert_rows", batch)
    try:
        con.execute(sql("warehouse/connection", "insert_rows", table=table))
    finally:
        con.unregister("_insert_rows")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None):  # noqa: ANN201
    """First value of a query (fetches the whole result: DuckDB 2 refuses unfinished results)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def exit_skipping_teardown(code: int) -> None:
    """Run the exit handlers, then end the process without interpreter teardown.

    After Great Expectations has run, DuckDB type objects stay referenced until teardown, where
    DuckDB's binding layer (nanobind) prints a long, harmless "leaked instances" report. Exit
    handlers (e.g. Prefect stopping its temporary server) still run; only that report is skipped.
    """
    import atexit
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_in_transaction: set[int] = set()  # id() of the connections inside transaction() now


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN … COMMIT around a step's writes, so a run killed at any moment leaves the warehouse
    as the last committed step left it (DuckDB discards an uncommitted transaction on reopening).
    Nested on the same connection, it joins the outer one (a second BEGIN would abort it)."""
    key = id(con)
    if key in _in_transaction:
        yield con
        return
    con.begin()
    _in_transaction.add(key)
    try:
        yield con
    except BaseException:
        try:
            con.rollback()
        except duckdb.Error:
            pass  # the connection is gone; DuckDB drops the transaction anyway
        raise
    else:
        con.commit()
    finally:
        _in_transaction.discard(key)
