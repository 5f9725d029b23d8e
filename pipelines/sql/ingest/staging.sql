-- The staging tables and the files of the period (pipelines/ingest/staging.py, inbox.py).

-- name: next_row_id
SELECT coalesce(max(row_id) + 1, 0) FROM {table}

-- name: append_batch
INSERT INTO {table} SELECT * FROM _batch

-- name: staged_files
-- Each staged school: its state's hash and the file of its school record.
SELECT school_code, any_value(file_hash), any_value(file) FROM stg_school GROUP BY school_code

-- name: delete_schools
-- The staged rows of the schools staged again, or no longer staged ($1 their codes).
DELETE FROM {table} WHERE school_code IN (SELECT unnest($1::VARCHAR[]))

-- name: staged_learners
SELECT count(*) FROM stg_learner

-- name: tables
-- Every table of the warehouse (are the staging tables there to build on?).
SELECT table_name FROM duckdb_tables()
