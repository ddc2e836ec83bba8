-- Enrichment coverage of lesson events by hour of event time: the shares of
-- quality/enrichment.sql, hour by hour.
SELECT
  hour(created_at) AS hour,
  count(*) AS lessons,
  count(*) FILTER (WHERE country IS NOT NULL) AS with_country,
  count(*) FILTER (WHERE country IS NOT NULL) / count(*) AS country_share,
  count(*) FILTER (WHERE subscription_status IS NOT NULL) AS with_subscription,
  count(*) FILTER (WHERE subscription_status IS NOT NULL) / count(*) AS subscription_share
FROM curated
WHERE event_name = 'lesson:completed'
GROUP BY ALL
ORDER BY hour;
