import type { NestedField, PrimitiveType, Schema, TableMetadata } from './types.js';

// The curated table as the Glue Data Catalog describes it, shared by the CDK stack (which creates
// the Glue table) and the Glue catalog (which rewrites its columns at each commit). Athena reads
// an Iceberg table's schema from the metadata file that `metadata_location` names; the Glue
// columns are what the Glue console and Hive-minded tools show, written as Iceberg's own Glue
// catalog writes them (apache/iceberg aws/.../glue/IcebergToGlueConverter.java: Hive type names,
// and iceberg.field.id / .optional / .current in each column's parameters).

/** Glue table parameters of an Iceberg table (Iceberg's BaseMetastoreTableOperations names). */
export const GLUE_PARAMETER = {
  tableType: 'table_type',
  metadataLocation: 'metadata_location',
  previousMetadataLocation: 'previous_metadata_location',
} as const;
export const GLUE_ICEBERG_TABLE_TYPE = 'ICEBERG';

const HIVE: Record<PrimitiveType, string> = {
  boolean: 'boolean',
  int: 'int',
  long: 'bigint',
  double: 'double',
  string: 'string',
  date: 'date',
  timestamp: 'timestamp',
};

/** An Iceberg type as Hive spells it: `bigint`, `struct<a:string,b:double>`. */
export function hiveType(type: NestedField['type']): string {
  if (typeof type === 'string') return HIVE[type];
  return `struct<${type.fields.map((f) => `${f.name}:${hiveType(f.type)}`).join(',')}>`;
}

export interface GlueColumn {
  Name: string;
  Type: string;
  Comment?: string;
  Parameters: Record<string, string>;
}

/** The columns of the current schema, then those only older schemas have (not current). */
export function glueColumns(metadata: Pick<TableMetadata, 'schemas' | 'current-schema-id'>): GlueColumn[] {
  const current = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  const ordered: Schema[] = [...(current ? [current] : []), ...metadata.schemas.filter((s) => s !== current)];
  const seen = new Set<string>();
  const out: GlueColumn[] = [];
  for (const schema of ordered)
    for (const f of schema.fields) {
      if (seen.has(f.name)) continue;
      seen.add(f.name);
      out.push({
        Name: f.name,
        Type: hiveType(f.type),
        ...(f.doc ? { Comment: f.doc } : {}),
        Parameters: {
          'iceberg.field.id': String(f.id),
          'iceberg.field.optional': String(!f.required),
          'iceberg.field.current': String(schema === current),
        },
      });
    }
  return out;
}

/**
 * Where a compaction Lambda finds the Glue table it commits (infra/glue-catalog.ts sets them with
 * the grant; compaction/config.ts reads them). Unset: the lake's file-system catalog.
 */
export const CURATED_GLUE_ENV = { database: 'CURATED_GLUE_DATABASE', table: 'CURATED_GLUE_TABLE' } as const;
