-- What changed between two releases (pipelines/analyst/diff.py).

-- name: changed_cells
-- The cells whose value differs between the cells.parquet of release A ($a) and of B ($b); a cell
-- absent from one is 0 there.
WITH a AS (
    SELECT boundaries, form, level, unit_code, row_code, col_key, sum(value) AS value
    FROM read_parquet($a) GROUP BY ALL
),
b AS (
    SELECT boundaries, form, level, unit_code, row_code, col_key, sum(value) AS value
    FROM read_parquet($b) GROUP BY ALL
)
SELECT form, level, unit_code, row_code, col_key, coalesce(a.value, 0) AS value_a,
       coalesce(b.value, 0) AS value_b, boundaries
FROM a FULL OUTER JOIN b USING (boundaries, form, level, unit_code, row_code, col_key)
WHERE coalesce(a.value, 0) <> coalesce(b.value, 0)
ORDER BY form, boundaries, CASE level WHEN 'bo' THEN 0 WHEN 'so' THEN 1 WHEN 'phong' THEN 2 ELSE 3 END,
         unit_code, row_code, col_key

-- name: files
-- A release's files: school ('' for a file no school could be read from), file, hash.
SELECT coalesce(school_code, ''), file, file_hash FROM files ORDER BY file
