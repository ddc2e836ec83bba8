-- Sessions of the day with their durations: a session ends after 30 minutes without an event
-- of its user (the event_sessions view of sql/lake/open.sql).
SELECT
  user_uuid,
  session_number,
  any_value(session_started_at) AS started_at,
  any_value(session_ended_at) AS ended_at,
  epoch(any_value(session_ended_at)) - epoch(any_value(session_started_at)) AS duration_seconds,
  count(*) AS events,
  any_value(session_device) AS device,
  any_value(session_app_version) AS app_version,
  any_value(session_country) AS country
FROM event_sessions
GROUP BY user_uuid, session_number
ORDER BY started_at, user_uuid;
