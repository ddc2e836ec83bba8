import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine } from '../../compaction/engine.js';
import { type DuckDb, openDuckDb, sqlFile, withDuckDb } from '../../lake/duckdb.js';

// lake/duckdb.ts against a real DuckDB: the settings each instance really runs with, and .sql
// files run with bound parameters.

const root = mkdtempSync(join(tmpdir(), 'firelake-duckdb-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function setting(db: DuckDb, name: string): Promise<string> {
  const [row] = await db.rows<{ v: string }>('SELECT current_setting($name)::VARCHAR AS v', { name });
  return row!.v;
}

describe('the DuckDB module', () => {
  it('opens every instance offline: DuckDB never installs or loads an extension on its own', async () => {
    await withDuckDb(async (db) => {
      expect(await setting(db, 'autoinstall_known_extensions')).toBe('false');
      expect(await setting(db, 'autoload_known_extensions')).toBe('false');
      // parquet and json are built in, so they work without loading anything.
      const path = join(root, 'one.parquet');
      await db.run(`COPY (SELECT 1 AS n, '{"a":2}'::JSON AS j) TO '${path}' (FORMAT parquet)`);
      expect(await db.rows(`SELECT n, j->>'a' AS a FROM read_parquet('${path}')`)).toEqual([
        { n: 1, a: '2' },
      ]);
    });
  });

  it("gives compaction its spill settings: a database file, the run's memory limit, threads and temp folder", async () => {
    const dir = join(root, 'run');
    const engine = await openEngine({ dir, memoryLimitMiB: 300, threads: 1 });
    try {
      const read = async (name: string) =>
        (
          await engine.connection.runAndReadAll('SELECT current_setting($name)::VARCHAR AS v', { name })
        ).getRowObjectsJson()[0]!.v;
      expect(await read('memory_limit')).toMatch(/^(300\.0 MiB|314\.5 MB)$/);
      expect(await read('threads')).toBe('1');
      expect(await read('temp_directory')).toBe(join(dir, 'spill'));
      expect(await read('home_directory')).toBe(dir);
      expect(await read('preserve_insertion_order')).toBe('false');
      expect(await read('autoload_known_extensions')).toBe('false');
      expect(existsSync(join(dir, 'spill'))).toBe(true);
      expect(existsSync(join(dir, 'compaction.duckdb'))).toBe(true);
    } finally {
      engine.close();
    }
  });

  it('reads a .sql file once and runs it with bound parameters, whatever the file says later', async () => {
    const path = join(root, 'double.sql');
    writeFileSync(path, 'SELECT $n::INTEGER * 2 AS doubled');
    const double = sqlFile<{ n: number }, { doubled: number }>(path);
    await withDuckDb(async (db) => {
      expect(await db.rows(double, { n: 21 })).toEqual([{ doubled: 42 }]);
      writeFileSync(path, 'SELECT 0 AS doubled');
      expect(await db.rows(double, { n: 4 })).toEqual([{ doubled: 8 }]);
    });
  });

  it("runs a script's statements in order, binding each only the parameters it names", async () => {
    const db = await openDuckDb();
    try {
      const last = await db.script(
        `CREATE TABLE t AS SELECT range AS i FROM range($n);
         INSERT INTO t VALUES ($extra);
         SELECT count(*)::INTEGER AS rows, max(i)::INTEGER AS top FROM t`,
        { n: 3, extra: 10 },
      );
      expect(last.getRowObjectsJson()).toEqual([{ rows: 4, top: 10 }]);
      await expect(db.script('-- only a comment\n')).rejects.toThrow(/has no statement/);
    } finally {
      db.close();
    }
  });
});
