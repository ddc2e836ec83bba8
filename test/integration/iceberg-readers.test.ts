import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { icebergManifests, icebergMetadata, icebergRead } from 'icebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { createCuratedView } from '../../compaction/read.js';
import { curatedColumns } from '../../events/curated.js';
import type { StagedEvent } from '../../events/types.js';
import { readMetadataFile } from '../../iceberg/catalog.js';
import { METADATA_PREFIX, TABLE_PREFIX } from '../../iceberg/location.js';
import type { NestedField, TableMetadata } from '../../iceberg/types.js';
import { DEFAULT_CONFIG } from '../../infra/config-defaults.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import {
  ndjsonGz,
  rng,
  type StagingDay,
  stagedEvent,
  stagingKey,
  writeStagingDay,
} from '../compaction-staging.js';
import { withFileUrlFetch } from '../support/file-url-fetch.js';
import { openApiValidator } from '../support/openapi-schema.js';

// The curated table read by code Firelake did not write: icebird (an Iceberg reader for
// JavaScript) reads the current snapshot, Apache's Avro implementation for Python decodes every
// manifest list and manifest, and the Iceberg REST catalog's OpenAPI schema validates every
// metadata file. Field lists and requirements are those of the spec (apache/iceberg
// format/spec.md, format version 2): "Manifests", "Manifest Entry Fields", "Data File Fields",
// "Manifest Lists", "Table Metadata Fields", Appendix A "Avro".

const DAYS = ['2026-11-18', '2026-11-19', '2026-11-20'] as const;
/** A language the catalog does not list: the schema takes any 1-64 characters. */
const OPEN_LANGUAGE = 'pt-BR';
/** Debian's interpreter: its python3-avro is Apache's Avro. */
const DEBIAN_PYTHON = '/usr/bin/python3';
const OPENAPI = join(import.meta.dirname, '..', 'fixtures', 'iceberg', 'rest-catalog-open-api.yaml');
const engine = { memoryLimitMiB: 512, threads: 1 };

let root: string;
let store: FolderStore;
let tableUrl: string;
const staged = new Map<string, StagingDay>();
let openLesson: StagedEvent;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'firelake-iceberg-readers-'));
  store = new FolderStore(join(root, 'lake'));
  tableUrl = pathToFileURL(join(store.root, TABLE_PREFIX)).href;
  for (const [i, day] of DAYS.entries()) {
    staged.set(
      day,
      await writeStagingDay(store, {
        day,
        hours: [1, 9, 17],
        minutes: [0, 20, 40],
        eventsPerObject: 40,
        duplicateShare: 0.05,
        seed: 31 + i,
      }),
    );
  }
  // A lesson in a language outside catalog.languages, on the middle day.
  const t = Date.parse(`${DAYS[1]}T12:00:00Z`);
  const random = rng(5);
  let lesson = stagedEvent(random, t, t + 2_000);
  while (lesson.event_name !== 'lesson:completed') lesson = stagedEvent(random, t, t + 2_000);
  openLesson = {
    ...lesson,
    language: OPEN_LANGUAGE,
    event_specifics: { ...lesson.event_specifics, language: OPEN_LANGUAGE },
  };
  await store.put(stagingKey(t, t + 60_000), ndjsonGz([openLesson]));
  staged.get(DAYS[1])!.events.set(openLesson.event_uuid, openLesson);

  for (const day of DAYS) await compactDay({ store, day, ...engine });
  // A recompaction: an overwrite snapshot whose manifests mark the replaced files deleted.
  await compactDay({ store, day: DAYS[0], force: true, ...engine });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const metadataDir = () => join(store.root, ...METADATA_PREFIX.split('/'));

/** Every metadata file of the table, oldest first. */
function metadataFiles(): { name: string; metadata: TableMetadata }[] {
  return readdirSync(metadataDir())
    .filter((n) => /^v\d+\.metadata\.json$/.test(n))
    .sort((a, b) => Number(a.slice(1, -14)) - Number(b.slice(1, -14)))
    .map((name) => ({
      name,
      metadata: JSON.parse(readFileSync(join(metadataDir(), name), 'utf8')) as TableMetadata,
    }));
}

async function current(): Promise<TableMetadata> {
  const { metadata } = metadataFiles().at(-1)!;
  expect(await readMetadataFile(store, `${METADATA_PREFIX}v${metadataFiles().length}.metadata.json`)).toEqual(
    metadata,
  );
  return metadata;
}

/** event_uuids per UTC day of created_at. */
function uuidsByDay(
  rows: readonly { event_uuid: string; created_at: Date | string }[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const day = new Date(r.created_at).toISOString().slice(0, 10);
    out.set(day, [...(out.get(day) ?? []), r.event_uuid]);
  }
  for (const uuids of out.values()) uuids.sort();
  return out;
}

/** The day through Firelake's own reader (the files of the current snapshot, read by DuckDB). */
async function firelakeRows(day: string): Promise<{ event_uuid: string; created_at: string }[]> {
  const db = await openDuckDb();
  try {
    await createCuratedView(db.connection, store, [day]);
    const reader = await db.connection.runAndReadAll(
      `SELECT event_uuid, strftime(created_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS created_at FROM curated_events`,
    );
    return reader.getRowObjectsJson() as { event_uuid: string; created_at: string }[];
  } finally {
    db.close();
  }
}

describe('icebird reading the table', () => {
  it('reads the current snapshot and gets every day as Firelake reads it: the same event_uuids, once each', async () => {
    const rows = await withFileUrlFetch(() => icebergRead({ tableUrl }));
    const byIcebird = uuidsByDay(rows as { event_uuid: string; created_at: Date }[]);
    expect([...byIcebird.keys()].sort()).toEqual([...DAYS]);
    for (const day of DAYS) {
      const expected = [...staged.get(day)!.events.keys()].sort();
      const byFirelake = uuidsByDay(await firelakeRows(day)).get(day)!;
      expect(byFirelake).toEqual(expected);
      expect(byIcebird.get(day)).toEqual(expected);
    }
    // The values come through by field id: a row icebird read is the row that was staged.
    const sample = [...staged.get(DAYS[2])!.events.values()].find((e) => e.event_name === 'game:completed')!;
    const read = rows.find((r) => r.event_uuid === sample.event_uuid)!;
    expect(read).toMatchObject({
      event_name: 'game:completed',
      user_uuid: sample.user_uuid,
      language: sample.language,
      event_specifics: { score: BigInt(sample.event_specifics.score as number) },
    });
    expect((read.created_at as Date).toISOString()).toBe(sample.created_at);
  });

  it('finds the table as the file-system convention says: version-hint.text names the newest metadata file', async () => {
    const metadata = await withFileUrlFetch(() => icebergMetadata({ tableUrl }));
    expect(metadata).toEqual(await current());
  });

  it("reads Parquet files whose field ids and types are the table schema's (spec Appendix A, Parquet)", async () => {
    const metadata = await current();
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id'])!;
    const ids = (fields: readonly NestedField[], prefix = ''): [string, number, string][] =>
      fields.flatMap((f) => [
        [prefix + f.name, f.id, typeof f.type === 'string' ? f.type : 'struct'] as [string, number, string],
        ...(typeof f.type === 'string' ? [] : ids(f.type.fields, `${prefix}${f.name}.`)),
      ]);
    const expected = ids(schema.fields);
    expect(expected.map(([p]) => p).filter((p) => !p.includes('.'))).toEqual(
      curatedColumns().map((c) => c.name),
    );
    const manifests = await withFileUrlFetch(async () =>
      icebergManifests(await icebergMetadata({ tableUrl })),
    );
    const paths = manifests.flatMap((m) =>
      m.entries.filter((e) => e.status !== 2).map((e) => e.data_file.file_path),
    );
    expect(paths.length).toBeGreaterThan(DAYS.length * 5);
    for (const path of paths) {
      const meta = await parquetMetadataAsync(await asyncBufferFromFile(fileURLToPath(path)));
      // The flattened Parquet schema: the root, then each column and struct field in order.
      const found: [string, number, string][] = [];
      const walk = (at: number, prefix: string): number => {
        const element = meta.schema[at]!;
        let next = at + 1;
        for (let i = 0; i < (element.num_children ?? 0); i++) {
          const child = meta.schema[next]!;
          found.push([prefix + child.name, child.field_id!, parquetType(child)]);
          next = walk(next, `${prefix}${child.name}.`);
        }
        return next;
      };
      walk(0, '');
      expect(found).toEqual(expected);
    }
  });
});

/** The Iceberg type a Parquet schema element stores, by the spec's Parquet type mapping. */
function parquetType(e: {
  type?: string;
  num_children?: number;
  converted_type?: string;
  logical_type?: { type: string; isAdjustedToUTC?: boolean; unit?: string };
}): string {
  if (e.num_children !== undefined) return 'struct';
  const logical = e.logical_type;
  if (e.type === 'INT64' && logical?.type === 'TIMESTAMP' && logical.unit === 'MICROS')
    return logical.isAdjustedToUTC ? 'timestamptz' : 'timestamp';
  if (e.type === 'BYTE_ARRAY' && (logical?.type === 'STRING' || e.converted_type === 'UTF8')) return 'string';
  // A signed 64- or 32-bit INTEGER annotation (DuckDB writes one) says what the physical type does.
  if (
    e.type === 'INT64' &&
    (logical?.type ?? 'INTEGER') === 'INTEGER' &&
    (e.converted_type ?? 'INT_64') === 'INT_64'
  )
    return 'long';
  if (
    e.type === 'INT32' &&
    (logical?.type ?? 'INTEGER') === 'INTEGER' &&
    (e.converted_type ?? 'INT_32') === 'INT_32'
  )
    return 'int';
  if (e.type === 'DOUBLE') return 'double';
  if (e.type === 'BOOLEAN') return 'boolean';
  return `${e.type}/${logical?.type ?? e.converted_type}`;
}

describe('a language outside catalog.languages', () => {
  it('is in the table: icebird reads the lesson, and its file is partitioned by that language', async () => {
    expect(DEFAULT_CONFIG.catalog.languages).not.toContain(OPEN_LANGUAGE);
    const { rows, manifests } = await withFileUrlFetch(async () => {
      const metadata = await icebergMetadata({ tableUrl });
      return { rows: await icebergRead({ tableUrl, metadata }), manifests: await icebergManifests(metadata) };
    });
    expect(rows.filter((r) => r.language === OPEN_LANGUAGE).map((r) => r.event_uuid)).toEqual([
      openLesson.event_uuid,
    ]);
    const live = manifests.flatMap((m) => m.entries.filter((e) => e.status !== 2));
    // icebird types the partition tuple by field id; Apache's readers, as the Avro holds it, by name.
    const partition = (e: (typeof live)[number]) =>
      e.data_file.partition as unknown as { created_at_day: Date; language: string };
    const open = live.filter((e) => partition(e).language === OPEN_LANGUAGE);
    expect(open).toHaveLength(1);
    expect(Number(open[0]!.data_file.record_count)).toBe(1);
    expect(open[0]!.data_file.file_path).toContain(`/language=${OPEN_LANGUAGE}/`);
    expect(partition(open[0]!).created_at_day.toISOString().slice(0, 10)).toBe(DAYS[1]);
    expect((await firelakeRows(DAYS[1])).map((r) => r.event_uuid)).toContain(openLesson.event_uuid);
  });
});

// --- Apache Avro (Python) -------------------------------------------------------------------

interface Decoded {
  path: string;
  meta: Record<string, string>;
  records: Record<string, unknown>[];
}

function decodeWithApacheAvro(paths: readonly string[]): Decoded[] {
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import avro'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `Debian's python3-avro is needed at ${DEBIAN_PYTHON} (apt-get install -y python3-avro; .ci/run installs it): ${probe.error?.message ?? probe.stderr.trim()}`,
    );
  }
  const run = spawnSync(
    DEBIAN_PYTHON,
    [join(import.meta.dirname, '..', 'support', 'avro-decode.py'), ...paths],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  if (run.status !== 0) throw new Error(`Apache Avro could not decode the files: ${run.stderr}`);
  return JSON.parse(run.stdout) as Decoded[];
}

type AvroType = string | AvroRecord | { type: string; [k: string]: unknown } | AvroType[];
interface AvroField {
  name: string;
  type: AvroType;
  default?: unknown;
  'field-id'?: number;
}
interface AvroRecord {
  type: 'record';
  name: string;
  fields: AvroField[];
}

/** [field id, name, Avro type, required in v2] as the spec's tables give them. */
type SpecField = [number, string, string, boolean];

const MANIFEST_ENTRY: SpecField[] = [
  [0, 'status', 'int', true],
  [1, 'snapshot_id', 'long', false],
  [3, 'sequence_number', 'long', false],
  [4, 'file_sequence_number', 'long', false],
  [2, 'data_file', 'record', true],
];
const DATA_FILE: SpecField[] = [
  [134, 'content', 'int', true],
  [100, 'file_path', 'string', true],
  [101, 'file_format', 'string', true],
  [102, 'partition', 'record', true],
  [103, 'record_count', 'long', true],
  [104, 'file_size_in_bytes', 'long', true],
];
/** Fields v2 says not to write (block_size_in_bytes; file_ordinal, sort_columns, distinct_counts). */
const DATA_FILE_NOT_IN_V2 = [105, 106, 107, 111];
const MANIFEST_FILE: SpecField[] = [
  [500, 'manifest_path', 'string', true],
  [501, 'manifest_length', 'long', true],
  [502, 'partition_spec_id', 'int', true],
  [517, 'content', 'int', true],
  [515, 'sequence_number', 'long', true],
  [516, 'min_sequence_number', 'long', true],
  [503, 'added_snapshot_id', 'long', true],
  [504, 'added_files_count', 'int', true],
  [505, 'existing_files_count', 'int', true],
  [506, 'deleted_files_count', 'int', true],
  [512, 'added_rows_count', 'long', true],
  [513, 'existing_rows_count', 'long', true],
  [514, 'deleted_rows_count', 'long', true],
  [507, 'partitions', 'array', false],
];
const FIELD_SUMMARY: SpecField[] = [
  [509, 'contains_null', 'boolean', true],
  [518, 'contains_nan', 'boolean', false],
  [510, 'lower_bound', 'bytes', false],
  [511, 'upper_bound', 'bytes', false],
];

const typeName = (t: AvroType): string => (typeof t === 'string' ? t : Array.isArray(t) ? 'union' : t.type);

/**
 * The record has the spec's fields by id and name; a required one is not nullable, an optional
 * one is a union with null that defaults to null (Appendix A). Returns each field's value type.
 */
function expectFields(record: AvroRecord, spec: readonly SpecField[]): Map<string, AvroType> {
  const out = new Map<string, AvroType>();
  for (const [id, name, type, required] of spec) {
    const field = record.fields.find((f) => f['field-id'] === id);
    expect(field, `${record.name}: field ${id} ${name}`).toBeDefined();
    expect(field!.name).toBe(name);
    let value = field!.type;
    if (required) expect(typeName(value), `${name} is required`).not.toBe('union');
    else {
      expect(Array.isArray(value) && value.length === 2 && value[0] === 'null', `${name} is optional`).toBe(
        true,
      );
      expect(field).toHaveProperty('default', null);
      value = (value as AvroType[])[1]!;
    }
    expect(typeName(value), `${name}'s type`).toBe(type);
    out.set(name, value);
  }
  return out;
}

/** Every record field of a schema carries a field-id, every array an element-id (Appendix A). */
function expectIds(type: AvroType, path: string): void {
  if (Array.isArray(type)) for (const t of type) expectIds(t, path);
  else if (typeof type === 'object' && type.type === 'record') {
    for (const f of (type as unknown as AvroRecord).fields) {
      expect(Number.isInteger(f['field-id']), `${path}.${f.name} has a field-id`).toBe(true);
      expectIds(f.type, `${path}.${f.name}`);
    }
  } else if (typeof type === 'object' && type.type === 'array') {
    expect(Number.isInteger(type['element-id']), `${path} has an element-id`).toBe(true);
    expectIds(type.items as AvroType, `${path}[]`);
  }
}

const isLong = (v: unknown) => Number.isSafeInteger(v);
const bytesOf = (v: unknown) => Buffer.from((v as { bytes: string }).bytes, 'hex');

describe("Apache Avro's Python implementation decoding the manifests", () => {
  it('decodes every manifest list and manifest of every snapshot, with the fields and metadata the spec requires', async () => {
    const metadata = await current();
    const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id'])!;
    expect(metadata.snapshots.length).toBe(DAYS.length + 1);
    expect(metadata.snapshots.at(-1)!.summary.operation).toBe('overwrite');
    const lists = decodeWithApacheAvro(metadata.snapshots.map((s) => fileURLToPath(s['manifest-list'])));
    const manifestPaths = [
      ...new Set(lists.flatMap((l) => l.records.map((r) => fileURLToPath(r.manifest_path as string)))),
    ];
    const manifests = new Map(decodeWithApacheAvro(manifestPaths).map((m) => [m.path, m]));
    let deletedEntries = 0;

    for (const [i, list] of lists.entries()) {
      const snapshot = metadata.snapshots[i]!;
      const schema = JSON.parse(list.meta['avro.schema']!) as AvroRecord;
      expect(schema.name).toBe('manifest_file');
      const listFields = expectFields(schema, MANIFEST_FILE);
      const summary = (listFields.get('partitions') as unknown as { items: AvroRecord }).items;
      expectFields(summary, FIELD_SUMMARY);
      expectIds(schema, 'manifest_file');
      expect(list.meta).toMatchObject({
        'snapshot-id': String(snapshot['snapshot-id']),
        'sequence-number': String(snapshot['sequence-number']),
        'format-version': '2',
      });

      for (const m of list.records) {
        for (const [, name, type, required] of MANIFEST_FILE) {
          if (!required) continue;
          expect(
            type === 'string' ? typeof m[name] === 'string' : isLong(m[name]),
            `${name} = ${m[name]}`,
          ).toBe(true);
        }
        expect(m.content).toBe(0);
        expect(m.partition_spec_id).toBe(spec['spec-id']);
        expect(m.sequence_number as number).toBeLessThanOrEqual(snapshot['sequence-number']);
        const path = fileURLToPath(m.manifest_path as string);
        expect(m.manifest_length).toBe(statSync(path).size);
        const manifest = manifests.get(path)!;

        // The manifest's own key-value metadata (spec "Manifests": all six required in v2).
        expect(Object.keys(manifest.meta).sort()).toEqual(
          expect.arrayContaining([
            'content',
            'format-version',
            'partition-spec',
            'partition-spec-id',
            'schema',
            'schema-id',
          ]),
        );
        const schemaId = Number(manifest.meta['schema-id']);
        expect(JSON.parse(manifest.meta.schema!)).toEqual(
          metadata.schemas.find((s) => s['schema-id'] === schemaId),
        );
        expect(JSON.parse(manifest.meta['partition-spec']!)).toEqual(spec.fields);
        expect(manifest.meta).toMatchObject({
          'partition-spec-id': String(spec['spec-id']),
          'format-version': '2',
          content: 'data',
        });

        const entrySchema = JSON.parse(manifest.meta['avro.schema']!) as AvroRecord;
        expect(entrySchema.name).toBe('manifest_entry');
        const dataFile = expectFields(entrySchema, MANIFEST_ENTRY).get('data_file') as unknown as AvroRecord;
        const dataFields = expectFields(dataFile, DATA_FILE);
        for (const id of DATA_FILE_NOT_IN_V2)
          expect(dataFile.fields.map((f) => f['field-id'])).not.toContain(id);
        expectIds(entrySchema, 'manifest_entry');
        // The partition struct: the spec's partition fields by their ids, of their result types
        // (day -> date, identity(string) -> string), optional as partition values are.
        const partition = dataFields.get('partition') as unknown as AvroRecord;
        expect(partition.fields.map((f) => [f['field-id'], f.name, f.type])).toEqual([
          [spec.fields[0]!['field-id'], 'created_at_day', ['null', { type: 'int', logicalType: 'date' }]],
          [spec.fields[1]!['field-id'], 'language', ['null', 'string']],
        ]);

        // Entries: values of their types; inherited numbers only where the spec allows it.
        const entries = manifest.records as {
          status: number;
          snapshot_id: number | null;
          sequence_number: number | null;
          file_sequence_number: number | null;
          data_file: Record<string, unknown> & {
            partition: { created_at_day: { date: string }; language: string };
          };
        }[];
        expect(entries.length).toBeGreaterThan(0);
        const count = (status: number) => entries.filter((e) => e.status === status);
        const rows = (status: number) =>
          count(status).reduce((s, e) => s + (e.data_file.record_count as number), 0);
        expect([m.added_files_count, m.existing_files_count, m.deleted_files_count]).toEqual([
          count(1).length,
          count(0).length,
          count(2).length,
        ]);
        expect([m.added_rows_count, m.existing_rows_count, m.deleted_rows_count]).toEqual([
          rows(1),
          rows(0),
          rows(2),
        ]);
        for (const e of entries) {
          expect([0, 1, 2]).toContain(e.status);
          if (e.status !== 1) {
            // Existing and deleted entries carry both sequence numbers ("Sequence Number Inheritance").
            expect(isLong(e.sequence_number) && isLong(e.file_sequence_number) && isLong(e.snapshot_id)).toBe(
              true,
            );
          }
          if (e.status === 2) {
            deletedEntries++;
            expect(e.snapshot_id).toBe(m.added_snapshot_id);
          }
          const f = e.data_file;
          expect(f.content).toBe(0);
          expect(f.file_path).toMatch(/^file:\/\/\/.*\.parquet$/);
          expect(String(f.file_format).toLowerCase()).toBe('parquet');
          expect(isLong(f.record_count) && isLong(f.file_size_in_bytes)).toBe(true);
          expect(f.partition.created_at_day.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
          expect(f.file_path).toContain(`/day=${f.partition.created_at_day.date.slice(8)}/`);
          expect(f.file_path).toContain(`/language=${f.partition.language}/`);
          if (e.status !== 2)
            expect(f.file_size_in_bytes).toBe(statSync(fileURLToPath(f.file_path as string)).size);
        }

        // The partition summaries bound the entries' values (Appendix D single-value serialization).
        const parts = m.partitions as {
          contains_null: boolean;
          lower_bound: unknown;
          upper_bound: unknown;
        }[];
        expect(parts).toHaveLength(spec.fields.length);
        const days = entries.map((e) => Date.parse(e.data_file.partition.created_at_day.date) / 86_400_000);
        expect(bytesOf(parts[0]!.lower_bound).readInt32LE(0)).toBe(Math.min(...days));
        expect(bytesOf(parts[0]!.upper_bound).readInt32LE(0)).toBe(Math.max(...days));
        const languages = entries.map((e) => e.data_file.partition.language).sort();
        expect(bytesOf(parts[1]!.lower_bound).toString('utf8')).toBe(languages[0]);
        expect(bytesOf(parts[1]!.upper_bound).toString('utf8')).toBe(languages.at(-1));
        expect(parts.every((p) => p.contains_null === false)).toBe(true);
      }
    }
    // The recompaction's snapshot marked the day's earlier files deleted.
    expect(deletedEntries).toBeGreaterThan(5);
  });
});

// --- The REST catalog's TableMetadata schema ------------------------------------------------

/** Required in format version 2 (spec "Table Metadata Fields"); the REST schema requires only two. */
const V2_REQUIRED = [
  'format-version',
  'table-uuid',
  'location',
  'last-sequence-number',
  'last-updated-ms',
  'last-column-id',
  'schemas',
  'current-schema-id',
  'partition-specs',
  'default-spec-id',
  'last-partition-id',
  'sort-orders',
  'default-sort-order-id',
];
const V2_SNAPSHOT_REQUIRED = ['snapshot-id', 'sequence-number', 'timestamp-ms', 'manifest-list', 'summary'];

describe("the REST catalog's TableMetadata schema", () => {
  const validate = openApiValidator(OPENAPI, 'TableMetadata');

  it('accepts every metadata file of the table, each with the fields format version 2 requires', () => {
    const files = metadataFiles();
    expect(files.map((f) => f.name)).toEqual(files.map((_, i) => `v${i + 1}.metadata.json`));
    expect(files.length).toBe(DAYS.length + 1);
    for (const { name, metadata } of files) {
      expect(validate(metadata) ? [] : validate.errors, name).toEqual([]);
      for (const key of V2_REQUIRED) expect(metadata, `${name}: ${key}`).toHaveProperty([key]);
      expect(metadata['format-version']).toBe(2);
      for (const s of metadata.snapshots)
        for (const key of V2_SNAPSHOT_REQUIRED) expect(s, `${name}: snapshot ${key}`).toHaveProperty([key]);
      // The main branch and the current snapshot agree ("Table Metadata Fields", refs).
      expect(metadata.refs.main?.['snapshot-id']).toBe(metadata['current-snapshot-id']);
    }
  });

  it('refuses metadata that breaks it, so the acceptance above means something', () => {
    const metadata = structuredClone(metadataFiles().at(-1)!.metadata) as unknown as Record<string, unknown>;
    const broken = [
      (m: Record<string, unknown>) => {
        delete m['table-uuid'];
      },
      (m: Record<string, unknown>) => {
        (m.snapshots as { summary: { operation: string } }[])[0]!.summary.operation = 'merge';
      },
      (m: Record<string, unknown>) => {
        (m.schemas as { fields: { type: unknown }[] }[])[0]!.fields[0]!.type = 7;
      },
      (m: Record<string, unknown>) => {
        (m.refs as Record<string, { type: string }>).main!.type = 'trunk';
      },
      (m: Record<string, unknown>) => {
        m['format-version'] = 9;
      },
    ];
    for (const breakIt of broken) {
      const copy = structuredClone(metadata);
      breakIt(copy);
      expect(validate(copy)).toBe(false);
    }
    expect(validate(metadata)).toBe(true);
  });
});
