-- A release: one period copied out of the warehouse into its own DuckDB file, attached as `rel`
-- (pipelines/analyst/releases.py). The release's tables are built here; the contract views and the
-- tables they read besides come from pipelines/analyst/views.py. Values are parameters:
-- $school_year, $period, $start_year, $run_id (NULL when the period has no run), $day (the
-- period's as-of date).

-- name: tables
-- The warehouse's tables and views.
SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database()

-- name: last_aggregate_run
-- The period's last run whose aggregation committed.
SELECT run_id, aggregated_at FROM aggregate_runs WHERE school_year = $1 AND period = $2
ORDER BY aggregated_at DESC LIMIT 1

-- name: last_ingest_run
-- Else the period's last ingest.
SELECT run_id, max(ingested_at) AS t FROM files WHERE start_year = $1 AND period = $2
GROUP BY run_id ORDER BY t DESC LIMIT 1

-- name: latest_aggregate_run
-- The run whose typed records (school, learner, staff) the warehouse holds: the last aggregated.
SELECT run_id FROM aggregate_runs ORDER BY aggregated_at DESC LIMIT 1

-- name: count_cells
SELECT count(*) FROM cells WHERE school_year = $1 AND period = $2

-- name: attach
ATTACH $1 AS rel

-- name: cells
CREATE TABLE rel.cells AS SELECT * FROM cells WHERE school_year = $school_year AND period = $period
ORDER BY form, boundaries, CASE level WHEN 'bo' THEN 0 WHEN 'so' THEN 1 WHEN 'phong' THEN 2 ELSE 3 END,
         unit_code, row_code, col_key

-- name: indicators
CREATE TABLE rel.indicators AS SELECT * FROM indicators WHERE school_year = $school_year AND period = $period
ORDER BY ALL

-- name: files
-- The files of the period's run.
CREATE TABLE rel.files AS SELECT * FROM files
WHERE start_year = $start_year AND period = $period AND run_id = $run_id ORDER BY file

-- name: no_files
CREATE TABLE rel.files (run_id VARCHAR, start_year INTEGER, period VARCHAR, file VARCHAR, file_hash VARCHAR,
    school_code VARCHAR, status VARCHAR, reason VARCHAR, message_vi VARCHAR, message_en VARCHAR,
    ingested_at TIMESTAMP, n_learner INTEGER)

-- name: validation_summary
-- The run's validation problems by school, rule and field.
CREATE TABLE rel.validation_summary AS
SELECT school_code, rule_id, severity, entity, field, count(*) AS n_records,
       any_value(message_vi) AS message_vi, any_value(message_en) AS message_en
FROM validation_results WHERE school_year = $school_year AND period = $period AND run_id = $run_id
GROUP BY ALL ORDER BY school_code, rule_id, entity, field

-- name: unit_tree
CREATE TABLE rel.unit_tree AS SELECT * FROM unit_tree ORDER BY ALL

-- name: units_on_date
-- Every unit on each boundary version on the period's as-of date: the reference units valid then,
-- and each school of the release's cells where it stood (its last membership on or before the date,
-- else its first after, as the cell_series view places it).
CREATE TABLE rel.units AS
SELECT boundaries, level, unit_code, name_vi, parent_level, parent_code FROM hierarchy_units
WHERE valid_from <= $day AND (valid_to IS NULL OR valid_to >= $day)
UNION ALL
SELECT boundaries, 'school', school_code,
       coalesce(arg_max(name_vi, as_of) FILTER (WHERE as_of <= $day), arg_min(name_vi, as_of)),
       coalesce(arg_max(parent_level, as_of) FILTER (WHERE as_of <= $day), arg_min(parent_level, as_of)),
       coalesce(arg_max(parent_code, as_of) FILTER (WHERE as_of <= $day), arg_min(parent_code, as_of))
FROM unit_membership WHERE parent_code IS NOT NULL
  AND school_code IN (SELECT unit_code FROM rel.cells WHERE level = 'school')
GROUP BY boundaries, school_code
ORDER BY ALL

-- name: units
-- A warehouse without the unit tree: its units as they are.
CREATE TABLE rel.units AS SELECT * FROM units ORDER BY ALL

-- name: typed_records
-- A typed table of the last aggregated run (school, learner, staff), when that run is the period's
-- ($copy); else empty, with its columns.
CREATE TABLE rel.{table} AS SELECT * FROM {table} WHERE $copy

-- name: aggregate_runs
CREATE TABLE rel.aggregate_runs AS SELECT * FROM aggregate_runs WHERE run_id = $run_id

-- name: validation_results
CREATE TABLE rel.validation_results AS SELECT * FROM validation_results
WHERE school_year = $school_year AND period = $period AND run_id = $run_id

-- name: of_period
-- A table of every period (submissions, workflow_state), for this one.
CREATE TABLE rel.{table} AS SELECT * FROM {table} WHERE school_year = $school_year AND period = $period

-- name: rel_tables
SELECT table_name FROM duckdb_tables() WHERE database_name = 'rel'

-- name: count_rows
SELECT count(*) FROM rel.{table}

-- name: regimes
SELECT DISTINCT regime FROM rel.cells ORDER BY 1

-- name: boundaries
SELECT DISTINCT boundaries FROM rel.cells ORDER BY 1

-- name: release_files
SELECT file, school_code, file_hash, status FROM rel.files ORDER BY file

-- name: release_cells
-- cells.parquet
SELECT * FROM rel.cells

-- name: release_indicators
-- indicators.parquet
SELECT * FROM rel.indicators

-- name: release
CREATE TABLE rel.release (name VARCHAR, school_year VARCHAR, period VARCHAR, created_at VARCHAR,
    run_id VARCHAR, manifest JSON)

-- name: record_release
INSERT INTO rel.release VALUES (?, ?, ?, ?, ?, ?)

-- name: checkpoint
CHECKPOINT rel

-- name: detach
DETACH rel
