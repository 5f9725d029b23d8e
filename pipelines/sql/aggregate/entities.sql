-- Typed record tables for one load: staged rows that passed validation (not quarantined),
-- with the attributes the forms count by, derived once here as booleans and small integers.
-- Variables (set by aggregate.build_entity_tables, read with getvariable): run_id, start_year, as_of.
-- Every derivation below is edustat's reading of the forms (status: inferred) unless a
-- comment names its source.

CREATE OR REPLACE TABLE school AS
WITH staged AS (
    SELECT * FROM stg_school
    WHERE row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'school')
),
level_group AS (SELECT code, "DS_Cấp" AS levels, "Cấp" AS top_level FROM cl_education_level_group)
SELECT
    s.school_code,
    s.file,
    s.MaNhomCapHoc AS level_group,
    -- DM_NHOM_CAP_HOC lists the levels of each group (02 Tiểu học, 03 THCS) and the highest one.
    -- A multi-level school is counted in the school rows of every level it teaches.
    contains(g.levels, '02') AS teaches_primary,
    contains(g.levels, '03') AS teaches_lower_secondary,
    -- 01 Mầm non in DS_Cấp: groups 01-05, 19 and the multi-level 16-18 (01-MN-ĐN scope).
    contains(g.levels, '01') AS teaches_preschool,
    -- 05 GDTX in DS_Cấp: groups 12 GDTX tỉnh, 13 GDTX huyện, 14 TTKTTH-HN, 15 lớp nhô (05-GDTX-ĐN scope).
    contains(g.levels, '05') AS teaches_gdtx,
    g.top_level,
    -- 02-TH-ĐN has Công lập and Tư thục columns only: every non-public type is Tư thục (issue 2).
    CASE WHEN s.LoaiHinhDaoTao = '01' THEN 'CL' ELSE 'TT' END AS ownership,
    -- 01-MN-ĐN adds a Dân lập column: DM_LOAI_HINH 03 Dân lập; 02 and 09 are Tư thục (inferred).
    CASE s.LoaiHinhDaoTao WHEN '01' THEN 'CL' WHEN '03' THEN 'DL' ELSE 'TT' END AS ownership_mn,
    -- Kind of preschool institution (01-MN-ĐN rows 2, 15, 33, 51-53): DM_NHOM_CAP_HOC 03 nhà trẻ,
    -- 02 mẫu giáo, 01 mầm non, 04/05/19 independent groups ("cơ sở", not schools); a multi-level
    -- school with preschool classes (16-18) is counted as a trường mầm non (status: inferred).
    CASE s.MaNhomCapHoc WHEN '03' THEN 'nursery' WHEN '02' THEN 'kindergarten'
         WHEN '04' THEN 'independent_nursery' WHEN '05' THEN 'independent_kindergarten'
         WHEN '19' THEN 'independent_mixed'
         ELSE CASE WHEN contains(g.levels, '01') THEN 'preschool' END END AS mn_kind,
    -- Form rows 2 and 5: "Trung du, đồng bằng, thành phố" vs "Miền núi, vùng sâu, hải đảo".
    CASE WHEN s.MaVung IN ('01', '02', '03') THEN 'plain'
         WHEN s.MaVung IN ('04', '05', '06') THEN 'mountain' END AS region_group,
    s.ChuanQuocGia AS national_standard,
    s.MaLoaiTruong AS category,
    -- DM_LOAI_TRUONG 04 (trẻ em khuyết tật) and 18 (khuyết tật): specialised disability schools.
    coalesce(s.MaLoaiTruong IN ('04', '18'), FALSE) AS specialised_disability,
    coalesce(s.Hoc2BuoiNgay = '1', FALSE) AS two_sessions,
    coalesce(s.SuDungMayTinhDayHoc = '1', FALSE) AS computers_for_teaching,
    coalesce(s.KhaiThacInternetDayHoc = '1', FALSE) AS internet_for_teaching,
    coalesce(s.DienLuoi = '1', FALSE) AS grid_electricity,
    coalesce(s.NguonNuocSach = '1', FALSE) AS clean_water,
    coalesce(s.CongTrinhVeSinh = '1', FALSE) AS toilets,
    coalesce(s.CtGdvsDoiTay = '1', FALSE) AS hand_hygiene_programme,
    coalesce(s.ChuongTrinhGiaoDucCoBan = '1', FALSE) AS basic_life_skills_programme,
    coalesce(s.CoHaTangTlhtPhuHopHskt = '1', FALSE) AS disability_accessible,
    coalesce(s.CongTacTuVanHocDuong = '1', FALSE) AS school_counselling,
    coalesce(s.KeHoachPhongChongThienTai = '1', FALSE) AS disaster_plan,
    -- 05-GDTX-ĐN (status: inferred): the centre's management level from its DM_NHOM_CAP_HOC group
    -- (12 provincial, 13 district; 14 TTKTTH-HN and 15 lớp nhô are 'other'), and the sync spec's
    -- TtGdtxHuongNghiep flag (centre with career-guidance activities).
    CASE WHEN contains(g.levels, '05') THEN
        CASE s.MaNhomCapHoc WHEN '12' THEN 'province' WHEN '13' THEN 'district' ELSE 'other' END
    END AS gdtx_centre_level,
    coalesce(s.TtGdtxHuongNghiep = '1', FALSE) AS gdtx_career_guidance,
    TRY_CAST(s.TongSoHocSinh AS INTEGER) AS declared_learners,
    TRY_CAST(s.TongSoLopHoc AS INTEGER) AS declared_classes,
    TRY_CAST(s.TongSoCanBo AS INTEGER) AS declared_staff
FROM staged s
LEFT JOIN level_group g ON g.code = s.MaNhomCapHoc;

CREATE OR REPLACE TABLE site AS
SELECT st.school_code, st.MaDiemTruong AS site_code, sc.ownership, sc.region_group, sc.ownership_mn
FROM stg_site st
JOIN school sc USING (school_code)
WHERE st.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'site');

CREATE OR REPLACE TABLE class AS
SELECT
    c.school_code,
    c.MaLopHoc AS class_code,
    c.KhoiHoc AS grade_code,
    -- DM_KHOI 01-12 are general-education grades 1-12; other codes are MN or GDTX groups.
    CASE WHEN c.KhoiHoc BETWEEN '01' AND '12' THEN CAST(c.KhoiHoc AS INTEGER) END AS grade,
    c.LopGhep = '1' AS multigrade,
    c.LopBanTru = '1' AS semi_boarding,
    -- BuoiHoc 4-7 = two or more sessions a day (sync spec values).
    coalesce(cs.sessions_per_day >= 2, FALSE) AS two_sessions,
    -- DM_MON_HOC Tin học: 12 (primary), 32 (THCS), 38 (THPT), 63 (GDTX), 87 Tin học và công nghệ.
    coalesce(list_has_any(string_split(c.DsMonHoc, ','), ['12', '32', '38', '63', '87']), FALSE) AS informatics,
    sc.ownership,
    sc.region_group,
    sc.category AS school_category,
    sc.specialised_disability AS school_specialised_disability,
    -- Preschool (01-MN-ĐN section II): DM_NHOM_TUOI_MN age band of the group/class, and
    -- LopGhepDoTuoi (0 not mixed, 2/3/4 age bands mixed).
    c.MaNhomTuoiMn AS age_group,
    coalesce(TRY_CAST(c.LopGhepDoTuoi AS INTEGER), 0) AS mixed_ages,
    sc.ownership_mn,
    -- Continuing education (05-GDTX-ĐN, status: inferred): the programme and the general-education
    -- grade the DM_KHOI GDTX code stands for (macros in warehouse.MACROS), and the class's
    -- DM_HINH_THUC_DAO_TAO_HOC_TAP study mode and DM_KIEU_LOP class type as sent.
    gdtx_programme(c.KhoiHoc) AS gdtx_programme,
    gdtx_grade(c.KhoiHoc) AS gdtx_grade,
    c.MaHinhThucDaoTaoHocTap AS study_mode,
    c.MaKieuLop AS class_type
FROM stg_class c
JOIN school sc USING (school_code)
LEFT JOIN (SELECT code, CAST(sessions_per_day AS INTEGER) AS sessions_per_day FROM cl_class_session) cs
    ON cs.code = c.BuoiHoc
WHERE c.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'class');

CREATE OR REPLACE TABLE learner AS
WITH staged AS (
    SELECT * FROM stg_learner
    WHERE row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'learner')
),
-- A class code listed twice is quarantined, so each (school, class_code) is unique here.
class_of AS (SELECT school_code, class_code, two_sessions, informatics, semi_boarding, study_mode FROM class)
SELECT
    l.school_code,
    l.ClientId AS learner_key,  -- keyed hash, never the school's own identifier
    CASE WHEN l.KhoiHoc BETWEEN '01' AND '12' THEN CAST(l.KhoiHoc AS INTEGER) END AS grade,
    l.KhoiHoc AS grade_code,  -- DM_KHOI as sent: 16 nhóm trẻ, 17 lớp mẫu giáo
    l.MaLopHocDn AS class_code,
    l.GioiTinh = '02' AS female,
    -- Ethnic minority: not 01 Kinh and not 55 foreigner (issue 2).
    l.MaDanToc NOT IN ('01', '55') AS ethnic,
    CAST(left(l.NgaySinh, 4) AS INTEGER) AS birth_year,
    -- Age in years = start year of the school year - birth year (GSO definition, forms/NOTES §3.2).
    getvariable('start_year') - CAST(left(l.NgaySinh, 4) AS INTEGER) AS age,
    -- Age in completed months on 30/9 of the start year (01-MN-ĐN rows 97-100, status: inferred):
    -- ingest keeps the birth date as year and month only, so months = 12 x (start year - birth
    -- year) + (9 - birth month). Exact for every birth day up to the 30th (30/9 closes the
    -- month); a child born on the 31st is counted one month older, a day early.
    12 * (getvariable('start_year') - CAST(left(l.NgaySinh, 4) AS INTEGER)) + 9 - CAST(substr(l.NgaySinh, 6, 2) AS INTEGER)
        AS age_months,
    l.TrangThai AS status,
    TRY_CAST(l.NgayTrangThai AS DATE) AS status_date,
    -- Enrolled on the as-of date: not if a leaving status (transfer out, drop out) is dated on or
    -- before it, nor an arriving status (transfer in, re-enrolment) dated after it (issue 2; the
    -- macro is defined in warehouse.MACROS).
    enrolled_on(l.TrangThai, l.NgayTrangThai, getvariable('as_of')) AS enrolled,
    -- LoaiNhapHoc 0 trúng tuyển / 2 xét tuyển = new intake at the first grade; 3 = lưu ban.
    coalesce(l.LoaiNhapHoc IN ('0', '2'), FALSE) AS new_entrant,
    coalesce(l.LoaiNhapHoc = '3', FALSE) AS repeater,
    coalesce(l.KhuyetTat = '1' OR l.MaLoaiKhuyetTat IS NOT NULL, FALSE) AS disabled,
    l.MaLoaiKhuyetTat AS disability_type,
    coalesce(l.PtdtBanTru = '1', FALSE) AS ethnic_semi_boarding,
    coalesce(l.IsHoTroChiPhiHocTap = '1', FALSE) AS study_cost_support,
    coalesce(l.MaDanToc IN (SELECT code FROM cl_very_small_ethnic_group), FALSE) AS very_small_ethnic_group,
    coalesce(l.IsHoTroNhaO = '1' OR l.IsCapGao = '1' OR l.IsCapTienHangThang = '1', FALSE)
        AS meal_housing_rice_support,
    -- Policy beneficiary (row 74): a policy group, or any of the supports of rows 75-77.
    coalesce(
        l.MaDtuongCsach IS NOT NULL OR l.IsHoTroChiPhiHocTap = '1'
        OR l.MaDanToc IN (SELECT code FROM cl_very_small_ethnic_group)
        OR l.IsHoTroNhaO = '1' OR l.IsCapGao = '1' OR l.IsCapTienHangThang = '1', FALSE
    ) AS policy_beneficiary,
    coalesce(c.two_sessions, FALSE) AS class_two_sessions,
    coalesce(c.informatics, FALSE) AS class_informatics,
    -- Preschool children (01-MN-ĐN section III): lunch in a semi-boarding group/class (LopBanTru),
    -- health and nutrition check (KiemTraSucKhoeDinhDuong, TinhTrangDinhDuong 00-04), lunch
    -- support (IsHoTroAnTrua) and tuition support (HtHoTro 2 miễn, 3 giảm học phí).
    coalesce(c.semi_boarding, FALSE) AS class_semi_boarding,
    coalesce(l.KiemTraSucKhoeDinhDuong = '1', FALSE) AS health_checked,
    l.TinhTrangDinhDuong AS nutrition_status,
    coalesce(l.IsHoTroAnTrua = '1', FALSE) AS lunch_support,
    l.HtHoTro AS tuition_support,
    sc.ownership,
    sc.region_group,
    sc.specialised_disability AS school_specialised_disability,
    sc.ownership_mn,
    -- Continuing education (05-GDTX-ĐN, status: inferred): programme and grade from the learner's
    -- own DM_KHOI code, as for classes; study mode: the learner's MaHinhThucHocTap, else the class's.
    gdtx_programme(l.KhoiHoc) AS gdtx_programme,
    gdtx_grade(l.KhoiHoc) AS gdtx_grade,
    coalesce(l.MaHinhThucHocTap, c.study_mode) AS study_mode
FROM staged l
JOIN school sc USING (school_code)
LEFT JOIN class_of c ON c.school_code = l.school_code AND c.class_code = l.MaLopHocDn;

CREATE OR REPLACE TABLE staff AS
SELECT
    s.school_code,
    s.MaCanBo AS staff_key,  -- keyed hash
    s.LoaiCanBo AS staff_group,
    s.ChucVu AS position,
    -- Column "Phân loại" of 02-TH-ĐN section IV: DM_HINH_THUC_HOP_DONG 07 and 08 are viên chức;
    -- every other contract is counted as "Hợp đồng lao động" (status: inferred).
    CASE s.LoaiHopDong WHEN '07' THEN 'vc_indefinite' WHEN '08' THEN 'vc_fixed_term'
         ELSE 'labour_contract' END AS contract_group,
    s.TrinhDoChuyenMonNvCaoNhat AS qualification,
    s.GioiTinh = '02' AS female,
    coalesce(s.MaDanToc NOT IN ('01', '55'), FALSE) AS ethnic,
    getvariable('start_year') - CAST(left(s.NgaySinh, 4) AS INTEGER) AS age,
    coalesce(s.ChuyenTrachDoi = '1', FALSE) AS pioneer_leader,
    -- A staff member is counted in the form of their level (CapHoc); one with no level, in the
    -- form of the school's highest level, so no one is counted twice (status: inferred).
    s.CapHoc AS level,
    sc.top_level AS school_top_level,
    -- Working staff: DM_TRANG_THAI_CAN_BO 01 đang làm việc, 04 chờ nghỉ hưu, 07 chuyển đến.
    s.TrangThai IN ('01', '04', '07') AS active,
    coalesce(len(string_split(s.LstNhiemVuKiemNhiem, ',')), 0) AS concurrent_duties,
    sc.ownership,
    sc.region_group,
    sc.ownership_mn,
    -- 01-MN-ĐN splits staff into nhà trẻ and mẫu giáo/mầm non (status: inferred): a teacher by
    -- DayNhomLop (DM_MON_DAY_GV 02 Nhà trẻ, 01 Mẫu giáo); anyone else (and a teacher without it)
    -- by the school: a nhà trẻ or independent nursery group is 'nursery', every other preschool
    -- institution 'kindergarten'.
    CASE WHEN s.LoaiCanBo = '03' AND s.DayNhomLop = '02' THEN 'nursery'
         WHEN s.LoaiCanBo = '03' AND s.DayNhomLop = '01' THEN 'kindergarten'
         WHEN sc.mn_kind IN ('nursery', 'independent_nursery') THEN 'nursery'
         ELSE 'kindergarten' END AS mn_block
FROM stg_staff s
JOIN school sc USING (school_code)
WHERE s.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'staff');

CREATE OR REPLACE TABLE rooms AS
SELECT
    r.school_code,
    r.MaLoaiPhong AS room_type,
    rt."group" AS room_group,
    CASE r.LoaiCongTrinh WHEN '01' THEN 'solid' WHEN '02' THEN 'semi_solid' WHEN '03' THEN 'temporary' END
        AS construction,
    CAST(r.SoLuong AS INTEGER) AS room_count,
    sc.ownership,
    sc.region_group,
    sc.ownership_mn,
    -- 01-MN-ĐN section V has a nhà trẻ and a mẫu giáo block: the entry's KhoiHoc (16 / 17,
    -- edustat extension), else the school's kind as for staff (status: inferred).
    CASE WHEN r.KhoiHoc = '16' THEN 'nursery' WHEN r.KhoiHoc = '17' THEN 'kindergarten'
         WHEN sc.mn_kind IN ('nursery', 'independent_nursery') THEN 'nursery'
         ELSE 'kindergarten' END AS mn_block
FROM stg_rooms r
JOIN school sc USING (school_code)
LEFT JOIN cl_room_type rt ON rt.code = r.MaLoaiPhong
WHERE r.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'rooms');

-- Budget (NganSach, the budget tab of 01-MN-ĐN; defined by edustat, status: inferred): one row per
-- validated entry. The school types amounts in triệu đồng (decimals allowed); each is kept exactly
-- as whole đồng (× 1,000,000 in decimal arithmetic, rounded to the đồng), so cells stay BIGINT and
-- sums are exact. An absent amount stays NULL (0 on the form).
CREATE OR REPLACE TABLE budget AS
SELECT
    b.school_code,
    CAST(b.MaChiTieu AS INTEGER) AS line_code,  -- the printed Mã số (codelists/budget_line.csv)
    CAST(round(CAST(b.QuyetToanNamTruoc AS DECIMAL(38, 10)) * 1000000) AS BIGINT) AS settled_prev_fy,
    CAST(round(CAST(b.DuToan AS DECIMAL(38, 10)) * 1000000) AS BIGINT) AS estimate_fy,
    CAST(round(CAST(b.UocThucHien AS DECIMAL(38, 10)) * 1000000) AS BIGINT) AS expected_outturn_fy,
    sc.ownership_mn
FROM stg_budget b
JOIN school sc USING (school_code)
WHERE b.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'budget');

-- The budget amounts in long form, one row per entry and amount column (the keys of the reference
-- column_relations.csv): the budget form's columns then filter on amount_kind like any other
-- column dimension, and its rows sum `amount` (đồng) for their line_code. NULL amounts are left out.
CREATE OR REPLACE TABLE budget_amount AS
SELECT school_code, line_code, amount_kind, amount, ownership_mn
FROM budget
UNPIVOT (amount FOR amount_kind IN (settled_prev_fy, estimate_fy, expected_outturn_fy));

-- Preschool group/class sizes (01-MN-ĐN rows 59-66, 73-80): children enrolled on the as-of date
-- in the group/class (by MaLopHocDn), and of them the disabled ones in inclusive education.
CREATE OR REPLACE TEMP TABLE _class_children AS
SELECT school_code, class_code, count(*) AS n_children,
       count(*) FILTER (WHERE disabled AND NOT school_specialised_disability) AS n_disabled_children
FROM learner WHERE enrolled GROUP BY ALL;

CREATE OR REPLACE TABLE class AS
SELECT c.*, coalesce(k.n_children, 0) AS n_children, coalesce(k.n_disabled_children, 0) AS n_disabled_children
FROM class c LEFT JOIN _class_children k USING (school_code, class_code);

DROP TABLE _class_children;
