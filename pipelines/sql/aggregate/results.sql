-- End-of-year tables (period CN), run by aggregate.build_entity_tables after entities.sql.
-- Variables (read with getvariable): run_id, start_year, as_of (the run's as-of date: 31/5 of the
-- end year for CN, 30/9 of the start year for DN) and year_start (30/9 of the start year: the
-- start-of-year date).
-- Every derivation here is edustat's reading of the inferred end-of-year forms (status: inferred).
-- In a start-of-year run stg_result is empty and no status falls between the two dates, so the
-- columns added to `learner` are empty (false / NULL) there. The learners come from entities.sql's
-- temporary _learner_base; this script writes them, with their end-of-year columns, as `learner`.

-- Results (LstKetQuaHocTap) that passed validation, each with its pupil's attributes. A result of
-- a pupil who is not in the typed learner table (unknown or quarantined pupil) is left out.
CREATE OR REPLACE TABLE result AS
WITH staged AS (
    SELECT * FROM stg_result
    WHERE row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'result')
)
SELECT
    r.school_code,
    r.ClientId AS learner_key,
    r.KetQuaHocTap AS learning,  -- result_learning: HTXS/HTT/HT/CHT (TH) or 1-4 (THCS, THPT)
    r.RenLuyen AS conduct,  -- result_conduct: 1-4 (THCS, THPT)
    r.LenLop AS promotion,  -- promotion: 1 lên lớp, 2 lưu ban, 3 rèn luyện / kiểm tra lại trong hè
    -- The flags count only in the grade they belong to (the validation warns otherwise).
    coalesce(r.HoanThanhChuongTrinh = '1', FALSE) AND l.grade = 5 AS completed_primary,
    -- Lower-secondary graduation: grade 9, or the GDTX lớp 9 (DM_KHOI 23, 05-GDTX-CN).
    coalesce(r.TotNghiep = '1', FALSE) AND (l.grade = 9 OR l.grade_code = '23') AS graduated_lower_secondary,
    -- Upper-secondary graduation (issue 16; 04-THPT-CN): grade 12, or the GDTX lớp 12 (DM_KHOI 15).
    -- It is recognised after the national exam (late June, after the 31/5 as-of date): the row is
    -- filled when the school's end-of-year file carries the recognition (status: inferred).
    coalesce(r.TotNghiep = '1', FALSE) AND (l.grade = 12 OR l.grade_code = '15') AS graduated_upper_secondary,
    -- Days absent in the school year (SoNgayNghi; QĐ 4998 SO_NGAY_NGHI) and the title awarded
    -- (MaDanhHieu; QĐ 4998 MA_DANH_HIEU, codelists/result_title.csv): TT 22/2021, TT 27/2020.
    TRY_CAST(r.SoNgayNghi AS INTEGER) AS days_absent,
    r.MaDanhHieu AS title,
    l.grade,
    l.female,
    l.ethnic,
    l.ownership,
    l.region_group,
    l.status,
    l.status_date,
    l.enrolled
FROM staged r
JOIN _learner_base l ON l.school_code = r.school_code AND l.learner_key = r.ClientId;

-- Changes during the school year: a status dated after the start-of-year date and on or before
-- the as-of date (DM_TRANG_THAI_HOC_SINH: 02/06/10 chuyển đến, 03/07 nghỉ học xin học lại,
-- 04/08/11 chuyển đi, 05/09/12 thôi học). The status's own date decides, not its kỳ/hè label.
-- The dropout reason (MaLyDoThoiHoc) is read from the validated staging row of the pupil (a
-- pupil's ClientId is unique in a school once duplicates are quarantined).
CREATE OR REPLACE TABLE learner_change AS
WITH staged AS (
    SELECT school_code, ClientId, MaLyDoThoiHoc FROM stg_learner
    WHERE row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'learner')
)
SELECT
    l.school_code,
    l.learner_key,
    CASE WHEN l.status IN ('02', '06', '10') THEN 'transfer_in'
         WHEN l.status IN ('03', '07') THEN 'readmitted'
         WHEN l.status IN ('04', '08', '11') THEN 'transfer_out'
         WHEN l.status IN ('05', '09', '12') THEN 'dropout' END AS change,
    l.status_date AS change_date,
    CASE WHEN l.status IN ('05', '09', '12') THEN s.MaLyDoThoiHoc END AS dropout_reason,
    l.grade,
    l.female,
    l.ethnic,
    l.ownership,
    l.region_group,
    l.status
FROM _learner_base l
LEFT JOIN staged s ON s.school_code = l.school_code AND s.ClientId = l.learner_key
WHERE l.status <> '01'
  AND l.status_date > getvariable('year_start') AND l.status_date <= getvariable('as_of');

-- The learner table with the end-of-year attributes the CN forms count by. Enrolled at the start
-- of the year: the rule of `enrolled` (entities.sql) applied to 30/9 of the start year, so
-- start + arrivals (transfers in, re-admissions) = end + transfers out + dropouts holds pupil by
-- pupil. A pupil is assessed when enrolled at the as-of date with a result.
CREATE OR REPLACE TABLE learner AS
SELECT
    l.*,
    enrolled_on(l.status, l.status_date, getvariable('year_start')) AS enrolled_start,
    c.change AS year_change,
    c.dropout_reason,
    coalesce(l.enrolled AND r.learner_key IS NOT NULL, FALSE) AS assessed,
    CASE WHEN l.enrolled THEN r.learning END AS result_learning,
    CASE WHEN l.enrolled THEN r.conduct END AS result_conduct,
    CASE WHEN l.enrolled THEN r.promotion END AS result_promotion,
    coalesce(l.enrolled AND r.completed_primary, FALSE) AS completed_primary,
    coalesce(l.enrolled AND r.graduated_lower_secondary, FALSE) AS graduated_lower_secondary,
    coalesce(l.enrolled AND r.graduated_upper_secondary, FALSE) AS graduated_upper_secondary,
    CASE WHEN l.enrolled THEN r.days_absent END AS days_absent,
    CASE WHEN l.enrolled THEN r.title END AS result_title,
    -- 01-MN-CN (status: inferred): a child completes the kindergarten programme when enrolled on
    -- 31/5 in a kindergarten class (DM_KHOI 17) in the 5-6 band (age = start year - birth year = 5,
    -- the band of 01-MN-DN row 105). No result entry is read for preschool children. False in a
    -- start-of-year run, like the other end-of-year columns.
    coalesce(getvariable('as_of') > getvariable('year_start') AND l.enrolled AND l.grade_code = '17' AND l.age = 5, FALSE)
        AS completed_preschool
FROM _learner_base l
LEFT JOIN learner_change c ON c.school_code = l.school_code AND c.learner_key = l.learner_key
LEFT JOIN result r ON r.school_code = l.school_code AND r.learner_key = l.learner_key;

DROP TABLE _learner_base;
