-- Fan-out commit: the event_uuids behind candidate hashes that really occur in more than one
-- curated file of the run (a hash collision between two different uuids is not a duplicate).
SELECT event_uuid, count(*)::BIGINT AS copies
FROM read_parquet($files)
WHERE hash(event_uuid) IN (SELECT unnest($hashes::UBIGINT[]))
GROUP BY event_uuid
HAVING count(*) > 1
ORDER BY event_uuid;
