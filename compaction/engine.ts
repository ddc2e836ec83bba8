import { join } from 'node:path';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { openDuckDb, sqlFolder } from '../lake/duckdb.js';

// DuckDB for one compaction run (lake/duckdb.ts): a database file in the run's work folder (so the
// staged day can exceed memory), a memory limit, a spill folder, and no network.

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
  | 'curated-view'
  | 'unit-uuids'
  | 'cross-unit-hashes'
  | 'cross-unit-uuids'
  | 'backfill-keys'
  | 'backfill-day';

const sql = sqlFolder<SqlName>(new URL('./sql/', import.meta.url));

/** The text of compaction/sql/<name>.sql (the files are also runnable from the DuckDB CLI). */
export function sqlText(name: SqlName): string {
  return sql(name).text;
}

export async function openEngine(options: EngineOptions): Promise<Engine> {
  const db = await openDuckDb({
    path: join(options.dir, 'compaction.duckdb'),
    tempDirectory: join(options.dir, 'spill'),
    memoryLimitMiB: options.memoryLimitMiB,
    threads: options.threads,
    // Lambda's home is read-only: DuckDB keeps nothing there, and never fetches extensions.
    homeDirectory: options.dir,
    settings: {
      // Row order inside a day's files carries no meaning; letting DuckDB reorder saves memory.
      preserve_insertion_order: 'false',
      // Partitioned COPY hands each language's rows to its writer every row group instead of
      // every 512K rows: measured less CPU, and less memory held per open partition.
      partitioned_write_flush_threshold: '122880',
    },
  });
  return {
    connection: db.connection,
    run: (name, params) => db.run(sql(name), params),
    rows: async <T>(name: SqlName, params?: Record<string, DuckDBValue>) =>
      (await db.rows(sql(name), params)) as T[],
    close: () => db.close(),
  };
}
