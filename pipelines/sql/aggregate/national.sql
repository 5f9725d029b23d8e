-- The national roll-up (pipelines/aggregate/national.py): every province partition attached
-- read-only in turn, its cells of the period collected with the province, the ministry (bo/BO) rows
-- added as the sum of the Sở rows. The national database is a warehouse like any other (its `cells`
-- table from schema.sql); the province of each row is kept in the scratch table _national and the
-- files written from it.

-- name: create_national
CREATE OR REPLACE TEMP TABLE _national (province VARCHAR, school_year VARCHAR, period VARCHAR,
    regime VARCHAR, form VARCHAR, level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR,
    value BIGINT, boundaries VARCHAR)

-- name: attach_partition
-- $1: the partition's file.
ATTACH $1 AS national_partition (READ_ONLY)

-- name: collect_partition
INSERT INTO _national BY NAME
SELECT $province AS province, * FROM national_partition.cells WHERE school_year = $year AND period = $period

-- name: detach_partition
DETACH national_partition

-- name: add_ministry
INSERT INTO _national BY NAME
SELECT NULL AS province, school_year, period, regime, form, 'bo' AS level, 'BO' AS unit_code,
       row_code, col_key, sum(value)::BIGINT AS value, boundaries
FROM _national WHERE level = 'so' GROUP BY ALL

-- name: store_cells
-- The national cells (every province's and the ministry's) into the database's `cells`.
INSERT INTO cells BY NAME SELECT * EXCLUDE (province) FROM _national

-- name: per_province
SELECT province, count(DISTINCT unit_code) FILTER (WHERE level = 'school'), count(*)
FROM _national WHERE province IS NOT NULL GROUP BY province ORDER BY province

-- name: count_ministry
SELECT count(*) FROM _national WHERE level = 'bo'

-- name: write_parquet
-- $1: the file.
COPY (SELECT * FROM _national ORDER BY ALL) TO $1 (FORMAT parquet)

-- name: write_csv
COPY (SELECT * FROM _national ORDER BY ALL) TO $1 (HEADER)
