import { type Column, curatedColumns, specificsFields } from '../events/curated.js';
import { dayOf, parseDay } from '../lake/layout.js';
import { IcebergError } from './errors.js';
import type { NestedField, PartitionSpec, PrimitiveType, Schema, StructType } from './types.js';

// The curated table's Iceberg schema and partition spec, derived from the catalog's curated
// columns (events/curated.ts). Field ids are the table's own: a column keeps its id for the
// table's life, a column the catalog adopts later gets the next unused id (spec "Schema
// Evolution"), so files written before it read it as null (spec "Column Projection"). The
// Parquet files carry the same ids (DuckDB's COPY ... FIELD_IDS), as the spec's Parquet appendix
// requires.

/** DuckDB type of a curated column -> Iceberg primitive (spec "Primitive Types", Appendix A). */
function icebergPrimitive(duckdb: string): PrimitiveType {
  switch (duckdb) {
    case 'VARCHAR':
      return 'string';
    case 'BIGINT':
      return 'long';
    case 'DOUBLE':
      return 'double';
    case 'BOOLEAN':
      return 'boolean';
    // DuckDB writes TIMESTAMP as INT64 TIMESTAMP(MICROS, isAdjustedToUTC=false): Iceberg's
    // `timestamp`, which Athena engine 3 reads as timestamp(6).
    case 'TIMESTAMP':
      return 'timestamp';
    default:
      throw new IcebergError(`no Iceberg type for the curated column type ${duckdb}`);
  }
}

/** A field of the curated table before ids are assigned. */
interface Unnumbered {
  name: string;
  required: boolean;
  type: PrimitiveType | { type: 'struct'; fields: Unnumbered[] };
}

function curatedFields(columns: readonly Column[] = curatedColumns()): Unnumbered[] {
  return columns.map((c) =>
    c.name === 'event_specifics'
      ? {
          name: c.name,
          required: !c.nullable,
          type: {
            type: 'struct',
            fields: specificsFields().map((f) => ({
              name: f.name,
              required: false,
              type: icebergPrimitive(f.type),
            })),
          },
        }
      : { name: c.name, required: !c.nullable, type: icebergPrimitive(c.type) },
  );
}

/** Every field id of a schema by its dotted path (`event_specifics.score`). */
export function idsByPath(fields: readonly NestedField[], prefix = ''): Map<string, NestedField> {
  const out = new Map<string, NestedField>();
  for (const f of fields) {
    out.set(prefix + f.name, f);
    if (typeof f.type !== 'string')
      for (const [k, v] of idsByPath(f.type.fields, `${prefix}${f.name}.`)) out.set(k, v);
  }
  return out;
}

/**
 * The curated schema numbered against the table's current one: known paths keep their ids, new
 * ones take ids after `lastColumnId`. A column whose type changed is refused: Iceberg allows only
 * the promotions of its spec, and the catalog's compatibility check refuses type changes anyway.
 */
export function numberSchema(
  current: Schema | undefined,
  lastColumnId: number,
): { fields: NestedField[]; lastColumnId: number } {
  const known = current ? idsByPath(current.fields) : new Map<string, NestedField>();
  let last = lastColumnId;
  const idOf = (path: string) => known.get(path)?.id ?? ++last;
  // A struct's own fields are numbered after all of its siblings, as Iceberg's writers do (the
  // top-level columns take 1..n, then the fields of event_specifics).
  const number = (fields: readonly Unnumbered[], prefix: string): NestedField[] => {
    const ids = fields.map((f) => idOf(prefix + f.name));
    return fields.map((f, i) => {
      const path = prefix + f.name;
      if (typeof f.type !== 'string') {
        const struct: StructType = { type: 'struct', fields: number(f.type.fields, `${path}.`) };
        return { id: ids[i]!, name: f.name, required: f.required, type: struct };
      }
      const seen = known.get(path);
      if (seen && seen.type !== f.type) {
        throw new IcebergError(`curated column ${path} changed type from ${String(seen.type)} to ${f.type}`);
      }
      return { id: ids[i]!, name: f.name, required: f.required, type: f.type };
    });
  };
  const fields = number(curatedFields(), '');
  return { fields, lastColumnId: last };
}

/** Same fields, ids, types and requiredness: the schema need not change. */
export function sameFields(a: readonly NestedField[], b: readonly NestedField[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Partition field ids start at 1000, as Iceberg's writers number them (spec "Partitioning"). */
export const PARTITION_FIELD_IDS = { created_at_day: 1000, language: 1001 } as const;

/**
 * Partitioned by day(created_at) and language: Athena, Spark and Trino prune by both from a
 * predicate on the columns themselves (hidden partitioning), any language included.
 */
export function partitionSpec(schema: { fields: readonly NestedField[] }): PartitionSpec {
  const id = (name: string) => {
    const f = schema.fields.find((x) => x.name === name);
    if (!f) throw new IcebergError(`the curated schema has no ${name} column to partition by`);
    return f.id;
  };
  return {
    'spec-id': 0,
    fields: [
      {
        'source-id': id('created_at'),
        'field-id': PARTITION_FIELD_IDS.created_at_day,
        name: 'created_at_day',
        transform: 'day',
      },
      {
        'source-id': id('language'),
        'field-id': PARTITION_FIELD_IDS.language,
        name: 'language',
        transform: 'identity',
      },
    ],
  };
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` day: the value of the day transform (spec "Partition Transforms"). */
export function epochDay(day: string): number {
  return parseDay(day).startMs / DAY_MS;
}

export function dayOfEpochDay(n: number): string {
  return dayOf(n * DAY_MS);
}

const DAY_MS = 86_400_000;
