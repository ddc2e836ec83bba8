import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { curatedColumns, emptyCuratedSelect } from '../../events/curated.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { catalogSql, requiredFields } from '../../sql/catalog.js';
import { SQL_DIR } from '../../sql/runner.js';

// sql/lake/ holds files derived from the event catalog for the DuckDB CLI; they must not drift.

describe('sql/lake files derived from the catalog', () => {
  it('has catalog.sql as sql/generate.ts writes it', () => {
    expect(readFileSync(join(SQL_DIR, 'lake', 'catalog.sql'), 'utf8')).toBe(catalogSql());
  });

  it('lists the required fields of every event name', () => {
    const lesson = requiredFields()
      .filter((r) => r.event_name === 'lesson:completed')
      .map((r) => r.field);
    expect(lesson).toContain('percentage_completed_in_course');
    expect(requiredFields().some((r) => r.field === 'name' || r.field === 'lastname')).toBe(false);
  });

  it('has an empty curated Parquet file with exactly the curated columns', async () => {
    const db = await openDuckDb();
    const connection = db.connection;
    try {
      const path = join(SQL_DIR, 'lake', 'empty-curated.parquet');
      const describe = async (sql: string) =>
        (await connection.runAndReadAll(`DESCRIBE ${sql}`))
          .getRowObjectsJson()
          .map((r) => ({ name: r.column_name, type: r.column_type }));
      // DuckDB spells the types its own way: compare with the catalog's columns as DuckDB sees them.
      const expected = await describe(emptyCuratedSelect());
      expect(expected.map((c) => c.name)).toEqual(curatedColumns().map((c) => c.name));
      expect(await describe(`SELECT * FROM read_parquet('${path}')`)).toEqual(expected);
      const count = await connection.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`,
      );
      expect(count.getRowObjectsJson()).toEqual([{ n: 0 }]);
    } finally {
      db.close();
    }
  });
});
