import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';

// DuckDB for one compaction run: a database file in the run's work folder (so the staged day can
// exceed memory), a memory limit, a spill folder, and no network (json and parquet are built in).

export interface EngineOptions {
  /** Folder for the database file and DuckDB's spill files; removed with the run. */
  dir: string;
  /** DuckDB memory_limit in MiB. */
  memoryLimitMiB: number;
  threads: number;
}

export interface Engine {
  connection: DuckDBConnection;
  /** Runs one statement of compaction/sql/<name>.sql with named parameters. */
  run(name: SqlName, params?: Record<string, DuckDBValue>): Promise<number>;
  /** Runs one statement of compaction/sql/<name>.sql and returns its rows as JSON values. */
  rows<T = Record<string, unknown>>(name: SqlName, params?: Record<string, DuckDBValue>): Promise<T[]>;
  close(): void;
}

export type SqlName =
  | 'create-keys'
  | 'load-keys'
  | 'winners'
  | 'dedup-counts'
  | 'file-plan'
  | 'rows-by-language'
  | 'write-day'
  | 'write-day-window'
  | 'file-rows'
  | 'probe-object'
  | 'set-curated-files'
  | 'curated-files'
  | 'curated-view'
  | 'unit-uuids'
  | 'cross-unit-hashes'
  | 'cross-unit-uuids'
  | 'backfill-keys'
  | 'backfill-day';

const sqlCache = new Map<string, string>();

/** The text of compaction/sql/<name>.sql (the files are also runnable from the DuckDB CLI). */
export function sqlText(name: SqlName): string {
  let text = sqlCache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8');
    sqlCache.set(name, text);
  }
  return text;
}

export async function openEngine(options: EngineOptions): Promise<Engine> {
  await mkdir(join(options.dir, 'spill'), { recursive: true });
  const instance = await DuckDBInstance.create(join(options.dir, 'compaction.duckdb'), {
    memory_limit: `${options.memoryLimitMiB}MiB`,
    temp_directory: join(options.dir, 'spill'),
    threads: String(options.threads),
    // Row order inside a day's files carries no meaning; letting DuckDB reorder saves memory.
    preserve_insertion_order: 'false',
    // Partitioned COPY hands each language's rows to its writer every row group instead of
    // every 512K rows: measured less CPU, and less memory held per open partition.
    partitioned_write_flush_threshold: '122880',
    // Lambda's home is read-only and there is no network: never try to fetch extensions.
    home_directory: options.dir,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  return {
    connection,
    async run(name, params) {
      const result = await connection.run(sqlText(name), params);
      return Number(result.rowsChanged);
    },
    async rows<T>(name: SqlName, params?: Record<string, DuckDBValue>) {
      const reader = await connection.runAndReadAll(sqlText(name), params);
      return reader.getRowObjectsJson() as T[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
