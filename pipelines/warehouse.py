"""The DuckDB warehouse: one connection configuration, and the tables every stage shares.

Great Expectations opens the same file through duckdb-engine (SQLAlchemy) while the pipeline
holds its own connection. DuckDB refuses a second connection to a file with a different
configuration in one process, so every connection here carries the configuration duckdb-engine
uses (its user-agent string).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


MEMORY_LIMIT_ENV = "EDUSTAT_MEMORY_LIMIT"


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the configuration shared with Great Expectations."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), config=_engine_config())
    # A cap on DuckDB's memory (it spills to disk beyond it), e.g. "3GB" on a small machine; by
    # default DuckDB takes up to 80 % of the RAM. The setting is the database's, so the connection
    # Great Expectations opens on the same file in this process shares it.
    limit = os.environ.get(MEMORY_LIMIT_ENV)
    if limit:
        con.execute("SET GLOBAL memory_limit = ?", [limit])
    return con


# "Field:check" items (check: length | pattern | text), comma-separated; NULL when none.
PRE_HASH_COLUMN = "pre_hash_problems"


def staging_columns(source: catalog.Source) -> list[tuple[str, str]]:
    """Lineage columns, every declared field as normalised text (validation types them), then the
    format problems ingest found in pseudonymised fields before hashing them (see ingest)."""
    return [*LINEAGE_COLUMNS, *((f.name, "VARCHAR") for f in source.fields), (PRE_HASH_COLUMN, "VARCHAR")]


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


def load_codelists(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Copy code lists into cl_<name> tables, as text, for SQL that joins to them."""
    for name in sorted(set(names)):
        path = catalog.codelist_path(name)
        con.execute(
            f"CREATE OR REPLACE TABLE cl_{name} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )


# DM_TRANG_THAI_HOC_SINH: 02/06/10 chuyển đến and 03/07 nghỉ học xin học lại bring a pupil in;
# 04/08/11 chuyển đi and 05/09/12 thôi học take them out. A pupil is enrolled on a day unless
# a leaving status is dated on or before it, or an arriving status after it (issue 2). One
# definition for the typed tables (sql/entities.sql, sql/results.sql) and the validation rules.
MACROS = """
CREATE OR REPLACE MACRO is_arrival(status) AS status IN ('02', '03', '06', '07', '10');
CREATE OR REPLACE MACRO is_departure(status) AS status IN ('04', '05', '08', '09', '11', '12');
CREATE OR REPLACE MACRO enrolled_on(status, status_date, day) AS NOT coalesce(
    (is_departure(status) AND TRY_CAST(status_date AS DATE) <= day)
    OR (is_arrival(status) AND TRY_CAST(status_date AS DATE) > day), FALSE);
"""

# Per school and period, the figures the cross-period rules compare with a later run: learners
# enrolled on the as-of date, classes, active staff and teachers; per grade, learners enrolled at
# the as-of date and, at the end of the year, those promoted (LenLop 1) and kept back (2).
HISTORY_TABLES = """
CREATE TABLE IF NOT EXISTS school_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    learners BIGINT, classes BIGINT, staff BIGINT, teachers BIGINT);
CREATE TABLE IF NOT EXISTS school_grade_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    grade_code VARCHAR, learners BIGINT, promoted BIGINT, retained BIGINT);
"""


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(MACROS)


def create_history_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(HISTORY_TABLES)
