-- Readers from TypeScript: the local paths of the curated files (compaction/read.ts).
SET VARIABLE curated_files = $files;
