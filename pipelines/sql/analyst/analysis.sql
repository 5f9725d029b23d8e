-- The notebooks' queries (pipelines/analyst/analysis.py). They read the contract views only
-- (schemas/views.yaml), which a warehouse and a release both hold.

-- name: school_years
SELECT DISTINCT school_year FROM form_cells WHERE period = $1 ORDER BY school_year

-- name: boundaries
-- The boundary version with most cells of the period.
SELECT boundaries FROM form_cells WHERE school_year = $1 AND period = $2
GROUP BY boundaries ORDER BY count(*) DESC, boundaries LIMIT 1

-- name: cell_value
SELECT sum(value) FROM form_cells
WHERE school_year = $school_year AND period = $period AND form = $form AND level = $level
  AND unit_code = $unit_code AND row_code = $row_code AND col_key = $col_key AND boundaries = $boundaries

-- name: so_code
SELECT min(unit_code) FROM form_cells WHERE school_year = $1 AND period = $2 AND level = 'so' AND boundaries = $3

-- name: regime
SELECT min(regime) FROM form_cells WHERE school_year = $1 AND period = $2

-- name: enrolment_by_phong_grade_sex
-- Pupils by Phòng and grade, all and girls ($form, its grade rows $rows with their $grades, the
-- columns $all and $female); every Phòng with a cell of the form gets every grade.
WITH grades AS (SELECT unnest($rows::INTEGER[]) AS row_code, unnest($grades::INTEGER[]) AS grade),
form_cells_of AS (
    SELECT unit_code, unit_name, row_code, col_key, value FROM form_cells
    WHERE school_year = $year AND period = $period AND form = $form AND level = 'phong'
      AND boundaries = $boundaries
),
phong AS (SELECT unit_code, any_value(unit_name) AS unit_name FROM form_cells_of GROUP BY unit_code)
SELECT p.unit_code AS phong_code, p.unit_name AS phong_name, g.grade,
       coalesce(sum(c.value) FILTER (c.col_key = $all), 0)::BIGINT AS pupils,
       coalesce(sum(c.value) FILTER (c.col_key = $female), 0)::BIGINT AS female,
       (coalesce(sum(c.value) FILTER (c.col_key = $all), 0)
        - coalesce(sum(c.value) FILTER (c.col_key = $female), 0))::BIGINT AS male
FROM phong p CROSS JOIN grades g
LEFT JOIN form_cells_of c ON c.unit_code = p.unit_code AND c.row_code = g.row_code
GROUP BY p.unit_code, p.unit_name, g.grade
ORDER BY length(phong_code), phong_code, g.grade

-- name: indicator_change
-- Every indicator of the units of a level in two school years ($year, $previous), on this year's
-- boundary version.
WITH i AS (
    SELECT school_year, indicator_id, name_vi, name_en, unit_code, unit_name, value FROM indicator_values
    WHERE period = $period AND level = $level AND boundaries = $boundaries
      AND school_year IN ($year, $previous)
)
SELECT cur.indicator_id, cur.name_vi, cur.name_en, cur.unit_code, cur.unit_name,
       prev.value AS previous, cur.value AS current,
       round(cur.value - prev.value, 2) AS change,
       CASE WHEN prev.value <> 0 THEN round(100 * (cur.value - prev.value) / prev.value, 1) END
           AS change_pct
FROM (SELECT * FROM i WHERE school_year = $year) cur
LEFT JOIN (SELECT * FROM i WHERE school_year = $previous) prev USING (indicator_id, unit_code)
ORDER BY cur.unit_code, cur.indicator_id

-- name: submissions_per_day
-- The reporting window day by day against the schools expected on the period's reference date.
WITH log AS (SELECT * FROM submission_log WHERE school_year = $year AND period = $period),
firsts AS (SELECT school_code, min(arrived_at) AS first_at FROM log GROUP BY school_code),
days AS (SELECT CAST(arrived_at AS DATE) AS day, count(*) AS files FROM log GROUP BY day),
new AS (SELECT CAST(first_at AS DATE) AS day, count(*) AS new_schools FROM firsts GROUP BY day),
expected AS (
    SELECT count(DISTINCT unit_code) AS expected FROM unit_hierarchy
    WHERE level = 'school' AND boundaries = $boundaries AND valid_from <= $as_of
      AND (valid_to IS NULL OR valid_to > $as_of)
)
SELECT d.day, d.files, coalesce(n.new_schools, 0) AS new_schools,
       sum(coalesce(n.new_schools, 0)) OVER (ORDER BY d.day)::BIGINT AS schools_received,
       e.expected, round(100.0 * schools_received / nullif(e.expected, 0), 1) AS share_received,
       $deadline AS deadline
FROM days d LEFT JOIN new n USING (day) CROSS JOIN expected e
ORDER BY d.day

-- name: problems_per_run
-- Validation problems and files rejected at ingest (rule = the rejection reason) of every run of the
-- period, by rule and severity.
WITH p AS (
    SELECT run_id, school_year, rule_id, severity, school_code FROM validation_problems
    WHERE period = $period
    UNION ALL
    SELECT run_id, school_year, reason, 'error', school_code FROM file_log
    WHERE status = 'rejected' AND period = $period
)
SELECT run_id, school_year,
       dense_rank() OVER (PARTITION BY school_year ORDER BY run_id) AS run_no,
       rule_id, severity, count(*) AS problems, count(DISTINCT school_code) AS schools
FROM p GROUP BY run_id, school_year, rule_id, severity
ORDER BY school_year, run_id, severity, problems DESC, rule_id

-- name: ranking
-- The units of a level ranked on one indicator, highest first, against the Sở's value.
WITH i AS (
    SELECT level, unit_code, unit_name, value, numerator, denominator FROM indicator_values
    WHERE school_year = $year AND period = $period AND indicator_id = $indicator
      AND boundaries = $boundaries AND value IS NOT NULL
)
SELECT rank() OVER (ORDER BY value DESC) AS rank, unit_code, unit_name, value, numerator, denominator,
       round(value - (SELECT min(value) FROM i WHERE level = 'so'), 2) AS vs_so
FROM i WHERE level = $level
ORDER BY rank, unit_code

-- name: indicator_name
SELECT any_value(name_vi), any_value(name_en) FROM indicator_values WHERE indicator_id = $1

-- name: commune_figures
-- Communes on the 2025 map ($map): the period's school cells ($year, $period, stored on $boundaries)
-- summed per commune and per Sở, for each level a commune manages and each measure of it
-- (schemas/analysis.yaml `communes`: $levels, $forms, $measures, $rows, $cols zipped; $order the
-- levels' order). Each school is placed as on the map on the period's as-of date ($as_of: its last
-- interval starting on or before it, else its first), as unit_cells_on places it, so a period stored
-- on the 2024 boundaries is read on the 2025 map as well. Every commune of a Sở that has cells is
-- listed with every level (0 where it has none), and the Sở itself (all its schools, those reporting
-- straight to it included); so_learners is the Sở's learners of the level (a share's denominator).
WITH spec AS (
    SELECT unnest($levels::VARCHAR[]) AS edu_level, unnest($forms::VARCHAR[]) AS form,
           unnest($measures::VARCHAR[]) AS measure, unnest($rows::INTEGER[]) AS row_code,
           unnest($cols::VARCHAR[]) AS col_key
),
level_order AS (SELECT unnest($order::VARCHAR[]) AS edu_level, generate_subscripts($order::VARCHAR[], 1) AS n),
placed AS (
    SELECT unit_code AS school_code,
           coalesce(arg_max(parent_level, valid_from) FILTER (WHERE valid_from <= $as_of),
                    arg_min(parent_level, valid_from)) AS parent_level,
           coalesce(arg_max(parent_code, valid_from) FILTER (WHERE valid_from <= $as_of),
                    arg_min(parent_code, valid_from)) AS parent_code
    FROM unit_hierarchy WHERE boundaries = $map AND level = 'school' GROUP BY unit_code
),
commune AS (
    SELECT unit_code AS commune_code, arg_max(name_vi, valid_from) AS commune_name,
           arg_max(parent_code, valid_from) AS so_code
    FROM unit_hierarchy WHERE boundaries = $map AND level = 'commune' GROUP BY unit_code
),
so AS (
    SELECT unit_code AS so_code, arg_max(name_vi, valid_from) AS so_name
    FROM unit_hierarchy WHERE boundaries = $map AND level = 'so' GROUP BY unit_code
),
school_unit AS (
    SELECT p.school_code, CASE WHEN p.parent_level = 'commune' THEN p.parent_code END AS commune_code,
           CASE WHEN p.parent_level = 'so' THEN p.parent_code ELSE m.so_code END AS so_code
    FROM placed p LEFT JOIN commune m ON p.parent_level = 'commune' AND m.commune_code = p.parent_code
),
school_values AS (
    SELECT u.so_code, u.commune_code, k.edu_level, k.measure, sum(c.value) AS value
    FROM form_cells c
    JOIN spec k ON k.form = c.form AND k.row_code = c.row_code AND k.col_key = c.col_key
    JOIN school_unit u ON u.school_code = c.unit_code
    WHERE c.school_year = $year AND c.period = $period AND c.boundaries = $boundaries AND c.level = 'school'
      AND u.so_code IS NOT NULL
    GROUP BY ALL
),
units AS (
    SELECT 'so' AS unit_level, s.so_code, s.so_code AS unit_code, s.so_name AS unit_name
    FROM so s WHERE s.so_code IN (SELECT so_code FROM school_values)
    UNION ALL
    SELECT 'commune', m.so_code, m.commune_code, m.commune_name
    FROM commune m WHERE m.so_code IN (SELECT so_code FROM school_values)
),
figures AS (
    SELECT u.unit_level, u.so_code, u.unit_code, u.unit_name, o.edu_level AS level, o.n,
           coalesce(sum(v.value) FILTER (v.measure = 'schools'), 0)::BIGINT AS schools,
           coalesce(sum(v.value) FILTER (v.measure = 'multi_level_schools'), 0)::BIGINT AS multi_level_schools,
           coalesce(sum(v.value) FILTER (v.measure = 'classes'), 0)::BIGINT AS classes,
           coalesce(sum(v.value) FILTER (v.measure = 'learners'), 0)::BIGINT AS learners,
           coalesce(sum(v.value) FILTER (v.measure = 'teachers'), 0)::BIGINT AS teachers
    FROM units u CROSS JOIN level_order o
    LEFT JOIN school_values v ON v.so_code = u.so_code AND v.edu_level = o.edu_level
        AND (u.unit_level = 'so' OR v.commune_code = u.unit_code)
    GROUP BY ALL
)
SELECT f.unit_level, f.so_code, f.unit_code, f.unit_name, f.level, f.schools, f.multi_level_schools,
       f.schools + f.multi_level_schools AS schools_teaching, f.classes, f.learners, f.teachers,
       s.learners AS so_learners
FROM figures f
JOIN figures s ON s.unit_level = 'so' AND s.so_code = f.so_code AND s.level = f.level
ORDER BY f.so_code, f.unit_level DESC, f.unit_code, f.n

-- name: commune_unplaced
-- Schools on the 2025 map ($map) reporting straight to the Sở although every form they fill in the
-- period is one of the commune levels' ($forms): the commune should manage them, but their commune
-- is not known yet (a split commune awaiting review, a missing or unknown commune code). Placed as in
-- commune_figures.
WITH forms AS (SELECT unnest($forms::VARCHAR[]) AS form),
placed AS (
    SELECT unit_code AS school_code, arg_max(name_vi, valid_from) AS school_name,
           coalesce(arg_max(parent_level, valid_from) FILTER (WHERE valid_from <= $as_of),
                    arg_min(parent_level, valid_from)) AS parent_level,
           coalesce(arg_max(parent_code, valid_from) FILTER (WHERE valid_from <= $as_of),
                    arg_min(parent_code, valid_from)) AS parent_code
    FROM unit_hierarchy WHERE boundaries = $map AND level = 'school' GROUP BY unit_code
),
school_forms AS (
    SELECT unit_code AS school_code, bool_and(form IN (SELECT form FROM forms)) AS commune_forms_only,
           string_agg(DISTINCT form, ', ' ORDER BY form) AS forms
    FROM form_cells
    WHERE school_year = $year AND period = $period AND boundaries = $boundaries AND level = 'school'
    GROUP BY unit_code
)
SELECT p.parent_code AS so_code, s.school_code, p.school_name, s.forms
FROM school_forms s JOIN placed p USING (school_code)
WHERE s.commune_forms_only AND p.parent_level = 'so'
ORDER BY so_code, s.school_code
