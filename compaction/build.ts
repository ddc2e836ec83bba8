import { rm } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { type DuckDBValue, listValue, structValue } from '@duckdb/node-api';
import { catalogFieldsPatch, curatedColumns, UNKNOWN_LANGUAGE } from '../events/curated.js';
import { type Day, parsePartitions } from '../lake/layout.js';
import type { ObjectInfo, ObjectStore } from '../lake/store.js';
import { download, unreadable } from './download.js';
import { type Engine, openEngine } from './engine.js';
import { CompactionError } from './errors.js';
import type { ManifestFile } from './manifest.js';
import type { CompactDayOptions } from './options.js';
import { mib } from './summary.js';
import { uploadPlannedFiles } from './upload.js';

// Two passes over the gzip NDJSON, no intermediate copy of the data:
// 1. hour by hour: download the hour's objects to the work folder and load only the keys of each
//    line (event_uuid, received_at, language, object) into an on-disk DuckDB table;
// 2. find the repeated uuids and the arrival of each to keep, plan the files per language, then
//    parse every line once with the curated schema and write the Parquet in one COPY.
// Writing and re-reading an intermediate copy of the day costs more than parsing the gzip twice
// (bench/compaction.bench.ts), so the work folder keeps the day's gzip objects until the end: at
// 1M events/hour about 2.2 GB, plus about as much Parquet. Memory is DuckDB's memory_limit: past
// it DuckDB spills to the work folder.

/** Files are cut near this size: inside the 128 MB - 1 GB band that suits Athena and Spark. */
export const DEFAULT_FILE_SIZE_BYTES = 512 * 1024 * 1024;
/**
 * Rows per row group: DuckDB's default, about 10-12 MB of zstd Parquet per group here. Larger
 * groups measured 30% slower to write (bench) for no gain in DuckDB, which reads a file with one
 * thread per row group; Athena and Spark handle groups of this size well.
 */
export const DEFAULT_ROW_GROUP_SIZE = 122_880;
/** zstd level 1: measured faster to write than DuckDB's default level 3, for a few % more bytes. */
export const DEFAULT_ZSTD_LEVEL = 1;

/** DuckDB for a run in its work folder, with the run's memory limit and threads. */
export function openRunEngine(
  dir: string,
  options: Pick<CompactDayOptions, 'memoryLimitMiB' | 'threads'>,
): Promise<Engine> {
  return openEngine({
    dir: join(dir, 'duckdb'),
    memoryLimitMiB: options.memoryLimitMiB ?? Math.floor((totalmem() / 2 ** 20) * 0.6),
    threads: options.threads ?? availableParallelism(),
  });
}

export interface Built {
  rowsRead: number;
  rows: number;
  rowsByLanguage: Record<string, number>;
  files: ManifestFile[];
}

/** Both passes over the staging objects (a day's or a unit's) and the upload of the files; publishes nothing. */
export async function build(
  engine: Engine,
  store: ObjectStore,
  day: Day,
  objects: ObjectInfo[],
  runId: string,
  dir: string,
  options: CompactDayOptions & { fieldIds: DuckDBValue },
  log: (line: string) => void,
  uploaded: string[],
): Promise<Built> {
  const columns = structValue(Object.fromEntries(curatedColumns().map((c) => [c.name, c.type])));
  const keyColumns = structValue({ event_uuid: 'VARCHAR', received_at: 'TIMESTAMP', language: 'VARCHAR' });
  const stagingDir = join(dir, 'staging');
  const paths = objects.map((_, i) => join(stagingDir, `${i}.gz`));

  // Pass 1, hour by hour: download, load the keys. The next hour downloads while DuckDB reads
  // this one (network and CPU overlap on S3).
  await engine.run('create-keys');
  const hours = [...groupByHour(objects)].map(([hour, indexes]) => ({
    hour,
    paths: indexes.map((i) => paths[i]!),
    objects: indexes.map((i) => objects[i]!),
  }));
  const fetch = (h: (typeof hours)[number] | undefined) =>
    h ? download(store, h.objects, h.paths) : undefined;
  let next = fetch(hours[0]);
  let linesSoFar = 0;
  try {
    for (const [i, h] of hours.entries()) {
      await next;
      next = fetch(hours[i + 1]);
      // Observed below (or in finally): keep an early failure from being an unhandled rejection.
      next?.catch(() => {});
      try {
        const lines = await engine.run('load-keys', {
          files: listValue(h.paths),
          key_columns: keyColumns,
          unknown_language: UNKNOWN_LANGUAGE,
        });
        linesSoFar += lines;
        const bytes = h.objects.reduce((sum, o) => sum + o.size, 0);
        log(
          `${day} hour ${h.hour}: ${h.objects.length} objects, ${mib(bytes)}, ${lines} lines (${linesSoFar} so far)`,
        );
      } catch (error) {
        throw await unreadable(engine, error, h.objects, h.paths, columns);
      }
    }
  } finally {
    // Never leave a download writing into the work folder after this run gave up on it.
    await next?.catch(() => {});
  }

  // Which arrival of each repeated uuid to keep, and how the files are cut.
  await engine.run('winners');
  const [counts] = await engine.rows<{ lines: string; duplicates: string; ties: string; keyless: string }>(
    'dedup-counts',
  );
  const rowsRead = Number(counts!.lines);
  const duplicates = Number(counts!.duplicates);
  const stagingBytes = objects.reduce((sum, o) => sum + o.size, 0);
  await engine.run('file-plan', {
    bytes_per_row: rowsRead > 0 ? stagingBytes / rowsRead : 0,
    file_size_bytes: options.fileSizeBytes ?? DEFAULT_FILE_SIZE_BYTES,
  });
  log(`${day}: ${rowsRead} lines read, ${duplicates} repeated event_uuids to drop`);

  // Pass 2: every line parsed once with the curated schema, written as Parquet in one COPY.
  const outDir = join(dir, 'out');
  if (rowsRead > 0) {
    const ties = Number(counts!.ties) > 0 || Number(counts!.keyless) > 0;
    if (ties) log(`${day}: some first arrivals are staged twice in one object: ranking every line`);
    try {
      await engine.run(ties ? 'write-day-window' : 'write-day', {
        files: listValue(paths),
        columns,
        unknown_language: UNKNOWN_LANGUAGE,
        catalog_fields: catalogFieldsPatch(),
        dir: outDir,
        row_group_size: options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE,
        zstd_level: options.zstdLevel ?? DEFAULT_ZSTD_LEVEL,
        field_ids: options.fieldIds,
      });
    } catch (error) {
      throw await unreadable(engine, error, objects, paths, columns);
    }
  }
  await rm(stagingDir, { recursive: true, force: true });

  const { files, rowsByLanguage } = await uploadPlannedFiles(
    engine,
    store,
    day,
    runId,
    outDir,
    log,
    uploaded,
  );
  const rows = files.reduce((sum, f) => sum + f.rows, 0);
  if (rows !== rowsRead - duplicates) {
    throw new CompactionError(
      `${rowsRead} lines read and ${duplicates} repeats dropped, but ${rows} rows written: not publishing`,
    );
  }
  return { rowsRead, rows, rowsByLanguage, files };
}

/** Positions of the objects of each hour (`none` for keys without an hour partition). */
function groupByHour(objects: readonly ObjectInfo[]): Map<string, number[]> {
  const hours = new Map<string, number[]>();
  for (const [i, o] of objects.entries()) {
    const hour = parsePartitions(o.key).hour ?? 'none';
    const list = hours.get(hour) ?? [];
    list.push(i);
    hours.set(hour, list);
  }
  return hours;
}
