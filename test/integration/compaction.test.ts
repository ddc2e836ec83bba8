import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { configFromEnv } from '../../compaction/config.js';
import {
  ConcurrentRunError,
  MissingDayError,
  StagingShrunkError,
  UnreadableObjectError,
} from '../../compaction/errors.js';
import { curatedSchemaVersion, readManifest } from '../../compaction/manifest.js';
import { compactNightly } from '../../compaction/nightly.js';
import { createCuratedView } from '../../compaction/read.js';
import { curatedColumns, UNKNOWN_LANGUAGE } from '../../events/curated.js';
import type { StagedEvent } from '../../events/types.js';
import { metadataKey } from '../../iceberg/catalog.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { curatedDayPrefix } from '../../lake/layout.js';
import { listAll, type ObjectStore, PreconditionFailedError, type PutOptions } from '../../lake/store.js';
import {
  ndjsonGz,
  rng,
  type StagingDay,
  stagedEvent,
  stagingKey,
  writeStagingDay,
} from '../compaction-staging.js';
import { tableHead } from '../support/lake-read.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-compaction-test-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let lakes = 0;
function newLake(): FolderStore {
  return new FolderStore(join(root, `lake-${lakes++}`));
}

const engine = { memoryLimitMiB: 512, threads: 2 };

type Row = Record<string, unknown>;

/** The published days read back with DuckDB through their manifests, as a reader would. */
async function readBack(store: ObjectStore, days: string[], queries: Record<string, string> = {}) {
  const db = await openDuckDb();
  const c = db.connection;
  const q = async (sql: string): Promise<Row[]> => (await c.runAndReadAll(sql)).getRowObjectsJson() as Row[];
  try {
    const files = await createCuratedView(c, store, days);
    const [totals] = await q(
      'SELECT count(*)::INT AS n, count(DISTINCT event_uuid)::INT AS uuids FROM curated_events',
    );
    const byLanguage = Object.fromEntries(
      (await q('SELECT language, count(*)::INT AS n FROM curated_events GROUP BY ALL')).map((r) => [
        r.language,
        r.n,
      ]),
    );
    const types = (await q('DESCRIBE curated_events')).map((r) => [r.column_name, r.column_type]);
    // The types the curated schema asks for, as DuckDB spells them.
    const expectedTypes: unknown[][] = [];
    for (const col of curatedColumns()) {
      const [t] = await q(`SELECT typeof(NULL::${col.type}) AS t`);
      expectedTypes.push([col.name, t!.t]);
    }
    const results: Record<string, Row[]> = {};
    for (const [name, sql] of Object.entries(queries)) results[name] = await q(sql);
    return {
      files,
      totals: totals as { n: number; uuids: number },
      byLanguage,
      types,
      expectedTypes,
      results,
    };
  } finally {
    db.close();
  }
}

function expectedByLanguage(day: StagingDay): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of day.events.values()) {
    const l = e.language ?? UNKNOWN_LANGUAGE;
    out[l] = (out[l] ?? 0) + 1;
  }
  return out;
}

async function curatedKeys(store: ObjectStore, day: string): Promise<string[]> {
  return (await listAll(store, curatedDayPrefix(day))).map((o) => o.key);
}

describe('compaction of a day', () => {
  it('writes every unique staged event once, partitioned by language, with the curated schema', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, {
      day: '2026-11-20',
      hours: [0, 1, 13, 23],
      duplicateShare: 0.05,
      seed: 7,
    });
    expect(staged.duplicates).toBeGreaterThan(20);

    const summary = await compactDay({ store, day: '2026-11-20', ...engine });

    expect(summary.status).toBe('published');
    expect(summary.rows_read).toBe(staged.lines);
    expect(summary.rows).toBe(staged.unique);
    expect(summary.duplicates_dropped).toBe(staged.duplicates);
    const sample = [...staged.events.values()].find((e) => e.event_name === 'game:completed')!;
    const back = await readBack(store, ['2026-11-20'], {
      // Every file holds only the language of its partition.
      mixed: `SELECT count(*)::INT AS n FROM read_parquet('${store.root}/curated/events/*/*/*/*/*.parquet',
                hive_partitioning = false, filename = true)
              WHERE NOT contains(filename, 'language=' || language || '/')`,
      sample: `
      SELECT strftime(created_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS created_at, event_specifics.score::INT AS score,
             typeof(event_specifics.score) AS score_type, subscription_status
      FROM curated_events WHERE event_uuid = '${sample.event_uuid}'`,
      codecs: `SELECT DISTINCT compression FROM parquet_metadata('${store.root}/curated/events/*/*/*/*/*.parquet')`,
    });
    expect(back.totals).toEqual({ n: staged.unique, uuids: staged.unique });
    expect(back.byLanguage).toEqual(expectedByLanguage(staged));
    expect(back.types).toEqual(back.expectedTypes);

    // Every file sits under its language partition and holds only that language.
    const keys = await curatedKeys(store, '2026-11-20');
    expect(keys.sort()).toEqual(summary.files.map((f) => f.key).sort());
    for (const f of summary.files) {
      expect(f.key).toMatch(
        new RegExp(
          `^curated/events/year=2026/month=11/day=20/language=${f.language}/${summary.run_id}-\\d+\\.parquet$`,
        ),
      );
    }
    expect(back.results.mixed).toEqual([{ n: 0 }]);

    // Values survive with their types: timestamps, specifics fields, nulls.
    expect(back.results.sample).toEqual([
      {
        created_at: sample.created_at,
        score: sample.event_specifics.score,
        score_type: 'BIGINT',
        subscription_status: null,
      },
    ]);

    // Zstd, and the manifest says what was consumed and written.
    expect(back.results.codecs).toEqual([{ compression: 'ZSTD' }]);
    const { manifest } = (await readManifest(store, '2026-11-20'))!;
    expect(manifest.run_id).toBe(summary.run_id);
    expect(manifest.schema_version).toBe(curatedSchemaVersion());
    expect(manifest.duplicates_dropped).toBe(staged.duplicates);
    expect(manifest.rows_by_language).toEqual(expectedByLanguage(staged));
    expect(manifest.files.reduce((s, f) => s + f.rows, 0)).toBe(staged.unique);
    const listed = await listAll(store, 'staging/year=2026/month=11/day=20/');
    expect(manifest.staging_objects).toEqual(listed.map((o) => ({ key: o.key, etag: o.etag, size: o.size })));
  });

  it('keeps the first arrival of a repeated event_uuid: earliest received_at, then object order', async () => {
    const store = newLake();
    const random = rng(3);
    const t = Date.parse('2026-11-20T05:07:00Z');
    const base = stagedEvent(random, t, t + 5_000);
    const tie = stagedEvent(random, t, t + 5_000);
    const as = (e: StagedEvent, country: string, receivedMs: number): StagedEvent => ({
      ...e,
      country,
      received_at: new Date(receivedMs).toISOString(),
    });
    // The earlier-listed object holds the later arrival of `base`.
    await store.put(
      stagingKey(t, t + 60_000),
      ndjsonGz([as(base, 'BB', t + 20_000), as(tie, 'CC', t + 9_000)]),
    );
    await store.put(
      stagingKey(t, t + 120_000),
      ndjsonGz([as(base, 'AA', t + 10_000), as(tie, 'DD', t + 9_000)]),
    );

    const summary = await compactDay({ store, day: '2026-11-20', ...engine });

    expect(summary.duplicates_dropped).toBe(2);
    const back = await readBack(store, ['2026-11-20'], {
      rows: 'SELECT event_uuid, country FROM curated_events ORDER BY country',
    });
    expect(back.results.rows).toEqual([
      { event_uuid: base.event_uuid, country: 'AA' },
      { event_uuid: tie.event_uuid, country: 'CC' },
    ]);
  });

  it('keeps one row of an event staged twice in one object with the same arrival', async () => {
    const store = newLake();
    const random = rng(4);
    const t = Date.parse('2026-11-20T06:30:00Z');
    const twice = stagedEvent(random, t, t + 2_000);
    const other = stagedEvent(random, t, t + 3_000);
    await store.put(stagingKey(t, t + 60_000), ndjsonGz([twice, other, twice]));

    const summary = await compactDay({ store, day: '2026-11-20', ...engine });

    expect(summary.rows_read).toBe(3);
    expect(summary.duplicates_dropped).toBe(1);
    const back = await readBack(store, ['2026-11-20']);
    expect(back.totals).toEqual({ n: 2, uuids: 2 });
  });

  it('changes nothing on a second run; a forced run gives the same rows, keeps the old files for the earlier snapshot until it expires', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: '2026-11-20', hours: [2, 3], duplicateShare: 0.1 });
    const first = await compactDay({ store, day: '2026-11-20', ...engine });
    const before = await tableHead(store);
    const all = { rows: 'SELECT * FROM curated_events ORDER BY event_uuid' };
    const rowsBefore = (await readBack(store, ['2026-11-20'], all)).results.rows;
    expect(rowsBefore).toHaveLength(first.rows);

    const second = await compactDay({ store, day: '2026-11-20', ...engine });
    expect(second.status).toBe('unchanged');
    expect(second.note).toMatch(/unchanged since run/);
    expect(second.rows).toBe(first.rows);
    expect(await tableHead(store)).toEqual(before);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(first.files.map((f) => f.key).sort());

    const forced = await compactDay({ store, day: '2026-11-20', force: true, ...engine });
    expect(forced.status).toBe('published');
    expect(forced.run_id).not.toBe(first.run_id);
    expect(forced.previous_run_id).toBe(first.run_id);
    // The first snapshot still names the first run's files: they stay until it expires.
    expect(forced.deleted_files).toBe(0);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(
      [...first.files, ...forced.files].map((f) => f.key).sort(),
    );
    const rowsAfter = (await readBack(store, ['2026-11-20'], all)).results.rows;
    expect(rowsAfter).toEqual(rowsBefore);

    const expiring = await compactDay({ store, day: '2026-11-20', force: true, retentionMs: 0, ...engine });
    expect(expiring.deleted_files).toBe(first.files.length + forced.files.length);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(expiring.files.map((f) => f.key).sort());
    expect((await readBack(store, ['2026-11-20'], all)).results.rows).toEqual(rowsBefore);
  });

  it('leaves the published day intact when a run dies before the commit', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [4] });
    const first = await compactDay({ store, day: '2026-11-20', ...engine });
    const headBefore = await tableHead(store);
    await writeStagingDay(store, { day: '2026-11-20', hours: [5], seed: 99 });

    let uploadedBeforeDeath: string[] = [];
    await expect(
      compactDay({
        store,
        day: '2026-11-20',
        ...engine,
        beforePublish: async (runId) => {
          uploadedBeforeDeath = (await curatedKeys(store, '2026-11-20')).filter((k) => k.includes(runId));
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');

    expect(uploadedBeforeDeath.length).toBeGreaterThan(0);
    expect(await tableHead(store)).toEqual(headBefore);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(first.files.map((f) => f.key).sort());
    const back = await readBack(store, ['2026-11-20']);
    expect(back.totals.n).toBe(staged.unique);
  });

  it('removes the files a killed run left behind on the next successful run', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: '2026-11-20', hours: [6] });
    // What a run killed mid-upload leaves: a file under a run id no snapshot names.
    const orphan = 'curated/events/year=2026/month=11/day=20/language=de/20261120T000000Z-deadbeef-0.parquet';
    await store.put(orphan, 'PAR1 half written');
    await new Promise((r) => setTimeout(r, 20));

    const summary = await compactDay({ store, day: '2026-11-20', ...engine });

    expect(summary.deleted_files).toBe(1);
    expect(await store.head(orphan)).toBeUndefined();
    expect(await curatedKeys(store, '2026-11-20')).toEqual(summary.files.map((f) => f.key).sort());
  });

  it('names an unreadable staging object and publishes nothing', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: '2026-11-20', hours: [7, 8] });
    const first = await compactDay({ store, day: '2026-11-20', ...engine });
    const headBefore = await tableHead(store);
    const t = Date.parse('2026-11-20T08:15:00Z');

    const notGzip = stagingKey(t, t + 60_000);
    await store.put(notGzip, 'this is not gzip');
    await expect(compactDay({ store, day: '2026-11-20', ...engine })).rejects.toThrow(
      new RegExp(`staging object ${notGzip.replace(/[.]/g, '\\.')} is unreadable: .*GZIP`),
    );
    await store.delete([notGzip]);

    const malformed = stagingKey(t, t + 90_000);
    await store.put(malformed, gzipSync('{"event_uuid": "x", \n'));
    const error = await compactDay({ store, day: '2026-11-20', ...engine }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreadableObjectError);
    expect((error as UnreadableObjectError).key).toBe(malformed);
    await store.delete([malformed]);

    const incomplete = stagingKey(t, t + 95_000);
    await store.put(incomplete, gzipSync('{"event_name": "game:started"}\n'));
    await expect(compactDay({ store, day: '2026-11-20', ...engine })).rejects.toThrow(
      new RegExp(
        `staging object ${incomplete.replace(/[.]/g, '\\.')} is unreadable: .*lacks a required field`,
      ),
    );

    expect(await tableHead(store)).toEqual(headBefore);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(first.files.map((f) => f.key).sort());
  });

  it('names a staging object that cannot be downloaded and publishes nothing', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [2, 3] });
    const broken = staged.keys[7]!;
    // Injected fault: the real folder store, except that one object's download fails.
    const faulty: ObjectStore = Object.assign(Object.create(store) as FolderStore, {
      getToFile: async (key: string, path: string) => {
        if (key === broken) throw new Error('connection reset');
        return store.getToFile(key, path);
      },
    });

    const error = await compactDay({ store: faulty, day: '2026-11-20', ...engine }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UnreadableObjectError);
    expect((error as Error).message).toContain(`${broken} is unreadable: download failed: connection reset`);
    expect(await tableHead(store)).toBeUndefined();
    expect(await curatedKeys(store, '2026-11-20')).toEqual([]);
  });

  it('counts a commit whose answer was lost as published, and keeps its files', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [4] });
    // Injected fault: the metadata file is written, then the answer is lost (as an SDK retry of
    // a conditional put that had succeeded would report 412).
    let lost = 0;
    const lossy: ObjectStore = Object.assign(Object.create(store) as FolderStore, {
      put: async (key: string, body: Uint8Array | string, options?: PutOptions) => {
        const out = await store.put(key, body, options);
        if (key === metadataKey(1)) {
          lost++;
          throw new PreconditionFailedError(key);
        }
        return out;
      },
    });

    const summary = await compactDay({ store: lossy, day: '2026-11-20', ...engine });

    expect(lost).toBe(1);
    expect(summary.status).toBe('published');
    expect((await readManifest(store, '2026-11-20'))?.manifest.run_id).toBe(summary.run_id);
    expect(await curatedKeys(store, '2026-11-20')).toEqual(summary.files.map((f) => f.key).sort());
    expect((await readBack(store, ['2026-11-20'])).totals.n).toBe(staged.unique);
  });

  it('fails clearly for a day without staging objects', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: '2026-11-20', hours: [1], minutes: [0] });
    const error = await compactDay({ store, day: '2026-11-21', ...engine }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDayError);
    expect((error as Error).message).toContain('no staging objects for 2026-11-21');
    await expect(compactDay({ store, day: '2026-02-30', ...engine })).rejects.toThrow(/not a UTC day/);
  });

  it('refuses to recompact a day whose consumed staging objects vanished, unless forced', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [9] });
    await compactDay({ store, day: '2026-11-20', ...engine });
    await store.delete([staged.keys[0]!]);
    await expect(compactDay({ store, day: '2026-11-20', ...engine })).rejects.toBeInstanceOf(
      StagingShrunkError,
    );
    const forced = await compactDay({ store, day: '2026-11-20', force: true, ...engine });
    expect(forced.status).toBe('published');
    expect(forced.objects).toBe(staged.keys.length - 1);
  });

  it('lets exactly one of two concurrent runs publish, with no duplicate rows', async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [10], duplicateShare: 0.1 });
    // Both runs reach the switch before either writes the manifest.
    let arrived = 0;
    let release: () => void = () => {};
    const bothThere = new Promise<void>((r) => {
      release = r;
    });
    const barrier = async () => {
      arrived++;
      if (arrived === 2) release();
      await bothThere;
    };
    const results = await Promise.allSettled([
      compactDay({ store, day: '2026-11-20', ...engine, beforePublish: barrier }),
      compactDay({ store, day: '2026-11-20', ...engine, beforePublish: barrier }),
    ]);

    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrentRunError);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof compactDay>>>).value;
    expect(await curatedKeys(store, '2026-11-20')).toEqual(winner.files.map((f) => f.key).sort());
    const back = await readBack(store, ['2026-11-20']);
    expect(back.totals).toEqual({ n: staged.unique, uuids: staged.unique });
  });
});

describe('nightly compaction', () => {
  it('compacts yesterday and recompacts a late-window day that received a late object', async () => {
    const store = newLake();
    const d1 = await writeStagingDay(store, { day: '2026-11-18', hours: [1], seed: 1 });
    const d2 = await writeStagingDay(store, { day: '2026-11-19', hours: [2], seed: 2 });
    const d3 = await writeStagingDay(store, { day: '2026-11-20', hours: [3], seed: 3 });
    await compactDay({ store, day: '2026-11-18', ...engine });
    await compactDay({ store, day: '2026-11-19', ...engine });
    // A late event of the 18th arrives on the 20th: Firehose puts it under its event-time day.
    const t = Date.parse('2026-11-18T22:30:00Z');
    const late = stagedEvent(rng(11), t, Date.parse('2026-11-20T09:00:00Z'));
    await store.put(stagingKey(t, Date.parse('2026-11-20T09:01:00Z')), ndjsonGz([late]));

    const nightly = await compactNightly({ store, now: new Date('2026-11-21T01:00:00Z'), ...engine });

    expect(nightly.ok).toBe(true);
    expect(nightly.day).toBe('2026-11-20');
    const status = Object.fromEntries(nightly.days.map((d) => [d.day, d.status]));
    expect(status['2026-11-20']).toBe('published');
    expect(status['2026-11-19']).toBe('skipped');
    expect(status['2026-11-18']).toBe('published');
    expect(status['2026-11-13']).toBe('skipped');
    expect(nightly.days).toHaveLength(8);
    expect(nightly.days.find((d) => d.day === '2026-11-18')?.new_objects).toBe(1);
    const back = await readBack(store, ['2026-11-18', '2026-11-19', '2026-11-20'], {
      late: `SELECT count(*)::INT AS n FROM curated_events WHERE event_uuid = '${late.event_uuid}'`,
    });
    expect(back.totals.n).toBe(d1.unique + 1 + d2.unique + d3.unique);
    expect(back.results.late).toEqual([{ n: 1 }]);

    const again = await compactNightly({ store, day: '2026-11-20', ...engine });
    expect(again.days.map((d) => d.status)).toEqual([
      'unchanged',
      'skipped',
      'skipped',
      ...Array(5).fill('skipped'),
    ]);
  });

  it('reports a missing yesterday without failing, and a broken late day as a failure', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: '2026-11-18', hours: [1] });
    await store.put(
      stagingKey(Date.parse('2026-11-17T01:00:00Z'), Date.parse('2026-11-17T01:01:00Z')),
      'garbage',
    );

    const nightly = await compactNightly({ store, day: '2026-11-20', lateWindowDays: 3, ...engine });

    const status = Object.fromEntries(nightly.days.map((d) => [d.day, d.status]));
    expect(status).toEqual({
      '2026-11-20': 'missing',
      '2026-11-19': 'skipped',
      '2026-11-18': 'published',
      '2026-11-17': 'failed',
    });
    expect(nightly.ok).toBe(false);
    expect(nightly.days.find((d) => d.day === '2026-11-17')?.error).toMatch(/is unreadable/);
  });
});

describe('curated readers', () => {
  it("read a day's files from the table's snapshot, never a file it does not name", async () => {
    const store = newLake();
    const staged = await writeStagingDay(store, { day: '2026-11-20', hours: [11], duplicateShare: 0.2 });
    await compactDay({ store, day: '2026-11-20', ...engine });
    // A run in progress (or one that lost a race) has files under curated/ that no snapshot names.
    await store.put(
      'curated/events/year=2026/month=11/day=20/language=de/20991231T000000Z-0-0.parquet',
      'junk',
    );

    const db = await openDuckDb();
    const files = await createCuratedView(db.connection, store, ['2026-11-20']);
    const rows = (
      await db.connection.runAndReadAll('SELECT count(*)::INT AS n FROM curated_events')
    ).getRowObjectsJson();
    db.close();
    expect(files).toBeGreaterThan(0);
    expect(rows).toEqual([{ n: staged.unique }]);
  });
});

describe('compaction Lambda config', () => {
  it('reads the lake and limits from the environment, and names what is wrong', () => {
    expect(
      configFromEnv({ LAKE_BUCKET: 'lake', LAKE_PREFIX: 'p', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' }),
    ).toMatchObject({ bucket: 'lake', prefix: 'p', lateWindowDays: 7, memoryLimitMiB: 7168 });
    expect(() => configFromEnv({})).toThrow(/LAKE_BUCKET is not set/);
    expect(() => configFromEnv({ LAKE_BUCKET: 'lake', COMPACTION_LATE_WINDOW_DAYS: 'x' })).toThrow(
      /COMPACTION_LATE_WINDOW_DAYS="x" is not a non-negative whole number/,
    );
  });
});
