-- Views and macros over the tables of schema.sql, created after the migrations (a view binds the
-- columns it reads). Every statement is idempotent.

-- DM_TRANG_THAI_HOC_SINH: 02/06/10 chuyển đến and 03/07 nghỉ học xin học lại bring a pupil in;
-- 04/08/11 chuyển đi and 05/09/12 thôi học take them out. A pupil is enrolled on a day unless a
-- leaving status is dated on or before it, or an arriving status after it (issue 2). One
-- definition for the typed tables (aggregate/entities.sql, aggregate/results.sql) and the
-- validation rules.
CREATE OR REPLACE MACRO is_arrival(status) AS status IN ('02', '03', '06', '07', '10');
CREATE OR REPLACE MACRO is_departure(status) AS status IN ('04', '05', '08', '09', '11', '12');
-- Continuing education (05-GDTX, status: inferred): the programme and the general-education grade
-- a DM_KHOI GDTX code stands for (13-15 = lớp 10-12, 20-23 = lớp 6-9, 24-28 = lớp 1-5; 18 xóa mù
-- chữ and 19 giáo dục tiếp tục sau khi biết chữ have no grade).
CREATE OR REPLACE MACRO gdtx_programme(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN 'upper_secondary'
    WHEN code IN ('20', '21', '22', '23') THEN 'lower_secondary'
    WHEN code IN ('24', '25', '26', '27', '28') THEN 'primary'
    WHEN code = '18' THEN 'literacy'
    WHEN code = '19' THEN 'post_literacy' END;
CREATE OR REPLACE MACRO gdtx_grade(code) AS CASE
    WHEN code IN ('13', '14', '15') THEN CAST(code AS INTEGER) - 3
    WHEN code IN ('20', '21', '22', '23') THEN CAST(code AS INTEGER) - 14
    WHEN code IN ('24', '25', '26', '27', '28') THEN CAST(code AS INTEGER) - 23 END;
CREATE OR REPLACE MACRO enrolled_on(status, status_date, day) AS NOT coalesce(
    (is_departure(status) AND TRY_CAST(status_date AS DATE) <= day)
    OR (is_arrival(status) AND TRY_CAST(status_date AS DATE) > day), FALSE);

-- The current state of a unit's report: its last audit row (pipelines/window/).
CREATE OR REPLACE VIEW workflow_state AS
    SELECT school_year, period, level, unit_code, to_state AS state, changed_at AS since, user_name, action, reason
    FROM audit QUALIFY row_number() OVER (PARTITION BY school_year, period, level, unit_code ORDER BY seq DESC) = 1;

-- Every unit of every version with the dates it is valid: reference units, and schools from their
-- memberships (a new interval starts when the parent or the name changes; a closed school's last
-- interval ends the day before the run that no longer lists it).
CREATE OR REPLACE VIEW unit_tree AS
WITH m AS (
    SELECT *, lag(parent_code) OVER w IS NOT DISTINCT FROM parent_code
              AND lag(parent_level) OVER w IS NOT DISTINCT FROM parent_level
              AND lag(name_vi) OVER w IS NOT DISTINCT FROM name_vi
              AND lag(as_of) OVER w IS NOT NULL AS unchanged
    FROM unit_membership WINDOW w AS (PARTITION BY boundaries, school_code ORDER BY as_of)),
changes AS (
    SELECT *, lead(as_of) OVER (PARTITION BY boundaries, school_code ORDER BY as_of) AS next_change
    FROM m WHERE NOT unchanged)
SELECT boundaries, level, unit_code, name_vi, parent_level, parent_code, valid_from, valid_to FROM hierarchy_units
UNION ALL
SELECT boundaries, 'school', school_code, name_vi, parent_level, parent_code, as_of,
       CAST(next_change - INTERVAL 1 DAY AS DATE)
FROM changes WHERE parent_code IS NOT NULL;

-- Any period re-aggregated on any boundary version. School cells do not depend on the boundaries;
-- each school is placed on a version by its membership on the period's as-of date (the last one on
-- or before it, else the first after: a school first listed later), its cells are summed once to
-- its parent, and the parents' sums to the Sở and the ministry.
--   unit_cells_on(boundaries, school_year, period): the Phòng (2024) or commune (2025), Sở and Bộ
--     cells of one period on one version (the fast path: it reads the period's school cells once);
--   cell_series: every period on every version, school rows included (for time series).
CREATE OR REPLACE MACRO period_as_of(school_year, period) AS
    CASE period WHEN 'DN' THEN make_date(CAST(left(school_year, 4) AS INTEGER), 9, 30)
         ELSE make_date(CAST(left(school_year, 4) AS INTEGER) + 1, 5, 31) END;
CREATE OR REPLACE MACRO unit_cells_on(version, year, per) AS TABLE
WITH period_cells AS (
    SELECT regime, form, unit_code, row_code, col_key, value FROM cells
    WHERE school_year = year AND period = per AND level = 'school'),
placement AS (
    SELECT school_code,
           coalesce(arg_max(parent_level, as_of) FILTER (WHERE as_of <= period_as_of(year, per)),
                    arg_min(parent_level, as_of)) AS parent_level,
           coalesce(arg_max(parent_code, as_of) FILTER (WHERE as_of <= period_as_of(year, per)),
                    arg_min(parent_code, as_of)) AS parent_code
    FROM unit_membership WHERE boundaries = version AND parent_code IS NOT NULL GROUP BY school_code),
direct AS (
    SELECT regime, form, p.parent_level, p.parent_code, row_code, col_key, sum(value) AS value
    FROM period_cells c JOIN placement p ON p.school_code = c.unit_code GROUP BY ALL),
up AS (
    SELECT d.*, CASE WHEN d.parent_level = 'so' THEN d.parent_code ELSE h.parent_code END AS so_code
    FROM direct d LEFT JOIN hierarchy_units h
      ON h.boundaries = version AND h.level = d.parent_level AND h.unit_code = d.parent_code)
SELECT year AS school_year, per AS period, regime, form, version AS boundaries, parent_level AS level,
       parent_code AS unit_code, row_code, col_key, value
FROM direct WHERE parent_level IN ('phong', 'commune')
UNION ALL
SELECT year, per, regime, form, version, 'so', so_code, row_code, col_key, sum(value)
FROM up WHERE so_code IS NOT NULL GROUP BY ALL
UNION ALL
SELECT year, per, regime, form, version, 'bo', 'BO', row_code, col_key, sum(value) FROM direct GROUP BY ALL;
CREATE OR REPLACE VIEW cell_series AS
WITH periods AS (SELECT DISTINCT school_year, period FROM cells WHERE level = 'school'),
versions AS (SELECT DISTINCT boundaries FROM hierarchy_units)
SELECT c.school_year, c.period, c.regime, c.form, v.boundaries, 'school' AS level, c.unit_code, c.row_code,
       c.col_key, c.value
FROM cells c CROSS JOIN versions v WHERE c.level = 'school'
UNION ALL
SELECT u.* FROM periods p CROSS JOIN versions v,
     LATERAL (SELECT * FROM unit_cells_on(v.boundaries, p.school_year, p.period)) u;
