import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineRecord, StagedEvent } from '../events/types.js';
import { FolderStore } from '../lake/folder-store.js';
import { type LocalPipeline, startLocalPipeline } from '../local/runtime.js';
import { runReplay } from '../replay/replay.js';
import { runScorecard } from '../sql/scorecard.js';
import { readLines } from './support/lake-read.js';
import {
  curatedRows,
  FAST_DELIVERY,
  LESSON_FIX_SQL,
  sendEvents,
  today,
  useEndpoint,
  wrongType,
} from './support/replay.js';
import { game, lesson, subscription, user } from './transform-fixtures.js';

// Issue 12's first "Must show", end to end on a folder lake: local Firehose (real SDK), the real
// transform on dynalite, compaction, the scorecard.

const dir = mkdtempSync(join(tmpdir(), 'firelake-replay-'));
const store = new FolderStore(join(dir, 'lake'));
let pipeline: LocalPipeline;

beforeAll(async () => {
  pipeline = await startLocalPipeline({
    lake: store,
    inMemoryDynamo: true,
    port: 0,
    delivery: FAST_DELIVERY,
  });
  useEndpoint(pipeline);
});
afterAll(async () => {
  await pipeline?.close();
  rmSync(dir, { recursive: true, force: true });
});

const replay = (options: Partial<Parameters<typeof runReplay>[0]>) =>
  runReplay({
    store,
    sources: ['quarantine'],
    days: [today()],
    streamName: pipeline.streamName,
    pollMs: 200,
    waitTimeoutMs: 60_000,
    ...options,
  });

describe('firelake replay of quarantined records', () => {
  const now = Date.now();
  const learner = randomUUID();
  const live = [user(learner, now - 60_000), subscription(learner, 'de', now - 50_000)];
  const broken = Array.from({ length: 200 }, (_, i) => wrongType(lesson(learner, 'de', now - 40_000 + i)));
  const fixFile = join(dir, 'fix.sql');

  it('quarantines 200 lessons with a field of the wrong JSON type; --fix brings each into curated once, with replayed_from', async () => {
    await sendEvents(pipeline, [...live, ...broken]);
    const quarantined = await readLines<QuarantineRecord>(store, 'quarantine/');
    expect(quarantined.map((q) => q.value.reason)).toEqual(Array(200).fill('schema_violation'));
    expect(quarantined[0]!.value.errors).toEqual([
      { path: '/event_specifics/number_of_lessons_in_course', message: 'must be integer' },
    ]);

    writeFileSync(fixFile, LESSON_FIX_SQL);
    const dry = await replay({ fixFile, dryRun: true });
    expect(dry.by_reason).toEqual([
      { reason: 'schema_violation', selected: 200, sendable: 200, would_accept: 200, not_sendable: 0 },
    ]);
    expect(pipeline.stream.stats().incomingRecords).toBe(202); // the dry run sent nothing

    const report = await replay({ fixFile });
    expect(report.status).toBe('complete');
    expect(report.sent).toBe(200);
    expect(report.outcome).toMatchObject({
      staged: 200,
      already_present: 0,
      failed: 0,
      pending: 0,
      quarantined: {},
    });
    expect(report.compaction.map((c) => c.status)).toEqual(['published']);

    const day = report.outcome!.staged_days[0]!;
    const rows = await curatedRows(store, [day]);
    const replayed = rows.filter((r) => r.replayed_from !== null);
    expect(replayed.map((r) => r.event_uuid).sort()).toEqual(broken.map((e) => e.event_uuid).sort());
    expect(new Set(rows.map((r) => r.event_uuid)).size).toBe(rows.length);
    const origins = new Map(quarantined.map((q) => [q.value.event_uuid, q]));
    for (const r of replayed) {
      const q = origins.get(r.event_uuid as string)!;
      expect(r.replayed_from).toMatch(new RegExp(`^${q.key}#\\d+$`));
      expect(Number((r.event_specifics as Record<string, unknown>).number_of_lessons_in_course)).toBe(12);
      // Enriched as live traffic: the state of the user and subscription sent before.
      expect(r).toMatchObject({
        country: 'GB',
        subscription_status: 'active',
        enrichment_status: 'complete',
      });
    }
    // Live events are not replays.
    expect(rows.filter((r) => r.replayed_from === null)).toHaveLength(2);

    // The scorecard accounts for the replay, and reconciliation still holds.
    const card = await runScorecard({ store, day });
    const check = (id: string) => card.checks.find((c) => c.id === id)!;
    for (const id of [
      'reconciliation.unknown_reason',
      'reconciliation.staged_vs_curated',
      'reconciliation.orphan_tombstones',
    ])
      expect(check(id).status, id).toBe('pass');
    expect(check('reconciliation.replays')).toMatchObject({ status: 'pass', figure: 0 });
    expect(card.figures.replays![0]).toMatchObject({
      runs: 1,
      selected: 200,
      sent: 200,
      staged: 200,
      already_present: 0,
    });
  });

  it('adds nothing on a second identical replay: every record is already present, curated is unchanged', async () => {
    const day = today();
    const before = await curatedRows(store, [day]);
    const staged = await readLines<StagedEvent>(store, 'staging/');
    const report = await replay({ fixFile });
    expect(report.sent).toBe(200);
    expect(report.outcome).toMatchObject({ staged: 0, already_present: 200, pending: 0 });
    expect(report.compaction).toEqual([]);
    expect(await readLines(store, 'staging/')).toHaveLength(staged.length);
    expect(await curatedRows(store, [day])).toEqual(before);
    // The tombstones point at the first replay's records; the scorecard counts them as present.
    const card = await runScorecard({ store, day });
    expect(card.figures.replays![0]).toMatchObject({ runs: 2, already_present: 200 });
    expect(card.checks.find((c) => c.id === 'reconciliation.orphan_tombstones')!.status).toBe('pass');
  });

  it('completes an interrupted replay on a rerun, without duplicates', async () => {
    const games = Array.from({ length: 120 }, (_, i) => {
      const g = game(learner, now - 30_000 + i);
      return { ...g, event_specifics: { ...g.event_specifics, score: `${g.event_specifics.score}` } };
    });
    await sendEvents(pipeline, games);
    const fix = join(dir, 'fix-score.sql');
    writeFileSync(
      fix,
      `SELECT origin, json_merge_patch(payload, json_object('event_specifics', json_object('score',
         CAST(json_extract_string(payload, '$.event_specifics.score') AS INTEGER))))::VARCHAR AS payload
       FROM quarantined`,
    );
    const controller = new AbortController();
    const first = await replay({
      fixFile: fix,
      eventName: 'game:completed',
      signal: controller.signal,
      onSent: (n) => {
        if (n === 45) controller.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    expect(first.sent).toBe(45);
    expect(first.outcome).toMatchObject({ staged: 45, pending: 0 });

    const rerun = await replay({ fixFile: fix, eventName: 'game:completed' });
    expect(rerun.selected).toBe(120);
    expect(rerun.outcome).toMatchObject({ staged: 75, already_present: 45, pending: 0 });
    const stagedGames = (await readLines<StagedEvent>(store, 'staging/')).filter(
      (l) => l.value.event_name === 'game:completed',
    );
    expect(stagedGames.map((l) => l.value.event_uuid).sort()).toEqual(games.map((g) => g.event_uuid).sort());
  });
});
