-- The four stores that tracked what changed since the last run (staging_state, validation_state
-- with validated_files, aggregate_state with aggregated_files, and OUT/forms/.digests.json) are one
-- now: stage_state, stage_files and output_digests. A warehouse that had the old ones starts the
-- new store empty: its next run redoes everything once.
DROP TABLE IF EXISTS staging_state;
DROP TABLE IF EXISTS validation_state;
DROP TABLE IF EXISTS validated_files;
DROP TABLE IF EXISTS aggregate_state;
DROP TABLE IF EXISTS aggregated_files;
