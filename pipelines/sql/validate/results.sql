-- Validation results, rejected schools and the quarantine (pipelines/validate/results.py).

-- name: rejected_schools
-- Schools whose school record has an error ($1 run id).
SELECT DISTINCT school_code FROM validation_results
WHERE run_id = $1 AND entity = 'school' AND severity = 'error' ORDER BY 1

-- name: reject_schools
-- One school.rejected result per school whose school record has an error.
INSERT INTO validation_results
SELECT $run_id, $school_year, $period, $rule_id, 'error', 'school', s.school_code, s.file, s.record_index,
       s.row_id, NULL, NULL, $message_vi, $message_en, $checked_at
FROM stg_school AS s WHERE s.school_code IN (
    SELECT school_code FROM validation_results
    WHERE run_id = $run_id AND entity = 'school' AND severity = 'error')

-- name: clear_quarantine
DELETE FROM quarantine WHERE run_id = $1

-- name: create_hits
CREATE OR REPLACE TEMP TABLE _hits (entity VARCHAR, row_id BIGINT, school_code VARCHAR, file VARCHAR,
    record_index INTEGER, rule_id VARCHAR)

-- name: hits_of_errors
-- Every row with an error, but the rejections of whole schools.
INSERT INTO _hits SELECT entity, row_id, school_code, file, record_index, rule_id
FROM validation_results WHERE run_id = $run_id AND severity = 'error' AND rule_id <> $rejected_rule

-- name: hits_of_rejected_schools
-- Every row of a rejected school, in one staging table, is excluded as well.
INSERT INTO _hits SELECT $entity, row_id, school_code, file, record_index, $rejected_rule
FROM {table} WHERE school_code IN (SELECT unnest($schools::VARCHAR[]))

-- name: quarantine
INSERT INTO quarantine
SELECT $1, entity, row_id, any_value(school_code), any_value(file), any_value(record_index),
       string_agg(DISTINCT rule_id, ',' ORDER BY rule_id)
FROM _hits GROUP BY entity, row_id

-- name: count_quarantined
SELECT count(*) FROM quarantine WHERE run_id = $1

-- name: top_problems
-- A run's most frequent validation problems ($1 run id, $2 how many).
SELECT rule_id AS rule, severity, count(*) AS records, count(DISTINCT school_code) AS schools,
       any_value(message_vi) AS message_vi, any_value(message_en) AS message_en
FROM validation_results WHERE run_id = $1 GROUP BY rule_id, severity
ORDER BY records DESC, rule_id LIMIT $2
