// The parts of Apache Iceberg's table metadata (format version 2) that Firelake writes and reads.
// Names and shapes follow the spec (apache/iceberg format/spec.md, "Table Metadata" and
// "Appendix C: JSON serialization"); test/fixtures/iceberg holds the REST catalog's OpenAPI schema
// every metadata file is validated against.

export type PrimitiveType = 'boolean' | 'int' | 'long' | 'double' | 'string' | 'date' | 'timestamp';

export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: PrimitiveType | StructType;
  doc?: string;
}

export interface Schema extends StructType {
  'schema-id': number;
}

export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: 'identity' | 'day';
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

export interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: 'append' | 'overwrite' | 'replace' | 'delete' };
  'schema-id': number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  schemas: Schema[];
  'current-schema-id': number;
  'partition-specs': PartitionSpec[];
  'default-spec-id': number;
  'last-partition-id': number;
  properties: Record<string, string>;
  'current-snapshot-id'?: number;
  snapshots: Snapshot[];
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
  'sort-orders': { 'order-id': number; fields: unknown[] }[];
  'default-sort-order-id': number;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' | 'tag' }>;
}

/** A data file as a manifest entry holds it (spec "Manifests": manifest_entry and data_file). */
export interface DataFile {
  /** Absolute URI of the file (s3://... or file:///...). */
  path: string;
  /** Partition tuple: days since 1970-01-01 and the language partition value. */
  partition: { created_at_day: number; language: string };
  recordCount: number;
  fileSizeBytes: number;
}

/** manifest_entry.status. */
export const STATUS = { existing: 0, added: 1, deleted: 2 } as const;
export type EntryStatus = (typeof STATUS)[keyof typeof STATUS];

export interface ManifestEntry {
  status: EntryStatus;
  snapshotId: number;
  sequenceNumber: number;
  fileSequenceNumber: number;
  file: DataFile;
}

/** A manifest_file record of a manifest list (spec "Manifest Lists"). */
export interface ManifestFile {
  path: string;
  length: number;
  specId: number;
  sequenceNumber: number;
  minSequenceNumber: number;
  addedSnapshotId: number;
  addedFiles: number;
  existingFiles: number;
  deletedFiles: number;
  addedRows: number;
  existingRows: number;
  deletedRows: number;
  /** Partition summaries in spec order: the created_at_day and language bounds. */
  partitions: { containsNull: boolean; lower?: Uint8Array; upper?: Uint8Array }[];
}
