"""One place creates the tables: a new warehouse gets the whole schema; an older one is migrated."""

from __future__ import annotations

import duckdb

from pipelines import catalog, warehouse
from pipelines.warehouse import schema


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()]  # fmt: skip


def test_a_new_warehouse_has_every_table_and_every_migration_recorded(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {
            r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
        }
        migrations = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert {"files", "submissions", "validation_results", "quarantine", "cells", "relation_violations",
            "indicators", "audit", "completeness", "units", "unit_membership", "stage_state",
            "stage_files", "output_digests", "population"} <= tables  # fmt: skip
    assert {"workflow_state", "unit_tree", "cell_series"} <= views
    names = sorted(p.stem for p in schema.MIGRATIONS.glob("*.sql"))
    assert [name for _, name in migrations] == names
    assert [v for v, _ in migrations] == list(range(1, len(names) + 1))  # numbered 001, 002, … without gaps


def test_the_files_table_counts_the_records_of_every_source_in_catalogue_order(tmp_path):
    """Ingest inserts one count per catalog.ENTITIES, in that order (ingest/inbox.py _record_files)."""
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        counts = [c for c in _columns(con, "files") if c.startswith("n_")]
    assert counts == [f"n_{e}" for e in catalog.ENTITIES]


def test_a_warehouse_of_an_earlier_version_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:  # as an edustat of before issue 5 left it
        con.execute("CREATE TABLE cells (school_year VARCHAR, period VARCHAR, regime VARCHAR, form VARCHAR, "
                    "level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR, value BIGINT)")  # fmt: skip
        con.execute(
            "INSERT INTO cells VALUES ('2023-2024', 'DN', 'tt24', '02-TH-DN', 'school', 'S1', 37, 'T', 12)"
        )
        con.execute("CREATE TABLE aggregate_state (run_id VARCHAR, fingerprint VARCHAR)")
        con.execute("CREATE TABLE validated_files (school_code VARCHAR, file_hash VARCHAR)")
    with warehouse.connect(path) as con:
        assert _columns(con, "cells")[-1] == "boundaries"
        assert con.execute("SELECT unit_code, value, boundaries FROM cells").fetchall() == [("S1", 12, None)]
        left = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert not {"aggregate_state", "validated_files"} & left  # the old re-run stores are gone


def test_applying_the_schema_again_changes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        con.execute("INSERT INTO units VALUES ('so', '66', 'Sở 66', 'bo', 'BO')")
    with warehouse.connect(path) as con:
        warehouse.ensure_schema(con)
        assert con.execute("SELECT count(*) FROM schema_migrations").fetchall() == [
            (len(list(schema.MIGRATIONS.glob("*.sql"))),)
        ]
        assert con.execute("SELECT count(*) FROM units").fetchall() == [(1,)]
        assert con.execute("SELECT digest FROM schema_state").fetchall() == [(schema.schema_digest(),)]


def test_staging_tables_hold_lineage_then_every_declared_field_as_text(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.create_staging_tables(con)
        cols = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'stg_rooms' ORDER BY column_index"
        ).fetchall()
    fields = [f.name for f in catalog.source("rooms").fields]
    assert [c for c, _ in cols] == ["row_id", "school_code", "file", "file_hash", "record_index", *fields,
                                    warehouse.PRE_HASH_COLUMN]  # fmt: skip
    assert {t for c, t in cols if c in fields} == {"VARCHAR"}
