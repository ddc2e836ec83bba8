import type { DuckDBConnection } from '@duckdb/node-api';
import { PERSONAL_FIELDS } from './catalog.js';
import { specificsSchemas } from './schemas.js';

// The curated Parquet schema, derived from the catalog so every day has the same columns and
// types. Top-level columns are the staging line (docs/design.md); `event_specifics` is one STRUCT
// holding the union of every event's specifics fields (null where an event lacks the field),
// so `event_specifics.score` works in DuckDB, Athena and Spark alike.

export type DuckDbType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

export interface Column {
  name: string;
  type: DuckDbType | string;
  /** Required columns are never null in curated data. */
  nullable: boolean;
}

function duckdbTypeOf(property: { type?: string }): DuckDbType {
  switch (property.type) {
    case 'string':
      return 'VARCHAR';
    case 'integer':
      return 'BIGINT';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      throw new Error(`no Parquet type for JSON Schema type ${String(property.type)}`);
  }
}

/** Every specifics field of every event (personal fields excluded), with one type each. */
export function specificsFields(): { name: string; type: DuckDbType }[] {
  const fields = new Map<string, DuckDbType>();
  for (const [schemaName, schema] of Object.entries(specificsSchemas)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      if (PERSONAL_FIELDS.includes(name)) continue;
      const type = duckdbTypeOf(property as { type?: string });
      const seen = fields.get(name);
      if (seen && seen !== type) {
        throw new Error(
          `field ${name} is ${seen} in one schema and ${type} in ${schemaName}: make them agree`,
        );
      }
      fields.set(name, type);
    }
  }
  return [...fields].map(([name, type]) => ({ name, type })).sort((a, b) => a.name.localeCompare(b.name));
}

/** The STRUCT type of event_specifics in curated Parquet. */
export function specificsStructType(): string {
  return `STRUCT(${specificsFields()
    .map((f) => `"${f.name}" ${f.type}`)
    .join(', ')})`;
}

/** Curated columns in file order. `language` is also the partition key (`unknown` when null). */
export function curatedColumns(): Column[] {
  return [
    { name: 'event_uuid', type: 'VARCHAR', nullable: false },
    { name: 'event_name', type: 'VARCHAR', nullable: false },
    { name: 'event_type', type: 'VARCHAR', nullable: false },
    { name: 'event_subtype', type: 'VARCHAR', nullable: false },
    { name: 'created_at', type: 'TIMESTAMP', nullable: false },
    { name: 'received_at', type: 'TIMESTAMP', nullable: false },
    { name: 'user_uuid', type: 'VARCHAR', nullable: true },
    { name: 'language', type: 'VARCHAR', nullable: true },
    { name: 'subscription_status', type: 'VARCHAR', nullable: true },
    { name: 'subscription_type', type: 'VARCHAR', nullable: true },
    { name: 'country', type: 'VARCHAR', nullable: true },
    { name: 'enrichment_status', type: 'VARCHAR', nullable: true },
    { name: 'event_specifics', type: specificsStructType(), nullable: false },
    // What the catalog does not name, as JSON text (null when none): see transform/decode.ts extrasOf.
    { name: 'extras', type: 'VARCHAR', nullable: true },
    // Origin of a record sent by `firelake replay` (object key and line); null for live events.
    { name: 'replayed_from', type: 'VARCHAR', nullable: true },
  ];
}

/**
 * A JSON merge patch that removes every field the catalog names from an `extras` object: staging
 * lines keep what was unknown when they were staged, and a field the catalog has adopted since
 * is read into event_specifics instead (compaction and backfill apply it).
 */
export function catalogFieldsPatch(): string {
  return JSON.stringify(Object.fromEntries(specificsFields().map((f) => [f.name, null])));
}

/** Value of the `language` partition for events without a language. */
export const UNKNOWN_LANGUAGE = 'unknown';

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
