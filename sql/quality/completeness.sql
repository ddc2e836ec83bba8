-- Completeness: the share of events of each name missing each field the catalog requires
-- (catalog_required, from sql/lake/catalog.sql), plus the envelope columns every event has.
WITH
  filled AS (
    -- One pass: per event name, how many rows have each specifics field (struct unnested).
    SELECT event_name, count(*) AS events, count(COLUMNS(* EXCLUDE (event_name)))
    FROM (
      SELECT event_name, unnest(event_specifics), event_uuid AS "$event_uuid",
        created_at AS "$created_at", received_at AS "$received_at"
      FROM curated
    )
    GROUP BY event_name
  ),
  long AS (
    UNPIVOT filled ON COLUMNS(* EXCLUDE (event_name, events)) INTO NAME field VALUE present
  ),
  required AS (
    SELECT event_name, field FROM catalog_required
    UNION ALL
    SELECT event_name, unnest(['$event_uuid', '$created_at', '$received_at']) FROM catalog_required
    GROUP BY event_name
  )
SELECT
  r.event_name,
  ltrim(r.field, '$') AS field,
  coalesce(f.events, 0) AS events,
  coalesce(f.events, 0) - coalesce(l.present, 0) AS missing,
  coalesce((f.events - coalesce(l.present, 0)) / nullif(f.events, 0), 0) AS missing_share
FROM required r
LEFT JOIN filled f USING (event_name)
LEFT JOIN long l ON l.event_name = r.event_name AND l.field = r.field
ORDER BY r.event_name, field;
