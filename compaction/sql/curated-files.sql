-- Readers: the curated files of the days in the `days` variable, from each day's manifest (never
-- by listing curated/, which can hold a run being written). From the DuckDB CLI on a folder lake:
--   SET VARIABLE lake = 'data/lake';
--   SET VARIABLE days = ['2026-11-20', '2026-11-21'];
--   .read compaction/sql/curated-files.sql
--   .read compaction/sql/curated-view.sql
--   SELECT language, count(*) FROM curated_events GROUP BY ALL;
SET VARIABLE curated_files = (
  SELECT coalesce(list(getvariable('lake') || '/' || f.key ORDER BY f.key), [])
  FROM (
    SELECT unnest(files) AS f
    FROM read_json(
      list_transform(getvariable('days'), d -> getvariable('lake') || '/curated/_manifests/' || d || '.json')
    )
  )
);
