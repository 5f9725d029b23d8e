-- Every school counted once (pipelines/aggregate/schools.py). Values are bound: $school_year, $period,
-- $run_id, $boundaries (the run's), $ids (the indicators that count institutions), $approved_only (the
-- Phòng, commune and Sở count approved schools only, as the rollup does).

-- name: delete_checks
-- $touched (a re-run): the units in _touched only.
DELETE FROM school_count_check WHERE school_year = $school_year AND period = $period
  AND (NOT $touched OR (level, unit_code) IN (SELECT level, unit_code FROM _touched))

-- name: claim_checks
-- A re-run: the units' rows it left as they were become this run's.
UPDATE school_count_check SET run_id = $run_id WHERE school_year = $school_year AND period = $period

-- name: insert_checks
-- Per unit of the run's tree: the schools the forms count (the sum of the counting indicators on the
-- run's boundaries) and the distinct schools with a typed school record below the unit. $touched (a
-- re-run): the units in _touched only.
INSERT INTO school_count_check
WITH counted AS (
    SELECT level, unit_code, sum(numerator) AS counted FROM indicators
    WHERE school_year = $school_year AND period = $period AND boundaries = $boundaries
      AND indicator_id IN (SELECT unnest($ids::VARCHAR[]))
    GROUP BY ALL
),
approved AS (
    SELECT unit_code FROM units WHERE level = 'school' AND (NOT $approved_only OR unit_code IN (
        SELECT unit_code FROM workflow_state WHERE school_year = $school_year AND period = $period
        AND level = 'school' AND state IN ('approved', 'locked')))
),
ancestors AS (
    SELECT s.unit_code AS school_code, s.level, s.unit_code FROM units s WHERE s.level = 'school'
    UNION ALL
    SELECT s.unit_code, p.level, p.unit_code FROM units s
    JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
    WHERE s.level = 'school' AND p.level IN ('phong', 'commune', 'so')
      AND s.unit_code IN (SELECT unit_code FROM approved)
    UNION ALL
    SELECT s.unit_code, g.level, g.unit_code FROM units s
    JOIN units p ON p.level = s.parent_level AND p.unit_code = s.parent_code
    JOIN units g ON g.level = p.parent_level AND g.unit_code = p.parent_code
    WHERE s.level = 'school' AND g.level = 'so' AND s.unit_code IN (SELECT unit_code FROM approved)
),
schools AS (
    SELECT a.level, a.unit_code, count(DISTINCT a.school_code) AS schools
    FROM ancestors a JOIN school s ON s.school_code = a.school_code
    GROUP BY ALL
)
SELECT $run_id, $school_year, $period, $boundaries, coalesce(s.level, c.level), coalesce(s.unit_code, c.unit_code),
       coalesce(c.counted, 0), coalesce(s.schools, 0), coalesce(c.counted, 0) = coalesce(s.schools, 0)
FROM schools s FULL JOIN counted c USING (level, unit_code)
WHERE coalesce(s.level, c.level) <> 'bo'
  AND (NOT $touched OR (coalesce(s.level, c.level), coalesce(s.unit_code, c.unit_code)) IN (
      SELECT level, unit_code FROM _touched))

-- name: broken
SELECT level, unit_code, counted, schools FROM school_count_check
WHERE school_year = $school_year AND period = $period AND NOT ok ORDER BY ALL
