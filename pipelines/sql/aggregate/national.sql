-- The national run (pipelines/aggregate/national.py). Each province, at the end of its run, writes
-- its period's tables as Parquet to the bucket (export_*); the national roll-up downloads them,
-- loads each province's files, adds the ministry (bo/BO) cells as the sum of the Sở cells and
-- records which provinces it holds (national_provinces, national_rollup: rebuilt whole at every
-- roll-up, like the database itself). The national database is a warehouse like any other: its
-- `cells`, `indicators`, typed and log tables from schema.sql, and the analysts' views on them.

-- --- the province side: its period's tables as Parquet ------------------------------------------

-- name: table_columns
-- The columns of each table of the warehouse.
SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database()

-- name: export_of_period
-- {table}: a table with school_year and period columns; $path: the Parquet file.
COPY (SELECT * FROM {table} WHERE school_year = $school_year AND period = $period) TO $path (FORMAT parquet)

-- name: export_of_start_year
-- {table}: a table with start_year and period columns (the files of ingest).
COPY (SELECT * FROM {table} WHERE start_year = $start_year AND period = $period) TO $path (FORMAT parquet)

-- name: export_whole
-- {table}: a table of the last run (typed records) or of every period (the unit tree).
COPY (SELECT * FROM {table}) TO $path (FORMAT parquet)

-- --- the national side ------------------------------------------------------------------------

-- name: create_national
CREATE OR REPLACE TEMP TABLE _national (province VARCHAR, school_year VARCHAR, period VARCHAR,
    regime VARCHAR, form VARCHAR, level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR,
    value BIGINT, boundaries VARCHAR)

-- name: create_books
-- Every province expected, and what the roll-up found of it: rolled_up | failed | missing.
CREATE OR REPLACE TABLE national_provinces (school_year VARCHAR, period VARCHAR, province VARCHAR,
    status VARCHAR, reason_vi VARCHAR, reason_en VARCHAR, run_id VARCHAR, written_at VARCHAR,
    schools BIGINT, cells BIGINT, learners BIGINT)

-- name: create_rollup
-- The roll-up itself: when, the books (expected = rolled up + missing) and whether it is complete.
CREATE OR REPLACE TABLE national_rollup (school_year VARCHAR, period VARCHAR, rolled_up_at TIMESTAMP,
    bucket VARCHAR, expected INTEGER, rolled_up INTEGER, missing INTEGER, complete BOOLEAN,
    note_vi VARCHAR, note_en VARCHAR)

-- name: insert_rollup
INSERT INTO national_rollup VALUES ($school_year, $period, current_localtimestamp(), $bucket, $expected,
    $rolled_up, $missing, $missing = 0, $note_vi, $note_en)

-- name: collect_cells
-- $path: a province's cells.parquet, $province its code; only the period's rows.
INSERT INTO _national BY NAME
SELECT $province AS province, * FROM read_parquet($path) WHERE school_year = $year AND period = $period

-- name: load_table
-- {table}: a province's rows of the table.
INSERT INTO {table} BY NAME SELECT * FROM read_parquet($1)

-- name: create_like
-- {table}: a table a stage rebuilds whole in a province (the typed records: aggregate/entities.sql),
-- created here with the columns of the first province's file.
CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM read_parquet($1) WHERE false

-- name: load_indicators
-- The province's indicators without its own `bo` rows (they describe that province only).
INSERT INTO indicators BY NAME SELECT * FROM read_parquet($1) WHERE level <> 'bo'

-- name: load_distinct
-- {table}: rows every province holds alike (the reference unit tree): each row once.
INSERT INTO {table} BY NAME
SELECT * FROM (SELECT * FROM read_parquet($1) EXCEPT SELECT * FROM {table})

-- name: parquet_rows
SELECT count(*) FROM read_parquet($1)

-- name: parquet_columns
-- $1: a Parquet file; its columns' names and types, in order.
SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))

-- name: parquet_view
-- The statement making {table} a view over the Parquet files $1 (a list, in order): a view takes no
-- bound parameter, so DuckDB writes the statement, each path quoted as an SQL string ('' for ').
SELECT 'CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet(['
       || array_to_string(list_transform($1::VARCHAR[], lambda f: '''' || replace(f, '''', '''''') || ''''), ', ')
       || '])'

-- name: drop_table
-- {table}: the schema's (empty) table a view over the kept files replaces.
DROP TABLE IF EXISTS {table}

-- name: sort_national
-- The national cells sorted once (every column; the ministry's rows, with no province, last): the
-- database's `cells` and both files are written in this order.
CREATE OR REPLACE TEMP TABLE _national AS SELECT * FROM _national ORDER BY ALL

-- name: add_ministry
INSERT INTO _national BY NAME
SELECT NULL AS province, school_year, period, regime, form, 'bo' AS level, 'BO' AS unit_code,
       row_code, col_key, sum(value)::BIGINT AS value, boundaries
FROM _national WHERE level = 'so' GROUP BY ALL

-- name: ministry_cells
-- The ministry's cells of the period ($1 school year, $2 period) whatever the Sở's boundary version
-- (the ministry is one unit on every version), as the scratch warehouse's one "school" BO
-- (ministry_indicators): the columns of `cells`. Level `bo`, unit `BO`: the ministry ("Bộ GDĐT",
-- reference README.md's hierarchy names the level but gives it no code; status: inferred).
SELECT school_year, period, regime, form, 'school' AS level, 'BO' AS unit_code, row_code, col_key,
       sum(value)::BIGINT AS value, min(boundaries) AS boundaries
FROM _national WHERE level = 'bo' AND school_year = $1 AND period = $2
GROUP BY school_year, period, regime, form, row_code, col_key
ORDER BY ALL

-- name: ministry_indicator_rows
-- The scratch warehouse's indicators, back on the ministry's level: the columns of `indicators`.
SELECT * REPLACE ('bo' AS level) FROM indicators WHERE unit_code = 'BO' ORDER BY ALL

-- name: store_cells
-- The national cells (every province's and the ministry's) into the database's `cells`.
INSERT INTO cells BY NAME SELECT * EXCLUDE (province) FROM _national

-- name: per_province
SELECT province, count(DISTINCT unit_code) FILTER (WHERE level = 'school'), count(*)
FROM _national WHERE province IS NOT NULL GROUP BY province ORDER BY province

-- name: count_ministry
SELECT count(*) FROM _national WHERE level = 'bo'

-- name: insert_province
INSERT INTO national_provinces VALUES ($school_year, $period, $province, $status, $reason_vi, $reason_en,
    $run_id, $written_at, $schools, $cells, $learners)

-- name: write_parquet
-- $1: the file.
COPY (SELECT * FROM _national) TO $1 (FORMAT parquet)

-- name: write_csv
COPY (SELECT * FROM _national) TO $1 (HEADER)

-- name: write_books
-- $1: the file: the provinces expected and what the roll-up found of each.
COPY (SELECT * FROM national_provinces ORDER BY province) TO $1 (HEADER)
