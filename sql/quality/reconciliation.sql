-- Reconciliation: every record that entered on the day is staged, quarantined (with a reason)
-- or failed, and every staged event is in curated exactly once. One row of figures.
-- received = staged_unique + quarantined + processing_failed. Staged duplicates (Firehose's
-- at-least-once delivery) are copies of a record already counted, so they are not "received".
WITH
  staged AS (
    SELECT coalesce(sum(copies), 0)::BIGINT AS lines, count(*) AS unique_events FROM staged_events
  ),
  matched AS (
    -- One pass over both key sets: what only staging has, and what only curated has.
    SELECT
      count(*) FILTER (WHERE c.event_uuid IS NULL) AS staged_not_curated,
      count(*) FILTER (WHERE s.event_uuid IS NULL) AS curated_not_staged,
      coalesce(sum(c.copies), 0)::BIGINT AS curated_rows
    FROM staged_events s
    FULL OUTER JOIN curated_keys c ON s.event_uuid = c.event_uuid
  ),
  quarantined AS (SELECT count(*) AS n FROM quarantine),
  failed AS (SELECT count(*) AS n FROM processing_failed),
  tombstones AS (
    -- A duplicate or conflict tombstone points at the event that was kept. When that event
    -- belongs to this day (its event time) and is not staged, a record was lost.
    SELECT
      count(*) FILTER (WHERE q.created_at::DATE = getvariable('day_date') AND s.event_uuid IS NULL)
        AS orphans,
      count(*) FILTER (WHERE q.created_at IS NULL OR q.created_at::DATE <> getvariable('day_date'))
        AS other_days
    FROM quarantine q
    LEFT JOIN staged_events s ON s.event_uuid = q.event_uuid
    WHERE q.reason IN ('duplicate', 'uuid_conflict')
  ),
  reasons AS (
    SELECT coalesce(list({'reason': reason, 'records': n::INTEGER} ORDER BY reason), []) AS by_reason
    FROM (SELECT reason, count(*) AS n FROM quarantine GROUP BY reason)
  ),
  late AS (
    -- Staging objects that landed after the day was compacted: the next run must recompact.
    SELECT count(*) AS objects
    FROM (SELECT unnest(getvariable('staging_files')) AS object) s
    WHERE getvariable('has_manifest') AND NOT EXISTS (
      SELECT 1 FROM manifest_staging m WHERE s.object = getvariable('lake') || '/' || m.key
    )
  )
SELECT
  getvariable('day') AS day,
  staged.unique_events + quarantined.n + failed.n AS received,
  staged.lines AS staged_lines,
  staged.unique_events AS staged_unique,
  quarantined.n AS quarantined,
  reasons.by_reason AS quarantined_by_reason,
  failed.n AS processing_failed,
  getvariable('has_manifest') AS compacted,
  matched.curated_rows,
  (SELECT coalesce(sum(rows), 0) FROM manifest_files WHERE day = getvariable('day_date'))::BIGINT
    AS manifest_rows,
  late.objects AS staging_objects_not_compacted,
  matched.staged_not_curated,
  matched.curated_not_staged,
  tombstones.orphans AS orphan_tombstones,
  tombstones.other_days AS tombstones_other_days
FROM staged, matched, quarantined, failed, tombstones, reasons, late;
