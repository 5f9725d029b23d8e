-- The period's forms' cells per school, then every Phòng and Sở as sums of school cells
-- (pipelines/aggregate/cells.py). Values are bound: $school_year, $period, $boundaries; the forms
-- of the step are in _forms.

-- name: create_forms
-- The forms computed together (form_index: the form's position in the compiled statement).
CREATE OR REPLACE TEMP TABLE _forms (form_index INTEGER, form VARCHAR, regime VARCHAR)

-- name: create_grid
-- Every (form, row, column) a form prints a number in (compiler.cell_grid).
CREATE OR REPLACE TEMP TABLE _grid (form VARCHAR, row_code INTEGER, col_key VARCHAR)

-- name: create_run_scope
-- The units whose cells this run owns: its unit tree, and the Phòng and Sở its schools belong to on
-- the other boundary version (cells of an earlier run of the period on that version).
CREATE OR REPLACE TEMP TABLE _run_scope AS
WITH schools AS (SELECT unit_code FROM units WHERE level = 'school'),
parents AS (SELECT DISTINCT boundaries, parent_level AS level, parent_code AS unit_code FROM unit_membership
            WHERE school_code IN (SELECT unit_code FROM schools) AND parent_code IS NOT NULL)
SELECT level, unit_code FROM units
UNION SELECT level, unit_code FROM parents
UNION SELECT h.parent_level, h.parent_code FROM parents p JOIN hierarchy_units h USING (boundaries, level, unit_code)
WHERE h.parent_level = 'so'

-- name: create_computed
-- The forms' cells of every school in scope, as the form compiler's statements yield them.
CREATE OR REPLACE TEMP TABLE _computed (form_index INTEGER, school_code VARCHAR, row_code INTEGER,
                                        col_key VARCHAR, value HUGEINT)

-- name: compute
-- One form's cells of every school in scope: the statement the form compiler made from the form's
-- YAML (compile_forms), given whole as $compiled and run by query().
INSERT INTO _computed BY NAME FROM query($compiled)

-- name: delete_school_cells
-- The school cells replaced: this run's schools (never another province's in the same warehouse),
-- on a re-run only the rebuilt ones ($rebuilt; NULL: every school).
DELETE FROM cells
WHERE school_year = $school_year AND period = $period AND form IN (SELECT form FROM _forms)
  AND level = 'school' AND unit_code IN (SELECT unit_code FROM _run_scope WHERE level = 'school')
  AND ($rebuilt::VARCHAR[] IS NULL OR unit_code IN (SELECT unnest($rebuilt::VARCHAR[])))

-- name: insert_school_cells
-- Cells are stored sparse: a printed cell absent from `cells` is zero; an unprinted one never appears.
INSERT INTO cells
SELECT $school_year, $period, f.regime, f.form, 'school', c.school_code, c.row_code, c.col_key, c.value,
       $boundaries
FROM _computed c
JOIN _forms f USING (form_index)
JOIN _grid g ON g.form = f.form AND g.row_code = c.row_code AND g.col_key = c.col_key
JOIN units u ON u.level = 'school' AND u.unit_code = c.school_code
WHERE c.value <> 0

-- name: delete_rollup
-- This run's Phòng and Sở replace their cells, on either boundary version; other provinces' stay.
-- $touched (a re-run): only the units in _touched (entities.touched_units).
DELETE FROM cells
WHERE school_year = $school_year AND period = $period AND form IN (SELECT form FROM _forms)
  AND level <> 'school' AND (level, unit_code) IN (SELECT level, unit_code FROM _run_scope)
  AND (NOT $touched OR (level, unit_code) IN (SELECT level, unit_code FROM _touched))

-- name: insert_rollup
-- Every Phòng, commune and Sở above each school on the run's boundaries (the ministry is not a form
-- level), as the sum of its school cells: school → Phòng → Sở on 2024, school → commune → Sở on 2025
-- for the schools a commune manages (ingest/places.py), school → Sở for the others. $approved_only (edustat run --approved-only): the rollup counts
-- only the schools whose report is approved (or locked) for the period. $touched (a re-run): only the
-- units in _touched are summed, each from all its schools.
INSERT INTO cells
WITH tree AS (
    SELECT * FROM units
    WHERE NOT $approved_only OR level <> 'school' OR unit_code IN (
        SELECT unit_code FROM workflow_state WHERE school_year = $school_year AND period = $period
        AND level = 'school' AND state IN ('approved', 'locked'))
),
ancestors AS (
    SELECT s.unit_code AS school_code, p.level, p.unit_code FROM tree s
    JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
    WHERE s.level = 'school' AND p.level IN ('phong', 'commune', 'so')
    UNION ALL
    SELECT s.unit_code, g.level, g.unit_code FROM tree s
    JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
    JOIN units g ON g.level = p.parent_level AND g.unit_code = p.parent_code
    WHERE s.level = 'school' AND g.level = 'so'
),
summed AS (
    SELECT * FROM ancestors
    WHERE NOT $touched OR (level, unit_code) IN (SELECT level, unit_code FROM _touched)
)
SELECT $school_year, $period, f.regime, f.form, a.level, a.unit_code, row_code, col_key, sum(value), $boundaries
FROM cells c JOIN summed a ON a.school_code = c.unit_code JOIN _forms f USING (form)
WHERE c.school_year = $school_year AND c.period = $period AND c.level = 'school'
GROUP BY ALL

-- name: count_cells
-- The cells of each form of the step.
SELECT form, count(*) FROM cells
WHERE school_year = $school_year AND period = $period AND form IN (SELECT form FROM _forms) GROUP BY form

-- name: drop_scratch
DROP TABLE IF EXISTS _computed
