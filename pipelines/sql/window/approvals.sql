-- The state changes a run makes (pipelines/window/approvals.py, record_run_states).

-- name: rejected_schools
-- Schools whose school record this run ($1) rejected.
SELECT DISTINCT school_code FROM quarantine WHERE run_id = $1 AND entity = 'school'

-- name: staged_schools
-- The run's schools with staged rows.
SELECT DISTINCT school_code FROM stg_school
WHERE school_code IN (SELECT unit_code FROM units WHERE level = 'school') ORDER BY 1

-- name: parents_of_new_versions
-- Each school that sent a new version in this run ($1 run id, $2 school year, $3 period), with its
-- parent and the parent's parent.
SELECT s.unit_code, p.level, p.unit_code, g.level, g.unit_code FROM units s
JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
LEFT JOIN units g ON g.level = p.parent_level AND g.unit_code = p.parent_code
WHERE s.level = 'school' AND s.unit_code IN
    (SELECT school_code FROM submissions WHERE run_id = $1 AND school_year = $2 AND period = $3)

-- name: reporting_units
-- The run's Phòng and Sở, Sở first.
SELECT level, unit_code FROM units WHERE level IN ('phong', 'so') ORDER BY level DESC, unit_code
