-- Rows per language partition and how many files each gets: its estimated size
-- ($bytes_per_row: zstd Parquet comes out close to the gzip NDJSON it is read from) over the
-- target file size. language_id names the partition's local folder, so any code is a safe path.
CREATE TABLE file_plan AS
SELECT
  row_number() OVER (ORDER BY language)::INTEGER AS language_id,
  language,
  count(*)::BIGINT AS rows,
  greatest(1, ceil(count(*) * $bytes_per_row / $file_size_bytes))::INTEGER AS files
FROM keys
GROUP BY language;
