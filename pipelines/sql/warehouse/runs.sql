-- The runs of the warehouse (pipelines/warehouse/runs.py).

-- name: record_aggregate_run
-- A run's aggregation of a period committed: $1 run id, $2 school year, $3 period, $4 regime, $5 boundaries.
INSERT INTO aggregate_runs VALUES ($1, $2, $3, $4, $5, CAST(now() AS TIMESTAMP))
