-- Uniqueness at each stage: producer resends stopped at ingest (duplicate tombstones), copies
-- from Firehose's at-least-once delivery in staging, and none at all in curated.
WITH
  staged AS (SELECT coalesce(sum(copies), 0) AS lines, count(*) AS uniq FROM staged_events),
  received AS (
    SELECT staged.uniq + (SELECT count(*) FROM quarantine) + (SELECT count(*) FROM processing_failed) AS n
    FROM staged
  ),
  tombstones AS (
    SELECT
      -- Replayed records found already in the lake are counted by replays.sql, not as resends.
      count(*) FILTER (WHERE reason = 'duplicate' AND replayed_from IS NULL) AS duplicates,
      count(*) FILTER (WHERE reason = 'uuid_conflict') AS conflicts
    FROM quarantine
  )
SELECT
  tombstones.duplicates AS ingest_duplicates,
  tombstones.duplicates / nullif(received.n, 0) AS ingest_duplicate_rate,
  tombstones.conflicts AS uuid_conflicts,
  (staged.lines - staged.uniq)::BIGINT AS staging_duplicates,
  (staged.lines - staged.uniq) / nullif(staged.lines, 0) AS staging_duplicate_rate,
  (SELECT coalesce(sum(copies - 1), 0) FROM curated_keys WHERE copies > 1)::BIGINT AS curated_duplicate_uuids
FROM staged, received, tombstones;
