-- The SDMX-CSV files of a period (pipelines/outputs/sdmx.py): the run's units only (the `units`
-- table; the warehouse may hold other provinces), the indicators on the run's boundary version.
-- The code mappings travel as three small TEMP tables; values are parameters ($school_year,
-- $period, $boundaries, $structure_id, $action, $time_period). The cells are read from the period's
-- staged copy ({staged}: export.sql stage_cells, the run's units' cells of the period, in order).

-- name: form_map
CREATE OR REPLACE TEMP TABLE _sdmx_form (form VARCHAR, form_id VARCHAR, status VARCHAR)

-- name: row_map
CREATE OR REPLACE TEMP TABLE _sdmx_row (form VARCHAR, row_code INTEGER, row_id VARCHAR, unit_measure VARCHAR)

-- name: col_map
CREATE OR REPLACE TEMP TABLE _sdmx_col (form VARCHAR, col_key VARCHAR, col_id VARCHAR, sex VARCHAR,
    ethnicity VARCHAR, ownership VARCHAR)

-- name: rank_maps
-- Each mapping's codes ranked in their text order (dense_rank: equal codes, equal ranks), so the cells
-- file sorts on small integers, in the same order as on the codes themselves.
CREATE OR REPLACE TEMP TABLE _sdmx_form AS SELECT *, dense_rank() OVER (ORDER BY form_id) AS form_rank FROM _sdmx_form;
CREATE OR REPLACE TEMP TABLE _sdmx_row AS SELECT *, dense_rank() OVER (ORDER BY row_id) AS row_rank FROM _sdmx_row;
CREATE OR REPLACE TEMP TABLE _sdmx_col AS SELECT *, dense_rank() OVER (ORDER BY col_id) AS col_rank FROM _sdmx_col;

-- name: units
SELECT level, unit_code, name_vi FROM units ORDER BY ALL

-- name: forms_of_cells
-- The regime and form of every cell of the period (another regime's forms the warehouse still holds
-- for the period travel too, as cells.csv lists them).
SELECT DISTINCT regime, form FROM {staged} c
ORDER BY ALL

-- name: cells_check
-- The cells, and those whose form, row or column the catalogue does not know (they would travel
-- with an empty code).
SELECT count(*), count(*) FILTER (WHERE f.form_id IS NULL OR r.row_id IS NULL OR k.col_id IS NULL)
FROM {staged} c
LEFT JOIN _sdmx_form f USING (form)
LEFT JOIN _sdmx_row r ON r.form = c.form AND r.row_code = c.row_code
LEFT JOIN _sdmx_col k ON k.form = c.form AND k.col_key = c.col_key

-- name: cells
SELECT 'dataflow' AS "STRUCTURE", $structure_id AS STRUCTURE_ID, $action AS "ACTION",
       c.unit_code AS REF_AREA, c.level AS UNIT_LEVEL, f.form_id AS FORM, r.row_id AS "ROW", k.col_id AS COL,
       k.sex AS SEX, k.ethnicity AS ETHNICITY, k.ownership AS OWNERSHIP, $time_period AS TIME_PERIOD,
       c.value AS OBS_VALUE, c.school_year AS SCHOOL_YEAR, c.period AS REPORT_PERIOD,
       r.unit_measure AS UNIT_MEASURE, c.regime AS REGIME, $boundaries AS BOUNDARIES, f.status AS FORM_STATUS
FROM {staged} c
LEFT JOIN _sdmx_form f USING (form)
LEFT JOIN _sdmx_row r ON r.form = c.form AND r.row_code = c.row_code
LEFT JOIN _sdmx_col k ON k.form = c.form AND k.col_key = c.col_key
-- In the order of FORM, UNIT_LEVEL (school, phong, so), REF_AREA, ROW, COL: the codes' ranks (rank_maps).
ORDER BY f.form_rank, CASE c.level WHEN 'school' THEN 0 WHEN 'phong' THEN 1 WHEN 'so' THEN 2 ELSE 3 END, c.unit_code,
         r.row_rank, k.col_rank

-- name: indicators
SELECT 'dataflow' AS "STRUCTURE", $structure_id AS STRUCTURE_ID, $action AS "ACTION",
       i.unit_code AS REF_AREA, i.level AS UNIT_LEVEL, replace(i.indicator_id, '.', '_') AS INDICATOR,
       $time_period AS TIME_PERIOD, coalesce(CAST(i.value AS VARCHAR), 'NaN') AS OBS_VALUE,
       i.school_year AS SCHOOL_YEAR, i.period AS REPORT_PERIOD, f.form_id AS FORM,
       i.numerator AS NUMERATOR, i.denominator AS DENOMINATOR, i.numerator_rate AS NUMERATOR_RATE,
       i.denominator_rate AS DENOMINATOR_RATE, i.status AS IND_STATUS, i.boundaries AS BOUNDARIES
FROM indicators i
LEFT JOIN _sdmx_form f USING (form)
WHERE i.school_year = $school_year AND i.period = $period AND (i.level, i.unit_code) IN (SELECT level, unit_code FROM units)
  AND i.boundaries = $boundaries
ORDER BY FORM, CASE UNIT_LEVEL WHEN 'school' THEN 0 WHEN 'phong' THEN 1 WHEN 'so' THEN 2 ELSE 3 END, REF_AREA, INDICATOR

-- name: indicators_count
SELECT count(*) FROM indicators i
WHERE i.school_year = $school_year AND i.period = $period AND (i.level, i.unit_code) IN (SELECT level, unit_code FROM units)
  AND i.boundaries = $boundaries
