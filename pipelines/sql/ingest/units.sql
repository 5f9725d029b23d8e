-- The run's unit tree (pipelines/ingest/units.py).

-- name: clear_reference
DELETE FROM hierarchy_units;
DELETE FROM province_crosswalk;

-- name: delete_memberships
-- The schools a registry observes again at its as-of date ($1 as_of, $2 school codes).
DELETE FROM unit_membership WHERE as_of = $1 AND school_code IN (SELECT unnest($2::VARCHAR[]))

-- name: placed_on_2024
-- Schools already placed on the 2024 boundaries by an earlier run.
SELECT DISTINCT school_code FROM unit_membership WHERE boundaries = '2024' AND parent_code IS NOT NULL

-- name: observe_closed
-- Schools last seen under one of this registry's Sở but absent from it now are observed as closed
-- (parent NULL) on both versions. $as_of, $run_id, $sos (the registry's old Sở), $codes (its schools).
INSERT INTO unit_membership
WITH last AS (
    SELECT boundaries, school_code, arg_max(name_vi, as_of) AS name_vi,
           arg_max(parent_level, as_of) AS parent_level, arg_max(parent_code, as_of) AS parent_code
    FROM unit_membership WHERE as_of < $as_of AND boundaries = '2024' GROUP BY ALL),
so_of AS (SELECT l.*, CASE WHEN l.parent_level = 'so' THEN l.parent_code ELSE h.parent_code END AS so
          FROM last l LEFT JOIN hierarchy_units h ON h.boundaries = '2024' AND h.level = l.parent_level
           AND h.unit_code = l.parent_code)
SELECT v.boundaries, o.school_code, $as_of, o.name_vi, NULL, NULL, $run_id
FROM so_of o CROSS JOIN (SELECT unnest(['2024', '2025']) AS boundaries) v
WHERE o.parent_code IS NOT NULL AND o.so IN (SELECT unnest($sos::VARCHAR[]))
  AND o.school_code NOT IN (SELECT unnest($codes::VARCHAR[]))

-- name: membership_on
-- Each school's parent on a version at a date: its last membership on or before the date, else its
-- first after. $as_of, $boundaries, $schools.
SELECT school_code,
       coalesce(arg_max(parent_level, as_of) FILTER (WHERE as_of <= $as_of), arg_min(parent_level, as_of)),
       coalesce(arg_max(parent_code, as_of) FILTER (WHERE as_of <= $as_of), arg_min(parent_code, as_of))
FROM unit_membership
WHERE boundaries = $boundaries AND parent_code IS NOT NULL AND school_code IN (SELECT unnest($schools::VARCHAR[]))
GROUP BY school_code

-- name: clear_run_tree
DELETE FROM units;
DELETE FROM registry_problems;

-- name: registered_schools
SELECT unit_code FROM units WHERE level = 'school'
