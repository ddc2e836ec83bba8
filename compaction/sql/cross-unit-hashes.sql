-- Fan-out commit: hashes found in more than one unit's file (each file holds a unit's distinct
-- hashes), candidates for a uuid written twice; cross-unit-uuids.sql tells them from collisions.
SELECT h::VARCHAR AS h FROM read_parquet($files) GROUP BY h HAVING count(*) > 1 ORDER BY h;
