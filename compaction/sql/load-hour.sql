-- Loads one hour of downloaded staging objects. Each local file is named <_object>.gz.
INSERT INTO staged
SELECT * EXCLUDE (filename), CAST(parse_filename(filename, true) AS INTEGER) AS _object
FROM read_ndjson(
  $files,
  columns = $columns,
  format = 'newline_delimited',
  compression = 'gzip',
  filename = true
);
