-- Order-free checksums of the warehouse rows a period's output files are written from
-- (pipelines/outputs/rewrite.py): the row count and the sum of each whole row's hash, so one changed,
-- added, dropped or swapped value changes it. The same selections as export.sql's cells, indicators
-- and units ($school_year, $period, $boundaries).

-- name: cells
SELECT count(*), coalesce(sum(hash(q)::HUGEINT), 0) FROM (
    SELECT school_year, period, regime, form, level, unit_code, row_code, col_key, value, boundaries
    FROM cells
    WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
) q

-- name: indicators
SELECT count(*), coalesce(sum(hash(q)::HUGEINT), 0) FROM (
    SELECT school_year, period, form, indicator_id, name_vi, name_en, status, level, unit_code, numerator,
           denominator, value, numerator_rate, denominator_rate, boundaries
    FROM indicators
    WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
      AND boundaries = $boundaries
) q

-- name: units
SELECT count(*), coalesce(sum(hash(q)::HUGEINT), 0) FROM (
    SELECT level, unit_code, name_vi, parent_level, parent_code FROM units
) q

-- name: forms
-- The forms of the period's cells (regime, form), as export.sql's cells select them: the SDMX
-- structure lists them.
SELECT DISTINCT regime, form FROM cells
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
ORDER BY ALL
