-- Each registered school's CAP_HOC and its commune on the 2025 map (pipelines/ingest/places.py).

-- name: clear_registry_schools
DELETE FROM registry_schools
