-- Freshness and lateness: how long events take from the app (created_at) to Firehose
-- (received_at), in seconds, over the day's curated events.
-- A backfill (history sent in minutes, as `npm start` sends its simulated stretch) looks like a
-- stale pipeline here: with the DuckDB variable `live_from` set, events created before it are
-- counted apart (`backfilled_*`) and the judged figures cover the live events only. Unset (the
-- default), every event is live: nothing is set aside unless the caller says a backfill ran.
WITH lag AS (
  SELECT
    epoch(received_at) - epoch(created_at) AS seconds,
    coalesce(created_at < getvariable('live_from'), false) AS backfilled
  FROM curated
)
SELECT
  count(*) FILTER (WHERE NOT backfilled) AS events,
  quantile_cont(seconds, 0.50) FILTER (WHERE NOT backfilled) AS p50_seconds,
  quantile_cont(seconds, 0.95) FILTER (WHERE NOT backfilled) AS p95_seconds,
  quantile_cont(seconds, 0.99) FILTER (WHERE NOT backfilled) AS p99_seconds,
  max(seconds) FILTER (WHERE NOT backfilled) AS max_seconds,
  count(*) FILTER (WHERE NOT backfilled AND seconds > 3600) AS later_than_1h,
  count(*) FILTER (WHERE NOT backfilled AND seconds > 3600)
    / nullif(count(*) FILTER (WHERE NOT backfilled), 0) AS later_than_1h_share,
  -- Received before it was created: the app's clock is ahead.
  count(*) FILTER (WHERE NOT backfilled AND seconds < 0) AS clock_ahead,
  getvariable('live_from') AS live_from,
  count(*) FILTER (WHERE backfilled) AS backfilled,
  quantile_cont(seconds, 0.50) FILTER (WHERE backfilled) AS backfilled_p50_seconds,
  max(seconds) FILTER (WHERE backfilled) AS backfilled_max_seconds
FROM lag;
