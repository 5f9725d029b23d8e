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

-- name: downstream_digest
-- What a unit's cells, relations, indicators and school counts depend on beyond the school cells: the
-- unit tree, where each school stood on each boundary version, the boundary versions' units, the
-- population of the start year ($start_year), the approved schools when only they count
-- ($approved_only), and the school cells of the earlier periods cohort rates divide by ($earlier:
-- 'year|period' strings). A re-run redoes only the touched units when this equals the last run's.
SELECT concat_ws('|', $approved_only::VARCHAR,
    (SELECT count(*) || ':' || coalesce(sum(hash(level, unit_code, parent_level, parent_code)::HUGEINT), 0)
     FROM units),
    (SELECT count(*) || ':' || coalesce(sum(h::HUGEINT), 0) FROM (
        SELECT DISTINCT hash(boundaries, school_code, as_of, parent_level, parent_code) AS h FROM unit_membership)),
    (SELECT count(*) || ':' || coalesce(sum(h::HUGEINT), 0) FROM (
        SELECT DISTINCT hash(boundaries, level, unit_code, parent_level, parent_code, valid_from, valid_to) AS h
        FROM hierarchy_units)),
    (SELECT count(*) || ':' || coalesce(sum(hash(level, unit_code, age, sex, population)::HUGEINT), 0)
     FROM population WHERE year = $start_year),
    (SELECT count(*) || ':' || coalesce(sum(hash(unit_code)::HUGEINT), 0) FROM workflow_state
     WHERE $approved_only AND school_year = $school_year AND period = $period AND level = 'school'
       AND state IN ('approved', 'locked')),
    (SELECT count(*) || ':' || coalesce(sum(hash(school_year, period, form, unit_code, row_code, col_key, value)::HUGEINT), 0)
     FROM cells WHERE level = 'school' AND school_year || '|' || period IN (SELECT unnest($earlier::VARCHAR[]))))

-- name: create_touched
-- The units whose rows a re-run redoes: the rebuilt schools ($schools), every unit above them on any
-- boundary version (the run's tree, where the schools stood on each version, and those units' own
-- parents), and the Bộ. More than the units whose figures changed is harmless: a touched unit's rows
-- are computed whole, from all its schools' cells.
CREATE OR REPLACE TEMP TABLE _touched AS
WITH s AS (SELECT unnest($schools::VARCHAR[]) AS school_code),
parents AS (
    SELECT u.parent_level AS level, u.parent_code AS unit_code FROM units u JOIN s ON u.unit_code = s.school_code
    WHERE u.level = 'school' AND u.parent_code IS NOT NULL
    UNION
    SELECT m.parent_level, m.parent_code FROM unit_membership m JOIN s USING (school_code)
    WHERE m.parent_code IS NOT NULL
)
SELECT 'school' AS level, school_code AS unit_code FROM s
UNION SELECT level, unit_code FROM parents
UNION SELECT u.parent_level, u.parent_code FROM parents p JOIN units u USING (level, unit_code)
WHERE u.parent_code IS NOT NULL
UNION SELECT h.parent_level, h.parent_code FROM parents p JOIN hierarchy_units h USING (level, unit_code)
WHERE h.parent_code IS NOT NULL
UNION SELECT 'bo', 'BO'

-- name: ensure_touched
-- _touched for the statements that read it when no re-run made it (every unit is then redone).
CREATE TEMP TABLE IF NOT EXISTS _touched (level VARCHAR, unit_code VARCHAR)
