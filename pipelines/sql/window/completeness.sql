-- Completeness and timeliness (pipelines/window/completeness.py): what it reads, and the period's
-- rows of the run's units replaced ($1 school year, $2 period).

-- name: units
SELECT level, unit_code, name_vi, parent_level, parent_code FROM units

-- name: submissions
-- Per school: first arrival, versions, arrival of the current version.
SELECT school_code, min(arrived_at), max(version), max(arrived_at) FILTER (superseded_at IS NULL)
FROM submissions WHERE school_year = $1 AND period = $2 GROUP BY school_code

-- name: states
SELECT level, unit_code, state FROM workflow_state WHERE school_year = $1 AND period = $2

-- name: approved_at
-- When each unit's report was last approved.
SELECT level, unit_code, max(changed_at) FROM audit WHERE school_year = $1 AND period = $2 AND action = 'approve'
GROUP BY ALL

-- name: delete_units
-- The run's Phòng and Sở.
DELETE FROM completeness
WHERE school_year = $1 AND period = $2 AND (level, unit_code) IN (SELECT level, unit_code FROM units)

-- name: delete_schools
-- The run's schools.
DELETE FROM completeness_schools
WHERE school_year = $1 AND period = $2 AND school_code IN (SELECT unit_code FROM units WHERE level = 'school')

-- name: table_exists
SELECT count(*) FROM information_schema.tables WHERE table_name = 'completeness'

-- name: unit_rows
-- The run's completeness table (the columns of completeness.UNIT_COLUMNS, in order), Sở first.
SELECT school_year, period, level, unit_code, unit_name, expected, received, on_time, late, missing, pending,
       resubmitted, approved, received_pct, school_deadline, unit_deadline, unit_state, unit_approved_at,
       unit_timeliness, evaluated_at
FROM completeness WHERE school_year = $1 AND period = $2
  AND (level, unit_code) IN (SELECT level, unit_code FROM units)
ORDER BY level = 'phong', unit_code
