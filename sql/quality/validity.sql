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
GROUP BY reason
ORDER BY reason;
