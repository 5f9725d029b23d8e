-- Schools whose staged file differs from the files a stage last worked from (changed, new or gone).
-- $1: the stage.
WITH now AS (SELECT DISTINCT school_code, file_hash FROM stg_school),
last AS (SELECT school_code, file_hash FROM stage_files WHERE stage = $1)
SELECT school_code FROM ((SELECT * FROM now EXCEPT SELECT * FROM last)
                         UNION ALL (SELECT * FROM last EXCEPT SELECT * FROM now))
