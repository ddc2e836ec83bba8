-- Backfill from curated: the day's published rows rewritten with the catalog's current columns.
-- $files starts with an empty file of the current curated schema, so that reading by name gives
-- every current column and struct field (null where an older file lacks it). The macros
-- backfilled_specifics and backfilled_extras (made from the catalog by compaction/backfill.ts)
-- move the values of adopted fields from extras into event_specifics; every other value is
-- copied as it is.
COPY (
  SELECT
    c.* REPLACE (
      backfilled_specifics(c.event_specifics, c.extras) AS event_specifics,
      backfilled_extras(c.event_specifics, c.extras) AS extras
    ),
    p.language_id AS _language_id,
    (hash(c.event_uuid) % p.files)::INTEGER AS _file
  FROM read_parquet($files, union_by_name = true) c
  JOIN file_plan p ON c.language = p.language
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
