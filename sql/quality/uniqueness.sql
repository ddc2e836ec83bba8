-- Uniqueness at each stage: producer resends stopped at ingest (duplicate tombstones), copies
-- from Firehose's at-least-once delivery in staging, and none at all in curated.
WITH
  received AS (
    SELECT (SELECT count(DISTINCT event_uuid) FROM staging) + (SELECT count(*) FROM quarantine)
      + (SELECT count(*) FROM processing_failed) AS n
  ),
  staged AS (SELECT count(*) AS lines, count(DISTINCT event_uuid) AS uniq FROM staging),
  cur AS (SELECT count(*) AS n, count(DISTINCT event_uuid) AS uniq FROM curated)
SELECT
  (SELECT count(*) FROM quarantine WHERE reason = 'duplicate') AS ingest_duplicates,
  (SELECT count(*) FROM quarantine WHERE reason = 'duplicate') / nullif(received.n, 0)
    AS ingest_duplicate_rate,
  (SELECT count(*) FROM quarantine WHERE reason = 'uuid_conflict') AS uuid_conflicts,
  staged.lines - staged.uniq AS staging_duplicates,
  (staged.lines - staged.uniq) / nullif(staged.lines, 0) AS staging_duplicate_rate,
  cur.n - cur.uniq AS curated_duplicate_uuids
FROM received, staged, cur;
