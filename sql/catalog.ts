import type { DuckDBConnection } from '@duckdb/node-api';
import { CATALOG } from '../events/catalog.js';
import { curatedColumns } from '../events/curated.js';
import { specificsSchemas } from '../events/schemas.js';

// Files in sql/lake/ derived from the event catalog, so the DuckDB CLI sees the same required
// fields and curated schema as Firelake's runner: `npx tsx sql/generate.ts` writes them and
// test/sql-catalog.test.ts fails when they drift from events/.

/** Required specifics fields of every event name, from the catalog's JSON Schemas. */
export function requiredFields(): { event_name: string; field: string }[] {
  return CATALOG.flatMap((d) =>
    [...specificsSchemas[d.schema].required].map((field) => ({ event_name: d.name, field })),
  );
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** sql/lake/catalog.sql: the `catalog_required` table the completeness check joins. */
export function catalogSql(): string {
  const rows = requiredFields().map((r) => `  (${quote(r.event_name)}, ${quote(r.field)})`);
  return [
    '-- Generated from events/catalog.ts and events/schemas.ts by `npx tsx sql/generate.ts`: do not edit.',
    '-- The specifics fields each event name requires, for the completeness check.',
    'CREATE OR REPLACE TEMP TABLE catalog_required (event_name VARCHAR, field VARCHAR);',
    'INSERT INTO catalog_required VALUES',
    `${rows.join(',\n')};`,
    '',
  ].join('\n');
}

/** The DuckDB type list of the curated schema, for an empty Parquet file with exactly its columns. */
export function emptyCuratedSelect(): string {
  return `SELECT ${curatedColumns()
    .map((c) => `NULL::${c.type} AS "${c.name}"`)
    .join(', ')} WHERE false`;
}

/** Writes an empty Parquet file with the curated columns (the sentinel read for an empty day). */
export async function writeEmptyCurated(connection: DuckDBConnection, path: string): Promise<void> {
  await connection.run(`COPY (${emptyCuratedSelect()}) TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
}
