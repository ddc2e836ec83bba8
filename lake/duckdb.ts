import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBResultReader,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

// The one way Firelake opens DuckDB and runs its .sql files (docs/duckdb.md). Every instance is
// offline: only the extensions built into @duckdb/node-api (parquet, json) exist, and Lambda has
// no network and a read-only home, so DuckDB must never try to install or load one on its own.
// Compaction adds the spill settings (a database file, a temp folder, a memory limit, threads).

export interface DuckDbOptions {
  /** Database file (default in memory). A file lets a table outgrow memory. */
  path?: string;
  /** Where DuckDB spills past its memory limit; created if missing. */
  tempDirectory?: string;
  /** DuckDB memory_limit in MiB (default DuckDB's: 80% of the machine's memory). */
  memoryLimitMiB?: number;
  /** DuckDB threads (default DuckDB's: the cores). */
  threads?: number;
  /** DuckDB's home folder (extensions, secrets); Lambda's own home is read-only. */
  homeDirectory?: string;
  /** Other DuckDB settings, by their DuckDB name. */
  settings?: Record<string, string>;
}

/** The settings every instance gets: no extension is ever fetched or loaded behind our back. */
export const OFFLINE_SETTINGS: Readonly<Record<string, string>> = {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
};

/** The DuckDB configuration `openDuckDb` creates an instance with. */
export function duckDbConfig(options: DuckDbOptions = {}): Record<string, string> {
  const config: Record<string, string> = { ...OFFLINE_SETTINGS };
  if (options.memoryLimitMiB !== undefined) config.memory_limit = `${options.memoryLimitMiB}MiB`;
  if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
  if (options.threads !== undefined) config.threads = String(options.threads);
  if (options.homeDirectory !== undefined) config.home_directory = options.homeDirectory;
  return { ...config, ...options.settings };
}

/** Parameters of a .sql file, by the names its `$name` placeholders use. */
export type SqlParams = Record<string, DuckDBValue>;

/**
 * A .sql file, read once on first use. `P` names its parameters and `R` the shape of its result
 * rows (as DuckDB's JSON form gives them: BIGINT and DECIMAL as strings). The file stays
 * runnable from the DuckDB CLI.
 */
export class SqlFile<P extends SqlParams = SqlParams, R = Record<string, unknown>> {
  private cached: string | undefined;
  /** Only for type inference: the parameter and row types. */
  declare readonly types: { params: P; row: R };

  constructor(readonly path: string) {}

  get text(): string {
    this.cached ??= readFileSync(this.path, 'utf8');
    return this.cached;
  }
}

/** Declares a .sql file beside the caller: `sqlFile<{ day: string }, { n: number }>(new URL('./x.sql', import.meta.url))`. */
export function sqlFile<P extends SqlParams = SqlParams, R = Record<string, unknown>>(
  file: URL | string,
): SqlFile<P, R> {
  return new SqlFile<P, R>(typeof file === 'string' ? file : fileURLToPath(file));
}

/** The .sql files of one folder, by name (`sql('winners')` reads `<folder>/winners.sql` once). */
export function sqlFolder<Name extends string>(folder: URL): (name: Name) => SqlFile {
  const files = new Map<string, SqlFile>();
  return (name) => {
    let file = files.get(name);
    if (!file) {
      file = sqlFile(new URL(`${name}.sql`, folder));
      files.set(name, file);
    }
    return file;
  };
}

type Sql<P extends SqlParams, R> = SqlFile<P, R> | string;
const textOf = (sql: Sql<SqlParams, unknown>) => (typeof sql === 'string' ? sql : sql.text);

/** An open DuckDB instance with one connection. */
export class DuckDb {
  private constructor(
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: DuckDbOptions = {}): Promise<DuckDb> {
    if (options.tempDirectory) await mkdir(options.tempDirectory, { recursive: true });
    const instance = await DuckDBInstance.create(options.path ?? ':memory:', duckDbConfig(options));
    try {
      return new DuckDb(instance, await instance.connect());
    } catch (error) {
      instance.closeSync();
      throw error;
    }
  }

  /** Runs one statement; the rows it changed. */
  async run<P extends SqlParams>(sql: Sql<P, unknown>, params?: P): Promise<number> {
    const result = await this.connection.run(textOf(sql), params);
    return Number(result.rowsChanged);
  }

  /** Runs one statement; its rows in DuckDB's JSON form. */
  async rows<R, P extends SqlParams = SqlParams>(sql: Sql<P, R>, params?: P): Promise<R[]> {
    const reader = await this.connection.runAndReadAll(textOf(sql), params);
    return reader.getRowObjectsJson() as R[];
  }

  /**
   * Runs every statement of a script, binding each only the parameters it names (DuckDB refuses
   * a value for a parameter a statement does not have); the result of the last one.
   */
  async script(
    sql: Sql<SqlParams, unknown>,
    params: Record<string, DuckDBValue | undefined> = {},
    types?: Record<string, DuckDBType>,
  ): Promise<DuckDBResultReader> {
    const text = textOf(sql);
    // DuckDB answers a file of comments only with "Error in native callback": say what it is.
    if (!/\S/.test(text.replace(/--.*$/gm, ''))) {
      throw new Error(`${typeof sql === 'string' ? 'the SQL' : sql.path} has no statement`);
    }
    const statements = await this.connection.extractStatements(text);
    let last: DuckDBResultReader | undefined;
    for (let i = 0; i < statements.count; i++) {
      const prepared = await statements.prepare(i);
      if (prepared.parameterCount > 0) {
        const names = Array.from({ length: prepared.parameterCount }, (_, n) =>
          prepared.parameterName(n + 1),
        );
        const values = Object.fromEntries(names.map((n) => [n, params[n] ?? null]));
        const named = types && Object.fromEntries(names.filter((n) => n in types).map((n) => [n, types[n]!]));
        prepared.bind(values, named);
      }
      last = await prepared.runAndReadAll();
    }
    return last!;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Opens DuckDB with the offline settings and, when given, the spill settings. */
export function openDuckDb(options: DuckDbOptions = {}): Promise<DuckDb> {
  return DuckDb.open(options);
}

/** Opens an in-memory DuckDB, runs `work` on its connection and closes it whatever happens. */
export async function withDuckDb<T>(
  work: (db: DuckDb) => Promise<T>,
  options: DuckDbOptions = {},
): Promise<T> {
  const db = await openDuckDb(options);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}
