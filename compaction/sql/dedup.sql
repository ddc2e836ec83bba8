-- One row per event_uuid: the first arrival (received_at, then staging object order).
-- `language` becomes the partition value ('unknown' when the event has none), so a reader that
-- takes it from the file and one that takes it from the language= path (Hive partitioning in
-- DuckDB, Athena, Spark) see the same value. Sorted by language then event time: each
-- language's rows are contiguous (its COPY reads only its own row groups) and the Parquet
-- min/max statistics on created_at prune time-range queries.
CREATE TABLE curated AS
SELECT * EXCLUDE (_object) REPLACE (coalesce(language, $unknown_language) AS language)
FROM staged
QUALIFY row_number() OVER (PARTITION BY event_uuid ORDER BY received_at, _object) = 1
ORDER BY language, created_at;
