-- Validity: quarantined records by reason, as a share of the records received on the day.
WITH received AS (
  SELECT (SELECT count(*) FROM staged_events) + (SELECT count(*) FROM quarantine)
    + (SELECT count(*) FROM processing_failed) AS n
)
SELECT
  reason,
  count(*) AS records,
  count(*) / nullif(any_value(received.n), 0) AS share_of_received
FROM quarantine, received
-- A replayed record found already in the lake is the replay's figure (replays.sql), not a producer's.
WHERE NOT (reason = 'duplicate' AND replayed_from IS NOT NULL)
GROUP BY reason
ORDER BY reason;
