-- Events per minute of the day by event type (event time, curated): the report's volume chart.
-- Minutes without events of a type are absent; the first and last minute with events bound
-- the day's span.
SELECT
  date_trunc('minute', created_at) AS minute,
  event_type,
  count(*) AS events
FROM curated
GROUP BY ALL
ORDER BY minute, event_type;
