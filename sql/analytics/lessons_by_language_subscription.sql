-- Lessons completed by language and subscription type (`unknown` when enrichment found none).
SELECT
  language,
  coalesce(subscription_type, 'unknown') AS subscription_type,
  count(*) AS lessons_completed,
  count(DISTINCT user_uuid) AS learners
FROM curated
WHERE event_name = 'lesson:completed'
GROUP BY ALL
ORDER BY language, subscription_type;
