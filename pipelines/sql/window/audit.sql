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

-- name: append
-- One row: seq, changed_at, user_name, action, school_year, period, level, unit_code, from_state,
-- to_state, reason, run_id, prev_hash, row_hash.
INSERT INTO audit VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)

-- name: all_rows
SELECT * FROM audit ORDER BY seq
