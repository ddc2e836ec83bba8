-- The day as zstd Parquet, in one pass over the staging objects: parsed with the curated schema,
-- repeats of an event_uuid dropped (a row is kept unless winners.sql picked another arrival of its
-- uuid), one folder per language and file (rows spread by a hash of event_uuid).
-- `language` holds the partition value ('unknown' when the event has none), so a reader that
-- takes it from the file and one that takes it from the language= path (Hive partitioning in
-- DuckDB, Athena, Spark) see the same value. A line without a required field stops the run with
-- the file named.
COPY (
  SELECT
    s.* EXCLUDE (filename) REPLACE (
      p.language AS language,
      -- Fields the catalog named since the line was staged leave extras (read into event_specifics).
      CASE WHEN s.extras IS NOT NULL THEN nullif(json_merge_patch(s.extras, $catalog_fields)::VARCHAR, '{}') END
        AS extras
    ),
    p.language_id AS _language_id,
    (hash(s.event_uuid) % p.files)::INTEGER AS _file
  FROM read_ndjson(
    $files,
    columns = $columns,
    format = 'newline_delimited',
    compression = 'gzip',
    filename = true
  ) s
  JOIN file_plan p ON coalesce(s.language, $unknown_language) = p.language
  LEFT JOIN winners w ON w.event_uuid = s.event_uuid
  WHERE (w.event_uuid IS NULL
      OR (s.received_at = w.received_at AND CAST(parse_filename(s.filename, true) AS INTEGER) = w._object))
    AND CASE
      WHEN s.event_uuid IS NULL OR s.event_name IS NULL OR s.event_type IS NULL OR s.event_subtype IS NULL
        OR s.created_at IS NULL OR s.received_at IS NULL OR s.event_specifics IS NULL
      THEN error('a line lacks a required field (event_uuid, event_name, event_type, event_subtype, '
        || 'created_at, received_at, event_specifics) in file "' || s.filename || '"')
      ELSE true
    END
) TO $dir (
  FORMAT parquet,
  COMPRESSION zstd,
  COMPRESSION_LEVEL $zstd_level,
  ROW_GROUP_SIZE $row_group_size,
  PARTITION_BY (_language_id, _file),
  FILENAME_PATTERN 'part-{i}',
  -- The curated table's Iceberg field ids (iceberg/schema.ts), as the spec's Parquet appendix requires.
  FIELD_IDS $field_ids
);
