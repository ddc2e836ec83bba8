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
    -- A duplicate or conflict tombstone points at the event that was kept. That event is in
    -- this day's staging, or (a late resend) in the curated files of an earlier compacted day;
    -- when it is in neither, a record was lost. A conflict carries its own payload's created_at,
    -- not the kept event's, so either place counts for every tombstone checked. Tombstones of
    -- days outside the compacted history are counted, unchecked.
    SELECT
      q.event_uuid,
      CASE
        WHEN q.created_at::DATE = getvariable('day_date') THEN 'today'
        WHEN q.created_at::DATE IN (SELECT day FROM manifest_files WHERE day < getvariable('day_date'))
          THEN 'history'
        ELSE 'unchecked'
      END AS scope
    FROM quarantine q
    WHERE q.reason IN ('duplicate', 'uuid_conflict')
  ),
  history_hits AS (
    SELECT DISTINCT h.event_uuid
    FROM history h
    SEMI JOIN tombstones t ON t.event_uuid = h.event_uuid AND t.scope <> 'unchecked'
  ),
  tombstone_check AS (
    SELECT
      count(*) FILTER (WHERE t.scope = 'today' AND s.event_uuid IS NULL AND hh.event_uuid IS NULL) AS orphans_today,
      count(*) FILTER (WHERE t.scope = 'history' AND s.event_uuid IS NULL AND hh.event_uuid IS NULL)
        AS orphans_history,
      count(*) FILTER (WHERE t.scope = 'unchecked') AS unchecked
    FROM tombstones t
    LEFT JOIN staged_events s ON s.event_uuid = t.event_uuid
    LEFT JOIN history_hits hh ON hh.event_uuid = t.event_uuid
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
  tombstone_check.orphans_today + tombstone_check.orphans_history AS orphan_tombstones,
  tombstone_check.unchecked AS tombstones_unchecked
FROM staged, matched, quarantined, failed, tombstone_check, reasons, late;
