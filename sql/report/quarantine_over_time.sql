-- Quarantined records by reason per 10 minutes of arrival (quarantine is partitioned by
-- arrival time): the report's quarantine chart. Duplicate and conflict tombstones included.
SELECT
  time_bucket(INTERVAL 10 MINUTE, received_at) AS bucket,
  reason,
  count(*) AS records
FROM quarantine
GROUP BY ALL
ORDER BY bucket, reason;
