import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { ConcurrentRunError } from '../../compaction/errors.js';
import { readManifest } from '../../compaction/manifest.js';
import { curatedColumns, specificsFields } from '../../events/curated.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { curatedDayPrefix } from '../../lake/layout.js';
import { S3Store } from '../../lake/s3-store.js';
import { listAll } from '../../lake/store.js';
import { writeStagingDay } from '../compaction-staging.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

// The S3 code path (real SDK client against s3rver, with S3's conditional writes), the Lambda
// handler on it, and the Parquet read back by an independent reader (hyparquet).

let s3: LocalS3;
let work: string;
beforeAll(async () => {
  s3 = await startS3rver();
  work = mkdtempSync(join(tmpdir(), 'firelake-compaction-s3-'));
});
afterAll(async () => {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
});

const engine = { memoryLimitMiB: 512, threads: 2 };

describe('compaction on S3', () => {
  it('compacts a day from S3 under a prefix, then finds nothing to do', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake-a');
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [0, 12], duplicateShare: 0.1 });

    const first = await compactDay({ store, day: '2026-11-20', ...engine });

    expect(first.status).toBe('published');
    expect(first.rows).toBe(staged.unique);
    expect(first.duplicates_dropped).toBe(staged.duplicates);
    const keys = (await listAll(store, curatedDayPrefix('2026-11-20'))).map((o) => o.key).sort();
    expect(keys).toEqual(first.files.map((f) => f.key).sort());
    const { manifest } = (await readManifest(store, '2026-11-20'))!;
    expect(manifest.staging_objects.map((o) => o.key)).toEqual(staged.keys.slice().sort());
    expect(manifest.staging_objects.every((o) => /^"[0-9a-f]{32}"$/.test(o.etag))).toBe(true);

    const second = await compactDay({ store, day: '2026-11-20', ...engine });
    expect(second.status).toBe('unchanged');
  });

  it('lets one of two concurrent runs win the conditional manifest write; the loser removes its files', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake-b');
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [3] });
    let arrived = 0;
    let release: () => void = () => {};
    const bothThere = new Promise<void>((r) => {
      release = r;
    });
    const barrier = async () => {
      if (++arrived === 2) release();
      await bothThere;
    };

    const results = await Promise.allSettled([
      compactDay({ store, day: '2026-11-20', ...engine, beforePublish: barrier }),
      compactDay({ store, day: '2026-11-20', ...engine, beforePublish: barrier }),
    ]);

    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]).toBeInstanceOf(ConcurrentRunError);
    const keys = (await listAll(store, curatedDayPrefix('2026-11-20'))).map((o) => o.key).sort();
    expect(keys).toEqual(winners[0]!.files.map((f) => f.key).sort());
    expect(winners[0]!.rows).toBe(staged.unique);
  });
});

describe('compaction Lambda handler', () => {
  it('compacts a given date, and on the schedule yesterday plus the late window', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake-c');
    const d19 = await writeStagingDay(store, { day: '2026-11-19', hours: [5], seed: 19 });
    const d20 = await writeStagingDay(store, { day: '2026-11-20', hours: [6], seed: 20 });
    // The handler reads its config once, at import: the env is set before the import.
    Object.assign(process.env, {
      LAKE_BUCKET: s3.bucket,
      LAKE_PREFIX: 'lake-c',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      COMPACTION_MEMORY_LIMIT_MIB: '512',
      COMPACTION_WORK_DIR: work,
    });
    // A run that timed out left its work folder behind.
    mkdirSync(join(work, 'firelake-compaction-20261120T000000Z-0000dead', 'staging'), { recursive: true });
    const { handler } = await import('../../compaction/handler.js');
    // The handler logs progress and its summary for CloudWatch; keep them out of the test output.
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});

    const one = await handler({ date: '2026-11-19' });
    expect(one).toMatchObject({ day: '2026-11-19', status: 'published', rows: d19.unique });
    expect(readdirSync(work).filter((f) => f.startsWith('firelake-compaction-'))).toEqual([]);

    const nightly = await handler({ scheduledTime: '2026-11-21T02:00:00Z' });
    expect(nightly).toMatchObject({ day: '2026-11-20', ok: true });
    const days = (nightly as { days: { day: string; status: string }[] }).days;
    expect(days.slice(0, 2)).toEqual([
      expect.objectContaining({ day: '2026-11-20', status: 'published' }),
      expect.objectContaining({ day: '2026-11-19', status: 'skipped' }),
    ]);
    expect((await readManifest(store, '2026-11-20'))?.manifest.rows).toBe(d20.unique);

    await expect(handler({ date: '2026-11-31' })).rejects.toThrow(/not a UTC day/);
    expect(logged.mock.calls.some(([line]) => String(line).includes('"status":"published"'))).toBe(true);
    logged.mockRestore();
  });
});

/** How a curated DuckDB type is stored in Parquet, as an independent reader sees it. */
function parquetTypeOf(duckType: string): Record<string, unknown> {
  switch (duckType) {
    case 'VARCHAR':
      return { type: 'BYTE_ARRAY', converted_type: 'UTF8' };
    case 'BIGINT':
      return { type: 'INT64' };
    case 'DOUBLE':
      return { type: 'DOUBLE' };
    case 'BOOLEAN':
      return { type: 'BOOLEAN' };
    case 'TIMESTAMP':
      return { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' } };
    default:
      throw new Error(`no Parquet mapping for ${duckType} in this test`);
  }
}

describe('curated Parquet read by an independent reader (hyparquet)', () => {
  it('reads every row with the manifest counts, the curated column types and the values DuckDB reads', async () => {
    const store = new S3Store(s3.client, s3.bucket, 'lake-d');
    const staged = await writeStagingDay(store, {
      day: '2026-11-20',
      hours: [7, 8],
      eventsPerObject: 1_000,
      duplicateShare: 0.05,
    });
    // Small files and row groups, so the largest partition is split and each split file is checked.
    const summary = await compactDay({
      store,
      day: '2026-11-20',
      ...engine,
      fileSizeBytes: 20_000,
      rowGroupSize: 2_048,
    });
    expect(summary.files.length).toBeGreaterThan(11);

    const dir = join(work, 'lake-d');
    let total = 0;
    const independent = new Map<string, Compared>();
    for (const file of summary.files) {
      const local = join(dir, file.key);
      await store.getToFile(file.key, local);
      const buffer = await asyncBufferFromFile(local);
      const metadata = await parquetMetadataAsync(buffer);
      expect(Number(metadata.num_rows)).toBe(file.rows);
      total += Number(metadata.num_rows);

      // Every column of every row, decoded through hyparquet's own zstd (fzstd), not DuckDB's.
      const rows = await parquetReadObjects({ file: buffer, metadata, compressors, parsers: exactMicros });
      expect(rows).toHaveLength(file.rows);
      for (const row of rows) {
        const specifics = row.event_specifics as Record<string, unknown>;
        independent.set(String(row.event_uuid), {
          event_name: row.event_name,
          created_at: row.created_at,
          received_at: row.received_at,
          language: row.language ?? null,
          score: specifics.score ?? null,
          specifics_language: specifics.language ?? null,
          duration: specifics.duration ?? null,
        });
      }
      const codecs = new Set(metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)));
      expect([...codecs]).toEqual(['ZSTD']);

      const schema = parquetSchema(metadata);
      expect(schema.children.map((c) => c.element.name)).toEqual(curatedColumns().map((c) => c.name));
      for (const column of curatedColumns()) {
        const node = schema.children.find((c) => c.element.name === column.name)!;
        if (column.name === 'event_specifics') {
          expect(node.children.map((c) => c.element.name)).toEqual(specificsFields().map((f) => f.name));
          for (const field of specificsFields()) {
            const child = node.children.find((c) => c.element.name === field.name)!;
            expect(child.element).toMatchObject(parquetTypeOf(field.type));
          }
        } else {
          expect(node.element).toMatchObject(parquetTypeOf(column.type));
        }
      }
    }
    expect(total).toBe(staged.unique);
    // A repeated event_uuid would have collapsed in the map.
    expect(independent.size).toBe(total);

    const byDuckDb = await readWithDuckDb(join(dir, '**', '*.parquet'));
    expect(byDuckDb.size).toBe(total);
    expect([...independent.keys()].sort()).toEqual([...byDuckDb.keys()].sort());
    for (const [uuid, values] of byDuckDb) expect(independent.get(uuid), uuid).toEqual(values);
    // The typed comparisons above must not be vacuous: the day has scored and language-tagged events.
    const compared = [...byDuckDb.values()];
    expect(compared.filter((v) => typeof v.score === 'bigint').length).toBeGreaterThan(0);
    expect(compared.filter((v) => typeof v.specifics_language === 'string').length).toBeGreaterThan(0);
    expect(compared.filter((v) => typeof v.duration === 'number').length).toBeGreaterThan(0);
    expect(compared.every((v) => typeof v.created_at === 'bigint' && typeof v.received_at === 'bigint')).toBe(
      true,
    );
  });
});

/** Values compared between the two readers, per event_uuid; timestamps as microseconds since the epoch. */
type Compared = Record<
  'event_name' | 'created_at' | 'received_at' | 'language' | 'score' | 'specifics_language' | 'duration',
  unknown
>;

// hyparquet's default turns TIMESTAMP(MICROS) into a millisecond Date; keep the exact stored micros.
const exactMicros = { timestampFromMicroseconds: (micros: bigint) => micros };

async function readWithDuckDb(glob: string): Promise<Map<string, Compared>> {
  const db = await openDuckDb();
  const c = db.connection;
  try {
    const reader = await c.runAndReadAll(
      `SELECT event_uuid, event_name, epoch_us(created_at) AS created_at, epoch_us(received_at) AS received_at,
              language, event_specifics.score AS score, event_specifics.language AS specifics_language,
              event_specifics.duration AS duration
       FROM read_parquet($glob)`,
      { glob },
    );
    const out = new Map<string, Compared>();
    for (const { event_uuid, ...values } of reader.getRowObjects())
      out.set(String(event_uuid), values as Compared);
    return out;
  } finally {
    db.close();
  }
}
