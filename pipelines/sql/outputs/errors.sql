-- The counts of the error lists and the Phòng and Sở summaries (pipelines/outputs/errors.py).

-- name: records_in
-- Records of one list, by school (every record staged, loaded or quarantined).
SELECT school_code, count(*) FROM {table} GROUP BY ALL

-- name: records_loaded
-- Records of one list ($2 entity) the run did not quarantine ($1 run id), by school.
SELECT school_code, count(*) FROM {table} AS s
WHERE NOT EXISTS (SELECT 1 FROM quarantine AS q WHERE q.run_id = $1 AND q.entity = $2 AND q.row_id = s.row_id)
GROUP BY ALL

-- name: quarantined
SELECT school_code, count(*) FROM quarantine WHERE run_id = $1 GROUP BY ALL

-- name: quarantined_by_rule
-- Quarantined records by school and rule (a record excluded by several rules counts under each).
SELECT school_code, rule, count(*)
FROM (SELECT school_code, unnest(string_split(rule_ids, ',')) AS rule FROM quarantine WHERE run_id = $1)
GROUP BY ALL

-- name: files
-- The run's files with their record counts, one column n_<entity> per list.
SELECT school_code, status, reason, COLUMNS('^n_') FROM files WHERE run_id = $1

-- name: schools
SELECT unit_code, name_vi, parent_level, parent_code FROM units WHERE level = 'school'

-- name: units
SELECT level, unit_code, name_vi, parent_level, parent_code FROM units

-- name: school_forms
-- The forms each school reports in the period ($1 school year, $2 period): those it has cells of.
SELECT DISTINCT unit_code, form FROM cells WHERE level = 'school' AND school_year = $1 AND period = $2 ORDER BY ALL

-- name: ledger
-- The input ledger of a run ($1) by input, outcome and reason: how many, and the reason's messages.
SELECT input, outcome, reason, count(*) AS n, min(message_vi), min(message_en)
FROM input_ledger WHERE run_id = $1 GROUP BY input, outcome, reason ORDER BY input, outcome, reason NULLS FIRST

-- name: ledger_not_counted
-- Every input of a run ($1) that was not counted, one row each, at most $2 rows: registry rows,
-- then inbox entries, then records; by outcome, then where it is (file, then position in number
-- order: row 9 before row 10, LstHocSinh[2] before LstHocSinh[10]).
SELECT input, outcome, school_code, source, position, reason, message_vi, message_en
FROM input_ledger WHERE run_id = $1 AND outcome <> 'counted'
ORDER BY CASE input WHEN 'registry_row' THEN 1 WHEN 'inbox_entry' THEN 2 ELSE 3 END, input, outcome, source,
         regexp_replace(position, '[0-9]+\]?$', ''), TRY_CAST(regexp_extract(position, '([0-9]+)\]?$', 1) AS BIGINT),
         position
LIMIT $2
