-- One period's outputs (pipelines/outputs/export.py). Cells and indicators are those of this run's
-- units ($school_year, $period, the `units` table): the warehouse may hold other provinces' cells of
-- the same period. Indicators exist on both boundary versions; the run's outputs give those of its
-- own ($boundaries).

-- name: stage_cells
-- cells.csv, cells.parquet and the SDMX cells (outputs/sdmx.py) are written from one materialised
-- copy of the period's cells, in order ({staged}, a TEMP table): the rows are selected and sorted
-- once, not once per file. The non-zero cells, long format (aggregate.CELLS_COLUMNS).
CREATE OR REPLACE TEMP TABLE {staged} AS
SELECT school_year, period, regime, form, level, unit_code, row_code, col_key, value, boundaries
FROM cells
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
ORDER BY form, CASE level WHEN 'school' THEN 0 WHEN 'phong' THEN 1 ELSE 2 END, unit_code, row_code, col_key

-- name: unstage_cells
DROP TABLE IF EXISTS {staged}

-- name: staged_rows
SELECT * FROM {staged}

-- name: indicators
-- indicators.csv and indicators.parquet (aggregate.INDICATOR_COLUMNS).
SELECT school_year, period, form, indicator_id, name_vi, name_en, status, level, unit_code, numerator,
       denominator, value, numerator_rate, denominator_rate, boundaries
FROM indicators
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
  AND boundaries = $boundaries
ORDER BY form, CASE level WHEN 'school' THEN 0 WHEN 'phong' THEN 1 ELSE 2 END, unit_code, indicator_id

-- name: unit_indicators
-- The indicators on the "Chỉ tiêu" sheet of the Phòng and Sở workbooks.
SELECT form, level, unit_code, indicator_id, name_vi, name_en, numerator, denominator, value, status
FROM indicators
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
  AND boundaries = $boundaries AND level IN ('phong', 'so')
ORDER BY ALL

-- name: units
SELECT level, unit_code, name_vi, parent_level, parent_code FROM units

-- name: form_values
-- The non-zero cells of one form ($form), a row per unit (row codes, column keys, values as lists).
SELECT level, unit_code, list(row_code), list(col_key), list(value) FROM cells
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
  AND form = $form AND value <> 0
GROUP BY level, unit_code

-- name: unit_values
-- The non-zero cells of one form ($form) at one unit ($level, $unit_code), as form_values.
SELECT level, unit_code, list(row_code), list(col_key), list(value) FROM cells
WHERE school_year = $school_year AND period = $period AND form = $form AND level = $level
  AND unit_code = $unit_code AND value <> 0
GROUP BY level, unit_code

-- name: unit_checksums
-- Per form and unit, the count and an order-free checksum of its non-zero cells (form_values): a
-- workbook's digest (outputs/rewrite.py) without reading its cells.
SELECT form, level, unit_code, count(*), coalesce(sum(hash(row_code, col_key, value)::HUGEINT), 0) FROM cells
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
  AND value <> 0
GROUP BY form, level, unit_code

-- name: form_units
-- The units with a workbook of each form (one scan for every form of the period).
SELECT DISTINCT form, level, unit_code FROM cells
WHERE school_year = $school_year AND period = $period AND (level, unit_code) IN (SELECT level, unit_code FROM units)
ORDER BY ALL

-- name: files_by_status
SELECT status, count(*) FROM files WHERE run_id = $1 GROUP BY status

-- name: learners_staged
SELECT count(*) FROM stg_learner

-- name: quarantined_by_entity
SELECT entity, count(*) FROM quarantine WHERE run_id = $1 GROUP BY entity ORDER BY entity

-- name: top_rules
-- The ten rules with the most problems.
SELECT rule_id, severity, any_value(message_vi), any_value(message_en), count(*) AS n
FROM validation_results WHERE run_id = $1 GROUP BY rule_id, severity ORDER BY n DESC, rule_id LIMIT 10
