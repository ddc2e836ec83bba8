-- Daily active users: distinct users with any event on the day, and those who learned or played.
SELECT
  getvariable('day_date') AS day,
  count(DISTINCT user_uuid) AS active_users,
  count(DISTINCT user_uuid) FILTER (WHERE event_name = 'lesson:completed') AS learners,
  count(DISTINCT user_uuid) FILTER (WHERE event_type = 'game') AS players,
  count(*) AS events
FROM curated
WHERE user_uuid IS NOT NULL;
