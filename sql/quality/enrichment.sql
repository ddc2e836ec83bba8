-- Enrichment coverage of lesson events: country from the user, subscription status and type
-- from the subscription of the lesson's language.
SELECT
  count(*) AS lessons,
  count(*) FILTER (WHERE country IS NOT NULL) AS with_country,
  count(*) FILTER (WHERE country IS NOT NULL) / nullif(count(*), 0) AS country_share,
  count(*) FILTER (WHERE subscription_status IS NOT NULL) AS with_subscription,
  count(*) FILTER (WHERE subscription_status IS NOT NULL) / nullif(count(*), 0) AS subscription_share,
  count(*) FILTER (WHERE enrichment_status = 'missing_user') AS missing_user,
  count(*) FILTER (WHERE enrichment_status = 'missing_subscription') AS missing_subscription,
  count(*) FILTER (WHERE enrichment_status = 'missing_user_and_subscription') AS missing_both
FROM curated
WHERE event_name = 'lesson:completed';
