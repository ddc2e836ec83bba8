-- daily_aggregates (one wide table for dashboards): the day's activity by device, app version and
-- country, with hierarchical `ALL` rows from ROLLUP (day > device > app version > country).
-- Events without a user (an install before sign-up) count under their own device, no session.
WITH
  events AS (
    SELECT
      created_at::DATE AS day,
      coalesce(session_device, 'unknown') AS device,
      coalesce(session_app_version, 'unknown') AS app_version,
      coalesce(session_country, 'unknown') AS country,
      event_name, user_uuid, session_key,
      -- The session's duration, once per session (on its first event).
      CASE WHEN created_at = session_started_at AND starts_session
        THEN epoch(session_ended_at) - epoch(session_started_at) END AS session_seconds
    FROM event_sessions
    UNION ALL
    SELECT
      created_at::DATE, coalesce(event_specifics.device, 'unknown'),
      coalesce(event_specifics.app_version, 'unknown'),
      coalesce(event_specifics.country, country, 'unknown'),
      event_name, NULL, NULL, NULL
    FROM curated
    WHERE user_uuid IS NULL
  )
SELECT
  CASE WHEN grouping(day) = 1 THEN 'ALL' ELSE day::VARCHAR END AS day,
  CASE WHEN grouping(device) = 1 THEN 'ALL' ELSE device END AS device,
  CASE WHEN grouping(app_version) = 1 THEN 'ALL' ELSE app_version END AS app_version,
  CASE WHEN grouping(country) = 1 THEN 'ALL' ELSE country END AS country,
  count(*) AS events,
  count(DISTINCT user_uuid) AS active_users,
  count(DISTINCT session_key) AS sessions,
  round(sum(session_seconds) / nullif(count(DISTINCT session_key), 0), 3) AS avg_session_seconds,
  count(*) FILTER (WHERE event_name = 'lesson:completed') AS lessons_completed,
  count(*) FILTER (WHERE event_name = 'game:completed') AS games_completed,
  count(*) FILTER (WHERE event_name = 'app:installed') AS installs,
  count(*) FILTER (WHERE event_name = 'notification:opened') AS notifications_opened
FROM events
GROUP BY ROLLUP (day, device, app_version, country)
ORDER BY grouping(day, device, app_version, country) DESC, day, device, app_version, country;
