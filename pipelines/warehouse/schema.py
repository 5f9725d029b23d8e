"""The warehouse's tables: the staging tables generated from the source catalogue, the code lists
and macros the SQL reads, and the history tables."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from pipelines import catalog

LINEAGE_COLUMNS = (
    ("row_id", "BIGINT"),  # unique within a staging table for one load
    ("school_code", "VARCHAR"),  # MaTruongHoc of the payload
    ("file", "VARCHAR"),  # file name in the inbox
    ("file_hash", "VARCHAR"),  # sha256 of the file bytes
    ("record_index", "INTEGER"),  # position in the payload's list (0-based); 0 for TruongHocInfo
)


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
-- Continuing education (05-GDTX, status: inferred): the programme and the general-education grade
-- a DM_KHOI GDTX code stands for (13-15 = lớp 10-12, 20-23 = lớp 6-9, 24-28 = lớp 1-5; 18 xóa mù
-- chữ and 19 giáo dục tiếp tục sau khi biết chữ have no grade).
CREATE OR REPLACE MACRO gdtx_programme(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN 'upper_secondary'
    WHEN code IN ('20', '21', '22', '23') THEN 'lower_secondary'
    WHEN code IN ('24', '25', '26', '27', '28') THEN 'primary'
    WHEN code = '18' THEN 'literacy'
    WHEN code = '19' THEN 'post_literacy' END;
CREATE OR REPLACE MACRO gdtx_grade(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN CAST(code AS INTEGER) - 3
    WHEN code IN ('20', '21', '22', '23') THEN CAST(code AS INTEGER) - 14
    WHEN code IN ('24', '25', '26', '27', '28') THEN CAST(code AS INTEGER) - 23 END;
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


WORKFLOW_DDL = """
CREATE TABLE IF NOT EXISTS submissions (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    version INTEGER, file VARCHAR, sha256 VARCHAR, arrived_at TIMESTAMP, recorded_at TIMESTAMP,
    superseded_at TIMESTAMP, run_id VARCHAR);
-- Append only: the tool inserts rows and never updates or deletes them.
CREATE TABLE IF NOT EXISTS audit (seq BIGINT, changed_at TIMESTAMP, user_name VARCHAR, action VARCHAR,
    school_year VARCHAR, period VARCHAR, level VARCHAR, unit_code VARCHAR, from_state VARCHAR,
    to_state VARCHAR, reason VARCHAR, run_id VARCHAR, prev_hash VARCHAR, row_hash VARCHAR);
CREATE OR REPLACE VIEW workflow_state AS
    SELECT school_year, period, level, unit_code, to_state AS state, changed_at AS since, user_name, action, reason
    FROM audit QUALIFY row_number() OVER (PARTITION BY school_year, period, level, unit_code ORDER BY seq DESC) = 1;
"""


def create_workflow_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(WORKFLOW_DDL)


