-- Replays: what the `firelake replay` runs started on the day selected and sent, where their
-- records ended as the runs watched them, and the replayed records in this day's lake: staged
-- (this event day), quarantined again, already present (a duplicate tombstone: dedup found the
-- event in the lake) and failed (errors/), by arrival day. A replayed record is a record
-- received like any other, so received = staged + quarantined + failed holds with replays in it;
-- for each run, sent = staged + quarantined again + already present + failed + pending.
WITH
  runs AS (
    SELECT
      count(*) AS runs,
      count(*) FILTER (WHERE status = 'interrupted') AS interrupted,
      coalesce(sum(selected), 0)::BIGINT AS selected,
      coalesce(sum(sent), 0)::BIGINT AS sent,
      coalesce(sum(undelivered), 0)::BIGINT AS undelivered,
      coalesce(sum(outcome.staged), 0)::BIGINT AS run_staged,
      coalesce(sum(outcome.already_present), 0)::BIGINT AS run_already_present,
      coalesce(sum(outcome.failed), 0)::BIGINT AS run_failed,
      coalesce(sum(outcome.quarantined_again), 0)::BIGINT AS run_quarantined_again,
      -- Sent and not seen in the lake: still pending when the run stopped watching, or not watched.
      coalesce(sum(CASE WHEN outcome IS NULL THEN sent ELSE outcome.pending END), 0)::BIGINT AS unaccounted
    FROM replay_runs
  ),
  lake AS (
    SELECT
      (SELECT count(DISTINCT event_uuid) FROM staging WHERE replayed_from IS NOT NULL) AS staged,
      (SELECT count(*) FROM quarantine WHERE replayed_from IS NOT NULL AND reason = 'duplicate') AS already_present,
      (SELECT count(*) FROM quarantine WHERE replayed_from IS NOT NULL AND reason <> 'duplicate') AS quarantined_again,
      (SELECT count(*) FROM processing_failed WHERE replayed_from IS NOT NULL) AS failed
  ),
  reasons AS (
    SELECT coalesce(list({'reason': reason, 'records': n::INTEGER} ORDER BY reason), []) AS quarantined_again_by_reason
    FROM (
      SELECT reason, count(*) AS n FROM quarantine
      WHERE replayed_from IS NOT NULL AND reason <> 'duplicate' GROUP BY reason
    )
  )
SELECT runs.*, lake.*, reasons.quarantined_again_by_reason
FROM runs, lake, reasons;
