-- Vocabulary: for each field with expected values (x-expected in events/schemas.ts), how many
-- curated values it has, the share outside the expected list and the top unexpected values with
-- their counts. Validation accepts any string there (an open vocabulary): a new plan name is a
-- warning here, not a quarantined event.
WITH
  vals AS (SELECT field, value FROM catalog_vocabulary_values() WHERE value IS NOT NULL),
  totals AS (SELECT field, count(*) AS n FROM vals GROUP BY field),
  unexpected AS (
    SELECT v.field, v.value, count(*) AS n
    FROM vals v JOIN catalog_vocabulary c USING (field)
    WHERE NOT list_contains(c.expected, v.value)
    GROUP BY ALL
  )
SELECT
  c.field,
  coalesce(any_value(t.n), 0) AS "values",
  coalesce(sum(u.n), 0)::BIGINT AS unexpected,
  coalesce(sum(u.n) / nullif(any_value(t.n), 0), 0) AS unexpected_share,
  coalesce(
    list({'value': u.value, 'count': u.n} ORDER BY u.n DESC, u.value) FILTER (WHERE u.value IS NOT NULL),
    []
  )[1:5] AS top_unexpected,
  any_value(c.expected) AS expected
FROM catalog_vocabulary c
LEFT JOIN totals t USING (field)
LEFT JOIN unexpected u USING (field)
GROUP BY c.field
ORDER BY c.field;
