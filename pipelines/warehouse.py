"""The DuckDB warehouse: one connection configuration, and the tables every stage shares.

Great Expectations opens the same file through duckdb-engine (SQLAlchemy) while the pipeline
holds its own connection. DuckDB refuses a second connection to a file with a different
configuration in one process, so every connection here carries the configuration duckdb-engine
uses (its user-agent string).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import catalog

LINEAGE_COLUMNS = (
    ("row_id", "BIGINT"),  # unique within a staging table for one load
    ("school_code", "VARCHAR"),  # MaTruongHoc of the payload
    ("file", "VARCHAR"),  # file name in the inbox
    ("file_hash", "VARCHAR"),  # sha256 of the file bytes
    ("record_index", "INTEGER"),  # position in the payload's list (0-based); 0 for TruongHocInfo
)


def _engine_config() -> dict[str, str]:
    agent = f"duckdb_engine/{version('duckdb-engine')}(sqlalchemy/{version('sqlalchemy')})"
    return {"custom_user_agent": agent}


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the configuration shared with Great Expectations."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config=_engine_config())


def staging_columns(source: catalog.Source) -> list[tuple[str, str]]:
    """Lineage columns, then every declared field as normalised text (validation types them)."""
    return [*LINEAGE_COLUMNS, *((f.name, "VARCHAR") for f in source.fields)]


def create_staging_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the empty stg_<entity> tables; they hold the current load only."""
    for source in catalog.sources():
        cols = ", ".join(f'"{name}" {typ}' for name, typ in staging_columns(source))
        con.execute(f"CREATE OR REPLACE TABLE {source.table} ({cols})")


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    """INSERT many rows through Arrow (executemany costs ~0.3 ms a row and refuses an empty list)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    batch = pa.table({f"c{i}": pa.array(col) for i, col in enumerate(columns)})
    con.register("_insert_rows", batch)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _insert_rows")
    finally:
        con.unregister("_insert_rows")


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):  # noqa: ANN201
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
