-- The distribution of received_at - created_at over the day's curated events, in bins that
-- widen with the lag (seconds): the report's freshness chart. With `live_from` set, events
-- created before it (a backfill) are counted apart from the live ones, as the freshness checks
-- of quality/freshness.sql judge only the live ones. Negative lags (the app's clock ahead) fall
-- in the first bin.
WITH
  edges(lower_seconds, upper_seconds, label) AS (
    VALUES
      (NULL, 1, '< 1 s'), (1, 5, '1-5 s'), (5, 15, '5-15 s'), (15, 30, '15-30 s'),
      (30, 60, '30-60 s'), (60, 120, '1-2 min'), (120, 300, '2-5 min'), (300, 600, '5-10 min'),
      (600, 900, '10-15 min'), (900, 1800, '15-30 min'), (1800, 3600, '30-60 min'),
      (3600, 7200, '1-2 h'), (7200, 21600, '2-6 h'), (21600, 86400, '6-24 h'), (86400, NULL, '> 1 day')
  ),
  lag AS (
    SELECT
      epoch(received_at) - epoch(created_at) AS seconds,
      coalesce(created_at < getvariable('live_from'), false) AS backfilled
    FROM curated
  )
SELECT
  e.label,
  e.lower_seconds,
  e.upper_seconds,
  count(l.seconds) FILTER (WHERE NOT l.backfilled) AS live_events,
  count(l.seconds) FILTER (WHERE l.backfilled) AS backfilled_events
FROM edges e
LEFT JOIN lag l
  ON (e.lower_seconds IS NULL OR l.seconds >= e.lower_seconds)
  AND (e.upper_seconds IS NULL OR l.seconds < e.upper_seconds)
GROUP BY ALL
ORDER BY e.lower_seconds NULLS FIRST;
