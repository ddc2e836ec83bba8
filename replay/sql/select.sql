-- The records a replay considers (replay/select.ts reads the lake into the NDJSON file $file),
-- filtered by the command's flags, as the table `selected` and the view `quarantined` that a
-- --fix file reads. Duplicate tombstones are never replayed (they carry no payload: their event
-- is in the lake already). Quarantine lines that are themselves the outcome of a replay (they
-- carry replayed_from) are not selected again: their originals are, so replaying a range twice
-- does not grow. $reasons filters quarantine lines by reason (an empty list: every reason);
-- $event_name (NULL: every name) filters every source.
CREATE OR REPLACE TABLE candidates AS
SELECT row_number() OVER () AS seq, *
FROM read_ndjson(
  $file,
  format = 'newline_delimited',
  columns = {
    origin: 'VARCHAR', source: 'VARCHAR', reason: 'VARCHAR',
    errors: 'STRUCT(path VARCHAR, message VARCHAR)[]', payload: 'VARCHAR',
    event_uuid: 'VARCHAR', event_name: 'VARCHAR', created_at: 'TIMESTAMP', received_at: 'TIMESTAMP',
    arrival_ms: 'BIGINT', replayed: 'BOOLEAN'
  }
);

CREATE OR REPLACE TABLE selected AS
SELECT origin, source, reason, errors, payload, event_uuid, event_name, created_at, received_at, arrival_ms, seq
FROM candidates
WHERE reason <> 'duplicate'
  AND NOT (source = 'quarantine' AND replayed)
  AND (source <> 'quarantine' OR len($reasons) = 0 OR list_contains($reasons, reason))
  AND ($event_name IS NULL OR event_name = $event_name);

CREATE OR REPLACE VIEW quarantined AS SELECT * FROM selected;
