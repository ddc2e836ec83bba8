import { type DuckDbType, specificsFields, specificsStructType } from '../events/curated.js';

// The SQL backfill runs that is made from the catalog (compaction/backfill.ts): the macros that
// move adopted fields' values from extras into event_specifics, and the count of what moved.

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** JSON types (json_type) a value of the column type is read from: the JSON Schema types of the transform. */
const JSON_TYPES: Record<DuckDbType, string[]> = {
  VARCHAR: ['VARCHAR'],
  BIGINT: ['BIGINT', 'UBIGINT'],
  DOUBLE: ['BIGINT', 'UBIGINT', 'DOUBLE'],
  BOOLEAN: ['BOOLEAN'],
  TIMESTAMP: ['VARCHAR'],
};

/** The JSON path of a top-level key of extras. */
const path = (name: string) => quoteText(`$.${JSON.stringify(name)}`);
/** True where extras holds the field with a JSON type its column takes. */
const fits = (name: string, type: DuckDbType) =>
  `json_type(extras, ${path(name)}) IN (${JSON_TYPES[type].map(quoteText).join(', ')})`;

/**
 * The two macros backfill-day.sql calls, made from the catalog: names are the catalog's own
 * (code, never input) and quoted; they are identifiers, which SQL cannot bind as parameters.
 * A value in extras of the wrong JSON type for its column stays in extras: nothing is dropped.
 */
export function backfillMacros(fields: readonly { name: string; type: DuckDbType }[]): string[] {
  const adopted = new Map(fields.map((f) => [f.name, f.type]));
  const fromExtras = (name: string, type: DuckDbType) =>
    type === 'VARCHAR'
      ? `CASE WHEN ${fits(name, type)} THEN json_extract_string(extras, ${path(name)}) END`
      : `CASE WHEN ${fits(name, type)} THEN json_extract(extras, ${path(name)})::${type} END`;
  const members = specificsFields().map(({ name }) => {
    const type = adopted.get(name);
    const current = `specifics.${quoteIdent(name)}`;
    return `${quoteIdent(name)} := ${type ? `coalesce(${current}, ${fromExtras(name, type)})` : current}`;
  });
  let extras = 'extras';
  for (const [name, type] of adopted) {
    // Only a value the column did not already hold leaves extras: nothing is overwritten.
    const moved = `specifics.${quoteIdent(name)} IS NULL AND (${fits(name, type)} OR json_type(extras, ${path(name)}) = 'NULL')`;
    extras = `CASE WHEN ${moved} THEN json_merge_patch(${extras}, ${quoteText(JSON.stringify({ [name]: null }))}) ELSE ${extras} END`;
  }
  return [
    `CREATE OR REPLACE TEMP MACRO backfilled_specifics(specifics, extras) AS struct_pack(${members.join(', ')})::${specificsStructType()}`,
    `CREATE OR REPLACE TEMP MACRO backfilled_extras(specifics, extras) AS CASE WHEN extras IS NOT NULL THEN nullif((${extras})::VARCHAR, '{}') END`,
  ];
}

/** How many values of each adopted field the day's extras hold (moved by the rewrite). */
export function movedQuery(fields: readonly { name: string; type: DuckDbType }[]): string {
  const counts = fields.map(
    ({ name, type }) =>
      `count(*) FILTER (WHERE event_specifics.${quoteIdent(name)} IS NULL AND ${fits(name, type)})::BIGINT AS ${quoteIdent(name)}`,
  );
  return `SELECT ${counts.join(', ') || '0 AS none'} FROM read_parquet($files, union_by_name = true) WHERE extras IS NOT NULL`;
}
