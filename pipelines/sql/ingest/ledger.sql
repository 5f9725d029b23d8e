-- The input ledger (pipelines/ingest/ledger.py): every input of a run with exactly one outcome.

-- name: clear_period
-- The period keeps its latest run's rows only ($1 school year, $2 period, $3 this run).
DELETE FROM input_ledger WHERE (school_year = $1 AND period = $2) OR run_id = $3

-- name: clear_input
DELETE FROM input_ledger WHERE run_id = $1 AND input = $2

-- name: clear_staged_records
-- The records written after validation (a validation run again writes them anew).
DELETE FROM input_ledger WHERE run_id = $1 AND input = 'record' AND outcome IN ('counted', 'excluded')

-- name: staged_records
-- Every staged record of one entity: counted, or excluded with the rules of its quarantine.
INSERT INTO input_ledger
SELECT $run_id, $school_year, $period, 'record', s.file,
       CASE WHEN $single THEN $path ELSE $path || '[' || s.record_index || ']' END, s.school_code,
       CASE WHEN q.rule_ids IS NULL THEN 'counted' ELSE 'excluded' END, q.rule_ids,
       CASE WHEN q.rule_ids IS NOT NULL THEN 'Bản ghi bị loại vì lỗi: ' || q.rule_ids END,
       CASE WHEN q.rule_ids IS NOT NULL THEN 'Record excluded by the errors: ' || q.rule_ids END
FROM {table} AS s
LEFT JOIN (SELECT row_id, any_value(rule_ids) AS rule_ids FROM quarantine
           WHERE run_id = $run_id AND entity = $entity GROUP BY row_id) AS q ON q.row_id = s.row_id

-- name: count_records
SELECT count(*) FROM input_ledger WHERE run_id = $1 AND input = 'record'

-- name: counts
SELECT input, outcome, reason, count(*) FROM input_ledger WHERE run_id = $1 GROUP BY ALL ORDER BY ALL

-- name: records_of_school
-- This run's ledger rows of one school's records ($1 run, $2 school): for tests and the error sheet.
SELECT source, position, outcome, reason FROM input_ledger
WHERE run_id = $1 AND input = 'record' AND school_code = $2 ORDER BY source, position

-- name: balance
-- Each check counts what breaks the balance (0 everywhere: the ledger balances). $run_id.
WITH l AS (SELECT * FROM input_ledger WHERE run_id = $run_id),
reg AS (SELECT source, TRY_CAST(position AS INTEGER) AS row FROM l WHERE input = 'registry_row'),
loaded AS (
    UNPIVOT (SELECT file, n_school, n_site, n_class, n_learner, n_staff, n_rooms, n_result, n_budget
             FROM files WHERE run_id = $run_id AND status = 'loaded')
    ON COLUMNS('^n_') INTO NAME entity VALUE n),
expected AS (SELECT file, p.path, sum(n) AS n FROM loaded JOIN _ledger_paths p ON 'n_' || p.entity = loaded.entity
             GROUP BY ALL HAVING sum(n) > 0),
got AS (SELECT source AS file, split_part(position, '[', 1) AS path, count(*) AS n FROM l
        WHERE input = 'record' AND source IN (SELECT file FROM expected) GROUP BY ALL)
SELECT 'duplicate_position', count(*) FROM (SELECT 1 FROM l GROUP BY input, source, position HAVING count(*) > 1)
UNION ALL SELECT 'unknown_outcome', count(*) FROM l
    WHERE outcome NOT IN ('counted', 'excluded', 'rejected', 'superseded', 'not_expected', 'not_read')
       OR input NOT IN ('registry_row', 'inbox_entry', 'record')
UNION ALL SELECT 'missing_reason', count(*) FROM l
    WHERE outcome <> 'counted' AND (reason IS NULL OR message_vi IS NULL OR message_en IS NULL)
UNION ALL SELECT 'registry_gap', coalesce(sum(n), 0) FROM (
    SELECT max(row) - min(row) + 1 - count(DISTINCT row) AS n FROM reg GROUP BY source)
UNION ALL SELECT 'records_missing', coalesce(sum(e.n - coalesce(g.n, 0)), 0) FROM expected e
    LEFT JOIN got g USING (file, path) WHERE e.n > coalesce(g.n, 0)
UNION ALL SELECT 'records_extra', coalesce(sum(g.n - e.n), 0) FROM expected e JOIN got g USING (file, path)
    WHERE g.n > e.n
UNION ALL SELECT 'files_missing', count(*) FROM (SELECT DISTINCT file FROM files WHERE run_id = $run_id) f
    WHERE f.file NOT IN (SELECT position FROM l WHERE input = 'inbox_entry')
      AND regexp_replace(f.file, '@v[0-9]+$', '') NOT IN (SELECT file FROM submissions)
UNION ALL SELECT 'placed_missing', count(*) FROM units
    WHERE level = 'school' AND (SELECT count(*) FROM l WHERE input = 'registry_row') > 0
      AND unit_code NOT IN (SELECT school_code FROM l WHERE input = 'registry_row' AND outcome = 'counted')
UNION ALL SELECT 'staged_missing', $staged - (SELECT count(*) FROM l WHERE input = 'record'
                                             AND outcome IN ('counted', 'excluded'))

-- name: paths
CREATE OR REPLACE TEMP TABLE _ledger_paths (path VARCHAR, entity VARCHAR)

-- name: staged_count
SELECT count(*) FROM {table}

-- name: clear_ingest_records
-- The records ingest writes (of files not loaded, and those a change file replaced).
DELETE FROM input_ledger WHERE run_id = $1 AND input = 'record' AND outcome NOT IN ('counted', 'excluded')

-- name: not_expected_schools
-- The schools the run's registry lists but does not expect files from, with why ($1 run).
SELECT school_code, any_value(reason), any_value(message_vi), any_value(message_en) FROM input_ledger
WHERE run_id = $1 AND input = 'registry_row' AND outcome = 'not_expected' AND school_code IS NOT NULL
GROUP BY school_code

-- name: files_missing
-- The files of a run that the ledger lists neither as an inbox entry nor as a stored version ($1 run;
-- a stored version whose name an inbox file has is read as "name@vN").
SELECT DISTINCT file FROM files WHERE run_id = $1
    AND file NOT IN (SELECT position FROM input_ledger WHERE run_id = $1 AND input = 'inbox_entry')
    AND regexp_replace(file, '@v[0-9]+$', '') NOT IN (SELECT file FROM submissions) ORDER BY 1 LIMIT 5
