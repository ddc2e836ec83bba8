-- Backfill from curated: the keys of the day's published rows (one row each, already unique), so
-- that file-plan.sql cuts the rewritten day the way compaction cuts it.
INSERT INTO keys
SELECT event_uuid, received_at, language, 0
FROM read_parquet($files, union_by_name = true);
