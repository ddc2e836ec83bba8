import { CATALOG } from '../events/catalog.js';
import { type Expected, type SpecificsSchemaName, schemaShape, specificsSchemas } from '../events/schemas.js';

// Files in sql/lake/ derived from the event catalog, so the DuckDB CLI sees the same required
// fields and curated schema as Firelake's runner: `npx tsx sql/generate.ts` writes them and
// test/integration/sql-catalog.test.ts fails when they drift from events/.

/**
 * The specifics fields every event name should carry, for the completeness check: the ones its
 * schema requires and the ones it expects (`x-expected-present`, not needed by the pipeline).
 */
export function requiredFields(): { event_name: string; field: string }[] {
  return CATALOG.flatMap((d) => {
    const shape = schemaShape(d.schema);
    return [...shape.required, ...(shape['x-expected-present'] ?? [])].map((field) => ({
      event_name: d.name,
      field,
    }));
  });
}

export interface FieldExpectation {
  field: string;
  /** The JSON type of the field ('string', 'integer', 'number'). */
  type: string;
  expected: Expected;
}

/**
 * Every field with an `x-expected`, once: a field shared by several schemas has one
 * expectation (one curated column, one check), or the generation fails.
 */
export function fieldExpectations(): FieldExpectation[] {
  const byField = new Map<string, FieldExpectation & { schema: string }>();
  for (const schema of Object.keys(specificsSchemas) as SpecificsSchemaName[]) {
    for (const [field, property] of Object.entries(schemaShape(schema).properties)) {
      const expected = property['x-expected'];
      if (expected === undefined) continue;
      const seen = byField.get(field);
      if (seen && JSON.stringify(seen.expected) !== JSON.stringify(expected)) {
        throw new Error(
          `x-expected of ${field} differs between ${seen.schema} and ${schema}: make them agree`,
        );
      }
      byField.set(field, { field, type: property.type, expected, schema });
    }
  }
  return [...byField.values()]
    .map(({ field, type, expected }) => ({ field, type, expected }))
    .sort((a, b) => a.field.localeCompare(b.field));
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

const number = (n: number | undefined) => (n === undefined ? 'NULL' : String(n));

/**
 * sql/lake/catalog.sql: the `catalog_required` table the completeness check joins, and the
 * expected values and bounds (`x-expected`) with one macro each that lists the curated values
 * of those fields in one pass (the vocabulary and bounds checks).
 */
export function catalogSql(): string {
  const rows = requiredFields().map((r) => `  (${quote(r.event_name)}, ${quote(r.field)})`);
  const expectations = fieldExpectations();
  const vocabulary = expectations.filter((e) => Array.isArray(e.expected));
  const bounds = expectations.filter((e) => !Array.isArray(e.expected));
  const vocabularyRows = vocabulary.map(
    (e) => `  (${quote(e.field)}, [${(e.expected as string[]).map(quote).join(', ')}])`,
  );
  const boundsRows = bounds.map((e) => {
    const b = e.expected as Exclude<Expected, readonly string[]>;
    const length = e.type === 'string';
    return `  (${quote(e.field)}, ${quote(length ? 'length' : 'value')}, ${number(length ? b.minLength : b.minimum)}, ${number(length ? b.maxLength : b.maximum)})`;
  });
  const column = (field: string) => `event_specifics."${field.replaceAll('"', '""')}"`;
  const vocabularyValues = vocabulary.map((e) => `{'field': ${quote(e.field)}, 'value': ${column(e.field)}}`);
  const boundsValues = bounds.map(
    (e) =>
      `{'field': ${quote(e.field)}, 'value': ${e.type === 'string' ? `length(${column(e.field)})` : column(e.field)}::DOUBLE}`,
  );
  return [
    '-- Generated from events/catalog.ts and events/schemas.ts by `npx tsx sql/generate.ts`: do not edit.',
    '-- The specifics fields each event name should carry, for the completeness check.',
    'CREATE OR REPLACE TEMP TABLE catalog_required (event_name VARCHAR, field VARCHAR);',
    'INSERT INTO catalog_required VALUES',
    `${rows.join(',\n')};`,
    '',
    '-- The values an app is expected to send (x-expected lists), for the vocabulary check.',
    'CREATE OR REPLACE TEMP TABLE catalog_vocabulary (field VARCHAR, expected VARCHAR[]);',
    'INSERT INTO catalog_vocabulary VALUES',
    `${vocabularyRows.join(',\n')};`,
    '',
    '-- Expected bounds of a number (measure value) or of a length (measure length), for the bounds check.',
    'CREATE OR REPLACE TEMP TABLE catalog_bounds (field VARCHAR, measure VARCHAR, minimum DOUBLE, maximum DOUBLE);',
    'INSERT INTO catalog_bounds VALUES',
    `${boundsRows.join(',\n')};`,
    '',
    '-- The curated values of those fields as (field, value) rows, read in one pass.',
    'CREATE OR REPLACE TEMP MACRO catalog_vocabulary_values() AS TABLE',
    `SELECT unnest([\n  ${vocabularyValues.join(',\n  ')}\n], recursive := true) FROM curated;`,
    'CREATE OR REPLACE TEMP MACRO catalog_bounds_values() AS TABLE',
    `SELECT unnest([\n  ${boundsValues.join(',\n  ')}\n], recursive := true) FROM curated;`,
    '',
  ].join('\n');
}
