-- Submissions: every version of every school's file (pipelines/ingest/submissions.py).

-- name: current
SELECT school_code, version, file, sha256, arrived_at FROM submissions
WHERE school_year = $school_year AND period = $period AND superseded_at IS NULL

-- name: versions
SELECT version, file, sha256, arrived_at, superseded_at FROM submissions
WHERE school_year = $school_year AND period = $period AND school_code = $school_code ORDER BY version

-- name: sha256_of_version
SELECT sha256 FROM submissions
WHERE school_year = $school_year AND period = $period AND school_code = $school_code AND version = $version

-- name: supersede
UPDATE submissions SET superseded_at = $at
WHERE school_year = $school_year AND period = $period AND school_code = $school_code AND version = $version

-- name: add
INSERT INTO submissions VALUES ($school_year, $period, $school_code, $version, $file, $sha256, $arrived_at,
    $recorded_at, NULL, $run_id)

-- name: add_all
-- The new versions of one ingest at once (submissions.register_versions registers _versions).
INSERT INTO submissions SELECT * FROM _versions

-- name: locked_schools
-- Schools of the run's unit tree that take no new version: locked, or under a locked Phòng or Sở.
WITH locked AS (SELECT level, unit_code FROM workflow_state
                WHERE school_year = $school_year AND period = $period AND state = 'locked')
SELECT s.unit_code FROM units s
LEFT JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
WHERE s.level = 'school' AND ((s.level, s.unit_code) IN (SELECT * FROM locked)
    OR (s.parent_level, s.parent_code) IN (SELECT * FROM locked)
    OR (p.parent_level, p.parent_code) IN (SELECT * FROM locked))

-- name: database_path
-- The warehouse's file (NULL in memory): the store of the files lies beside it.
SELECT path FROM duckdb_databases() WHERE database_name = current_database()

-- name: listed
-- Every stored version's hash (the store keeps no other file).
SELECT DISTINCT sha256 FROM submissions

-- name: period_versions
-- Every version of the period, oldest first.
SELECT school_code, version, file, sha256, arrived_at FROM submissions
WHERE school_year = $school_year AND period = $period ORDER BY school_code, version
