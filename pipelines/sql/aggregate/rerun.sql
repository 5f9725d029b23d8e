-- Re-runs that rebuild only the schools that changed (pipelines/aggregate/entities.py): the schools
-- to rebuild, and the schema `delta` holding their staged rows (views) and typed tables while they
-- are built; the scripts entities.sql and results.sql, and the compiled forms, read it first.

-- name: main_tables
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'

-- name: quarantine_changed
-- Schools whose quarantined rows differ between this run ($1) and the last one ($2).
WITH q_now AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $1),
q_last AS (SELECT school_code, entity, row_id FROM quarantine WHERE run_id = $2)
SELECT school_code FROM ((SELECT * FROM q_now EXCEPT SELECT * FROM q_last)
                         UNION ALL (SELECT * FROM q_last EXCEPT SELECT * FROM q_now))

-- name: drop_delta
DROP SCHEMA IF EXISTS delta CASCADE

-- name: create_delta
CREATE SCHEMA delta

-- name: create_delta_schools
-- The schools being rebuilt.
CREATE OR REPLACE TEMP TABLE _delta_schools (school_code VARCHAR)

-- name: delta_view
-- A staging table's rows of the schools being rebuilt.
CREATE VIEW delta.{table} AS SELECT * FROM main.{table}
WHERE school_code IN (SELECT school_code FROM _delta_schools)

-- name: search_delta
-- Unqualified names find delta.* first: the scripts create and read delta.*, the forms read it.
SET search_path = 'delta,main'

-- name: reset_search_path
RESET search_path

-- name: delta_tables
SELECT table_name FROM duckdb_tables() WHERE schema_name = 'delta' ORDER BY 1

-- name: delete_rebuilt
-- The rebuilt schools' rows of a main table, replaced by insert_rebuilt.
DELETE FROM main.{table} WHERE school_code IN (SELECT school_code FROM _delta_schools)

-- name: insert_rebuilt
INSERT INTO main.{table} SELECT * FROM delta.{table}
