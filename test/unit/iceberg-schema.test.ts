import { describe, expect, it } from 'vitest';
import { curatedColumns, specificsFields } from '../../events/curated.js';
import {
  dayRange,
  decodeManifest,
  decodeManifestList,
  encodeManifest,
  encodeManifestList,
  partitionSummaries,
} from '../../iceberg/avro.js';
import { newTableMetadata, withCuratedSchema, withSnapshot } from '../../iceberg/metadata.js';
import { dayOfEpochDay, epochDay, idsByPath, numberSchema, partitionSpec } from '../../iceberg/schema.js';
import { type NestedField, type Schema, type Snapshot, STATUS } from '../../iceberg/types.js';

// The curated table's schema and metadata documents, without a lake.

const schemaOf = (fields: NestedField[]): Schema => ({ type: 'struct', 'schema-id': 0, fields });

describe('the curated Iceberg schema', () => {
  it('numbers every curated column and specifics field once, top-level columns first', () => {
    const { fields, lastColumnId } = numberSchema(undefined, 0);
    expect(fields.map((f) => f.name)).toEqual(curatedColumns().map((c) => c.name));
    expect(fields.map((f) => f.id)).toEqual(curatedColumns().map((_, i) => i + 1));
    const ids = [...idsByPath(fields).values()].map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(lastColumnId).toBe(curatedColumns().length + specificsFields().length);
    expect(fields.find((f) => f.name === 'created_at')).toMatchObject({ type: 'timestamp', required: true });
  });

  it('keeps every id across a renumbering and gives a field the catalog adopted the next unused id', () => {
    const full = numberSchema(undefined, 0);
    // The table as it was before the catalog named `score`: that field missing from the struct.
    const before = full.fields.map((f) =>
      typeof f.type === 'string'
        ? f
        : { ...f, type: { ...f.type, fields: f.type.fields.filter((x) => x.name !== 'score') } },
    );
    const again = numberSchema(schemaOf(before), full.lastColumnId);
    const ids = idsByPath(again.fields);
    for (const [path, field] of idsByPath(before)) expect(ids.get(path)?.id, path).toBe(field.id);
    expect(ids.get('event_specifics.score')?.id).toBe(full.lastColumnId + 1);
    expect(again.lastColumnId).toBe(full.lastColumnId + 1);
  });

  it('refuses a column whose type changed', () => {
    const full = numberSchema(undefined, 0);
    const changed = full.fields.map((f) => (f.name === 'event_uuid' ? { ...f, type: 'long' as const } : f));
    expect(() => numberSchema(schemaOf(changed), full.lastColumnId)).toThrow(
      /event_uuid changed type from long to string/,
    );
  });

  it('partitions by day(created_at) and identity(language), ids from 1000', () => {
    const { fields } = numberSchema(undefined, 0);
    const spec = partitionSpec({ fields });
    expect(spec.fields).toEqual([
      { 'source-id': 5, 'field-id': 1000, name: 'created_at_day', transform: 'day' },
      { 'source-id': 8, 'field-id': 1001, name: 'language', transform: 'identity' },
    ]);
    expect(epochDay('1970-01-02')).toBe(1);
    expect(dayOfEpochDay(epochDay('2026-11-20'))).toBe('2026-11-20');
  });

  it('keeps the schema when nothing changed, and sets a name mapping for files without ids', () => {
    const metadata = newTableMetadata('file:///lake/curated/events', 1);
    const same = withCuratedSchema(metadata);
    expect(same.schemas).toHaveLength(1);
    const mapping = JSON.parse(same.properties['schema.name-mapping.default']!) as {
      'field-id': number;
      names: string[];
    }[];
    expect(mapping.map((m) => m.names[0])).toEqual(curatedColumns().map((c) => c.name));
  });
});

describe('manifests and snapshots', () => {
  const { fields } = numberSchema(undefined, 0);
  const schema = schemaOf(fields);
  const spec = partitionSpec(schema);
  const file = (day: string, language: string, n: number) => ({
    path: `s3://b/curated/events/${day}/${language}-${n}.parquet`,
    partition: { created_at_day: epochDay(day), language },
    recordCount: 10 * n,
    fileSizeBytes: 1000 * n,
  });

  it('reads back what it writes, added entries inheriting the manifest list values', () => {
    const files = [file('2026-11-20', 'de', 1), file('2026-11-20', 'pt-BR', 2)];
    const bytes = encodeManifest(
      files.map((f) => ({
        status: STATUS.added,
        snapshotId: 0,
        sequenceNumber: 0,
        fileSequenceNumber: 0,
        file: f,
      })),
      { schema, spec, addedSnapshotId: 0 },
    );
    const listed = {
      path: 's3://b/m.avro',
      length: bytes.length,
      specId: 0,
      sequenceNumber: 7,
      minSequenceNumber: 7,
      addedSnapshotId: 42,
      addedFiles: 2,
      existingFiles: 0,
      deletedFiles: 0,
      addedRows: 30,
      existingRows: 0,
      deletedRows: 0,
      partitions: partitionSummaries(files),
    };
    const entries = decodeManifest(bytes, listed);
    expect(entries.map((e) => e.file)).toEqual(files);
    expect(
      entries.every((e) => e.snapshotId === 42 && e.sequenceNumber === 7 && e.fileSequenceNumber === 7),
    ).toBe(true);
    const [back] = decodeManifestList(
      encodeManifestList([listed], { snapshotId: 42, parentSnapshotId: undefined, sequenceNumber: 7 }),
    );
    const bounds = (m: typeof listed) =>
      m.partitions.map((p) => [
        p.containsNull,
        Buffer.from(p.lower!).toString('hex'),
        Buffer.from(p.upper!).toString('hex'),
      ]);
    expect({ ...back!, partitions: bounds(back!) }).toEqual({ ...listed, partitions: bounds(listed) });
    expect(dayRange(back!)).toEqual({ first: epochDay('2026-11-20'), last: epochDay('2026-11-20') });
  });

  it('bounds the language partition by UTF-8 byte order, not JavaScript string order', () => {
    // JavaScript puts U+1F600 first (its UTF-16 surrogate 0xD83D is below 0xFF21); in UTF-8,
    // U+FF21 (EF BC A1) is below U+1F600 (F0 9F 98 80).
    const [, language] = partitionSummaries([
      file('2026-11-20', '\u{1F600}', 1),
      file('2026-11-20', '\uFF21', 2),
    ]);
    expect(Buffer.from(language!.lower!).toString('utf8')).toBe('\uFF21');
    expect(Buffer.from(language!.upper!).toString('utf8')).toBe('\u{1F600}');
  });

  it('expires snapshots older than the retention, never the current one, and trims the snapshot log', () => {
    const snap = (id: number, at: number): Snapshot => ({
      'snapshot-id': id,
      'sequence-number': id,
      'timestamp-ms': at,
      'manifest-list': `s3://b/snap-${id}.avro`,
      summary: { operation: 'append' },
      'schema-id': 0,
    });
    let metadata = newTableMetadata('s3://b/curated/events', 0);
    metadata = withSnapshot(metadata, snap(1, 1_000), {
      now: 1_000,
      previousMetadataFile: undefined,
    }).metadata;
    metadata = withSnapshot(metadata, snap(2, 5_000), {
      now: 5_000,
      previousMetadataFile: 's3://b/v1.metadata.json',
    }).metadata;
    const { metadata: next, expired } = withSnapshot(metadata, snap(3, 9_000), {
      now: 9_000,
      previousMetadataFile: 's3://b/v2.metadata.json',
      retentionMs: 4_000,
    });
    expect(expired.map((s) => s['snapshot-id'])).toEqual([1]);
    expect(next.snapshots.map((s) => s['snapshot-id'])).toEqual([2, 3]);
    expect(next['snapshot-log'].map((e) => e['snapshot-id'])).toEqual([2, 3]);
    expect(next['current-snapshot-id']).toBe(3);
    expect(next.refs).toEqual({ main: { 'snapshot-id': 3, type: 'branch' } });
    expect(
      withSnapshot(next, snap(4, 99_000), {
        now: 99_000,
        previousMetadataFile: undefined,
        retentionMs: 0,
      }).metadata.snapshots.map((s) => s['snapshot-id']),
    ).toEqual([4]);
  });
});
