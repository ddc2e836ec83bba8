import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBResultReader } from '@duckdb/node-api';
import { readManifest } from '../compaction/manifest.js';
import { CuratedTable } from '../iceberg/table.js';
import { mapLimit } from '../lake/concurrency.js';
import { type DuckDb, openDuckDb, type SqlFile, sqlFile } from '../lake/duckdb.js';
import { FirelakeError } from '../lake/errors.js';
import { FolderStore } from '../lake/folder-store.js';
import { type Day, dayPrefix, errorsDayPrefix, parseDay, replaysDayPrefix } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// Runs the .sql files of sql/ over one day of the lake. The SQL reads a local folder with the
// lake's keys (DuckDB's httpfs is not available offline), so a folder lake is read in place and
// an S3 lake is mirrored to a temporary folder first: only the day's objects and the Parquet files
// the table's snapshot names for the day and its history days.

/** Previous days the volume check compares with, unless told otherwise. */
export const DEFAULT_HISTORY_DAYS = 7;

/** This sql/ folder. */
export const SQL_DIR = dirname(fileURLToPath(import.meta.url));

export class LakeSqlError extends FirelakeError {
  static override readonly code: string = 'LAKE_SQL_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LakeSqlError';
  }
}

/** The lake path does not exist, or the day has nothing in it. */
export class NoDataError extends LakeSqlError {
  static override readonly code: string = 'NO_DATA';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NoDataError';
  }
}

/** A query failed: names the .sql file so the reader knows which one. */
export class QueryError extends LakeSqlError {
  static override readonly code: string = 'QUERY_FAILED';
  constructor(
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} failed: ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}`, options);
    this.name = 'QueryError';
  }
}

const LAKE_OPEN = sqlFile(join(SQL_DIR, 'lake', 'open.sql'));
const LAKE_CATALOG = sqlFile(join(SQL_DIR, 'lake', 'catalog.sql'));

export type Row = Record<string, unknown>;

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

export interface OpenDayOptions {
  store: ObjectStore;
  day: Day;
  /** Previous days the volume check compares with (default 7). */
  historyDays?: number;
  /** When the scorecard is taken: hours after it are not due yet (default now). */
  asOf?: Date;
  /** Events created before it were backfilled: freshness judges the rest (default: none). */
  liveFrom?: Date;
  /** Read curated data as a snapshot of the table held it: by id, or the one current at a time (default: now). */
  snapshot?: { snapshotId?: number; time?: Date };
}

/** What the day's lake holds, as the SQL prelude (sql/lake/open.sql) found it. */
export interface DayInventory {
  stagingObjects: number;
  quarantineObjects: number;
  errorObjects: number;
  compacted: boolean;
  curatedFiles: number;
  historyDays: number;
}

/** One day of the lake opened in an in-memory DuckDB, with the views of sql/lake/open.sql. */
export class LakeDay {
  private constructor(
    readonly store: ObjectStore,
    readonly day: Day,
    /** The local folder the SQL reads (the lake itself, or a mirror of an S3 lake). */
    readonly folder: string,
    readonly inventory: DayInventory,
    private readonly db: DuckDb,
    private readonly mirror: string,
  ) {}

  static async open(options: OpenDayOptions): Promise<LakeDay> {
    const { store, day } = options;
    parseDay(day);
    const historyDays = options.historyDays ?? DEFAULT_HISTORY_DAYS;
    let folder: string;
    if (store instanceof FolderStore && (!existsSync(store.root) || !statSync(store.root).isDirectory())) {
      throw new NoDataError(`no lake at ${store.root}: the folder does not exist (give --lake PATH)`);
    }
    // The day documents (sql/lake/open.sql's manifest_files) go here, and an S3 lake's mirror.
    const mirror = await mkdtemp(join(tmpdir(), 'firelake-sql-'));
    let dayDocs: string[];
    try {
      dayDocs = await writeDayDocuments(store, day, historyDays, mirror, options.snapshot);
      if (store instanceof FolderStore) folder = store.root;
      else {
        folder = join(mirror, 'lake');
        await mirrorDay(store, day, dayDocs, folder);
      }
    } catch (error) {
      await rm(mirror, { recursive: true, force: true });
      if (error instanceof LakeSqlError) throw error;
      throw new LakeSqlError(`could not read ${store.location}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const db = await openDuckDb();
    const { connection } = db;
    try {
      await connection.run('SET VARIABLE lake = $1', [folder.replace(/\/+$/, '')]);
      await connection.run('SET VARIABLE day = $1', [day]);
      await connection.run('SET VARIABLE history_days = $1::INTEGER', [historyDays]);
      await connection.run('SET VARIABLE as_of = $1::TIMESTAMP', [
        (options.asOf ?? new Date()).toISOString().replace('Z', ''),
      ]);
      await connection.run('SET VARIABLE sql_dir = $1', [SQL_DIR]);
      // As JSON text: an empty list has no item type for DuckDB to bind.
      await connection.run(`SET VARIABLE manifest_files = from_json($1, '["VARCHAR"]')`, [
        JSON.stringify(dayDocs),
      ]);
      if (options.liveFrom) {
        await connection.run('SET VARIABLE live_from = $1::TIMESTAMP', [
          options.liveFrom.toISOString().replace('Z', ''),
        ]);
      }
      await db.script(LAKE_OPEN);
      await db.script(LAKE_CATALOG);
      const inv = await connection.runAndReadAll(`SELECT
        len(getvariable('staging_files'))::INTEGER AS staging,
        len(getvariable('quarantine_files'))::INTEGER AS quarantine,
        len(getvariable('error_files'))::INTEGER AS errors,
        getvariable('has_manifest') AS compacted,
        len(getvariable('curated_files'))::INTEGER AS curated,
        getvariable('history_days_found')::INTEGER AS history`);
      const r = inv.getRowObjects()[0]!;
      const inventory: DayInventory = {
        stagingObjects: Number(r.staging),
        quarantineObjects: Number(r.quarantine),
        errorObjects: Number(r.errors),
        compacted: Boolean(r.compacted),
        curatedFiles: Number(r.curated),
        historyDays: Number(r.history),
      };
      return new LakeDay(store, day, folder, inventory, db, mirror);
    } catch (error) {
      db.close();
      await rm(mirror, { recursive: true, force: true });
      throw error instanceof LakeSqlError
        ? error
        : new LakeSqlError(`could not open ${day} of ${store.location}: ${(error as Error).message}`, {
            cause: error,
          });
    }
  }

  /** True when the day has no staged, quarantined, failed or curated data at all. */
  get empty(): boolean {
    const i = this.inventory;
    return i.stagingObjects + i.quarantineObjects + i.errorObjects + i.curatedFiles === 0 && !i.compacted;
  }

  /** Says clearly why there is nothing to read, or nothing. */
  noDataReason(): string | undefined {
    if (!this.empty) return undefined;
    return (
      `no data for ${this.day} in ${this.store.location}: no staging objects under ` +
      `${dayPrefix('staging', this.day)}, no quarantine or errors, and the curated table does not hold the day`
    );
  }

  /** Runs a .sql file of sql/ (a name such as `quality/freshness`) or any path; returns its last result. */
  async query(file: string): Promise<QueryResult> {
    const path = resolveSqlFile(file);
    try {
      return toResult(await this.db.script(sqlFileAt(path)));
    } catch (error) {
      throw new QueryError(path, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.db.close();
    await rm(this.mirror, { recursive: true, force: true });
  }
}

/** A query name (`freshness`, `quality/freshness`, `analytics/sessions`) or a path -> the .sql file. */
export function resolveSqlFile(nameOrPath: string): string {
  if (nameOrPath.endsWith('.sql')) {
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    if (existsSync(path)) return path;
    const inSql = join(SQL_DIR, nameOrPath);
    if (existsSync(inSql)) return inSql;
    throw new LakeSqlError(`no SQL file ${nameOrPath}`);
  }
  for (const candidate of [nameOrPath, `analytics/${nameOrPath}`, `quality/${nameOrPath}`]) {
    const path = join(SQL_DIR, `${candidate}.sql`);
    if (existsSync(path)) return path;
  }
  throw new LakeSqlError(`no query named ${nameOrPath}: see \`firelake query --list\``);
}

/** Every .sql file of sql/ that gives a result: `analytics/*`, `quality/*` and `report/*`, by name. */
export async function listQueries(): Promise<{ name: string; path: string; description: string }[]> {
  const out: { name: string; path: string; description: string }[] = [];
  for (const folder of ['analytics', 'quality', 'report']) {
    for (const f of (await readdir(join(SQL_DIR, folder))).filter((f) => f.endsWith('.sql')).sort()) {
      const path = join(SQL_DIR, folder, f);
      // The description is the first sentence of the file's leading comment.
      const lines = (await readFile(path, 'utf8')).split('\n');
      const end = lines.findIndex((l) => !l.startsWith('--'));
      const comment = (end < 0 ? lines : lines.slice(0, end)).map((l) => l.replace(/^--\s*/, '')).join(' ');
      const description = /^(.*?[.:])(\s|$)/.exec(comment)?.[1] ?? comment;
      out.push({ name: `${folder}/${f.slice(0, -4)}`, path, description });
    }
  }
  return out;
}

/** A .sql file of sql/ is read once per process; any other path each time it is run. */
function sqlFileAt(path: string): SqlFile {
  if (!path.startsWith(SQL_DIR)) return sqlFile(path);
  let file = sqlFiles.get(path);
  if (!file) {
    file = sqlFile(path);
    sqlFiles.set(path, file);
  }
  return file;
}
const sqlFiles = new Map<string, SqlFile>();

function toResult(reader: DuckDBResultReader): QueryResult {
  const columns = reader.columnNames();
  const json = reader.getRowObjectsJson();
  const types = reader.columnTypes().map((t) => t.toString());
  // BIGINT, HUGEINT and DECIMAL come back as strings in JSON form: numbers read better, and the
  // figures here stay far below 2^53.
  const numeric = columns.filter((_, i) => /^(BIGINT|HUGEINT|UBIGINT|DECIMAL)/.test(types[i] ?? ''));
  const rows = json.map((row) => {
    const out: Row = { ...row };
    for (const c of numeric) if (typeof out[c] === 'string') out[c] = Number(out[c]);
    return out;
  });
  return { columns, rows };
}

/**
 * The day and its history days as the table's current snapshot (or `snapshot`) holds them,
 * one JSON document per day in `folder`/days/ (its record, with the files the snapshot's
 * manifests list): what sql/lake/open.sql reads as `manifest_files`. Read once, so the Parquet
 * files the SQL reads are the ones of that snapshot even if a compaction commits meanwhile.
 */
export async function writeDayDocuments(
  store: ObjectStore,
  day: Day,
  historyDays: number,
  folder: string,
  snapshot: { snapshotId?: number; time?: Date } | undefined,
): Promise<string[]> {
  const table = new CuratedTable(store);
  const state = await table.state(snapshot);
  if (!state) return [];
  const first = parseDay(day).startMs - historyDays * 86_400_000;
  const days = Object.keys(state.index.days).filter((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return ms >= first && ms <= parseDay(day).startMs;
  });
  const paths: string[] = [];
  for (const d of days.sort()) {
    const version = await readManifest(store, d, { table, state });
    if (!version) continue;
    const path = join(folder, 'days', `${d}.json`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify(version.manifest));
    paths.push(path);
  }
  return paths;
}

/** Copies what the SQL of one day reads from a non-folder store into a local folder. */
async function mirrorDay(
  store: ObjectStore,
  day: Day,
  dayDocs: readonly string[],
  folder: string,
): Promise<void> {
  const keys: string[] = [];
  const prefixes = [
    dayPrefix('staging', day),
    dayPrefix('quarantine', day),
    errorsDayPrefix(day),
    replaysDayPrefix(day),
  ];
  for (const prefix of prefixes) {
    for await (const o of store.list(prefix)) keys.push(o.key);
  }
  for (const path of dayDocs) {
    const doc = JSON.parse(await readFile(path, 'utf8')) as { files?: { key: string }[] };
    for (const f of doc.files ?? []) keys.push(f.key);
  }
  await mkdir(folder, { recursive: true });
  // Every download has settled when this throws: the caller removes the folder after a failure.
  await mapLimit(keys, 8, (key) => store.getToFile(key, join(folder, ...key.split('/'))));
}

async function _writeLocal(folder: string, key: string, bytes: Uint8Array): Promise<void> {
  const path = join(folder, ...key.split('/'));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}
