-- write-day.sql for the rare day where a first arrival is staged twice in one object with one
-- received_at (winners.copies > 1): rank every line instead. Slower: it sorts the whole day.
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
  WHERE CASE
      WHEN s.event_uuid IS NULL OR s.event_name IS NULL OR s.event_type IS NULL OR s.event_subtype IS NULL
        OR s.created_at IS NULL OR s.received_at IS NULL OR s.event_specifics IS NULL
      THEN error('a line lacks a required field (event_uuid, event_name, event_type, event_subtype, '
        || 'created_at, received_at, event_specifics) in file "' || s.filename || '"')
      ELSE true
    END
  QUALIFY row_number() OVER (
    PARTITION BY s.event_uuid ORDER BY s.received_at, CAST(parse_filename(s.filename, true) AS INTEGER)
  ) = 1
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
