import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG } from './catalog.js';
import { curatedColumns } from './curated.js';
import { type SchemaShape, type SpecificsSchemaName, schemaShape, specificsSchemas } from './schemas.js';

// Catalog versions and compatibility. events/released.json is a snapshot of the catalog as last
// released: each schema's version, its fields with the keywords that validate them, what it
// requires, which event names use it, and the curated columns. test/unit/catalog-compat.test.ts
// compares the catalog in the code with it, so that `npm test` fails on a change that would
//
// - quarantine events accepted before (a new required field, a tighter keyword, a name gone),
// - remove a field, or
// - change a curated column's type (days written before and after would not read together),
//
// unless the schema's `x-version` is bumped and `x-changes` has a note for the new version on
// how days written under the older one read. Adding an optional field, or loosening a keyword,
// is compatible. `npm run catalog:release` writes the snapshot when a catalog is released.

export const RELEASED_FILE = join(dirname(fileURLToPath(import.meta.url)), 'released.json');

/** Keywords that only describe: they never change what validates. */
const ANNOTATIONS = new Set(['description', 'title', '$comment', 'examples']);

export interface SchemaSnapshot {
  version: number;
  /** Each field's validating keywords (annotations and x-* left out). */
  properties: Record<string, Record<string, unknown>>;
  required: string[];
  /** Notes by version (x-changes). */
  changes: Record<string, string>;
}

export interface CatalogSnapshot {
  format: 1;
  /** Event name -> its specifics schema. */
  events: Record<string, string>;
  schemas: Record<string, SchemaSnapshot>;
  /** Curated columns (name -> DuckDB type), event_specifics' STRUCT included. */
  curated_columns: Record<string, string>;
}

function validating(property: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(property).filter(([k]) => !ANNOTATIONS.has(k) && !k.startsWith('x-')),
  );
}

function schemaSnapshot(shape: SchemaShape): SchemaSnapshot {
  return {
    version: shape['x-version'],
    properties: Object.fromEntries(Object.entries(shape.properties).map(([f, p]) => [f, validating(p)])),
    required: [...shape.required],
    changes: { ...(shape['x-changes'] ?? {}) },
  };
}

/** The catalog in the code, as a snapshot. */
export function catalogSnapshot(): CatalogSnapshot {
  return {
    format: 1,
    events: Object.fromEntries(CATALOG.map((d) => [d.name, d.schema])),
    schemas: Object.fromEntries(
      (Object.keys(specificsSchemas) as SpecificsSchemaName[]).map((name) => [
        name,
        schemaSnapshot(schemaShape(name)),
      ]),
    ),
    curated_columns: Object.fromEntries(curatedColumns().map((c) => [c.name, c.type])),
  };
}

export function readReleased(path = RELEASED_FILE): CatalogSnapshot {
  return JSON.parse(readFileSync(path, 'utf8')) as CatalogSnapshot;
}

export interface Incompatibility {
  /** A schema name, or `curated` for a curated column, or `catalog` for an event name. */
  schema: string;
  field: string | null;
  reason: string;
}

/** `schema/field: reason`, one line. */
export function formatIncompatibility(i: Incompatibility): string {
  return `${i.schema}${i.field === null ? '' : `/${i.field}`}: ${i.reason}`;
}

/**
 * What in `current` breaks `released`, and is not covered by a version bump with its note.
 * Empty when the change is compatible.
 */
export function incompatibilities(released: CatalogSnapshot, current: CatalogSnapshot): Incompatibility[] {
  const found: Incompatibility[] = [];
  // Breaks found per schema, reported unless that schema's version was bumped with a note.
  const bySchema = new Map<string, Incompatibility[]>();
  const breaks = (schema: string, field: string | null, reason: string) => {
    const list = bySchema.get(schema) ?? [];
    list.push({ schema, field, reason });
    bySchema.set(schema, list);
  };

  for (const [name, schema] of Object.entries(released.events)) {
    const now = current.events[name];
    if (now === undefined)
      breaks(schema, null, `event name ${name} is gone: its events would be quarantined as unknown_event`);
    else if (now !== schema) breaks(schema, null, `event name ${name} moved from schema ${schema} to ${now}`);
  }
  for (const [name, before] of Object.entries(released.schemas)) {
    const after = current.schemas[name];
    if (!after) {
      breaks(name, null, 'schema removed');
      continue;
    }
    for (const [field, was] of Object.entries(before.properties)) {
      const is = after.properties[field];
      if (!is) {
        breaks(name, field, 'field removed (its values would no longer have a column)');
        continue;
      }
      if (is.type !== was.type)
        breaks(name, field, `type changed from ${String(was.type)} to ${String(is.type)}`);
      for (const reason of tighter(was, is)) breaks(name, field, reason);
    }
    for (const field of after.required) {
      if (!before.required.includes(field))
        breaks(name, field, 'newly required: events without it, accepted before, would be quarantined');
    }
  }
  // event_specifics' STRUCT follows the fields, checked above schema by schema.
  for (const [column, type] of Object.entries(released.curated_columns)) {
    if (column === 'event_specifics') continue;
    const now = current.curated_columns[column];
    if (now === undefined) found.push({ schema: 'curated', field: column, reason: 'curated column removed' });
    else if (now !== type)
      found.push({ schema: 'curated', field: column, reason: `curated type changed from ${type} to ${now}` });
  }

  for (const [schema, list] of bySchema) {
    const was = released.schemas[schema]?.version ?? 0;
    const now = current.schemas[schema];
    if (now && now.version > was) {
      const note = now.changes[String(now.version)];
      if (note && note.trim() !== '') continue;
      for (const i of list)
        found.push({
          ...i,
          reason: `${i.reason}; version ${now.version} needs a note in x-changes["${now.version}"] on how older days read`,
        });
      continue;
    }
    for (const i of list)
      found.push({ ...i, reason: `${i.reason} (bump x-version above ${was} with a note to allow it)` });
  }
  for (const [name, s] of Object.entries(current.schemas)) {
    const was = released.schemas[name]?.version;
    if (was !== undefined && s.version < was)
      found.push({ schema: name, field: null, reason: `version went back from ${was} to ${s.version}` });
  }
  return found;
}

/** Keywords of a field that accept less than before. */
function tighter(was: Record<string, unknown>, is: Record<string, unknown>): string[] {
  const reasons: string[] = [];
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  for (const [keyword, value] of Object.entries(is)) {
    if (keyword === 'type') continue;
    const before = was[keyword];
    if (before === undefined) {
      reasons.push(`new ${keyword} ${JSON.stringify(value)} would quarantine values accepted before`);
      continue;
    }
    if (JSON.stringify(before) === JSON.stringify(value)) continue;
    const a = num(before);
    const b = num(value);
    if (
      (keyword === 'minimum' || keyword === 'minLength' || keyword === 'exclusiveMinimum') &&
      a !== undefined &&
      b !== undefined
    ) {
      if (b > a) reasons.push(`${keyword} raised from ${a} to ${b}`);
      continue;
    }
    if (
      (keyword === 'maximum' || keyword === 'maxLength' || keyword === 'exclusiveMaximum') &&
      a !== undefined &&
      b !== undefined
    ) {
      if (b < a) reasons.push(`${keyword} lowered from ${a} to ${b}`);
      continue;
    }
    if (keyword === 'enum' && Array.isArray(before) && Array.isArray(value)) {
      const lost = before.filter((v) => !value.includes(v));
      if (lost.length > 0)
        reasons.push(`enum no longer allows ${lost.map((v) => JSON.stringify(v)).join(', ')}`);
      continue;
    }
    reasons.push(`${keyword} changed from ${JSON.stringify(before)} to ${JSON.stringify(value)}`);
  }
  return reasons;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `npm run catalog:release`: the catalog in the code becomes the released one.
  writeFileSync(RELEASED_FILE, `${JSON.stringify(catalogSnapshot(), null, 2)}\n`);
  console.error(`wrote ${RELEASED_FILE}`);
}
