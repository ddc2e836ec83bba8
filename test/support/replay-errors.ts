import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import type { StagedEvent } from '../../events/types.js';
import { type Day, dayOf } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime.js';
import type { ReplayReport } from '../../replay/replay.js';
import { runScorecard } from '../../sql/scorecard.js';
import { DEFAULT_TABLE_NAMES } from '../../transform/tables.js';
import { createTransform } from '../../transform/transform.js';
import { game, lesson, subscription, user } from '../transform-fixtures.js';
import { awayFromMidnight } from './clock.js';
import { readLines } from './lake-read.js';
import { FAST_DELIVERY, sendEvents } from './replay.js';

// A replay of failed processing, shared by the folder and the S3 variants: a batch fails
// processing because DynamoDB is unreachable for all of Firehose's retries, lands in
// errors/processing-failed/; a replay of that day brings every record into staging once, and
// the scorecard's reconciliation passes before and after.

export type Replayer = (pipeline: LocalPipeline, day: Day) => Promise<ReplayReport>;

const RECONCILIATION = [
  'reconciliation.unknown_reason',
  'reconciliation.staged_vs_curated',
  'reconciliation.manifest_rows',
  'reconciliation.orphan_tombstones',
];

export async function processingFailedScenario(store: ObjectStore, replay: Replayer): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'firelake-replay-errors-'));
  // DynamoDB (dynalite) keeps its tables on disk across the three pipelines, as `firelake serve` does.
  const start = (extra: Parameters<typeof startLocalPipeline>[0] = {}) =>
    startLocalPipeline({
      dataDir,
      lake: store,
      port: 0,
      delivery: FAST_DELIVERY,
      separateDynamoProcess: false,
      log: process.env.DEBUG_REPLAY ? (l) => console.error(l) : undefined,
      ...extra,
    });
  try {
    // Events from 90 s back, and a minute for the scenario (callers allow for the wait).
    const now = await awayFromMidnight(-90_000, 60_000);
    const u = randomUUID();
    const live = [user(u, now - 90_000), subscription(u, 'it', now - 80_000)];
    for (let i = 0; i < 58; i++)
      live.push(i % 2 ? lesson(u, 'it', now - 70_000 + i) : game(u, now - 70_000 + i));
    const outage = Array.from({ length: 40 }, (_, i) =>
      i % 2 ? lesson(u, 'it', now - 60_000 + i) : game(u, now - 60_000 + i),
    );

    // 1. Live traffic, staged.
    let pipeline = await start();
    await sendEvents(pipeline, live);
    await pipeline.close();

    // 2. DynamoDB unreachable: every attempt of the batch fails, Firehose writes it to errors/.
    const unreachable = new DynamoDBClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    pipeline = await start({
      transform: createTransform({
        dynamodb: unreachable,
        config: { tables: DEFAULT_TABLE_NAMES, dedupTtlHours: 168, lateWindowDays: 7 },
      }),
    });
    await sendEvents(pipeline, outage);
    expect(pipeline.stream.stats().failedRecords).toBe(40);
    await pipeline.close();
    unreachable.destroy();
    const failed = await readLines<{ rawData: string; errorCode: string }>(
      store,
      'errors/processing-failed/',
    );
    expect(failed).toHaveLength(40);
    const day = dayOf(now);
    expect(failed[0]!.key).toContain(`errors/processing-failed/year=${day.slice(0, 4)}/`);

    // 3. Before: compacted, and reconciliation passes with the failures counted.
    await compactDay({ store, day });
    const before = await runScorecard({ store, day });
    for (const id of RECONCILIATION) expect(before.checks.find((c) => c.id === id)?.status, id).toBe('pass');
    expect(before.figures.reconciliation![0]).toMatchObject({
      staged_unique: 60,
      processing_failed: 40,
      received: 100,
    });

    // 4. DynamoDB is back: replay the day's processing-failed records.
    pipeline = await start();
    try {
      const report = await replay(pipeline, day);
      expect(report).toMatchObject({ status: 'complete', selected: 40, sent: 40 });
      expect(report.outcome).toMatchObject({ staged: 40, already_present: 0, failed: 0, pending: 0 });
      expect(report.compaction).toEqual([{ day, status: 'published', rows: 100 }]);

      const staged = await readLines<StagedEvent>(store, 'staging/');
      const uuids = staged.map((l) => l.value.event_uuid);
      expect(new Set(uuids).size).toBe(uuids.length);
      expect(uuids.sort()).toEqual([...live, ...outage].map((e) => e.event_uuid).sort());
      const replayed = staged.filter((l) => l.value.replayed_from !== undefined);
      expect(replayed).toHaveLength(40);
      for (const l of replayed)
        expect(l.value.replayed_from).toMatch(/^errors\/processing-failed\/year=.*\.gz#\d+$/);

      const after = await runScorecard({ store, day });
      for (const id of RECONCILIATION) expect(after.checks.find((c) => c.id === id)?.status, id).toBe('pass');
      expect(after.figures.reconciliation![0]).toMatchObject({
        staged_unique: 100,
        processing_failed: 40,
        received: 140,
      });
      expect(after.checks.find((c) => c.id === 'reconciliation.replays')).toMatchObject({
        status: 'pass',
        figure: 0,
      });
      expect(after.figures.replays![0]).toMatchObject({ runs: 1, sent: 40, staged: 40, failed: 0 });

      // Again: every record is already in the lake.
      const again = await replay(pipeline, day);
      expect(again.outcome).toMatchObject({ staged: 0, already_present: 40, pending: 0 });
      expect(await readLines(store, 'staging/')).toHaveLength(100);
    } finally {
      await pipeline.close();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}
