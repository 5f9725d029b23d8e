-- What the steps of a run read for their facts and summary (pipelines/run.py).

-- name: registered_schools
SELECT unit_code FROM units WHERE level = 'school'

-- name: learner_records
SELECT count(*) FROM stg_learner

-- name: top_problems
-- The run's ($1) most frequent validation problems, at most $2.
SELECT rule_id, severity, count(*) AS records, count(DISTINCT school_code) AS schools,
       any_value(message_vi) AS message_vi, any_value(message_en) AS message_en
FROM validation_results WHERE run_id = $1 GROUP BY rule_id, severity
ORDER BY records DESC, rule_id LIMIT $2
