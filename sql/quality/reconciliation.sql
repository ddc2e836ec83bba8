-- Reconciliation: every record that entered on the day is staged, quarantined (with a reason)
-- or failed, and every staged event is in curated exactly once. One row of figures.
-- received = staged_unique + quarantined + processing_failed. Staged duplicates (Firehose's
-- at-least-once delivery) are copies of a record already counted, so they are not "received".
WITH
  staged AS (
    SELECT count(*) AS lines, count(DISTINCT event_uuid) AS unique_events FROM staging
  ),
  staged_uuids AS (SELECT DISTINCT event_uuid FROM staging),
  curated_uuids AS (SELECT DISTINCT event_uuid FROM curated),
  tombstones AS (
    -- A duplicate or conflict tombstone points at the event that was kept. When that event
    -- belongs to this day (its event time) and is not staged, a record was lost.
    SELECT q.event_uuid, (s.event_uuid IS NOT NULL) AS kept
    FROM quarantine q
    LEFT JOIN staged_uuids s USING (event_uuid)
    WHERE q.reason IN ('duplicate', 'uuid_conflict') AND q.created_at::DATE = getvariable('day_date')
  ),
  reasons AS (
    SELECT coalesce(list({'reason': reason, 'records': n} ORDER BY reason), []) AS by_reason
    FROM (SELECT reason, count(*) AS n FROM quarantine GROUP BY reason)
  )
SELECT
  getvariable('day') AS day,
  staged.unique_events + (SELECT count(*) FROM quarantine) + (SELECT count(*) FROM processing_failed)
    AS received,
  staged.lines AS staged_lines,
  staged.unique_events AS staged_unique,
  (SELECT count(*) FROM quarantine) AS quarantined,
  reasons.by_reason AS quarantined_by_reason,
  (SELECT count(*) FROM processing_failed) AS processing_failed,
  getvariable('has_manifest') AS compacted,
  (SELECT count(*) FROM curated) AS curated_rows,
  (SELECT coalesce(sum(rows), 0) FROM manifest_files WHERE day = getvariable('day_date'))::BIGINT
    AS manifest_rows,
  (SELECT count(*) FROM staged_uuids ANTI JOIN curated_uuids USING (event_uuid)) AS staged_not_curated,
  -- Staging objects that landed after the day was compacted: the next run must recompact.
  (SELECT count(*) FROM (SELECT DISTINCT object FROM staging) s
     WHERE getvariable('has_manifest') AND NOT EXISTS (
       SELECT 1 FROM manifest_staging m WHERE s.object = getvariable('lake') || '/' || m.key))
    AS staging_objects_not_compacted,
  (SELECT count(*) FROM curated_uuids ANTI JOIN staged_uuids USING (event_uuid)) AS curated_not_staged,
  (SELECT count(*) FROM tombstones WHERE NOT kept) AS orphan_tombstones,
  (SELECT count(*) FROM quarantine WHERE reason IN ('duplicate', 'uuid_conflict')
     AND (created_at IS NULL OR created_at::DATE <> getvariable('day_date'))) AS tombstones_other_days
FROM staged, reasons;
