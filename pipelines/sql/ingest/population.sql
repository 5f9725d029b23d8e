-- The population by Phòng or Sở, year, age and sex (pipelines/ingest/population.py).

-- name: clear
-- A run's population file replaces every row (no file: no rows).
DELETE FROM population
