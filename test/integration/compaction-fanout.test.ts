import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrossUnitDuplicateError, commitDay } from '../../compaction/commit.js';
import { compactDay } from '../../compaction/compact.js';
import { ConcurrentRunError } from '../../compaction/errors.js';
import { readManifest } from '../../compaction/manifest.js';
import { planDay, planUnits, runPrefix, stagingMinute } from '../../compaction/plan.js';
import { createCuratedView } from '../../compaction/read.js';
import { compactUnit } from '../../compaction/unit.js';
import { compactDayWithWorkers, UnitFailedError } from '../../compaction/workers.js';
import { ROOT } from '../../infra/lambda-common.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { curatedDayPrefix, type PartitionKeys } from '../../lake/layout.js';
import { S3Store } from '../../lake/s3-store.js';
import { listAll, type ObjectInfo, type ObjectStore } from '../../lake/store.js';
import { createTransform } from '../../transform/transform.js';
import { ndjsonGz, rng, stagedEvent, stagingKey, writeStagingDay } from '../compaction-staging.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';
import { batch, game, outputs, record, T0, testConfig, useLocalDynamo } from '../transform-fixtures.js';

let root: string;
let s3: LocalS3;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'firelake-fanout-test-'));
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3.close();
  rmSync(root, { recursive: true, force: true });
});

let lakes = 0;
const newLake = () => new FolderStore(join(root, `lake-${lakes++}`));
const engine = { memoryLimitMiB: 512, threads: 1 };
const DAY = '2026-11-20';
/** Small units so a test day of a few hours fans out (about an hour each). */
const UNIT_BYTES = 32 * 1024;
const fanOut = { workers: 2, unitBytes: UNIT_BYTES, retryDelayMs: 50, ...engine };

/** Every curated row of the day, read through its manifest, in event_uuid order. */
async function curatedRows(store: ObjectStore, day = DAY): Promise<Record<string, unknown>[]> {
  const db = await openDuckDb();
  const c = db.connection;
  try {
    await createCuratedView(c, store, [day], { downloadDir: join(root, `read-${randomUUID()}`) });
    const reader = await c.runAndReadAll('SELECT * FROM curated_events ORDER BY event_uuid');
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/** A staged day of several hours with Firehose redeliveries inside minutes. */
const stageDay = (store: ObjectStore, seed = 7) =>
  writeStagingDay(store, { day: DAY, hours: [0, 5, 9, 13], duplicateShare: 0.05, seed });

describe('the invariant that makes dedup inside a unit exact', () => {
  const dynamo = useLocalDynamo();

  it('stages every copy of an event under the minute of its created_at, and never a uuid reused with another payload', async () => {
    const run = createTransform({ dynamodb: dynamo.client, config: testConfig(), now: () => T0 + 600_000 });
    // Event time two minutes before arrival: partitioning by arrival would put copies elsewhere.
    const event = game(randomUUID(), T0 - 120_000);
    const first = record(event, T0);
    // Firehose retries the batch (same records), and a resend arrives in the same millisecond in
    // another batch (the transform's one leak, docs/transform.md, "Retry safety"): three staged copies.
    const copies = [
      ...outputs(await run(batch([first]))),
      ...outputs(await run(batch([first]))),
      ...outputs(await run(batch([record(event, T0)]))),
    ];
    // The same uuid with another created_at (another minute) and payload.
    const reused = {
      ...event,
      created_at: (T0 - 3_600_000) / 1000,
      event_specifics: { ...event.event_specifics, score: 1 },
    };
    const conflict = outputs(await run(batch([record(reused, T0 + 1000)])));

    const stagedCopies = [...copies, ...conflict].filter((o) => o.dataset === 'staging');
    expect(stagedCopies).toHaveLength(3);
    const minuteOf = (k: Record<string, string>) => `${k.hour}:${k.minute}`;
    const eventMinute = new Date(T0 - 120_000).toISOString().slice(11, 16);
    for (const o of stagedCopies) {
      expect(o.line.event_uuid).toBe(event.event_uuid);
      expect(minuteOf(o.keys as PartitionKeys)).toBe(eventMinute);
    }
    expect(conflict.map((o) => o.dataset)).toEqual(['quarantine']);

    // A late event (arriving 30 hours after it happened): every copy on its day's shelf.
    const lateEvent = game(randomUUID(), T0 - 30 * 3_600_000);
    const lateRecord = record(lateEvent, T0);
    const lateCopies = [
      ...outputs(await run(batch([lateRecord]))),
      ...outputs(await run(batch([lateRecord]))),
    ];
    expect(lateCopies.map((o) => [o.dataset, minuteOf(o.keys as PartitionKeys)])).toEqual([
      ['staging', '24:00'],
      ['staging', '24:00'],
    ]);
  });

  it('plans units of whole minutes: no minute is ever split between two units', () => {
    const objects: ObjectInfo[] = [];
    for (let m = 0; m < 180; m++) {
      const at = Date.UTC(2026, 10, 20, 0, m);
      // Several objects per minute, of uneven sizes.
      for (let i = 0; i < 1 + (m % 4); i++)
        objects.push({
          key: stagingKey(at, at + 60_000 + i),
          size: 1000 + ((m * 7919 + i) % 5000),
          etag: 'e',
          lastModified: new Date(),
        });
    }
    const total = objects.reduce((s, o) => s + o.size, 0);
    const units = planUnits(objects, total / 5.5)!;
    expect(units.length).toBeGreaterThanOrEqual(5);
    expect(units.length).toBeLessThanOrEqual(6);
    const unitOfMinute = new Map<string, number>();
    for (const u of units) {
      for (const o of u.objects) {
        const minute = stagingMinute(o.key)!;
        expect(unitOfMinute.get(minute) ?? u.index).toBe(u.index);
        unitOfMinute.set(minute, u.index);
      }
      expect(u.bytes).toBeLessThan((total / 5) * 1.1);
      expect(u.bytes).toBeGreaterThan((total / 5) * 0.9);
    }
    expect(units.flatMap((u) => u.objects).length).toBe(objects.length);
    // The late shelf (hour=24) is the day's last minute, whole in one unit, whatever its size.
    const shelf = Array.from({ length: 7 }, (_, i) => ({
      key: stagingKey(Date.UTC(2026, 10, 20, 0, 0), Date.UTC(2026, 10, 22, 0, i)).replace(
        /hour=00\/minute=00/,
        'hour=24/minute=00',
      ),
      size: total / 10,
      etag: 'e',
      lastModified: new Date(),
    }));
    const withShelf = planUnits([...shelf, ...objects], total / 5.5)!;
    const shelfUnits = withShelf.filter((u) => u.objects.some((o) => o.key.includes('/hour=24/')));
    expect(shelfUnits.map((u) => [u.index, u.last_minute])).toEqual([[withShelf.length - 1, '24:00']]);
    expect(shelfUnits[0]!.objects.filter((o) => o.key.includes('/hour=24/'))).toHaveLength(7);
    // A day under twice the unit size is one unit: the single run.
    expect(planUnits(objects, total / 1.9)).toHaveLength(1);
    // An object outside a minute partition could repeat any unit's lines: no fan-out.
    expect(
      planUnits(
        [
          ...objects,
          { key: 'staging/year=2026/month=11/day=20/x.gz', size: 1, etag: 'e', lastModified: new Date() },
        ],
        total / 5,
      ),
    ).toBeUndefined();
  });

  it('refuses to publish a uuid that two units wrote, and the run falls back to one run of the day', async () => {
    const store = newLake();
    await stageDay(store);
    // A producer reused a uuid past the dedup window with another created_at: staged twice,
    // hours apart, so in two units. Unit dedup cannot see it; the commit's day-wide check must.
    const random = rng(3);
    const early = stagedEvent(random, Date.UTC(2026, 10, 20, 0, 3), Date.UTC(2026, 10, 20, 0, 4));
    const late = {
      ...stagedEvent(random, Date.UTC(2026, 10, 20, 13, 33), Date.UTC(2026, 10, 20, 13, 34)),
      event_uuid: early.event_uuid,
    };
    await store.put(
      stagingKey(Date.UTC(2026, 10, 20, 0, 3), Date.UTC(2026, 10, 20, 0, 5)),
      ndjsonGz([early]),
    );
    await store.put(
      stagingKey(Date.UTC(2026, 10, 20, 13, 33), Date.UTC(2026, 10, 20, 13, 35)),
      ndjsonGz([late]),
    );

    const planned = await planDay({ store, day: DAY, unitBytes: UNIT_BYTES });
    if (planned.mode !== 'fanout') throw new Error(`expected a fan-out plan, got ${planned.mode}`);
    const { plan } = planned;
    for (const u of plan.units)
      await compactUnit({ store, day: DAY, runId: plan.run_id, unit: u.index, ...engine, workDir: root });
    const commit = commitDay({ store, day: DAY, runId: plan.run_id, ...engine, workDir: root });
    await expect(commit).rejects.toBeInstanceOf(CrossUnitDuplicateError);
    await expect(commit).rejects.toThrow(early.event_uuid);
    expect(await readManifest(store, DAY)).toBeUndefined();
    expect(await listAll(store, curatedDayPrefix(DAY))).toEqual([]);

    const logs: string[] = [];
    const summary = await compactDayWithWorkers({ store, day: DAY, ...fanOut, log: (l) => logs.push(l) });
    expect(logs.some((l) => l.includes('in one run instead'))).toBe(true);
    const rows = await curatedRows(store);
    expect(rows.filter((r) => r.event_uuid === early.event_uuid)).toHaveLength(1);
    expect(summary.rows).toBe(new Set(rows.map((r) => r.event_uuid)).size);
  });
});

describe('firelake compact --workers', () => {
  const cli = (args: string[]) =>
    promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'firelake.js'), 'compact', ...args], {
      cwd: ROOT,
      maxBuffer: 16 * 2 ** 20,
    });

  it('compacts a day of two units with worker processes and prints the summary as JSON', async () => {
    const lake = join(root, `cli-${randomUUID()}`);
    const store = new FolderStore(lake);
    const staged = await writeStagingDay(store, {
      day: DAY,
      hours: [2, 3],
      minutes: Array.from({ length: 60 }, (_, m) => m),
      eventsPerObject: 200,
      gzipLevel: 1,
      seed: 21,
    });
    const { stdout, stderr } = await cli([
      '--date',
      DAY,
      '--lake',
      lake,
      '--workers',
      '2',
      '--unit-size',
      '1',
      '--memory-limit',
      '1024',
      '--json',
    ]);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ status: 'published', units: 2, rows: staged.unique });
    expect(stderr).toMatch(/2 units on 2 worker process\(es\)/);
    expect(await curatedRows(store)).toHaveLength(staged.unique);
  });

  it('says what is wrong with a bad --workers and exits non-zero', async () => {
    const failed = await cli(['--date', DAY, '--workers', 'many']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed).toMatchObject({ code: expect.any(Number) });
    expect((failed as { code: number }).code).not.toBe(0);
    expect((failed as { stderr: string }).stderr).toMatch(/many/);
  });
});

describe('fan-out compaction', () => {
  for (const kind of ['folder', 's3rver'] as const) {
    it(`publishes every curated row the single run publishes, on a ${kind} lake`, async () => {
      const store =
        kind === 'folder' ? newLake() : new S3Store(s3.client, s3.bucket, `equal-${randomUUID()}`);
      const env = kind === 's3rver' ? s3Env() : undefined;
      const staged = await stageDay(store);
      const single = await compactDay({ store, day: DAY, ...engine, workDir: root });
      const singleRows = await curatedRows(store);
      const restore = setEnv(env);
      let fanned: Awaited<ReturnType<typeof compactDayWithWorkers>>;
      try {
        fanned = await compactDayWithWorkers({ store, day: DAY, ...fanOut, force: true, workDir: root });
      } finally {
        restore();
      }
      expect(fanned.units).toBeGreaterThanOrEqual(3);
      expect(fanned.rows).toBe(staged.unique);
      expect(fanned.duplicates_dropped).toBe(staged.duplicates);
      expect(fanned.rows_by_language).toEqual(single.rows_by_language);
      const rows = await curatedRows(store);
      expect(rows).toHaveLength(staged.unique);
      expect(rows).toEqual(singleRows);
      // The single run's files stay for its snapshot until it expires; no unit hash or run folder remains.
      const keys = (await listAll(store, curatedDayPrefix(DAY))).map((o) => o.key).sort();
      expect(keys).toEqual([...single.files, ...fanned.files].map((f) => f.key).sort());
      expect(await listAll(store, runPrefix(DAY))).toEqual([]);
    });
  }

  it('keeps the single run for a day of one unit', async () => {
    const store = newLake();
    await writeStagingDay(store, { day: DAY, hours: [3], seed: 2 });
    const summary = await compactDayWithWorkers({ store, day: DAY, ...fanOut, unitBytes: 1024 ** 3 });
    expect(summary.units).toBeUndefined();
    expect(summary.status).toBe('published');
  });

  it('runs a unit again when its worker process is killed mid-unit, and publishes the day once', async () => {
    const store = newLake();
    const staged = await stageDay(store, 11);
    const killed: number[] = [];
    const logs: string[] = [];
    const summary = await compactDayWithWorkers({
      store,
      day: DAY,
      ...fanOut,
      log: (l) => logs.push(l),
      onWorkerLine: ({ pid, unit, attempt, line }) => {
        // The worker has uploaded a file of unit 1 and goes on with the next: kill it there.
        if (unit === 1 && attempt === 1 && line.includes(': wrote ') && killed.length === 0) {
          killed.push(pid);
          process.kill(pid, 'SIGKILL');
        }
      },
    });
    expect(killed).toHaveLength(1);
    expect(logs.some((l) => /unit 1 attempt 1 failed: worker \d+ exited \(SIGKILL\); retrying/.test(l))).toBe(
      true,
    );
    expect(summary.rows).toBe(staged.unique);
    const manifest = (await readManifest(store, DAY))!.manifest;
    expect(manifest.run_id).toBe(summary.run_id);
    const rows = await curatedRows(store);
    expect(rows).toHaveLength(staged.unique);
    expect(new Set(rows.map((r) => r.event_uuid)).size).toBe(staged.unique);
  });

  it('publishes once when two runs of the same day go at once', async () => {
    const store = newLake();
    const staged = await stageDay(store, 12);
    const results = await Promise.allSettled([
      compactDayWithWorkers({ store, day: DAY, ...fanOut, workDir: root }),
      compactDayWithWorkers({ store, day: DAY, ...fanOut, workDir: root }),
    ]);
    const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const losers = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]).toBeInstanceOf(ConcurrentRunError);
    expect((await readManifest(store, DAY))!.manifest.run_id).toBe(winners[0]!.run_id);
    expect(await curatedRows(store)).toHaveLength(staged.unique);
    const keys = (await listAll(store, curatedDayPrefix(DAY))).map((o) => o.key).sort();
    expect(keys).toEqual(winners[0]!.files.map((f) => f.key).sort());
  });

  it('leaves the published day readable when a unit keeps failing', async () => {
    const store = newLake();
    await stageDay(store, 13);
    await compactDay({ store, day: DAY, ...engine });
    const before = await curatedRows(store);
    const manifest = await readManifest(store, DAY);
    // Late events arrive; every attempt of unit 2 dies (a worker out of memory, say).
    await writeStagingDay(store, { day: DAY, hours: [20], seed: 14 });
    const attempts: number[] = [];
    const run = compactDayWithWorkers({
      store,
      day: DAY,
      ...fanOut,
      onWorkerLine: ({ pid, unit, attempt }) => {
        if (unit === 2 && !attempts.includes(attempt)) {
          attempts.push(attempt);
          process.kill(pid, 'SIGKILL');
        }
      },
    });
    await expect(run).rejects.toBeInstanceOf(UnitFailedError);
    expect(attempts).toEqual([1, 2, 3]);
    expect(await readManifest(store, DAY)).toEqual(manifest);
    expect(await curatedRows(store)).toEqual(before);
    expect(await listAll(store, runPrefix(DAY))).toEqual([]);
  });
});

/** The variables the worker processes need to reach s3rver with the SDK's default client. */
function s3Env(): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
}

function setEnv(env: Record<string, string> | undefined): () => void {
  if (!env) return () => {};
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
