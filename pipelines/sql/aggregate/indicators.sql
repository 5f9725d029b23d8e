-- Indicators per unit from the period's cells (pipelines/aggregate/indicators.py): ratios of cells,
-- rates over population, cohort rates, parity indices, each value with its numerator and
-- denominator, on each boundary version. Values are bound: $school_year, $period, $version (the
-- boundary version computed).

-- name: create_indicators
-- The run's indicators (schemas/indicators/*.yaml, on the run's form ids); a cohort rate's
-- denominator is read from den_form (form ids, comma-separated) in den_year, den_period.
CREATE OR REPLACE TEMP TABLE _indicators (indicator_id VARCHAR, form VARCHAR, name_vi VARCHAR,
    name_en VARCHAR, status VARCHAR, kind VARCHAR, scale DOUBLE, age_from INTEGER, age_to INTEGER,
    pop_sex VARCHAR, gpi_female VARCHAR, gpi_male VARCHAR, den_form VARCHAR, den_year VARCHAR,
    den_period VARCHAR)

-- name: create_indicator_cells
-- The cells of each side (num, den, minus) of each indicator.
CREATE OR REPLACE TEMP TABLE _indicator_cells (indicator_id VARCHAR, side VARCHAR, row_code INTEGER,
    col_key VARCHAR)

-- name: create_population
-- The population of the start year ($1; none when the run was given no population file).
CREATE OR REPLACE TEMP TABLE _population AS
SELECT level, unit_code, age, sex, population FROM population WHERE year = $1

-- name: delete_indicators
-- $3 (a re-run): only the units in _touched.
DELETE FROM indicators WHERE school_year = $1 AND period = $2
  AND (NOT $3 OR (level, unit_code) IN (SELECT level, unit_code FROM _touched))

-- name: insert_indicators
-- The indicators of the period's units on one boundary version: from the school cells, and the
-- Phòng, Sở and Bộ cells re-aggregated on it (unit_cells_on, views.sql). $touched (a re-run): the units in
-- _touched only.
INSERT INTO indicators (school_year, period, form, indicator_id, name_vi, name_en, status, level, unit_code,
                        numerator, denominator, value, numerator_rate, denominator_rate, boundaries)
WITH all_cells AS (
    SELECT form, level, unit_code, row_code, col_key, value FROM cells
    WHERE school_year = $school_year AND period = $period AND level = 'school'
    UNION ALL
    SELECT form, level, unit_code, row_code, col_key, value FROM unit_cells_on($version, $school_year, $period)
),
c AS (
    SELECT * FROM all_cells WHERE NOT $touched OR (level, unit_code) IN (SELECT level, unit_code FROM _touched)
),
units AS (SELECT DISTINCT form, level, unit_code FROM c),
sides AS (
    SELECT i.indicator_id, u.level, u.unit_code,
           coalesce(sum(CASE WHEN ic.side = 'num' THEN c.value END), 0)
           - coalesce(sum(CASE WHEN ic.side = 'minus' THEN c.value END), 0) AS num,
           coalesce(sum(CASE WHEN ic.side = 'den' THEN c.value END), 0) AS den
    FROM _indicators i JOIN units u USING (form)
    JOIN _indicator_cells ic USING (indicator_id)
    LEFT JOIN c ON c.form = i.form AND c.level = u.level AND c.unit_code = u.unit_code
        AND c.row_code = ic.row_code AND c.col_key = ic.col_key
    GROUP BY ALL
),
-- Cohort rates read the earlier years' cells on the same version: the school cells and the unit
-- cells of every (year, period) a cohort rate's denominator comes from.
earlier_periods AS (
    SELECT DISTINCT den_year, den_period FROM _indicators WHERE kind = 'cohort' AND den_year IS NOT NULL
),
earlier AS (
    SELECT e.school_year, e.period, e.form, e.level, e.unit_code, e.row_code, e.col_key, e.value
    FROM earlier_periods p JOIN cells e ON e.school_year = p.den_year AND e.period = p.den_period
    WHERE e.level = 'school'
    UNION ALL
    SELECT p.den_year, p.den_period, u.form, u.level, u.unit_code, u.row_code, u.col_key, u.value
    FROM earlier_periods p, LATERAL (SELECT * FROM unit_cells_on($version, p.den_year, p.den_period)) u
),
-- Cohort rates: the denominator cells of the same unit in an earlier year's form.
cohort AS (
    SELECT i.indicator_id, e.level, e.unit_code, sum(e.value) AS den
    FROM _indicators i JOIN _indicator_cells ic USING (indicator_id)
    JOIN earlier e ON list_contains(string_split(i.den_form, ','), e.form)
        AND e.school_year = i.den_year AND e.period = i.den_period
        AND e.row_code = ic.row_code AND e.col_key = ic.col_key
    WHERE i.kind = 'cohort' AND ic.side = 'den'
    GROUP BY ALL
),
pop_units AS (SELECT DISTINCT level, unit_code FROM _population),
pop AS (
    SELECT i.indicator_id, pu.level, pu.unit_code, coalesce(sum(p.population), 0) AS den
    FROM _indicators i CROSS JOIN pop_units pu
    LEFT JOIN _population p ON p.level = pu.level AND p.unit_code = pu.unit_code
        AND p.age BETWEEN i.age_from AND i.age_to
        AND (i.pop_sex = 'all' OR p.sex = CASE i.pop_sex WHEN 'female' THEN '02' ELSE '01' END)
    WHERE i.kind = 'population'
    GROUP BY ALL
)
SELECT $school_year, $period, i.form, i.indicator_id, i.name_vi, i.name_en, i.status, s.level, s.unit_code,
       s.num, CASE WHEN i.kind = 'ratio' THEN s.den END,
       CASE WHEN i.kind = 'count' THEN s.num WHEN s.den > 0 THEN round(s.num * i.scale / s.den, 2) END,
       NULL, NULL, $version
FROM sides s JOIN _indicators i USING (indicator_id)
WHERE i.kind IN ('count', 'ratio')
UNION ALL
SELECT $school_year, $period, i.form, i.indicator_id, i.name_vi, i.name_en, i.status, s.level, s.unit_code,
       s.num, p.den, CASE WHEN p.den > 0 THEN round(s.num * i.scale / p.den, 2) END, NULL, NULL, $version
FROM sides s JOIN _indicators i USING (indicator_id) JOIN pop p USING (indicator_id, level, unit_code)
UNION ALL
-- Without the earlier year in the warehouse the denominator is unknown: no value, not 0.
SELECT $school_year, $period, i.form, i.indicator_id, i.name_vi, i.name_en, i.status, s.level, s.unit_code,
       s.num, coalesce(h.den, 0), CASE WHEN h.den > 0 THEN round(s.num * i.scale / h.den, 2) END,
       NULL, NULL, $version
FROM sides s JOIN _indicators i USING (indicator_id)
LEFT JOIN cohort h USING (indicator_id, level, unit_code)
WHERE i.kind = 'cohort'

-- name: insert_parity_indices
-- Gender parity index from the female and male rates just computed on the version (both rounded as
-- stored); above 1 the UNESCO adjusted index 2 − 1/GPI keeps it within 0-2 and symmetric around 1.
-- $touched (a re-run): the units in _touched only.
INSERT INTO indicators (school_year, period, form, indicator_id, name_vi, name_en, status, level, unit_code,
                        numerator, denominator, value, numerator_rate, denominator_rate, boundaries)
WITH r AS (SELECT indicator_id, level, unit_code, value FROM indicators
           WHERE school_year = $school_year AND period = $period AND boundaries = $version
             AND (NOT $touched OR (level, unit_code) IN (SELECT level, unit_code FROM _touched))),
g AS (
    SELECT i.*, f.level, f.unit_code, f.value AS f, m.value AS m
    FROM _indicators i
    JOIN r f ON f.indicator_id = i.gpi_female
    JOIN r m ON m.indicator_id = i.gpi_male AND m.level = f.level AND m.unit_code = f.unit_code
    WHERE i.kind = 'gpi'
)
SELECT $school_year, $period, i.form, i.indicator_id, i.name_vi, i.name_en, i.status, level, unit_code, NULL, NULL,
       CASE WHEN f IS NOT NULL AND m > 0 THEN round(CASE WHEN f > m THEN 2 - m / f ELSE f / m END, 2) END,
       f, m, $version
FROM g i

-- name: count_indicators
SELECT count(*) FROM indicators WHERE school_year = $1 AND period = $2
