-- Staged lines missing a field the curated schema requires, by object. The transform never
-- writes such lines: finding one means a foreign writer or a corrupt object.
SELECT _object, count(*) AS lines
FROM staged
WHERE event_uuid IS NULL
   OR event_name IS NULL
   OR event_type IS NULL
   OR event_subtype IS NULL
   OR created_at IS NULL
   OR received_at IS NULL
   OR event_specifics IS NULL
GROUP BY _object
ORDER BY _object
LIMIT 10;
