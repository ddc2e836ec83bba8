-- Duplicates by hour: producer resends stopped at ingest (duplicate tombstones, by arrival
-- hour) and Firehose redeliveries in staging (lines beyond the first of an event_uuid, by
-- event hour): the hourly view of quality/uniqueness.sql.
WITH
  hours AS (SELECT range AS hour FROM range(24)),
  ingest AS (
    SELECT hour(received_at) AS hour, count(*) AS n FROM quarantine WHERE reason = 'duplicate' GROUP BY ALL
  ),
  redelivered AS (
    SELECT hour(created_at) AS hour, count(*) - count(DISTINCT event_uuid) AS n FROM staging GROUP BY ALL
  )
SELECT
  h.hour,
  coalesce(i.n, 0)::BIGINT AS ingest_duplicates,
  coalesce(r.n, 0)::BIGINT AS staging_redelivered
FROM hours h
LEFT JOIN ingest i USING (hour)
LEFT JOIN redelivered r USING (hour)
ORDER BY h.hour;
