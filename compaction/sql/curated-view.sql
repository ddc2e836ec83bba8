-- Readers: the view over the files in the curated_files variable (set-curated-files.sql).
-- hive_partitioning off: the columns are exactly the curated schema (language is in the files).
-- union_by_name: days written under different catalog versions are read together by column name.
CREATE OR REPLACE TEMP VIEW curated_events AS
SELECT * FROM read_parquet(getvariable('curated_files'), hive_partitioning = false, union_by_name = true);
