import { randomUUID } from 'node:crypto';
import { IcebergError } from './errors.js';
import { numberSchema, partitionSpec, sameFields } from './schema.js';
import type { NestedField, Schema, Snapshot, TableMetadata } from './types.js';

// Table metadata documents (spec "Table Metadata"): a new table, the schema a commit writes
// with, a snapshot added, snapshots expired.

/** Snapshots younger than this stay readable (`--as-of`) after a later commit. */
export const DEFAULT_SNAPSHOT_RETENTION_MS = 7 * 86_400_000;
/** Metadata files kept in the metadata log; older ones are deleted after a commit. */
export const METADATA_VERSIONS_KEPT = 20;

/** Standard Iceberg table properties, so Spark's and Athena's maintenance honour the same policy. */
function defaultProperties(retentionMs: number): Record<string, string> {
  return {
    'write.format.default': 'parquet',
    'write.parquet.compression-codec': 'zstd',
    'history.expire.max-snapshot-age-ms': String(retentionMs),
    'history.expire.min-snapshots-to-keep': '1',
    'write.metadata.delete-after-commit.enabled': 'true',
    'write.metadata.previous-versions-max': String(METADATA_VERSIONS_KEPT),
    'firelake.table': 'curated-events',
  };
}

export function newTableMetadata(
  location: string,
  now: number,
  retentionMs = DEFAULT_SNAPSHOT_RETENTION_MS,
): TableMetadata {
  const numbered = numberSchema(undefined, 0);
  const schema: Schema = { type: 'struct', 'schema-id': 0, fields: numbered.fields };
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': numbered.lastColumnId,
    schemas: [schema],
    'current-schema-id': 0,
    'partition-specs': [partitionSpec(schema)],
    'default-spec-id': 0,
    'last-partition-id': 1001,
    properties: defaultProperties(retentionMs),
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    'default-sort-order-id': 0,
    refs: {},
  };
}

export function currentSchema(metadata: TableMetadata): Schema {
  const s = metadata.schemas.find((x) => x['schema-id'] === metadata['current-schema-id']);
  if (!s) throw new IcebergError(`table metadata has no schema ${metadata['current-schema-id']}`);
  return s;
}

/**
 * The metadata with the catalog's current curated columns as its schema: the same schema when
 * nothing changed, else a new one (adopted fields get new ids) made current.
 */
export function withCuratedSchema(metadata: TableMetadata): TableMetadata {
  const current = currentSchema(metadata);
  const numbered = numberSchema(current, metadata['last-column-id']);
  if (sameFields(numbered.fields, current.fields)) return withNameMapping(metadata);
  const id = Math.max(...metadata.schemas.map((s) => s['schema-id'])) + 1;
  return withNameMapping({
    ...metadata,
    schemas: [...metadata.schemas, { type: 'struct', 'schema-id': id, fields: numbered.fields }],
    'current-schema-id': id,
    'last-column-id': numbered.lastColumnId,
  });
}

/**
 * `schema.name-mapping.default` (spec "Column Projection", Appendix C "Name Mapping
 * Serialization"): how a reader finds the columns of a file written without field ids, as the
 * curated files of a lake compacted before the table are, by name.
 */
function withNameMapping(metadata: TableMetadata): TableMetadata {
  const map = (fields: readonly NestedField[]): unknown[] =>
    fields.map((f) => ({
      'field-id': f.id,
      names: [f.name],
      ...(typeof f.type === 'string' ? {} : { fields: map(f.type.fields) }),
    }));
  const mapping = JSON.stringify(map(currentSchema(metadata).fields));
  if (metadata.properties['schema.name-mapping.default'] === mapping) return metadata;
  return { ...metadata, properties: { ...metadata.properties, 'schema.name-mapping.default': mapping } };
}

export function currentSnapshot(metadata: TableMetadata): Snapshot | undefined {
  const id = metadata['current-snapshot-id'];
  return id === undefined || id < 0 ? undefined : metadata.snapshots.find((s) => s['snapshot-id'] === id);
}

/** The snapshot that was current at an instant (the snapshot log), or by id. */
export function snapshotAsOf(
  metadata: TableMetadata,
  asOf: { snapshotId?: number; time?: Date },
): Snapshot | undefined {
  if (asOf.snapshotId !== undefined)
    return metadata.snapshots.find((s) => s['snapshot-id'] === asOf.snapshotId);
  const t = asOf.time?.getTime() ?? Number.POSITIVE_INFINITY;
  const entry = metadata['snapshot-log'].filter((e) => e['timestamp-ms'] <= t).at(-1);
  return entry ? metadata.snapshots.find((s) => s['snapshot-id'] === entry['snapshot-id']) : undefined;
}

/** A snapshot id: unique, positive, and below 2^53 so JSON readers in any language keep it exact. */
export function newSnapshotId(): number {
  return Math.floor(Math.random() * 2 ** 52) + 1;
}

/**
 * The metadata after committing `snapshot` as the current one, with snapshots older than the
 * retention expired (spec "Snapshot Retention Policy": the current one always stays). Returns the
 * expired snapshots so their files can be deleted once the commit holds.
 */
export function withSnapshot(
  base: TableMetadata,
  snapshot: Snapshot,
  context: { now: number; previousMetadataFile: string | undefined; retentionMs?: number },
): { metadata: TableMetadata; expired: Snapshot[] } {
  const retentionMs =
    context.retentionMs ??
    Number(base.properties['history.expire.max-snapshot-age-ms'] ?? DEFAULT_SNAPSHOT_RETENTION_MS);
  const oldest = context.now - retentionMs;
  const all = [...base.snapshots, snapshot];
  const kept = all.filter((s) => s === snapshot || s['timestamp-ms'] >= oldest);
  const keptIds = new Set(kept.map((s) => s['snapshot-id']));
  const expired = all.filter((s) => !keptIds.has(s['snapshot-id']));
  const log = [
    ...base['snapshot-log'],
    { 'timestamp-ms': snapshot['timestamp-ms'], 'snapshot-id': snapshot['snapshot-id'] },
  ];
  // Entries before the last expired snapshot go too (spec "Table Metadata Fields", snapshot-log).
  const lastExpired = log.map((e) => keptIds.has(e['snapshot-id'])).lastIndexOf(false);
  const metadataLog = context.previousMetadataFile
    ? [
        ...base['metadata-log'],
        { 'timestamp-ms': base['last-updated-ms'], 'metadata-file': context.previousMetadataFile },
      ]
    : base['metadata-log'];
  return {
    metadata: {
      ...base,
      'last-sequence-number': snapshot['sequence-number'],
      'last-updated-ms': context.now,
      'current-snapshot-id': snapshot['snapshot-id'],
      snapshots: kept,
      'snapshot-log': log.slice(lastExpired + 1),
      'metadata-log': metadataLog.slice(-METADATA_VERSIONS_KEPT),
      refs: { main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
    },
    expired,
  };
}
