-- A run's problems, as pipelines/warehouse/problems.py reads them ($1 run id throughout).

-- name: registry
-- Registry rows edustat skipped or placed by a guess (the last registry loaded).
SELECT excel_row, school_code, outcome, message_vi, message_en FROM registry_problems ORDER BY excel_row

-- name: rejected_files
SELECT file, school_code, reason, message_vi, message_en FROM files
WHERE run_id = $1 AND status = 'rejected' ORDER BY file

-- name: records
-- Every failing record of the run.
SELECT school_code, file, entity, record_index, row_id, field, value, rule_id, severity, message_vi, message_en
FROM validation_results WHERE run_id = $1 ORDER BY school_code, file, entity, record_index, rule_id

-- name: flagged_rows
-- The staging rows of one list ($2 entity) with a problem of the run, whole (a struct): what finds
-- each record in the school's software is picked from it.
SELECT s.row_id, s AS record FROM {table} AS s
WHERE s.row_id IN (SELECT row_id FROM validation_results WHERE run_id = $1 AND entity = $2)

-- name: flagged_results
-- A result names its pupil by the hashed ClientId: the pupil's first place in the learner list,
-- class and grade find it instead (the hash itself never leaves the warehouse). Only the flagged
-- results' pupils are grouped, not every learner of the province.
WITH flagged AS (
    SELECT row_id, school_code, ClientId FROM {table}
    WHERE row_id IN (SELECT row_id FROM validation_results WHERE run_id = $1 AND entity = $2)
)
SELECT f.row_id, l.li, l.lc, l.lg FROM flagged AS f
JOIN (SELECT p.school_code, p.ClientId, min(p.record_index) AS li, arg_min(p.MaLopHocDn, p.record_index) AS lc,
             arg_min(p.KhoiHoc, p.record_index) AS lg
      FROM {learners} AS p
      SEMI JOIN flagged AS k ON p.school_code = k.school_code AND p.ClientId = k.ClientId
      GROUP BY p.school_code, p.ClientId) AS l
  ON l.school_code = f.school_code AND l.ClientId = f.ClientId

-- name: loaded_files
-- The file each school's records (and so its cells) came from in the run.
SELECT school_code, min(file) FROM files WHERE run_id = $1 AND status = 'loaded' GROUP BY ALL

-- name: relations
-- Every broken form relation of the run, at every level, one row per violated cell instance.
SELECT form, level, unit_code, relation_id, check_text, basis, row_code, col_key, lhs, rhs
FROM relation_violations WHERE run_id = $1 ORDER BY ALL
