-- Freshness and lateness: how long events take from the app (created_at) to Firehose
-- (received_at), in seconds, over the day's curated events.
WITH lag AS (
  SELECT epoch(received_at) - epoch(created_at) AS seconds FROM curated
)
SELECT
  count(*) AS events,
  quantile_cont(seconds, 0.50) AS p50_seconds,
  quantile_cont(seconds, 0.95) AS p95_seconds,
  quantile_cont(seconds, 0.99) AS p99_seconds,
  max(seconds) AS max_seconds,
  count(*) FILTER (WHERE seconds > 3600) AS later_than_1h,
  count(*) FILTER (WHERE seconds > 3600) / nullif(count(*), 0) AS later_than_1h_share,
  -- Received before it was created: the app's clock is ahead.
  count(*) FILTER (WHERE seconds < 0) AS clock_ahead
FROM lag;
