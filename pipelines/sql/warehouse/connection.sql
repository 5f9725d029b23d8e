-- The connection's own statements (pipelines/warehouse/connection.py).

-- name: memory_limit
-- A cap on DuckDB's memory ($1, e.g. '3GB'), the database's setting.
SET GLOBAL memory_limit = $1

-- name: insert_rows
-- Many rows at once from the Arrow table registered as _insert_rows.
INSERT INTO {table} SELECT * FROM _insert_rows
