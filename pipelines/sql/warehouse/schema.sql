-- The warehouse's permanent tables: the one place that creates them (pipelines/warehouse/schema.py
-- runs this file, then the numbered migrations of migrations/, then views.sql). Every statement is
-- idempotent. Tables a stage rebuilds whole from others (the typed tables of aggregate/entities.sql,
-- the analysts' support tables of schemas/views.yaml) and scratch TEMP tables live with their SQL;
-- the staging tables stg_<entity> are generated from the source catalogue (schema.py).

-- The migrations applied to this warehouse, and the digest of the schema files last applied.
CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER, name VARCHAR, applied_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS schema_state (digest VARCHAR);

-- What changed since the last run of a period (pipelines/warehouse/changes.py): per stage, the
-- fingerprint (code, schemas, settings) and run it last worked under, and the staged files it worked
-- from; per output folder, the digest of the inputs of each file written there.
CREATE TABLE IF NOT EXISTS stage_state (stage VARCHAR, run_id VARCHAR, fingerprint VARCHAR);
CREATE TABLE IF NOT EXISTS stage_files (stage VARCHAR, school_code VARCHAR, file_hash VARCHAR);
CREATE TABLE IF NOT EXISTS output_digests (folder VARCHAR, path VARCHAR, digest VARCHAR);

-- --- the unit tree (pipelines/ingest/units.py) ------------------------------------------------
-- The reference units (Bộ, Sở, Phòng) of both boundary versions, with the dates they are valid.
CREATE TABLE IF NOT EXISTS hierarchy_units (boundaries VARCHAR, level VARCHAR, unit_code VARCHAR,
    name_vi VARCHAR, parent_level VARCHAR, parent_code VARCHAR, valid_from DATE, valid_to DATE);
-- Old province (= old Sở) → new province (NQ 202/2025/QH15).
CREATE TABLE IF NOT EXISTS province_crosswalk (old_code VARCHAR, old_so_code VARCHAR, new_code VARCHAR);
-- Where each school stood on each boundary version, observed by every run on its as-of date; a
-- school absent from a later registry of its Sở is observed as closed (parent NULL).
CREATE TABLE IF NOT EXISTS unit_membership (boundaries VARCHAR, school_code VARCHAR, as_of DATE,
    name_vi VARCHAR, parent_level VARCHAR, parent_code VARCHAR, run_id VARCHAR);
-- The unit tree the current run aggregates on, and its registry's problems.
CREATE TABLE IF NOT EXISTS units (level VARCHAR, unit_code VARCHAR, name_vi VARCHAR,
    parent_level VARCHAR, parent_code VARCHAR);
CREATE TABLE IF NOT EXISTS registry_problems (excel_row INTEGER, school_code VARCHAR,
    outcome VARCHAR, message_vi VARCHAR, message_en VARCHAR);
-- The run's registry facts the typed tables and the analysts read (pipelines/ingest/places.py): each
-- school's CAP_HOC and the DM_NHOM_CAP_HOC group it names (the school type when the school's file
-- names none), and its commune on the 2025 map: the code the registry gave, the commune it places
-- the school in (NULL: straight to the Sở), the rule that decided and a split commune's candidates.
CREATE TABLE IF NOT EXISTS registry_schools (school_code VARCHAR, cap_hoc VARCHAR, level_group VARCHAR,
    commune_given VARCHAR, commune_code VARCHAR, commune_rule VARCHAR, commune_candidates VARCHAR);

-- --- ingest -----------------------------------------------------------------------------------
-- Every file of every run with its outcome, and the records it holds per list (one column per
-- source of the catalogue: tests/warehouse/test_schema.py checks they match).
CREATE TABLE IF NOT EXISTS files (run_id VARCHAR, start_year INTEGER, period VARCHAR, file VARCHAR,
    file_hash VARCHAR, school_code VARCHAR, status VARCHAR, reason VARCHAR, message_vi VARCHAR,
    message_en VARCHAR, ingested_at TIMESTAMP, n_school INTEGER, n_site INTEGER, n_class INTEGER,
    n_learner INTEGER, n_staff INTEGER, n_rooms INTEGER, n_result INTEGER, n_budget INTEGER);
-- Every input a run was handed, each with exactly one outcome (the input ledger): every row of the
-- registry, every entry found under the inbox (any name, extension, depth; inside an archive:
-- "archive.zip!member"), every record of every file read. outcome: counted | excluded (a record
-- with an error, `reason` = its rule) | rejected (a whole file or registry row, `reason` = why) |
-- superseded (an older version of a school's file) | not_expected (a school not active, a test
-- school, another province) | not_read (not a data file). `reason` is a code with a Vietnamese and
-- English message; NULL for counted inputs.
CREATE TABLE IF NOT EXISTS input_ledger (run_id VARCHAR, school_year VARCHAR, period VARCHAR,
    input VARCHAR, source VARCHAR, position VARCHAR, school_code VARCHAR, outcome VARCHAR,
    reason VARCHAR, message_vi VARCHAR, message_en VARCHAR);
-- Every version of every school's file (pipelines/ingest/submissions.py).
CREATE TABLE IF NOT EXISTS submissions (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    version INTEGER, file VARCHAR, sha256 VARCHAR, arrived_at TIMESTAMP, recorded_at TIMESTAMP,
    superseded_at TIMESTAMP, run_id VARCHAR);
-- Population by Phòng or Sở, calendar year, single age and sex (the run's population file; empty
-- without one).
CREATE TABLE IF NOT EXISTS population (level VARCHAR, unit_code VARCHAR, year INTEGER, age INTEGER,
    sex VARCHAR, population BIGINT);

-- --- validate ---------------------------------------------------------------------------------
-- Every failing record of every rule of every run (history), and each run's excluded rows.
CREATE TABLE IF NOT EXISTS validation_results (run_id VARCHAR, school_year VARCHAR, period VARCHAR,
    rule_id VARCHAR, severity VARCHAR, entity VARCHAR, school_code VARCHAR, file VARCHAR,
    record_index INTEGER, row_id BIGINT, field VARCHAR, value VARCHAR, message_vi VARCHAR,
    message_en VARCHAR, checked_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS quarantine (run_id VARCHAR, entity VARCHAR, row_id BIGINT, school_code VARCHAR,
    file VARCHAR, record_index INTEGER, rule_ids VARCHAR);

-- --- aggregate --------------------------------------------------------------------------------
-- Per school and period, the figures the cross-period rules compare with a later run: learners
-- enrolled on the as-of date, classes, active staff and teachers; per grade, learners enrolled at
-- the as-of date and, at the end of the year, those promoted (LenLop 1) and kept back (2).
CREATE TABLE IF NOT EXISTS school_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    learners BIGINT, classes BIGINT, staff BIGINT, teachers BIGINT);
CREATE TABLE IF NOT EXISTS school_grade_history (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    grade_code VARCHAR, learners BIGINT, promoted BIGINT, retained BIGINT);
-- The cells of every form of every unit (sparse: an absent printed cell is 0).
CREATE TABLE IF NOT EXISTS cells (school_year VARCHAR, period VARCHAR, regime VARCHAR, form VARCHAR,
    level VARCHAR, unit_code VARCHAR, row_code INTEGER, col_key VARCHAR, value BIGINT, boundaries VARCHAR);
-- Every broken relation instance of every unit's cells.
CREATE TABLE IF NOT EXISTS relation_violations (run_id VARCHAR, school_year VARCHAR, period VARCHAR,
    form VARCHAR, level VARCHAR, unit_code VARCHAR, relation_id VARCHAR, check_text VARCHAR,
    basis VARCHAR, row_code INTEGER, col_key VARCHAR, lhs BIGINT, rhs BIGINT);
-- Every school counted once (pipelines/aggregate/schools.py): per unit of a run's tree, the schools the
-- forms count (the indicators that count institutions) and its distinct schools; ok when equal.
CREATE TABLE IF NOT EXISTS school_count_check (run_id VARCHAR, school_year VARCHAR, period VARCHAR,
    boundaries VARCHAR, level VARCHAR, unit_code VARCHAR, counted BIGINT, schools BIGINT, ok BOOLEAN);
-- Indicators per unit, each with its numerator and denominator (numerator_rate / denominator_rate:
-- the two rates an index of rates divides), on each boundary version.
CREATE TABLE IF NOT EXISTS indicators (school_year VARCHAR, period VARCHAR, form VARCHAR,
    indicator_id VARCHAR, name_vi VARCHAR, name_en VARCHAR, status VARCHAR, level VARCHAR,
    unit_code VARCHAR, numerator BIGINT, denominator BIGINT, value DOUBLE, numerator_rate DOUBLE,
    denominator_rate DOUBLE, boundaries VARCHAR);
-- The runs whose aggregation committed, one row each (written inside the aggregate step's transaction).
CREATE TABLE IF NOT EXISTS aggregate_runs (run_id VARCHAR, school_year VARCHAR, period VARCHAR,
    regime VARCHAR, boundaries VARCHAR, aggregated_at TIMESTAMP);

-- --- the reporting window (pipelines/window/) -------------------------------------------------
-- Append only: the tool inserts rows and never updates or deletes them (hash-chained).
CREATE TABLE IF NOT EXISTS audit (seq BIGINT, changed_at TIMESTAMP, user_name VARCHAR, action VARCHAR,
    school_year VARCHAR, period VARCHAR, level VARCHAR, unit_code VARCHAR, from_state VARCHAR,
    to_state VARCHAR, reason VARCHAR, run_id VARCHAR, prev_hash VARCHAR, row_hash VARCHAR);
-- Completeness and timeliness per Phòng and Sở, and per school.
CREATE TABLE IF NOT EXISTS completeness (school_year VARCHAR, period VARCHAR, level VARCHAR,
    unit_code VARCHAR, unit_name VARCHAR, expected INTEGER, received INTEGER, on_time INTEGER,
    late INTEGER, missing INTEGER, pending INTEGER, resubmitted INTEGER, approved INTEGER,
    received_pct DOUBLE, school_deadline DATE, unit_deadline DATE, unit_state VARCHAR,
    unit_approved_at TIMESTAMP, unit_timeliness VARCHAR, evaluated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS completeness_schools (school_year VARCHAR, period VARCHAR, school_code VARCHAR,
    school_name VARCHAR, phong_code VARCHAR, so_code VARCHAR, deadline DATE, status VARCHAR,
    first_arrived_at TIMESTAMP, versions INTEGER, current_arrived_at TIMESTAMP, state VARCHAR,
    evaluated_at TIMESTAMP);
