-- Subscription status mix: each subscription (user and language) changed on the day, at its
-- latest status of the day (last writer by event time, ties by uuid, as the transform's state).
WITH latest AS (
  SELECT
    user_uuid,
    language,
    arg_max(event_specifics.subscription_status, (created_at, event_uuid)) AS subscription_status
  FROM curated
  WHERE event_type = 'subscription'
  GROUP BY ALL
)
SELECT
  subscription_status,
  count(*) AS subscriptions,
  count(*) / sum(count(*)) OVER () AS share
FROM latest
GROUP BY ALL
ORDER BY subscriptions DESC, subscription_status;
