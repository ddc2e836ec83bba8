import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { IcebergError } from './errors.js';
import { PARTITION_FIELD_IDS } from './schema.js';
import type { DataFile, EntryStatus, ManifestEntry, ManifestFile, PartitionSpec, Schema } from './types.js';

// Manifests and manifest lists as Avro object container files, through avsc (mtth/avsc: the
// maintained JavaScript Avro implementation, with TypeScript types and Node streams; Apache's
// avro-js is a fork of an older avsc without types). The record schemas are the spec's
// ("Manifests", "Manifest Lists"), with its field ids as `field-id` attributes (Appendix A,
// "Field IDs"); avsc writes the schema it is given into the file header as it is, attributes
// included. Blocks are deflate-compressed, Iceberg's default codec for Avro.

const optional = (type: unknown, fieldId: number, name: string) => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
});

/** The partition tuple of day(created_at) and identity(language): struct 102. */
const PARTITION_RECORD = {
  type: 'record',
  name: 'r102',
  fields: [
    optional({ type: 'int', logicalType: 'date' }, PARTITION_FIELD_IDS.created_at_day, 'created_at_day'),
    optional('string', PARTITION_FIELD_IDS.language, 'language'),
  ],
};

/** manifest_entry, format version 2 (spec "Manifest Entry Fields", "Data File Fields"). */
export const MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    optional('long', 1, 'snapshot_id'),
    optional('long', 3, 'sequence_number'),
    optional('long', 4, 'file_sequence_number'),
    {
      name: 'data_file',
      'field-id': 2,
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          {
            name: 'content',
            type: 'int',
            'field-id': 134,
            doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes',
          },
          { name: 'file_path', type: 'string', 'field-id': 100, doc: 'Location URI with FS scheme' },
          {
            name: 'file_format',
            type: 'string',
            'field-id': 101,
            doc: 'File format name: avro, orc, or parquet',
          },
          {
            name: 'partition',
            type: PARTITION_RECORD,
            'field-id': 102,
            doc: 'Partition data tuple, schema based on the partition spec',
          },
          { name: 'record_count', type: 'long', 'field-id': 103, doc: 'Number of records in the file' },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104, doc: 'Total file size in bytes' },
          optional({ type: 'array', items: 'long', 'element-id': 133 }, 132, 'split_offsets'),
          optional('int', 140, 'sort_order_id'),
        ],
      },
    },
  ],
};

/** manifest_file, format version 2 (spec "Manifest Lists"). */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500, doc: 'Location URI with FS scheme' },
    { name: 'manifest_length', type: 'long', 'field-id': 501, doc: 'Total file size in bytes' },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502, doc: 'Spec ID used to write' },
    { name: 'content', type: 'int', 'field-id': 517, doc: 'Contents of the manifest: 0=data, 1=deletes' },
    {
      name: 'sequence_number',
      type: 'long',
      'field-id': 515,
      doc: 'Sequence number when the manifest was added',
    },
    {
      name: 'min_sequence_number',
      type: 'long',
      'field-id': 516,
      doc: 'Lowest sequence number in the manifest',
    },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503, doc: 'Snapshot ID that added the manifest' },
    { name: 'added_files_count', type: 'int', 'field-id': 504, doc: 'Added entry count' },
    { name: 'existing_files_count', type: 'int', 'field-id': 505, doc: 'Existing entry count' },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506, doc: 'Deleted entry count' },
    { name: 'added_rows_count', type: 'long', 'field-id': 512, doc: 'Added rows count' },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513, doc: 'Existing rows count' },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514, doc: 'Deleted rows count' },
    optional(
      {
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            {
              name: 'contains_null',
              type: 'boolean',
              'field-id': 509,
              doc: 'True if any file has a null partition value',
            },
            optional('boolean', 518, 'contains_nan'),
            optional('bytes', 510, 'lower_bound'),
            optional('bytes', 511, 'upper_bound'),
          ],
        },
      },
      507,
      'partitions',
    ),
  ],
};

const entryType = avro.Type.forSchema(MANIFEST_ENTRY_SCHEMA as avro.Schema);
const manifestFileType = avro.Type.forSchema(MANIFEST_FILE_SCHEMA as avro.Schema);

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const blockType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Block',
  fields: [
    { name: 'count', type: 'long' },
    { name: 'data', type: 'bytes' },
  ],
});

/**
 * One Avro object container file in memory (Avro spec "Object Container Files"): header with the
 * writer's schema and metadata, one deflate block of every record, sync marker.
 */
function containerFile(
  schema: object,
  type: avro.Type,
  records: unknown[],
  meta: Record<string, string>,
): Buffer {
  const sync = randomBytes(16);
  const metaBytes: Record<string, Buffer> = {
    'avro.schema': Buffer.from(JSON.stringify(schema)),
    'avro.codec': Buffer.from('deflate'),
  };
  for (const [k, v] of Object.entries(meta)) metaBytes[k] = Buffer.from(v);
  const parts = [headerType.toBuffer({ magic: MAGIC, meta: metaBytes, sync })];
  if (records.length > 0) {
    const data = deflateRawSync(Buffer.concat(records.map((r) => type.toBuffer(r))));
    parts.push(blockType.toBuffer({ count: records.length, data }), sync);
  }
  return Buffer.concat(parts);
}

/** Reads every record of a container file (null or deflate codec) and its metadata. */
export function readContainer(bytes: Uint8Array): { meta: Record<string, string>; records: unknown[] } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new IcebergError('not an Avro object container file');
  const header = headerType.decode(buf, 0);
  if (header.offset < 0) throw new IcebergError('truncated Avro header');
  const { meta: rawMeta } = header.value as { meta: Record<string, Buffer> };
  const meta = Object.fromEntries(Object.entries(rawMeta).map(([k, v]) => [k, v.toString('utf8')]));
  const codec = meta['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new IcebergError(`Avro codec ${codec} is not supported`);
  const writer = avro.Type.forSchema(JSON.parse(meta['avro.schema'] ?? 'null') as avro.Schema);
  const records: unknown[] = [];
  let pos = header.offset;
  while (pos < buf.length) {
    const block = blockType.decode(buf, pos);
    if (block.offset < 0) throw new IcebergError('truncated Avro block');
    const { count, data } = block.value as { count: number; data: Buffer };
    const raw = codec === 'deflate' ? inflateRawSync(data) : data;
    let at = 0;
    for (let i = 0; i < count; i++) {
      const r = writer.decode(raw, at);
      if (r.offset < 0) throw new IcebergError('truncated Avro record');
      records.push(r.value);
      at = r.offset;
    }
    pos = block.offset + 16;
  }
  return { meta, records };
}

/** Iceberg's single-value binary serialization (Appendix D) of the two partition values. */
export function dateBound(days: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(days);
  return b;
}

/** Writes a data manifest of the given entries (spec "Manifests": key-value metadata included). */
export function encodeManifest(
  entries: readonly ManifestEntry[],
  context: { schema: Schema; spec: PartitionSpec; addedSnapshotId: number },
): Buffer {
  const records = entries.map((e) => ({
    status: e.status,
    // Added entries inherit snapshot id and sequence numbers from the manifest list (spec
    // "Sequence Number Inheritance"), so one manifest serves every retry of a commit.
    snapshot_id: e.status === 1 ? null : e.snapshotId,
    sequence_number: e.status === 1 ? null : e.sequenceNumber,
    file_sequence_number: e.status === 1 ? null : e.fileSequenceNumber,
    data_file: {
      content: 0,
      file_path: e.file.path,
      file_format: 'PARQUET',
      partition: { created_at_day: e.file.partition.created_at_day, language: e.file.partition.language },
      record_count: e.file.recordCount,
      file_size_in_bytes: e.file.fileSizeBytes,
      split_offsets: null,
      sort_order_id: 0,
    },
  }));
  return containerFile(MANIFEST_ENTRY_SCHEMA, entryType, records, {
    schema: JSON.stringify(context.schema),
    'schema-id': String(context.schema['schema-id']),
    'partition-spec': JSON.stringify(context.spec.fields),
    'partition-spec-id': String(context.spec['spec-id']),
    'format-version': '2',
    content: 'data',
  });
}

interface RawEntry {
  status: number;
  snapshot_id: number | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: {
    content: number;
    file_path: string;
    partition: { created_at_day: number | null; language: string | null };
    record_count: number;
    file_size_in_bytes: number;
  };
}

/** The entries of a manifest, with inherited snapshot ids and sequence numbers filled in. */
export function decodeManifest(bytes: Uint8Array, listed: ManifestFile): ManifestEntry[] {
  return (readContainer(bytes).records as RawEntry[]).map((r) => {
    const inherit = r.status === 1;
    return {
      status: r.status as EntryStatus,
      snapshotId: r.snapshot_id ?? listed.addedSnapshotId,
      sequenceNumber: r.sequence_number ?? (inherit ? listed.sequenceNumber : 0),
      fileSequenceNumber: r.file_sequence_number ?? (inherit ? listed.sequenceNumber : 0),
      file: {
        path: r.data_file.file_path,
        partition: {
          created_at_day: r.data_file.partition.created_at_day ?? Number.NaN,
          language: r.data_file.partition.language ?? '',
        },
        recordCount: r.data_file.record_count,
        fileSizeBytes: r.data_file.file_size_in_bytes,
      },
    } satisfies ManifestEntry;
  });
}

export function encodeManifestList(
  manifests: readonly ManifestFile[],
  context: { snapshotId: number; parentSnapshotId: number | undefined; sequenceNumber: number },
): Buffer {
  const records = manifests.map((m) => ({
    manifest_path: m.path,
    manifest_length: m.length,
    partition_spec_id: m.specId,
    content: 0,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFiles,
    existing_files_count: m.existingFiles,
    deleted_files_count: m.deletedFiles,
    added_rows_count: m.addedRows,
    existing_rows_count: m.existingRows,
    deleted_rows_count: m.deletedRows,
    partitions: m.partitions.map((p) => ({
      contains_null: p.containsNull,
      contains_nan: false,
      lower_bound: p.lower ? Buffer.from(p.lower) : null,
      upper_bound: p.upper ? Buffer.from(p.upper) : null,
    })),
  }));
  return containerFile(MANIFEST_FILE_SCHEMA, manifestFileType, records, {
    'snapshot-id': String(context.snapshotId),
    'parent-snapshot-id': context.parentSnapshotId === undefined ? 'null' : String(context.parentSnapshotId),
    'sequence-number': String(context.sequenceNumber),
    'format-version': '2',
  });
}

interface RawManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  sequence_number: number | null;
  min_sequence_number: number | null;
  added_snapshot_id: number;
  added_files_count: number | null;
  existing_files_count: number | null;
  deleted_files_count: number | null;
  added_rows_count: number | null;
  existing_rows_count: number | null;
  deleted_rows_count: number | null;
  partitions: { contains_null: boolean; lower_bound: Buffer | null; upper_bound: Buffer | null }[] | null;
}

export function decodeManifestList(bytes: Uint8Array): ManifestFile[] {
  return (readContainer(bytes).records as RawManifestFile[]).map((r) => ({
    path: r.manifest_path,
    length: r.manifest_length,
    specId: r.partition_spec_id,
    sequenceNumber: r.sequence_number ?? 0,
    minSequenceNumber: r.min_sequence_number ?? 0,
    addedSnapshotId: r.added_snapshot_id,
    // A null count means "assumed non-zero" (spec): 1 keeps such a manifest from looking empty.
    addedFiles: r.added_files_count ?? 1,
    existingFiles: r.existing_files_count ?? 1,
    deletedFiles: r.deleted_files_count ?? 1,
    addedRows: r.added_rows_count ?? 0,
    existingRows: r.existing_rows_count ?? 0,
    deletedRows: r.deleted_rows_count ?? 0,
    partitions: (r.partitions ?? []).map((p) => ({
      containsNull: p.contains_null,
      ...(p.lower_bound ? { lower: new Uint8Array(p.lower_bound) } : {}),
      ...(p.upper_bound ? { upper: new Uint8Array(p.upper_bound) } : {}),
    })),
  }));
}

/** The created_at_day range a manifest's partition summary gives, or undefined when it has none. */
export function dayRange(m: ManifestFile): { first: number; last: number } | undefined {
  const p = m.partitions[0];
  if (!p?.lower || !p.upper || p.lower.length !== 4 || p.upper.length !== 4) return undefined;
  const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, 4).readInt32LE(0);
  return { first: view(p.lower), last: view(p.upper) };
}

/** Summaries of the partition fields over some files, for the manifest list. */
export function partitionSummaries(files: readonly DataFile[]): ManifestFile['partitions'] {
  if (files.length === 0) return [{ containsNull: false }, { containsNull: false }];
  const days = files.map((f) => f.partition.created_at_day);
  // Strings compare as their UTF-8 bytes, unsigned (spec Appendix D), not as JavaScript's UTF-16 order.
  const languages = files.map((f) => Buffer.from(f.partition.language, 'utf8')).sort(Buffer.compare);
  return [
    { containsNull: false, lower: dateBound(Math.min(...days)), upper: dateBound(Math.max(...days)) },
    { containsNull: false, lower: languages[0]!, upper: languages[languages.length - 1]! },
  ];
}
