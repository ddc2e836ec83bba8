-- The keys of one hour of downloaded staging objects (each local file is named <_object>.gz).
-- $key_columns holds only these fields: DuckDB skips building the wide event_specifics STRUCT.
INSERT INTO keys
SELECT
  event_uuid,
  received_at,
  coalesce(language, $unknown_language),
  CAST(parse_filename(filename, true) AS INTEGER)
FROM read_ndjson(
  $files,
  columns = $key_columns,
  format = 'newline_delimited',
  compression = 'gzip',
  filename = true
);
