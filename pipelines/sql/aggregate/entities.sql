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
-- The school's DM_NHOM_CAP_HOC group (issue 16): MaNhomCapHoc, else the file's CapHoc (the same code
-- list in the sync spec), else the group the registry's CAP_HOC digits name (ingest/places.py).
typed AS (
    SELECT s.*, coalesce(s.MaNhomCapHoc, s.CapHoc, r.level_group) AS group_code,
           CASE WHEN s.MaNhomCapHoc IS NOT NULL THEN 'MaNhomCapHoc' WHEN s.CapHoc IS NOT NULL THEN 'CapHoc'
                WHEN r.level_group IS NOT NULL THEN 'CAP_HOC' END AS group_source
    FROM staged s LEFT JOIN registry_schools r USING (school_code)
),
level_group AS (SELECT code, "DS_Cấp" AS levels, "Cấp" AS top_level FROM cl_education_level_group),
-- A continuing-education institution's type (05-GDTX-ĐN, status: inferred): MaLoaiTrungTam
-- (codelists/centre_type.csv), else from its level group: 12/13 a GDTX centre (a GDNN-GDTX centre
-- when its category is 16), 14 a TTKTTH-HN, 15 (lớp nhô) another institution.
centre AS (
    SELECT t.school_code, coalesce(t.MaLoaiTrungTam, CASE t.group_code
        WHEN '12' THEN CASE WHEN t.MaLoaiTruong = '16' THEN '02' ELSE '01' END
        WHEN '13' THEN CASE WHEN t.MaLoaiTruong = '16' THEN '02' ELSE '01' END
        WHEN '14' THEN '03' WHEN '15' THEN '08' END) AS centre_type
    FROM typed t
)
SELECT
    s.school_code,
    s.file,
    s.group_code AS level_group,
    s.group_source AS level_group_source,
    -- The school-type dimension (issue 16): each school is one type, by its level group. Official
    -- statistics count a school once, by its type; a multi-level school is counted as a school in the
    -- form of its highest level (DM_NHOM_CAP_HOC `Cấp`, below top_level) and shown there in its own
    -- row, while its classes, pupils and teachers are counted in the form of their own level.
    CASE s.group_code
        WHEN '01' THEN 'preschool' WHEN '02' THEN 'kindergarten' WHEN '03' THEN 'nursery'
        WHEN '04' THEN 'independent_nursery' WHEN '05' THEN 'independent_kindergarten'
        WHEN '19' THEN 'independent_mixed'
        WHEN '06' THEN 'primary' WHEN '07' THEN 'lower_secondary' WHEN '08' THEN 'upper_secondary'
        WHEN '09' THEN 'primary_lower_secondary' WHEN '10' THEN 'secondary' WHEN '11' THEN 'general'
        WHEN '16' THEN 'preschool_primary' WHEN '17' THEN 'preschool_general'
        WHEN '18' THEN 'preschool_primary_lower_secondary'
        ELSE CASE WHEN c.centre_type IS NOT NULL OR s.group_code IN ('12', '13', '14', '15') THEN 'gdtx' END
    END AS school_type,
    coalesce(len(string_split(g.levels, ',')) > 1, FALSE) AS multi_level,
    -- DM_NHOM_CAP_HOC lists the levels of each group (02 Tiểu học, 03 THCS) and the highest one.
    contains(g.levels, '02') AS teaches_primary,
    contains(g.levels, '03') AS teaches_lower_secondary,
    -- 01 Mầm non in DS_Cấp: groups 01-05, 19 and the multi-level 16-18 (01-MN-ĐN scope).
    contains(g.levels, '01') AS teaches_preschool,
    -- 05 GDTX in DS_Cấp: groups 12 GDTX tỉnh, 13 GDTX huyện, 14 TTKTTH-HN, 15 lớp nhô; and any
    -- institution declaring a centre type (MaLoaiTrungTam: community learning, language, IT centres).
    coalesce(contains(g.levels, '05'), FALSE) OR c.centre_type IS NOT NULL AS teaches_gdtx,
    -- The highest level: the form a school is counted in as a school (home form), and the form of a
    -- staff member without CapHoc. A centre known only by its type is a GDTX institution (05).
    coalesce(g.top_level, CASE WHEN c.centre_type IS NOT NULL THEN '05' END) AS top_level,
    c.centre_type,
    ct."group" AS centre_group,
    -- 02-TH-ĐN has Công lập and Tư thục columns only: every non-public type is Tư thục (issue 2).
    CASE WHEN s.LoaiHinhDaoTao = '01' THEN 'CL' ELSE 'TT' END AS ownership,
    -- 01-MN-ĐN adds a Dân lập column: DM_LOAI_HINH 03 Dân lập; 02 and 09 are Tư thục (inferred).
    CASE s.LoaiHinhDaoTao WHEN '01' THEN 'CL' WHEN '03' THEN 'DL' ELSE 'TT' END AS ownership_mn,
    -- Kind of preschool institution (01-MN-ĐN rows 2, 15, 33, 51-53): DM_NHOM_CAP_HOC 03 nhà trẻ,
    -- 02 mẫu giáo, 01 mầm non, 04/05/19 independent groups ("cơ sở", not schools). A multi-level
    -- school with preschool classes (16-18) is a general-education school: it is counted as a school
    -- in the form of its highest level and shown in 01-MN-ĐN in its own row (issue 16).
    CASE s.group_code WHEN '03' THEN 'nursery' WHEN '02' THEN 'kindergarten' WHEN '01' THEN 'preschool'
         WHEN '04' THEN 'independent_nursery' WHEN '05' THEN 'independent_kindergarten'
         WHEN '19' THEN 'independent_mixed'
         ELSE CASE WHEN contains(g.levels, '01') THEN 'multi_level' END END AS mn_kind,
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
    -- 05-GDTX-ĐN (status: inferred): a GDTX centre's management level from its DM_NHOM_CAP_HOC group
    -- (12 provincial, 13 district; 14 TTKTTH-HN and 15 lớp nhô are 'other'), and the sync spec's
    -- TtGdtxHuongNghiep flag (centre with career-guidance activities). Community learning, language
    -- and IT centres have no management-level row.
    CASE WHEN ct."group" = 'gdtx' THEN
        CASE s.group_code WHEN '12' THEN 'province' WHEN '13' THEN 'district' ELSE 'other' END
    END AS gdtx_centre_level,
    coalesce(s.TtGdtxHuongNghiep = '1', FALSE) AS gdtx_career_guidance,
    -- Sync spec 2020 TruongHocInfo: TtHtcdKhNhaVanHoa (community learning centre combined with the
    -- commune's culture house or post office), TtNnCoVonNuocNgoai (foreign-invested language centre).
    coalesce(s.TtHtcdKhNhaVanHoa = '1', FALSE) AS community_centre_with_culture_house,
    coalesce(s.TtNnCoVonNuocNgoai = '1', FALSE) AS foreign_invested_centre,
    -- Learners in the year of a community learning, language, IT or other centre (SoLuotNguoiHoc,
    -- edustat; QĐ 4998 IS_HOC_VIEN "số lượt học viên trong năm", IS_NGUOI_HOC).
    TRY_CAST(s.SoLuotNguoiHoc AS BIGINT) AS learner_visits,
    TRY_CAST(s.TongSoHocSinh AS INTEGER) AS declared_learners,
    TRY_CAST(s.TongSoLopHoc AS INTEGER) AS declared_classes,
    TRY_CAST(s.TongSoCanBo AS INTEGER) AS declared_staff
FROM typed s
LEFT JOIN level_group g ON g.code = s.group_code
LEFT JOIN centre c USING (school_code)
LEFT JOIN cl_centre_type ct ON ct.code = c.centre_type;

-- A school's sites and rooms are counted in the form it is counted in as a school (its highest
-- level), so a multi-level school's rooms are counted once (issue 16); a room entry marked for
-- nursery or kindergarten (KhoiHoc 16, 17) in the preschool form.
CREATE OR REPLACE TABLE site AS
SELECT st.school_code, st.MaDiemTruong AS site_code, sc.ownership, sc.region_group, sc.ownership_mn,
       sc.top_level AS school_top_level
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

-- The learners' start-of-year columns; results.sql adds the end-of-year ones and writes the table
-- `learner` (one write of the 406,668 rows of a 1,000-school province, not two: issue 17).
CREATE OR REPLACE TEMP TABLE _learner_base AS
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
    -- Boarding (nội trú) and semi-boarding (bán trú) pupils: sync spec 2020 LstHocSinh NoiTru, BanTru.
    coalesce(l.NoiTru = '1', FALSE) AS boarding,
    coalesce(l.BanTru = '1', FALSE) AS semi_boarding_pupil,
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
    -- The level of the highest qualification, the rows "Trung cấp / Cao đẳng / Đại học sư phạm, Thạc sĩ,
    -- Tiến sĩ, Khác" count by (codelists/qualification.csv `training_level`): a degree at a level, with or
    -- without pedagogy or the BDNVSP certificate (DM_TRINH_DO_CHUYEN_MON 03/13/16 đại học, 04/14/17 cao
    -- đẳng, 05/15/18 and the old secondary pedagogy 09/10 trung cấp) is counted at its level (issue 16:
    -- 13 and 03 were counted as "Khác").
    coalesce(q.training_level, 'other') AS qualification_level,
    -- A teacher's training standard (Luật Giáo dục 2019, Art. 72): preschool teachers need a cao đẳng
    -- sư phạm (17) or above (đại học sư phạm 16, master 02, doctor 01 are above); primary, lower and
    -- upper secondary teachers (and GDTX teachers, status: inferred) a bachelor in teacher training
    -- (16) or a relevant bachelor with the pedagogy certificate (13), above: master 02, doctor 01.
    -- Everything else is below the standard (a master's or doctorate is taken as above whatever its
    -- field: the highest-qualification code does not say). The level: CapHoc, else the school's highest.
    CASE WHEN coalesce(s.CapHoc, sc.top_level) = '01' THEN
             CASE WHEN s.TrinhDoChuyenMonNvCaoNhat IN ('16', '02', '01') THEN 'above'
                  WHEN s.TrinhDoChuyenMonNvCaoNhat = '17' THEN 'at' ELSE 'below' END
         ELSE CASE WHEN s.TrinhDoChuyenMonNvCaoNhat IN ('02', '01') THEN 'above'
                   WHEN s.TrinhDoChuyenMonNvCaoNhat IN ('16', '13') THEN 'at' ELSE 'below' END
    END AS training_standard,
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
    -- Youth Union work (Đoàn TNCS Hồ Chí Minh; 04-THPT-ĐN): DM_NHIEM_VU_KIEM_NHIEM 05 Bí thư đoàn
    -- thanh niên, 09 Tổng phụ trách Đoàn - Đội, 10 Tổng phụ trách Đoàn.
    coalesce(list_has_any(string_split(s.LstNhiemVuKiemNhiem, ','), ['05', '09', '10']), FALSE) AS youth_union_duty,
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
LEFT JOIN cl_qualification q ON q.code = s.TrinhDoChuyenMonNvCaoNhat
WHERE s.row_id NOT IN (SELECT row_id FROM quarantine WHERE run_id = getvariable('run_id') AND entity = 'staff');

CREATE OR REPLACE TABLE rooms AS
SELECT
    r.school_code,
    r.MaLoaiPhong AS room_type,
    rt."group" AS room_group,
    CASE r.LoaiCongTrinh WHEN '01' THEN 'solid' WHEN '02' THEN 'semi_solid' WHEN '03' THEN 'temporary' END
        AS construction,
    CAST(r.SoLuong AS INTEGER) AS room_count,
    CASE WHEN r.KhoiHoc IN ('16', '17') THEN '01' ELSE sc.top_level END AS room_level,
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
FROM _learner_base WHERE enrolled GROUP BY ALL;

CREATE OR REPLACE TABLE class AS
SELECT c.*, coalesce(k.n_children, 0) AS n_children, coalesce(k.n_disabled_children, 0) AS n_disabled_children
FROM class c LEFT JOIN _class_children k USING (school_code, class_code);

DROP TABLE _class_children;
