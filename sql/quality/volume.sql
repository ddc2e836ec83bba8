-- Volume: events per hour of the day (event time) against the same hour of the previous days
-- that were compacted. `due` says the hour is over at `as_of`; an hour that is not due is not
-- judged. The baseline is the median of the history days, with an hour they lack counted as 0.
WITH
  hours AS (SELECT range AS hour FROM range(24)),
  today AS (
    SELECT hour(created_at) AS hour, count(*) AS events FROM curated GROUP BY ALL
  ),
  history_days AS (
    SELECT DISTINCT day FROM manifest_files WHERE day < getvariable('day_date')
  ),
  past AS (
    SELECT created_at::DATE AS day, hour(created_at) AS hour, count(*) AS events
    FROM history GROUP BY ALL
  ),
  baseline AS (
    SELECT h.hour, median(coalesce(p.events, 0)) AS baseline
    FROM hours h CROSS JOIN history_days d
    LEFT JOIN past p ON p.day = d.day AND p.hour = h.hour
    GROUP BY h.hour
  ),
  day_span AS (SELECT min(hour) AS first_hour, max(hour) AS last_hour FROM today)
SELECT
  h.hour,
  coalesce(t.events, 0) AS events,
  b.baseline,
  (SELECT count(*) FROM history_days) AS history_days,
  coalesce(t.events, 0) / nullif(b.baseline, 0) AS ratio,
  getvariable('day_date') + to_hours(h.hour + 1) <= getvariable('as_of') AS due,
  h.hour BETWEEN day_span.first_hour AND day_span.last_hour AS within_day_span
FROM hours h
LEFT JOIN today t USING (hour)
LEFT JOIN baseline b USING (hour)
CROSS JOIN day_span
ORDER BY h.hour;
