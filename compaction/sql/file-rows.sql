SELECT file_name, num_rows::BIGINT AS rows FROM parquet_file_metadata($files) ORDER BY file_name;
