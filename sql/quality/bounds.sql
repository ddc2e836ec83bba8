-- Bounds: for each field with expected bounds (x-expected in events/schemas.ts: a number's
-- range, or a text's length), how many curated values it has, the share outside the bounds, and
-- the lowest and highest value seen. Validation keeps only the bounds the pipeline needs; these
-- are warnings.
WITH
  vals AS (SELECT field, value FROM catalog_bounds_values() WHERE value IS NOT NULL),
  judged AS (
    SELECT
      v.field,
      v.value,
      (c.minimum IS NOT NULL AND v.value < c.minimum) OR (c.maximum IS NOT NULL AND v.value > c.maximum)
        AS outside
    FROM vals v JOIN catalog_bounds c USING (field)
  ),
  summary AS (
    SELECT field, count(*) AS n, count(*) FILTER (WHERE outside) AS outside, min(value) AS lowest,
      max(value) AS highest
    FROM judged GROUP BY field
  )
SELECT
  c.field,
  c.measure,
  c.minimum,
  c.maximum,
  coalesce(s.n, 0) AS "values",
  coalesce(s.outside, 0) AS outside,
  coalesce(s.outside / nullif(s.n, 0), 0) AS outside_share,
  s.lowest,
  s.highest
FROM catalog_bounds c
LEFT JOIN summary s USING (field)
ORDER BY c.field;
