-- What the form compiler reads of the warehouse (pipelines/aggregate/compiler.py).

-- name: entity_columns
-- The columns of the typed entity tables ($1: their names), in table order.
SELECT table_name, column_name FROM duckdb_columns()
WHERE table_name IN (SELECT unnest($1::VARCHAR[])) AND schema_name = 'main' AND NOT internal
ORDER BY column_index
