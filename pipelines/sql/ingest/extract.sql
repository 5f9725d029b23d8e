-- The fast path of ingest (pipelines/ingest/extract.py): raw record columns normalised in DuckDB.

-- name: macros
-- The normalisers of pipelines/ingest/normalise.py as macros (the generated SELECTs call them).
CREATE OR REPLACE TEMP MACRO edu_integer(x) AS
    CASE WHEN regexp_full_match(x, '-?[0-9]+\.0+') THEN split_part(x, '.', 1) ELSE x END;
-- A code: digits padded to the width w; "7.0" read as "7" first (one regular expression for the
-- common all-digit code; tests/ingest/test_extract.py checks it against the earlier four-pattern form).
CREATE OR REPLACE TEMP MACRO edu_pad(x, w) AS CASE WHEN w > 0 AND length(x) < w THEN lpad(x, w, '0') ELSE x END;
CREATE OR REPLACE TEMP MACRO edu_code(x, w) AS
    CASE WHEN regexp_full_match(x, '[0-9]+') THEN edu_pad(x, w)
         WHEN regexp_full_match(x, '[0-9]+\.0+') THEN edu_pad(split_part(x, '.', 1), w)
         ELSE x END;
CREATE OR REPLACE TEMP MACRO edu_flag(x) AS
    CASE WHEN lower(x) IN ('1', '1.0', 'true', 'có') THEN '1'
         WHEN lower(x) IN ('0', '0.0', 'false', 'không') THEN '0' ELSE x END;
-- The common form (2016-01-20, with or without a time) without strptime's cost, then the others.
CREATE OR REPLACE TEMP MACRO edu_date(x, fmt, formats) AS
    CASE WHEN x IS NULL THEN NULL
         WHEN regexp_full_match(x, '[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]*)?')
         THEN coalesce(strftime(TRY_CAST(left(x, 10) AS DATE), fmt), x)
         ELSE coalesce(strftime(try_strptime(x, formats), fmt), x) END;

-- name: create_scratch
CREATE OR REPLACE TEMP TABLE {table} (file_id INTEGER, record_index INTEGER, __FIELDS__,
    pre_hash_problems VARCHAR, over_limit VARCHAR)

-- name: over_limit
-- Per file, the first row over a limit: (file id, "Field:limit", record index).
SELECT file_id, arg_min(over_limit, record_index), min(record_index) FROM {table}
WHERE over_limit IS NOT NULL GROUP BY file_id

-- name: chain
-- The files each staged state is made of, in the order they apply (pos 0: the whole state).
CREATE OR REPLACE TEMP TABLE _chain (file_id INTEGER, school_code VARCHAR, file VARCHAR, state_hash VARCHAR,
    pos INTEGER, n_files INTEGER);
CREATE OR REPLACE TEMP TABLE _replaced (school_code VARCHAR, file VARCHAR, position VARCHAR, by_file VARCHAR);

-- name: single_files
-- The states of one file, in school code order (stage's offsets).
SELECT file_id, school_code, file, state_hash FROM _chain WHERE n_files = 1 ORDER BY school_code

-- name: replaced
SELECT school_code, file, position, by_file FROM _replaced ORDER BY ALL

-- name: drop_scratch
DROP TABLE IF EXISTS {table}
