import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { listValue, structValue } from '@duckdb/node-api';
import { catalogFieldsPatch, curatedColumns, UNKNOWN_LANGUAGE } from '../events/curated.js';
import {
  curatedDayPrefix,
  curatedFileKey,
  type Day,
  dayPrefix,
  manifestKey,
  parseDay,
  parsePartitions,
} from '../lake/layout.js';
import { listAll, type ObjectInfo, type ObjectStore, PreconditionFailedError } from '../lake/store.js';
import { type Engine, openEngine } from './engine.js';
import {
  CompactionError,
  ConcurrentRunError,
  MissingDayError,
  StagingShrunkError,
  UnreadableObjectError,
} from './errors.js';
import {
  curatedSchemaVersion,
  type Manifest,
  type ManifestFile,
  type ManifestVersion,
  readManifest,
  serializeManifest,
} from './manifest.js';

// Compaction of one UTC day: staging NDJSON.gz -> deduplicated, typed, zstd Parquet by language,
// published by one conditional write of the day's manifest.
//
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
const DOWNLOAD_CONCURRENCY = 8;

export interface CompactDayOptions {
  store: ObjectStore;
  day: Day;
  /** Recompact even when staging is unchanged since the published run; publish even if staging shrank. */
  force?: boolean;
  /** Folder for downloads, DuckDB's database and spill files (default: the OS temp folder). */
  workDir?: string;
  /** DuckDB memory_limit in MiB (default: 60% of this machine's memory). */
  memoryLimitMiB?: number;
  /** DuckDB threads (default: the cores available). */
  threads?: number;
  fileSizeBytes?: number;
  rowGroupSize?: number;
  zstdLevel?: number;
  /** Progress lines (objects, rows, bytes); the CLI sends them to stderr. */
  log?: (line: string) => void;
  /** Test seam: runs after the files are uploaded, right before the manifest switch. */
  beforePublish?: (runId: string) => Promise<void>;
  /** Run id (default: UTC time + random); must be unique per run. */
  runId?: string;
}

export interface CompactionSummary {
  day: Day;
  /** published: a new manifest is live; unchanged: staging matched the live manifest, nothing done. */
  status: 'published' | 'unchanged';
  run_id: string;
  previous_run_id: string | null;
  manifest_key: string;
  objects: number;
  object_bytes: number;
  rows_read: number;
  rows: number;
  duplicates_dropped: number;
  rows_by_language: Record<string, number>;
  files: ManifestFile[];
  parquet_bytes: number;
  /** Curated files removed after the switch: the previous run's, and orphans of killed runs. */
  deleted_files: number;
  elapsed_ms: number;
  /** Fan-out runs: how many units workers compacted (compaction/workers.ts). */
  units?: number;
  /** Why nothing was done, or what went wrong after publishing (the day is published either way). */
  note?: string;
}

/**
 * Removes work folders that runs killed mid-way left in `workDir` (a Lambda timeout leaves /tmp
 * full for the next invocation of the same sandbox). Only folders older than `olderThanMs`:
 * another run on the same machine may be using a younger one.
 */
export async function removeStaleWorkDirs(workDir: string, olderThanMs: number): Promise<number> {
  const entries = await readdir(workDir, { withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const e of entries) {
    if (!e.isDirectory() || !e.name.startsWith('firelake-compaction-')) continue;
    const path = join(workDir, e.name);
    const info = await stat(path).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs >= olderThanMs) {
      await rm(path, { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** Compacts one day. Throws MissingDayError, UnreadableObjectError, ConcurrentRunError, ... */
export async function compactDay(options: CompactDayOptions): Promise<CompactionSummary> {
  const started = new Date();
  const { store, day } = options;
  parseDay(day);
  const log = options.log ?? (() => {});
  const runId = options.runId ?? newRunId(started);

  const inspected = await inspectDay(options, started);
  if (inspected.kind === 'unchanged') return inspected.summary;
  const { previous, objects, objectBytes } = inspected;

  log(`${day}: run ${runId}, ${objects.length} staging objects, ${mib(objectBytes)} gzip`);
  const dir = join(options.workDir ?? tmpdir(), `firelake-compaction-${runId}`);
  const uploaded: string[] = [];
  let published = false;
  try {
    await mkdir(dir, { recursive: true });
    const engine = await openRunEngine(dir, options);
    let built: Built;
    try {
      built = await build(engine, store, day, objects, runId, dir, options, log, uploaded);
    } finally {
      engine.close();
    }

    const manifest: Manifest = {
      format: 1,
      day,
      run_id: runId,
      started_at: started.toISOString(),
      published_at: '',
      schema_version: curatedSchemaVersion(),
      rows: built.rows,
      rows_by_language: built.rowsByLanguage,
      files: built.files,
      staging_objects: objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size })),
      rows_read: built.rowsRead,
      duplicates_dropped: built.rowsRead - built.rows,
    };
    await options.beforePublish?.(runId);
    await publishManifest(store, manifest, previous, uploaded);
    published = true;
    log(`${day}: published run ${runId}: ${built.rows} rows in ${built.files.length} file(s)`);

    const cleanup = await removeStaleFiles(store, day, manifest, previous, started, log);
    return publishedSummary(manifest, previous, objects.length, objectBytes, cleanup, started);
  } finally {
    if (!published && uploaded.length > 0) {
      // Not published (an error, or another run won): our files are garbage. If this cleanup
      // fails too, the next successful run removes them as orphans.
      await store.delete(uploaded).catch((error: unknown) => {
        log(`${day}: could not remove ${uploaded.length} unpublished file(s): ${(error as Error).message}`);
      });
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The summary of a run that published `manifest`. */
export function publishedSummary(
  manifest: Manifest,
  previous: ManifestVersion | undefined,
  objects: number,
  objectBytes: number,
  cleanup: { deleted: number; note?: string },
  started: Date,
): CompactionSummary {
  return {
    day: manifest.day,
    status: 'published',
    run_id: manifest.run_id,
    previous_run_id: previous?.manifest.run_id ?? null,
    manifest_key: manifestKey(manifest.day),
    objects,
    object_bytes: objectBytes,
    rows_read: manifest.rows_read,
    rows: manifest.rows,
    duplicates_dropped: manifest.duplicates_dropped,
    rows_by_language: manifest.rows_by_language,
    files: manifest.files,
    parquet_bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
    deleted_files: cleanup.deleted,
    elapsed_ms: Date.now() - started.getTime(),
    ...(cleanup.note ? { note: cleanup.note } : {}),
  };
}

/** What a run finds before building: the day unchanged since its manifest, or work to do. */
export type InspectedDay =
  | { kind: 'unchanged'; summary: CompactionSummary }
  | { kind: 'work'; previous: ManifestVersion | undefined; objects: ObjectInfo[]; objectBytes: number };

/**
 * Step 1 of a run: the day's manifest and ETag, the staging listing, and whether anything
 * changed since the manifest (throws MissingDayError, StagingShrunkError).
 */
export async function inspectDay(
  options: Pick<CompactDayOptions, 'store' | 'day' | 'force' | 'log'>,
  started: Date,
): Promise<InspectedDay> {
  const { store, day } = options;
  const log = options.log ?? (() => {});
  const previous = await readManifest(store, day);
  const stagingPrefix = dayPrefix('staging', day);
  // Every object of the day, whatever its name: one that is not gzip NDJSON fails the run by
  // name rather than being skipped without a trace.
  const objects = await listAll(store, stagingPrefix);
  if (objects.length === 0) throw new MissingDayError(day, stagingPrefix, store.location);
  const objectBytes = objects.reduce((sum, o) => sum + o.size, 0);

  if (previous && !options.force) {
    const change = stagingChange(previous.manifest, objects);
    if (change.missing.length > 0) throw new StagingShrunkError(day, change.missing);
    if (change.added.length === 0 && previous.manifest.schema_version === curatedSchemaVersion()) {
      log(`${day}: unchanged since run ${previous.manifest.run_id} (${objects.length} staging objects)`);
      return { kind: 'unchanged', summary: unchangedSummary(previous, objects.length, objectBytes, started) };
    }
    if (change.added.length > 0)
      log(`${day}: ${change.added.length} staging object(s) new since the last run`);
  }
  return { kind: 'work', previous, objects, objectBytes };
}

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

/**
 * Switches the day to `manifest` with one conditional write (If-Match the ETag the run read, or
 * If-None-Match for a first run): readers see the old day or the new one. Compaction and backfill
 * both publish through this. Throws ConcurrentRunError when another run published first; when
 * the outcome cannot be known, empties `uploaded` (the files must stay) and throws.
 */
export async function publishManifest(
  store: ObjectStore,
  manifest: Manifest,
  previous: { etag: string } | undefined,
  uploaded: string[],
): Promise<void> {
  const { day, run_id: runId } = manifest;
  manifest.published_at = new Date().toISOString();
  try {
    await store.put(manifestKey(day), serializeManifest(manifest), {
      contentType: 'application/json',
      ...(previous ? { ifMatch: previous.etag } : { ifNoneMatch: true }),
    });
  } catch (error) {
    // A lost answer is not a lost race: the SDK may have retried a put that had succeeded
    // (the retry then fails its own condition), or the network failed after the write. Only
    // the manifest itself says which run is live; until that is known, keep our files.
    const live = await readManifest(store, day).catch(() => 'unknown' as const);
    if (live === 'unknown') {
      uploaded.length = 0;
      throw new CompactionError(
        `could not tell whether run ${runId} published ${day}; its files stay until the next run`,
        { cause: error },
      );
    }
    if (live?.manifest.run_id !== runId) {
      if (error instanceof PreconditionFailedError)
        throw new ConcurrentRunError(day, runId, { cause: error });
      throw error;
    }
  }
}

export interface Built {
  rowsRead: number;
  rows: number;
  rowsByLanguage: Record<string, number>;
  files: ManifestFile[];
}

export async function build(
  engine: Engine,
  store: ObjectStore,
  day: Day,
  objects: ObjectInfo[],
  runId: string,
  dir: string,
  options: CompactDayOptions,
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

/**
 * Uploads the Parquet files a COPY wrote under `outDir` by file_plan (`_language_id=` folders)
 * as the day's curated files of run `runId`, recording each key in `uploaded` first.
 */
export async function uploadPlannedFiles(
  engine: Engine,
  store: ObjectStore,
  day: Day,
  runId: string,
  outDir: string,
  log: (line: string) => void,
  uploaded: string[],
): Promise<{ files: ManifestFile[]; rowsByLanguage: Record<string, number> }> {
  const files: ManifestFile[] = [];
  const rowsByLanguage: Record<string, number> = {};
  const plan = await engine.rows<{ language_id: number; language: string }>('rows-by-language');
  for (const { language_id, language } of plan) {
    const parts = await parquetFilesUnder(join(outDir, `_language_id=${language_id}`));
    if (parts.length === 0) continue;
    const fileRows = await engine.rows<{ file_name: string; rows: string }>('file-rows', {
      files: listValue(parts),
    });
    const rowsOf = new Map(fileRows.map((c) => [c.file_name, Number(c.rows)]));
    for (const [n, path] of parts.entries()) {
      const key = curatedFileKey(day, partitionValue(language), runId, n);
      const bytes = (await stat(path)).size;
      const rows = rowsOf.get(path) ?? 0;
      uploaded.push(key);
      await store.putFile(key, path, { contentType: 'application/vnd.apache.parquet' });
      await rm(path);
      files.push({ key, language, rows, bytes });
      rowsByLanguage[language] = (rowsByLanguage[language] ?? 0) + rows;
      log(`${day}: wrote ${key} (${rows} rows, ${mib(bytes)})`);
    }
  }
  return { files, rowsByLanguage };
}

/** Staging objects the live manifest has not consumed (new or rewritten), and ones that vanished. */
export function stagingChange(
  manifest: Manifest,
  objects: readonly ObjectInfo[],
): { added: string[]; missing: string[] } {
  const consumed = new Map(manifest.staging_objects.map((o) => [o.key, o.etag]));
  const present = new Set(objects.map((o) => o.key));
  return {
    added: objects.filter((o) => consumed.get(o.key) !== o.etag).map((o) => o.key),
    missing: manifest.staging_objects.filter((o) => !present.has(o.key)).map((o) => o.key),
  };
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

/** Downloads objects to local paths, a few at a time; on a failure the others stop, then it throws. */
async function download(store: ObjectStore, objects: readonly ObjectInfo[], paths: string[]): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    for (let i = next++; i < objects.length && failure === undefined; i = next++) {
      const key = objects[i]!.key;
      try {
        await store.getToFile(key, paths[i]!);
      } catch (error) {
        failure ??= new UnreadableObjectError(key, `download failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, objects.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** Turns an engine error while loading an hour into one that names the staging object. */
async function unreadable(
  engine: Engine,
  error: unknown,
  objects: readonly ObjectInfo[],
  paths: readonly string[],
  columns: ReturnType<typeof structValue>,
): Promise<unknown> {
  if (error instanceof UnreadableObjectError) return error;
  const message = (error as Error).message ?? String(error);
  const reason = message.split('\n')[0]!;
  let index = paths.findIndex((p) => message.includes(p));
  if (index < 0) {
    // The message names no file: read each object alone to find the one that fails.
    for (const [i, path] of paths.entries()) {
      const fails = await engine.run('probe-object', { files: listValue([path]), columns }).then(
        () => false,
        () => true,
      );
      if (fails) {
        index = i;
        break;
      }
    }
  }
  if (index < 0) return new CompactionError(`loading staging failed: ${reason}`, { cause: error });
  return new UnreadableObjectError(
    objects[index]!.key,
    reason.replaceAll(paths[index]!, objects[index]!.key),
    {
      cause: error,
    },
  );
}

export async function removeStaleFiles(
  store: ObjectStore,
  day: Day,
  manifest: Manifest,
  previous: ManifestVersion | undefined,
  started: Date,
  log: (line: string) => void,
): Promise<{ deleted: number; note?: string }> {
  const live = new Set(manifest.files.map((f) => f.key));
  const stale = new Set(previous?.manifest.files.map((f) => f.key).filter((k) => !live.has(k)));
  try {
    // Orphans: files of runs killed before they published. Only files older than this run's
    // start: a run that began after us may be writing its files right now.
    for (const o of await listAll(store, curatedDayPrefix(day))) {
      if (!live.has(o.key) && o.lastModified < started) stale.add(o.key);
    }
    await store.delete([...stale]);
    if (stale.size > 0) log(`${day}: removed ${stale.size} file(s) of earlier runs`);
    return { deleted: stale.size };
  } catch (error) {
    const note = `published, but removing earlier runs' files failed (the next run retries): ${(error as Error).message}`;
    log(`${day}: ${note}`);
    return { deleted: 0, note };
  }
}

function unchangedSummary(
  previous: ManifestVersion,
  objects: number,
  objectBytes: number,
  started: Date,
): CompactionSummary {
  const m = previous.manifest;
  return {
    day: m.day,
    status: 'unchanged',
    run_id: m.run_id,
    previous_run_id: m.run_id,
    manifest_key: manifestKey(m.day),
    objects,
    object_bytes: objectBytes,
    rows_read: m.rows_read,
    rows: m.rows,
    duplicates_dropped: m.duplicates_dropped,
    rows_by_language: m.rows_by_language,
    files: m.files,
    parquet_bytes: m.files.reduce((sum, f) => sum + f.bytes, 0),
    deleted_files: 0,
    elapsed_ms: Date.now() - started.getTime(),
    note: `staging unchanged since run ${m.run_id}: nothing to do (use --force to recompact)`,
  };
}

/** A language code as a key segment: anything but [A-Za-z0-9_-] is percent-encoded, as Hive does. */
export function partitionValue(language: string): string {
  return language.replace(/[^A-Za-z0-9_-]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** Every .parquet file under a folder (the partition folders DuckDB wrote), in a stable order. */
async function parquetFilesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
