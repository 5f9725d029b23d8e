-- Form relations on the cells ("37 = 38 + 39", "T = CL + TT"), evaluated on every unit
-- (pipelines/aggregate/relations.py).

-- name: create_instances
-- Every relation applied to concrete cells (relation_instances), of every form checked together.
CREATE OR REPLACE TEMP TABLE _instances (form VARCHAR, instance INTEGER, relation_id VARCHAR, check_text VARCHAR,
    basis VARCHAR, op VARCHAR, anchor_row INTEGER, anchor_col VARCHAR)

-- name: create_terms
-- The cells on each side of each instance.
CREATE OR REPLACE TEMP TABLE _terms (form VARCHAR, instance INTEGER, side VARCHAR, row_code INTEGER, col_key VARCHAR)

-- name: delete_violations
DELETE FROM relation_violations WHERE run_id = $run_id AND form IN (SELECT unnest($forms::VARCHAR[]))

-- name: insert_violations
-- Cells are sparse (absent = 0): only instances with a non-zero term are evaluated; one whose cells
-- are all zero holds for =, <= and >= alike. $run_id, $school_year, $period; the forms of _instances;
-- $touched (a re-run): the units in _touched only.
INSERT INTO relation_violations
WITH sides AS (
    SELECT c.level, c.unit_code, t.instance,
           sum(CASE WHEN t.side = 'lhs' THEN c.value ELSE 0 END) AS lhs,
           sum(CASE WHEN t.side = 'rhs' THEN c.value ELSE 0 END) AS rhs
    FROM _terms t
    JOIN cells c ON c.form = t.form AND c.row_code = t.row_code AND c.col_key = t.col_key
    WHERE c.school_year = $school_year AND c.period = $period
      AND (c.level, c.unit_code) IN (SELECT level, unit_code FROM units)
      AND (NOT $touched OR (c.level, c.unit_code) IN (SELECT level, unit_code FROM _touched))
    GROUP BY c.level, c.unit_code, t.instance
)
SELECT $run_id, $school_year, $period, i.form, s.level, s.unit_code,
       i.relation_id, i.check_text, i.basis, i.anchor_row, i.anchor_col, s.lhs, s.rhs
FROM sides s JOIN _instances i USING (instance)
WHERE NOT CASE i.op WHEN '=' THEN s.lhs = s.rhs WHEN '<=' THEN s.lhs <= s.rhs ELSE s.lhs >= s.rhs END

-- name: carry_violations
-- A re-run: the violations of the units not in _touched, on cells the re-run left as they were,
-- carried over from the aggregation $since under this run's id ($run_id).
INSERT INTO relation_violations
SELECT $run_id, school_year, period, form, level, unit_code, relation_id, check_text, basis, row_code, col_key,
       lhs, rhs
FROM relation_violations
WHERE run_id = $since AND school_year = $school_year AND period = $period
  AND form IN (SELECT unnest($forms::VARCHAR[]))
  AND (level, unit_code) NOT IN (SELECT level, unit_code FROM _touched)

-- name: count_violations
SELECT form, count(*) FROM relation_violations
WHERE run_id = $run_id AND form IN (SELECT unnest($forms::VARCHAR[])) GROUP BY form
