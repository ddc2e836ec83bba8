-- The day's curated Parquet files by language, from its manifest: files, rows, bytes, and how
-- many files are outside compaction's 128 MB - 1 GB target (docs/design.md); a small day makes small
-- files by nature, so the report shows the figure beside the day's size.
WITH files AS (
  SELECT f.language, f.rows, f.bytes
  FROM (
    SELECT unnest(files) AS f
    FROM read_json(
      [f FOR f IN getvariable('manifest_files') IF f LIKE '%/' || getvariable('day') || '.json'] ||
        [getvariable('empty_ndjson')],
      columns = {files: 'STRUCT(key VARCHAR, language VARCHAR, rows BIGINT, bytes BIGINT)[]'}
    )
  )
)
SELECT
  language,
  count(*) AS files,
  sum(rows)::BIGINT AS rows,
  sum(bytes)::BIGINT AS bytes,
  min(bytes)::BIGINT AS smallest_bytes,
  max(bytes)::BIGINT AS largest_bytes,
  count(*) FILTER (WHERE bytes < 128 * 1000 * 1000)::BIGINT AS below_target,
  count(*) FILTER (WHERE bytes > 1000 * 1000 * 1000)::BIGINT AS above_target
FROM files
GROUP BY ALL
ORDER BY bytes DESC, language;
