-- What changed since the last run of a period (pipelines/warehouse/changes.py): per stage the
-- fingerprint and run it last worked under, and the staged files it worked from; per output folder
-- the digest of the inputs of each file written there.

-- name: last_state
SELECT run_id, fingerprint FROM stage_state WHERE stage = $1

-- name: clear_state
DELETE FROM stage_state WHERE stage = $1

-- name: save_state
-- $1 stage, $2 run id, $3 fingerprint.
INSERT INTO stage_state VALUES ($1, $2, $3)

-- name: changed_schools
-- Schools whose staged file differs from the files a stage ($1) last worked from (changed, new or gone).
WITH now AS (SELECT DISTINCT school_code, file_hash FROM stg_school),
last AS (SELECT school_code, file_hash FROM stage_files WHERE stage = $1)
SELECT school_code FROM ((SELECT * FROM now EXCEPT SELECT * FROM last)
                         UNION ALL (SELECT * FROM last EXCEPT SELECT * FROM now))

-- name: clear_staged_files
DELETE FROM stage_files WHERE stage = $1

-- name: save_staged_files
-- The staged files a stage ($1) has just worked from.
INSERT INTO stage_files SELECT DISTINCT $1, school_code, file_hash FROM stg_school

-- name: output_digests
SELECT path, digest FROM output_digests WHERE folder = $1

-- name: forget_folder
DELETE FROM output_digests WHERE folder = $1

-- name: forget_paths
-- $1 folder, $2 paths (relative to it).
DELETE FROM output_digests WHERE folder = $1 AND list_contains($2, path)
