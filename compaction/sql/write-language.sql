-- One language of the day as zstd Parquet in $dir, split into files of about $file_size_bytes.
COPY (
  SELECT * FROM curated WHERE language = $language
) TO $dir (
  FORMAT parquet,
  COMPRESSION zstd,
  ROW_GROUP_SIZE $row_group_size,
  FILE_SIZE_BYTES $file_size_bytes,
  FILENAME_PATTERN 'part-{i}'
);
