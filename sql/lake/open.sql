-- Opens one day of a Firelake lake for the SQL in sql/: lists its files and creates the views
-- and tables every quality check and analytics query reads. Runs in Firelake's runner
-- (sql/runner.ts) and in the DuckDB CLI alike. Inputs are DuckDB variables, never spliced text:
--   lake          folder of the lake (an S3 lake is mirrored to a folder first by the runner)
--   day           the UTC day, 'YYYY-MM-DD'
--   history_days  previous days the volume check compares with (default 7)
--   as_of         the instant the scorecard is taken (default now): hours after it are not due yet
--   sql_dir       this sql/ folder (default 'sql', i.e. run from the repository root)
--   manifest_files  the day documents of the curated table's snapshot (sql/runner.ts writes them)
--
-- Records sent by `firelake replay` carry their origin (`replayed_from`: object key and line) in
-- staging, quarantine and (inside rawData) errors; the replay's run records are in
-- replays/runs/year=/month=/day=/ by the day the run started.
--
-- Staging is partitioned by event time, quarantine and errors by arrival time (docs/design.md), so
-- every record is counted in exactly one day: staged events in their event day, quarantined
-- and failed records in their arrival day. Curated files come from the table's snapshot, never a
-- glob, so a compaction at work or one that lost is invisible.

SET TimeZone = 'UTC';
SET VARIABLE sql_dir = coalesce(getvariable('sql_dir'), 'sql');
SET VARIABLE history_days = coalesce(getvariable('history_days'), 7)::INTEGER;
SET VARIABLE as_of = coalesce(getvariable('as_of')::TIMESTAMP, now()::TIMESTAMP);
SET VARIABLE day_date = getvariable('day')::DATE;
SET VARIABLE day_path = strftime(getvariable('day_date'), 'year=%Y/month=%m/day=%d');
-- read_json and read_parquet refuse an empty file list: an empty day reads these instead.
SET VARIABLE empty_ndjson = getvariable('sql_dir') || '/lake/empty.ndjson';
SET VARIABLE empty_parquet = getvariable('sql_dir') || '/lake/empty-curated.parquet';

-- Objects still being written by the folder store end in .tmp / .lock: not part of the lake.
SET VARIABLE staging_files = (
  SELECT coalesce(list(file ORDER BY file), [])
  FROM glob(getvariable('lake') || '/staging/' || getvariable('day_path') || '/**')
  WHERE NOT (file LIKE '%.tmp' OR file LIKE '%.lock')
);
SET VARIABLE quarantine_files = (
  SELECT coalesce(list(file ORDER BY file), [])
  FROM glob(getvariable('lake') || '/quarantine/' || getvariable('day_path') || '/**')
  WHERE NOT (file LIKE '%.tmp' OR file LIKE '%.lock')
);
SET VARIABLE error_files = (
  SELECT coalesce(list(file ORDER BY file), [])
  FROM glob(getvariable('lake') || '/errors/processing-failed/' || getvariable('day_path') || '/**')
  WHERE NOT (file LIKE '%.tmp' OR file LIKE '%.lock')
);
SET VARIABLE replay_files = (
  SELECT coalesce(list(file ORDER BY file), [])
  FROM glob(getvariable('lake') || '/replays/runs/' || getvariable('day_path') || '/*.json')
);
-- One JSON document per compacted day (<day>.json: its record and the files of the table's
-- snapshot, as `firelake` writes them from the Iceberg metadata) for the day and its history days.
SET VARIABLE manifest_files = coalesce(getvariable('manifest_files'), []::VARCHAR[]);

-- The day documents of the day and of the history days: which Parquet files are current.
CREATE OR REPLACE TEMP TABLE manifest_files AS
SELECT
  regexp_extract(filename, '(\d{4}-\d{2}-\d{2})\.json$', 1)::DATE AS day,
  f.key AS key,
  f.rows AS rows,
  f.language AS language
FROM (
  SELECT filename, unnest(files) AS f
  FROM read_json(
    getvariable('manifest_files') || [getvariable('empty_ndjson')],
    columns = {files: 'STRUCT(key VARCHAR, rows BIGINT, language VARCHAR)[]'},
    filename = true
  )
);
-- Staging objects the day's curated files were built from (compaction records them).
CREATE OR REPLACE TEMP TABLE manifest_staging AS
SELECT o.key AS key
FROM (
  SELECT filename, unnest(staging_objects) AS o
  FROM read_json(
    getvariable('manifest_files') || [getvariable('empty_ndjson')],
    columns = {staging_objects: 'STRUCT(key VARCHAR, etag VARCHAR, size BIGINT)[]'},
    filename = true
  )
)
WHERE filename LIKE '%/' || getvariable('day') || '.json';
SET VARIABLE has_manifest = (
  SELECT count(*) > 0 FROM (SELECT unnest(getvariable('manifest_files')) AS file)
  WHERE file LIKE '%/' || getvariable('day') || '.json'
);
SET VARIABLE curated_files = (
  SELECT coalesce(list(getvariable('lake') || '/' || key ORDER BY key), [])
  FROM manifest_files WHERE day = getvariable('day_date')
);
SET VARIABLE history_files = (
  SELECT coalesce(list(getvariable('lake') || '/' || key ORDER BY key), [])
  FROM manifest_files WHERE day < getvariable('day_date')
);
SET VARIABLE history_days_found = (
  SELECT count(DISTINCT day) FROM manifest_files WHERE day < getvariable('day_date')
);

-- Staged lines as delivered (at-least-once: a line may be there twice). A view: the checks
-- need only the keys below, read in one pass; ad-hoc queries read what they ask for.
CREATE OR REPLACE TEMP VIEW staging AS
SELECT event_uuid, event_name, created_at, received_at, replayed_from, filename AS object
FROM read_json(
  getvariable('staging_files') || [getvariable('empty_ndjson')],
  format = 'newline_delimited',
  columns = {
    event_uuid: 'VARCHAR', event_name: 'VARCHAR', created_at: 'TIMESTAMP', received_at: 'TIMESTAMP',
    replayed_from: 'VARCHAR'
  },
  filename = true
);

-- Each staged event once, with how many times it was delivered, and each curated event_uuid
-- with its rows: the keys several checks compare, computed once.
CREATE OR REPLACE TEMP TABLE staged_events AS
SELECT event_uuid, count(*) AS copies FROM staging GROUP BY event_uuid;

CREATE OR REPLACE TEMP TABLE quarantine AS
SELECT reason, received_at, record_id, event_uuid, event_name, created_at, first_record_id, replayed_from,
  filename AS object
FROM read_json(
  getvariable('quarantine_files') || [getvariable('empty_ndjson')],
  format = 'newline_delimited',
  columns = {
    reason: 'VARCHAR', received_at: 'TIMESTAMP', record_id: 'VARCHAR', event_uuid: 'VARCHAR',
    event_name: 'VARCHAR', created_at: 'TIMESTAMP', first_record_id: 'VARCHAR', replayed_from: 'VARCHAR'
  },
  filename = true
);

-- Firehose's own output for records the transform could not even wrap. Numbers appear where
-- the documentation says strings, so everything is read as text and cast here.
CREATE OR REPLACE TEMP TABLE processing_failed AS
SELECT
  errorCode AS error_code,
  errorMessage AS error_message,
  try_cast(attemptsMade AS INTEGER) AS attempts_made,
  make_timestamp(try_cast(arrivalTimestamp AS BIGINT) * 1000) AS arrived_at,
  try(json_extract_string(decode(from_base64(rawData)), '$.event_uuid')) AS event_uuid,
  try(json_extract_string(decode(from_base64(rawData)), '$._firelake_replay.from')) AS replayed_from,
  filename AS object
FROM read_json(
  getvariable('error_files') || [getvariable('empty_ndjson')],
  format = 'newline_delimited',
  columns = {
    attemptsMade: 'VARCHAR', arrivalTimestamp: 'VARCHAR', errorCode: 'VARCHAR',
    errorMessage: 'VARCHAR', rawData: 'VARCHAR'
  },
  filename = true
);

-- `firelake replay` runs started on the day (replay/replay.ts writes one JSON document per run).
CREATE OR REPLACE TEMP TABLE replay_runs AS
SELECT run_id, status, selected, sent, undelivered, outcome
FROM read_json(
  getvariable('replay_files') || [getvariable('empty_ndjson')],
  format = 'auto',
  columns = {
    run_id: 'VARCHAR', status: 'VARCHAR', selected: 'BIGINT', sent: 'BIGINT', undelivered: 'BIGINT',
    outcome: 'STRUCT(staged BIGINT, quarantined_again BIGINT, already_present BIGINT, failed BIGINT, pending BIGINT)'
  }
);

-- Curated Parquet of the day, as the manifest lists it. By column name: files written under
-- different catalog versions (a backfill in progress, an older day) read together, a column or
-- struct field a file lacks as null.
CREATE OR REPLACE TEMP VIEW curated AS
SELECT * FROM read_parquet(
  CASE WHEN len(getvariable('curated_files')) = 0 THEN [getvariable('empty_parquet')]
  ELSE getvariable('curated_files') END,
  union_by_name = true
);

CREATE OR REPLACE TEMP TABLE curated_keys AS
SELECT event_uuid, count(*) AS copies FROM curated GROUP BY event_uuid;

-- Curated events of the history days: event times for the volume check, uuids for the
-- tombstones of late resends (a duplicate arriving today of an event of an earlier day).
CREATE OR REPLACE TEMP VIEW history AS
SELECT created_at, event_uuid FROM read_parquet(
  CASE WHEN len(getvariable('history_files')) = 0 THEN [getvariable('empty_parquet')]
  ELSE getvariable('history_files') END,
  union_by_name = true
);

-- Every curated event of a user with its session: a new session starts after more than 30
-- minutes without an event of that user (the usual sessionization). The session takes the
-- device, app version and country of its first event that has them, so an event without them
-- (a lesson) still counts for a device. Sessions that cross midnight are split at the day's edge.
CREATE OR REPLACE TEMP VIEW event_sessions AS
WITH
  gaps AS (
    SELECT
      *,
      coalesce(
        created_at - lag(created_at) OVER (PARTITION BY user_uuid ORDER BY created_at, event_uuid)
          > INTERVAL 30 MINUTE,
        true
      ) AS starts_session
    FROM curated
    WHERE user_uuid IS NOT NULL
  ),
  numbered AS (
    SELECT
      *,
      sum(starts_session::INTEGER) OVER (
        PARTITION BY user_uuid ORDER BY created_at, event_uuid ROWS UNBOUNDED PRECEDING
      ) AS session_number
    FROM gaps
  )
SELECT
  *,
  user_uuid || '/' || session_number AS session_key,
  min(created_at) OVER s AS session_started_at,
  max(created_at) OVER s AS session_ended_at,
  first(event_specifics.device IGNORE NULLS) OVER s_ordered AS session_device,
  first(event_specifics.app_version IGNORE NULLS) OVER s_ordered AS session_app_version,
  first(coalesce(event_specifics.country, country) IGNORE NULLS) OVER s_ordered AS session_country
FROM numbered
WINDOW
  s AS (PARTITION BY user_uuid, session_number),
  s_ordered AS (
    PARTITION BY user_uuid, session_number ORDER BY created_at, event_uuid
    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
  );
