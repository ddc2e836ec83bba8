import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactNightly } from '../../compaction/nightly.js';
import { pendingDays } from '../../compaction/pending.js';
import type { QuarantineRecord, StagedEvent } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import { dayOf, errorsDayPrefix } from '../../lake/layout.js';
import { type LocalPipeline, startLocalPipeline } from '../../local/runtime.js';
import { type ReplayReport, runReplay } from '../../replay/replay.js';
import { runScorecard } from '../../sql/scorecard.js';
import { createTransform } from '../../transform/transform.js';
import { firelakeAsync as firelake } from '../support/cli.js';
import { readLines } from '../support/lake-read.js';
import {
  curatedRows,
  FAST_DELIVERY,
  LESSON_FIX_SQL,
  sendEvents,
  today,
  useEndpoint,
  wrongType,
} from '../support/replay.js';
import {
  batch,
  dynamoClient,
  game,
  lesson,
  outputs,
  record,
  subscription,
  testConfig,
  user,
} from '../transform-fixtures.js';

// A replay of quarantined records, end to end on a folder lake: local Firehose (real SDK), the real
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
    expect(pipeline.stream.stats().processorRecords).toBe(202); // the dry run sent nothing (events, packed or not)

    // As a data engineer runs it: the command, pointed at the local Firehose by the SDK's variables.
    const run = await firelake(
      ['replay', '--lake', store.root, '--date', today(), '--fix', fixFile, '--json'],
      pipeline.env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\[replay\] sent 200 of 200/);
    const report = JSON.parse(run.stdout) as ReplayReport;
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
    const run = await firelake(
      ['replay', '--lake', store.root, '--date', day, '--fix', fixFile],
      pipeline.env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('every record is already in the lake: nothing was staged twice');
    const report = await replay({ fixFile });
    expect(report.sent).toBe(200);
    expect(report.outcome).toMatchObject({ staged: 0, already_present: 200, pending: 0 });
    expect(report.compaction).toEqual([]);
    expect(await readLines(store, 'staging/')).toHaveLength(staged.length);
    expect(await curatedRows(store, [day])).toEqual(before);
    // The tombstones point at the first replay's records; the scorecard counts them as present.
    const card = await runScorecard({ store, day });
    expect(card.figures.replays![0]).toMatchObject({ runs: 3, already_present: 400 });
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
      chunkRecords: 45,
      onSent: () => controller.abort(),
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

describe('firelake replay of old events, errors/ and files', () => {
  const DAY_MS = 86_400_000;

  it('replays events older than the late window only with --allow-late; the nightly run compacts their day outside its window', async () => {
    const now = Date.now();
    const u = randomUUID();
    const old = Array.from({ length: 5 }, (_, i) => game(u, now - 10 * DAY_MS + i * 1000));
    await sendEvents(pipeline, old);
    const oldDay = dayOf(now - 10 * DAY_MS + 4000);

    const refused = await replay({ reasons: ['too_late'], dryRun: true });
    expect(refused.by_reason).toEqual([
      { reason: 'too_late', selected: 5, sendable: 5, would_accept: 0, not_sendable: 0 },
    ]);
    expect(refused.refused_by_catalog).toEqual({ too_late: 5 });
    const allowed = await replay({ reasons: ['too_late'], allowLate: true, dryRun: true });
    expect(allowed.by_reason[0]).toMatchObject({ would_accept: 5 });

    // Sent anyway, they are quarantined again, with their origin; the scorecard says so.
    const again0 = await replay({ reasons: ['too_late'] });
    expect(again0.outcome).toMatchObject({ staged: 0, quarantined: { too_late: 5 }, pending: 0 });
    const card = await runScorecard({ store, day: today() });
    expect(card.figures.replays![0]!.quarantined_again_by_reason).toEqual([
      { reason: 'too_late', records: 5 },
    ]);
    expect(card.checks.find((c) => c.id === 'reconciliation.replays')!.detail).toContain(
      'quarantined again 5 (too_late 5)',
    );

    // The lines quarantined again are not selected again: their originals are.
    const report = await replay({ reasons: ['too_late'], allowLate: true, compact: false });
    expect(report.selected).toBe(5);
    expect(report.left_out.replay_outcomes).toBe(5);
    expect(report.outcome).toMatchObject({ staged: 5, pending: 0, staged_days: [oldDay] });
    expect(report.compaction).toEqual([{ day: oldDay, status: 'pending' }]);
    expect(await pendingDays(store)).toEqual([oldDay]);

    // The nightly run of today's yesterday looks 7 days back; the replayed day is 10 days old.
    const nightly = await compactNightly({ store, now: new Date(now) });
    expect(nightly.days.find((d) => d.day === oldDay)).toMatchObject({ status: 'published' });
    expect(await pendingDays(store)).toEqual([]);
    const rows = await curatedRows(store, [oldDay]);
    expect(rows.map((r) => r.event_uuid).sort()).toEqual(old.map((e) => e.event_uuid).sort());
    for (const r of rows) expect(r.replayed_from).toMatch(/^quarantine\/year=.*#\d+$/);

    // Without --no-compact the replay recompacts the old day itself.
    const older = [game(u, now - 12 * DAY_MS)];
    await sendEvents(pipeline, older);
    const again = await replay({ reasons: ['too_late'], allowLate: true });
    expect(again.outcome).toMatchObject({ staged: 1, already_present: 5 });
    expect(again.compaction).toEqual([{ day: dayOf(now - 12 * DAY_MS), status: 'published', rows: 1 }]);
  });

  it('takes a partitioning-failed record over from its delivery, whose dedup marker was written: staged once', async () => {
    const event = game(randomUUID(), Date.now() - 5000);
    const arrival = Date.now() - 4000;
    // The transform processed it (marker written, Ok), then Firehose could not partition it.
    const dynamodb = dynamoClient(pipeline.dynamodbEndpoint);
    const transformed = outputs(
      await createTransform({ dynamodb, config: testConfig() })(batch([record(event, arrival)])),
    );
    dynamodb.destroy();
    expect(transformed[0]!.dataset).toBe('staging');
    const failed = {
      attemptsMade: 1,
      arrivalTimestamp: arrival,
      errorCode: 'DynamicPartitioning.PartitionCountExceeded',
      errorMessage: 'more than 500 active partitions',
      attemptEndingTimestamp: arrival + 100,
      rawData: Buffer.from(JSON.stringify(event)).toString('base64'),
      lambdaArn: 'arn:aws:lambda:us-east-1:000000000000:function:firelake-transform',
    };
    const key = `${errorsDayPrefix(dayOf(arrival), 'partitioning-failed')}firelake-events-1-x.gz`;
    await store.put(key, gzipSync(`${JSON.stringify(failed)}\n`));

    const report = await replay({ sources: ['partitioning-failed'], days: [dayOf(arrival)], compact: false });
    expect(report.outcome).toMatchObject({ staged: 1, already_present: 0, pending: 0 });
    const staged = (await readLines<StagedEvent>(store, 'staging/')).filter(
      (l) => l.value.event_uuid === event.event_uuid,
    );
    expect(staged.map((l) => l.value.replayed_from)).toEqual([`${key}#1`]);
    const again = await replay({ sources: ['partitioning-failed'], days: [dayOf(arrival)], compact: false });
    expect(again.outcome).toMatchObject({ staged: 0, already_present: 1 });
  });

  it('replays an NDJSON file of payloads, each record with its line as origin', async () => {
    const events = [game(randomUUID(), Date.now() - 3000), game(randomUUID(), Date.now() - 2000)];
    const file = join(dir, 'recovered.ndjson');
    writeFileSync(file, `${JSON.stringify(events[0])}\n\n${JSON.stringify(events[1])}\n`);
    const report = await replay({ file, sources: [], days: [], compact: false });
    expect(report).toMatchObject({ selected: 2, sent: 2, outcome: { staged: 2 } });
    const staged = (await readLines<StagedEvent>(store, 'staging/')).filter((l) =>
      events.some((e) => e.event_uuid === l.value.event_uuid),
    );
    expect(staged.map((l) => l.value.replayed_from).sort()).toEqual([`file:${file}#1`, `file:${file}#3`]);
  });
});
