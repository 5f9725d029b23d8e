-- Per school and period, the figures later runs' cross-period rules compare with
-- (pipelines/aggregate/entities.py, record_history): the period's rows replaced ($1 school year,
-- $2 period).

-- name: delete_school_history
DELETE FROM school_history WHERE school_year = $1 AND period = $2

-- name: delete_grade_history
DELETE FROM school_grade_history WHERE school_year = $1 AND period = $2

-- name: insert_school_history
INSERT INTO school_history
SELECT $1, $2, s.school_code, coalesce(l.n, 0), coalesce(c.n, 0), coalesce(t.staff, 0), coalesce(t.teachers, 0)
FROM school s
LEFT JOIN (SELECT school_code, count_if(enrolled) AS n FROM learner GROUP BY ALL) l USING (school_code)
LEFT JOIN (SELECT school_code, count(*) AS n FROM class GROUP BY ALL) c USING (school_code)
LEFT JOIN (SELECT school_code, count_if(active) AS staff, count_if(active AND staff_group = '03') AS teachers
           FROM staff GROUP BY ALL) t USING (school_code)

-- name: insert_grade_history
INSERT INTO school_grade_history
SELECT $1, $2, school_code, grade_code, count_if(enrolled), count_if(enrolled AND result_promotion = '1'),
       count_if(enrolled AND result_promotion = '2')
FROM learner WHERE grade_code IS NOT NULL GROUP BY ALL

-- name: count_schools
SELECT count(*) FROM school_history WHERE school_year = $1 AND period = $2
