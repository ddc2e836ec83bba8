-- Fan-out: the event_uuids a unit wrote, as 64-bit hashes (8 bytes a row instead of 36), for the
-- commit step's day-wide check that no uuid was written by two units (compaction/commit.ts).
COPY (SELECT DISTINCT hash(event_uuid) AS h FROM keys) TO $path (FORMAT parquet, COMPRESSION zstd);
