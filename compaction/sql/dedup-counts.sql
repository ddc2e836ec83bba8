-- Lines read, lines to drop as repeats of an event_uuid, and winners that tie (see winners.sql).
SELECT
  (SELECT count(*) FROM keys)::BIGINT AS lines,
  (SELECT count(*) FROM keys WHERE event_uuid IN (SELECT event_uuid FROM winners))::BIGINT
    - (SELECT count(*) FROM winners)::BIGINT AS duplicates,
  (SELECT count(*) FROM winners WHERE copies > 1)::BIGINT AS ties,
  (SELECT count(*) FROM keys WHERE event_uuid IS NULL OR received_at IS NULL)::BIGINT AS keyless;
