-- The staging tables and the files of the period (pipelines/ingest/staging.py, inbox.py).

-- name: next_row_id
SELECT coalesce(max(row_id) + 1, 0) FROM {table}

-- name: append_batch
INSERT INTO {table} SELECT * FROM _batch

-- name: staged_files
-- Each staged school: its state's hash and the file of its school record.
SELECT school_code, any_value(file_hash), any_value(file) FROM stg_school GROUP BY school_code

-- name: loaded_before
-- Each file loaded before in the period (by its hash): its school and records per list, as its
-- latest load counted them. $start_year, $period.
SELECT file_hash, arg_max(school_code, ingested_at), arg_max(n_school, ingested_at), arg_max(n_site, ingested_at),
       arg_max(n_class, ingested_at), arg_max(n_learner, ingested_at), arg_max(n_staff, ingested_at),
       arg_max(n_rooms, ingested_at), arg_max(n_result, ingested_at), arg_max(n_budget, ingested_at)
FROM files WHERE status = 'loaded' AND start_year = $start_year AND period = $period GROUP BY file_hash

-- name: delete_schools
-- The staged rows of the schools staged again, or no longer staged ($1 their codes).
DELETE FROM {table} WHERE school_code IN (SELECT unnest($1::VARCHAR[]))

-- name: staged_learners
SELECT count(*) FROM stg_learner

-- name: tables
-- Every table of the warehouse (are the staging tables there to build on?).
SELECT table_name FROM duckdb_tables()
