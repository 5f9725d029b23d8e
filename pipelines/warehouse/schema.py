"""The warehouse's tables, created in one place: pipelines/sql/warehouse/schema.sql, then the numbered
migrations of pipelines/sql/warehouse/migrations/ not yet applied, then views.sql (views and macros).
Generated from the catalogue here: the staging tables stg_<entity> (one text column per declared
field) and the code-list tables cl_<name> the SQL joins to."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

import duckdb

from pipelines import catalog
from pipelines.warehouse.sql import SQL_DIR, ident, sql

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
        cols = ", ".join(f"{ident(name)} {typ}" for name, typ in staging_columns(source))
        con.execute(f"CREATE OR REPLACE TABLE {ident(source.table)} ({cols})")


def load_codelists(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    """Copy code lists into cl_<name> tables, as text, for SQL that joins to them."""
    for name in sorted(set(names)):
        path = catalog.codelist_path(name)
        con.execute(
            f"CREATE OR REPLACE TABLE {ident('cl_' + name)} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )


MIGRATIONS = SQL_DIR / "warehouse" / "migrations"


def _schema_files() -> list:
    return [
        SQL_DIR / "warehouse" / "schema.sql",
        *sorted(MIGRATIONS.glob("*.sql")),
        SQL_DIR / "warehouse" / "views.sql",
    ]


def schema_digest() -> str:
    """sha256 of the schema files: a warehouse whose recorded digest matches needs nothing applied."""
    digest = hashlib.sha256()
    for path in _schema_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a warehouse (new, or made by an earlier version) to the current schema: schema.sql, the
    migrations it has not had, views.sql. Cheap when nothing changed (one query)."""
    digest = schema_digest()
    try:
        current = con.execute("SELECT digest FROM schema_state").fetchall()
    except duckdb.CatalogException:
        current = []
    if current == [(digest,)]:
        return
    con.execute(sql("warehouse/schema"))
    applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    for path in sorted(MIGRATIONS.glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        if version not in applied:
            con.execute(sql(f"warehouse/migrations/{path.stem}"))
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, path.stem, datetime.now()]
            )
    con.execute(sql("warehouse/views"))
    con.execute("DELETE FROM schema_state")
    con.execute("INSERT INTO schema_state VALUES (?)", [digest])
