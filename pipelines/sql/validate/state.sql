-- One validation and its re-runs (pipelines/validate/check.py).

-- name: other_periods_history
-- What cross-period rules read of the other periods ($1 school year, $2 period): a fingerprint part.
SELECT (SELECT (count(*), bit_xor(hash(h))) FROM school_history h
        WHERE NOT (school_year = $1 AND period = $2)),
       (SELECT (count(*), bit_xor(hash(g))) FROM school_grade_history g
        WHERE NOT (school_year = $1 AND period = $2))

-- name: create_delta
-- The schools a re-run checks again (a table: GX reads through its own connection).
CREATE OR REPLACE TABLE validation_delta (school_code VARCHAR)

-- name: delta_table
-- The changed schools' rows of one staging table, copied (a few hundred rows): the school-scoped
-- rules read them several times each (subqueries), and a view would scan the whole table each time.
CREATE OR REPLACE TABLE {delta} AS SELECT * FROM {table}
WHERE school_code IN (SELECT school_code FROM validation_delta)

-- name: drop_delta_table
DROP TABLE IF EXISTS {delta}

-- name: drop_delta
DROP TABLE IF EXISTS validation_delta

-- name: count_rows
SELECT count(*) FROM {table}

-- name: now
SELECT CAST(now() AS TIMESTAMP)

-- name: delete_run_results
-- A re-run under the same run id replaces its results rather than doubling them.
DELETE FROM validation_results WHERE run_id = $1

-- name: carry_over
-- The unchanged schools' results of the school-scoped rules ($rules), as the last run found them.
INSERT INTO validation_results
SELECT $run_id, school_year, period, rule_id, severity, entity, school_code, file, record_index,
       row_id, field, value, message_vi, message_en, $checked_at
FROM validation_results WHERE run_id = $last_run
  AND rule_id IN (SELECT unnest($rules::VARCHAR[]))
  AND school_code NOT IN (SELECT school_code FROM validation_delta)

-- name: count_run_results
SELECT count(*) FROM validation_results WHERE run_id = $1
