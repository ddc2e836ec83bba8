-- The staged lines of one day, typed by the curated schema ($columns: column name -> DuckDB type,
-- from events/curated.ts), plus `_object`: the position of the line's staging object in key
-- order, which breaks ties between two arrivals of one event_uuid at the same received_at.
CREATE TABLE staged AS
SELECT *, 0::INTEGER AS _object
FROM read_ndjson($files, columns = $columns, format = 'newline_delimited', compression = 'gzip')
WITH NO DATA;
