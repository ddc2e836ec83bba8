-- Reads one staging object alone, to find which object of an hour the engine could not read.
SELECT count(*) FROM read_ndjson($files, columns = $columns, format = 'newline_delimited', compression = 'gzip');
