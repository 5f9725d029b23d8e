-- The audit trail (pipelines/window/audit.py): appended, never changed; each row chained to the
-- previous one by its hash. The current state of a unit is its last row (view workflow_state).

-- name: state_of
-- $1 school year, $2 period, $3 level, $4 unit code.
SELECT state FROM workflow_state WHERE school_year = $1 AND period = $2 AND level = $3 AND unit_code = $4

-- name: period_states
-- Every unit's current state for a period ($1 school year, $2 period).
SELECT level, unit_code, state FROM workflow_state WHERE school_year = $1 AND period = $2

-- name: last_row
SELECT seq, row_hash FROM audit ORDER BY seq DESC LIMIT 1

-- name: append_rows
-- The rows of an AuditBatch (pipelines/window/audit.py), registered as _audit_rows, columns in order.
INSERT INTO audit SELECT * FROM _audit_rows

-- name: all_rows
SELECT * FROM audit ORDER BY seq
