import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineRecord } from '../../events/types.js';
import type { GeneratorStats } from '../../generator/stats.js';
import { FolderStore } from '../../lake/folder-store.js';
import { S3Store } from '../../lake/s3-store.js';
import type { ObjectStore } from '../../lake/store.js';
import { NoDataError } from '../../sql/runner.js';
import { type Check, judge, loadThresholds, runScorecard, type Scorecard } from '../../sql/scorecard.js';
import { type FixtureDay, type FixtureFaults, fixtureDay, fixtureUuid } from '../support/fixture/events.js';
import { writeDay } from '../support/fixture/lake.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

// The scorecard over generated lakes with known faults: every check must report exactly the
// figure that was injected, with the status its threshold gives, and a clean lake passes.

const DAY = '2026-11-20';
const HISTORY = ['2026-11-17', '2026-11-18', '2026-11-19'];
// Taken the morning after: every hour of the day is due.
const AS_OF = new Date('2026-11-21T06:00:00Z');

const FAULTS: FixtureFaults = {
  missingHour: 13,
  lateEvents: 6,
  missingSubscriptions: 9,
  completedOverTotal: 2,
  percentageMismatch: 3,
  missingTitle: 2,
  stagingDuplicates: 5,
  duplicateTombstones: 7,
  orphanTombstones: 1,
  schemaViolations: 4,
  invalidJson: 3,
  processingFailed: 2,
};

// The history days: staged (an object per hour is enough) and compacted, for their manifests
// (the volume baseline). The same for every lake: built once, then copied object by object.
let historyLake: Promise<FolderStore> | undefined;
async function writeHistory(store: ObjectStore): Promise<void> {
  historyLake ??= (async () => {
    const lake = tempLake();
    for (const [i, day] of HISTORY.entries()) {
      await writeDay(lake, { day, stagedLines: fixtureDay(day, {}, i + 1).events, objectMinutes: 60 });
    }
    return lake;
  })();
  const from = await historyLake;
  for await (const o of from.list('')) await store.put(o.key, await from.get(o.key));
}

async function buildLake(store: ObjectStore, faults: FixtureFaults, history = true): Promise<FixtureDay> {
  if (history) await writeHistory(store);
  const f = fixtureDay(DAY, faults);
  await writeDay(store, { day: DAY, stagedLines: f.stagedLines, quarantine: f.quarantine, failed: f.failed });
  return f;
}

function check(card: Scorecard, id: string): Check {
  const c = card.checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id} in ${card.checks.map((x) => x.id).join(', ')}`);
  return c;
}

/** quantile_cont: linear interpolation between the closest ranks. */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

const dirs: string[] = [];
function tempLake(): FolderStore {
  const dir = mkdtempSync(join(tmpdir(), 'firelake-quality-'));
  dirs.push(dir);
  return new FolderStore(dir);
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('quality scorecard', () => {
  let faulty: FixtureDay;
  let card: Scorecard;
  let store: FolderStore;

  beforeAll(async () => {
    store = tempLake();
    faulty = await buildLake(store, FAULTS);
    card = await runScorecard({ store, day: DAY, asOf: AS_OF });
  });

  it('passes every check of a clean lake', async () => {
    const clean = tempLake();
    await buildLake(clean, {});
    const result = await runScorecard({ store: clean, day: DAY, asOf: AS_OF });
    const notPassing = result.checks.filter((c) => c.status !== 'pass');
    expect(notPassing).toEqual([]);
    expect(result.status).toBe('pass');
    expect(result.checks.length).toBeGreaterThan(30);
  });

  it('accounts for every record received: staged, quarantined by reason, failed', () => {
    const received = faulty.events.length + faulty.quarantine.length + faulty.failed.length;
    const r = card.figures.reconciliation![0]!;
    expect(r.received).toBe(received);
    expect(r.staged_unique).toBe(faulty.events.length);
    expect(r.staged_lines).toBe(faulty.events.length + 5);
    expect(r.quarantined).toBe(7 + 1 + 4 + 3);
    expect(r.processing_failed).toBe(2);
    expect(r.curated_rows).toBe(faulty.events.length);
    expect(check(card, 'reconciliation.staged_vs_curated')).toMatchObject({ figure: 0, status: 'pass' });
    expect(check(card, 'reconciliation.manifest_rows')).toMatchObject({ figure: 0, status: 'pass' });
    expect(check(card, 'reconciliation.unknown_reason').detail).toContain(
      `received ${received} = staged ${faulty.events.length} + quarantined 15 (duplicate 8, invalid_json 3, schema_violation 4) + processing-failed 2`,
    );
  });

  it('fails on a tombstone whose kept event is not in the lake', () => {
    expect(check(card, 'reconciliation.orphan_tombstones')).toMatchObject({ figure: 1, status: 'fail' });
  });

  it('reports quarantine by reason as a share of received', () => {
    const received = faulty.events.length + 15 + 2;
    expect(check(card, 'validity.schema_violation').figure).toBeCloseTo(4 / received, 12);
    expect(check(card, 'validity.invalid_json').figure).toBeCloseTo(3 / received, 12);
    expect(check(card, 'validity.invalid_share').figure).toBeCloseTo(7 / received, 12);
    expect(check(card, 'validity.invalid_share').status).toBe('pass');
  });

  it('measures duplicates at ingest, in staging and in curated', () => {
    const received = faulty.events.length + 15 + 2;
    expect(check(card, 'uniqueness.ingest_duplicate_rate').figure).toBeCloseTo(8 / received, 12);
    const staging = check(card, 'uniqueness.staging_duplicate_rate');
    expect(staging.figure).toBeCloseTo(5 / (faulty.events.length + 5), 12);
    expect(staging.status).toBe('warn');
    expect(check(card, 'uniqueness.curated_duplicate_uuids')).toMatchObject({ figure: 0, status: 'pass' });
  });

  it('finds the required field missing, by event name', () => {
    const lessons = faulty.events.filter((e) => e.event_name === 'lesson:completed').length;
    const c = check(card, 'completeness.lesson:completed');
    expect(c.figure).toBeCloseTo(2 / lessons, 12);
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('title 2');
    expect(check(card, 'completeness.game:started')).toMatchObject({ figure: 0, status: 'pass' });
    expect(check(card, 'completeness.app:installed')).toMatchObject({ figure: null, status: 'pass' });
  });

  it('gives lateness percentiles and the events later than an hour', () => {
    const lags = faulty.events.map((e) => (Date.parse(e.received_at) - Date.parse(e.created_at)) / 1000);
    expect(check(card, 'freshness.p50_seconds').figure).toBeCloseTo(quantile(lags, 0.5), 9);
    expect(check(card, 'freshness.p95_seconds').figure).toBeCloseTo(quantile(lags, 0.95), 9);
    expect(check(card, 'freshness.p99_seconds').figure).toBeCloseTo(quantile(lags, 0.99), 9);
    const late = check(card, 'freshness.later_than_1h_share');
    expect(late.figure).toBeCloseTo(6 / faulty.events.length, 12);
    expect(late.status).toBe('warn');
  });

  it('flags the missing hour against the previous days', () => {
    const missing = check(card, 'volume.missing_hours');
    expect(missing).toMatchObject({ figure: 1, status: 'fail' });
    expect(missing.detail).toContain('13h');
    expect(check(card, 'volume.drops')).toMatchObject({ figure: 0, status: 'pass' });
    expect(check(card, 'volume.spikes')).toMatchObject({ figure: 0, status: 'pass' });
    const hour13 = card.figures.volume!.find((h) => h.hour === 13)!;
    expect(hour13).toMatchObject({ events: 0, history_days: 3 });
  });

  it('measures enrichment coverage of lesson events', () => {
    const lessons = faulty.events.filter((e) => e.event_name === 'lesson:completed').length;
    const sub = check(card, 'enrichment.subscription_share');
    expect(sub.figure).toBeCloseTo((lessons - 9) / lessons, 12);
    expect(sub.status).toBe('warn');
    expect(check(card, 'enrichment.country_share')).toMatchObject({ figure: 1, status: 'pass' });
  });

  it('finds inconsistent lesson progress', () => {
    expect(check(card, 'consistency.completed_over_total')).toMatchObject({ figure: 2, status: 'fail' });
    expect(check(card, 'consistency.percentage_mismatch')).toMatchObject({ figure: 3, status: 'fail' });
    expect(check(card, 'consistency.non_positive_period')).toMatchObject({ figure: 0, status: 'pass' });
  });

  it('fails overall, with the counts of each status', () => {
    expect(card.status).toBe('fail');
    expect(card.counts.fail).toBe(card.checks.filter((c) => c.status === 'fail').length);
    expect(card.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
      'reconciliation.orphan_tombstones',
      'completeness.lesson:completed',
      'volume.missing_hours',
      'consistency.completed_over_total',
      'consistency.percentage_mismatch',
    ]);
  });

  it('finds the kept event of a conflict on an earlier day, whatever the conflicting payload says', async () => {
    // A uuid_conflict tombstone carries its own payload's created_at (today), while the event
    // that was kept, first with that uuid, is a late event compacted on an earlier day.
    const lake = tempLake();
    await writeHistory(lake);
    const kept = fixtureDay(HISTORY[2]!, {}, 3).events[0]!;
    const f = fixtureDay(DAY, {});
    const conflict = (uuid: string, n: number): QuarantineRecord => ({
      reason: 'uuid_conflict',
      received_at: `${DAY}T05:00:0${n}.000Z`,
      record_id: `record-conflict-${n}`,
      event_uuid: uuid,
      event_name: kept.event_name,
      created_at: `${DAY}T04:59:00.000Z`,
      errors: [],
      payload: null,
      payload_base64: null,
      first_record_id: `record-first-${n}`,
    });
    const lost = fixtureUuid(9, 1);
    await writeDay(lake, {
      day: DAY,
      stagedLines: f.stagedLines,
      quarantine: [conflict(kept.event_uuid, 1), conflict(lost, 2)],
      failed: [],
    });
    const result = await runScorecard({ store: lake, day: DAY, asOf: AS_OF });
    // Only the tombstone whose uuid is nowhere in the lake is an orphan.
    expect(check(result, 'reconciliation.orphan_tombstones')).toMatchObject({ figure: 1, status: 'fail' });
  });

  it('does not judge hours that are not over yet', async () => {
    const early = await runScorecard({ store, day: DAY, asOf: new Date(`${DAY}T12:30:00Z`) });
    expect(check(early, 'volume.missing_hours')).toMatchObject({ figure: 0, status: 'pass' });
  });

  it('refuses a day with no data, saying where it looked', async () => {
    await expect(runScorecard({ store, day: '2026-11-25' })).rejects.toThrow(NoDataError);
    await expect(runScorecard({ store, day: '2026-11-25' })).rejects.toThrow(
      /no staging objects under staging\/year=2026\/month=11\/day=25/,
    );
  });

  it('does not judge hours whose baseline is too thin', async () => {
    const thin = await runScorecard({
      store,
      day: DAY,
      asOf: AS_OF,
      thresholds: { volume: { min_baseline: 1000 } },
    });
    expect(check(thin, 'volume.missing_hours')).toMatchObject({ figure: 0, status: 'pass' });
  });

  it('applies thresholds given as overrides', async () => {
    const lenient = await runScorecard({
      store,
      day: DAY,
      asOf: AS_OF,
      thresholds: { checks: { 'consistency.completed_over_total': { warn: 5, fail: 10 } } },
    });
    expect(check(lenient, 'consistency.completed_over_total').status).toBe('pass');
  });
});

describe('reconciliation against compaction', () => {
  it('finds staged events that never reached curated, and the objects that landed late', async () => {
    const store = tempLake();
    const f = await buildLake(store, {}, false);
    // A late staging object after compaction: 3 events of the day that curated does not have.
    const late = fixtureDay(DAY, {}, 9).events.slice(0, 3);
    await writeDay(store, { day: DAY, stagedLines: late, compact: false });
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF });
    expect(check(card, 'reconciliation.staged_vs_curated')).toMatchObject({ figure: 3, status: 'fail' });
    expect(check(card, 'reconciliation.late_objects').figure).toBeGreaterThanOrEqual(1);
    expect(check(card, 'reconciliation.late_objects').status).toBe('warn');
    expect(card.figures.reconciliation![0]).toMatchObject({
      staged_unique: f.events.length + 3,
      curated_rows: f.events.length,
      staged_not_curated: 3,
      curated_not_staged: 0,
    });
  });

  it("matches tombstones of late resends against earlier days' curated events", async () => {
    const store = tempLake();
    await buildLake(store, {});
    const earlier = fixtureDay(HISTORY[2]!, {}, 3).events[5]!;
    const tombstone = (uuid: string, created: string, n: number): QuarantineRecord => ({
      reason: 'duplicate',
      received_at: `${DAY}T08:00:0${n}.000Z`,
      record_id: `late-${n}`,
      event_uuid: uuid,
      event_name: 'game:started',
      created_at: created,
      errors: [],
      payload: null,
      payload_base64: null,
      first_record_id: `first-${n}`,
    });
    await writeDay(store, {
      day: DAY,
      stagedLines: [],
      compact: false,
      quarantine: [
        // Kept on an earlier compacted day: accounted for.
        tombstone(earlier.event_uuid, earlier.created_at, 1),
        // Claims an earlier day's event that curated does not have: lost.
        tombstone(fixtureUuid(8, 99), earlier.created_at, 2),
        // A day outside the history: counted, not checked.
        tombstone(fixtureUuid(8, 98), '2026-10-01T00:00:00.000Z', 3),
      ],
    });
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF });
    expect(check(card, 'reconciliation.orphan_tombstones')).toMatchObject({ figure: 1, status: 'fail' });
    expect(card.figures.reconciliation![0]).toMatchObject({ tombstones_unchecked: 1, quarantined: 3 });
  });

  it('says the day is not compacted when it has no manifest', async () => {
    const store = tempLake();
    const f = fixtureDay(DAY, {});
    await writeDay(store, { day: DAY, stagedLines: f.stagedLines, compact: false });
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF });
    const c = check(card, 'reconciliation.staged_vs_curated');
    expect(c).toMatchObject({ figure: f.events.length, status: 'fail' });
    expect(c.detail).toContain('day not compacted');
  });
});

describe('reconciliation against the generator stats', () => {
  const stats = (f: FixtureDay, over: Partial<GeneratorStats> = {}): GeneratorStats => ({
    seed: 1,
    start: `${DAY}T00:00:00.000Z`,
    end: `${DAY}T23:59:59.000Z`,
    rate_per_second: 0.01,
    sink: 'firehose',
    records: f.events.length + f.quarantine.length,
    unique_events: f.events.length,
    unique_by_name: {},
    duplicates: 7,
    conflicts: 0,
    bad: 7,
    bad_by_kind: {
      invalid_json: 3,
      invalid_utf8: 0,
      wrong_type: 2,
      missing_field: 2,
      unknown_event: 0,
      future_timestamp: 0,
      too_old: 0,
      oversized: 0,
    },
    late: 0,
    undelivered: 0,
    retried: 0,
    ...over,
  });
  let store: FolderStore;
  let f: FixtureDay;
  beforeAll(async () => {
    store = tempLake();
    f = await buildLake(store, { duplicateTombstones: 7, schemaViolations: 4, invalidJson: 3 }, false);
  });

  it('matches what was sent', async () => {
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF, stats: stats(f) });
    const sent = card.checks.filter((c) => c.id.startsWith('reconciliation.sent.'));
    expect(sent.map((c) => c.id).sort()).toEqual(
      [
        'received',
        'unique_events',
        'duplicate',
        'uuid_conflict',
        'invalid_json',
        'schema_violation',
        'invalid_utf8',
        'unknown_event',
        'future_timestamp',
        'too_late',
      ]
        .map((n) => `reconciliation.sent.${n}`)
        .sort(),
    );
    expect(sent.filter((c) => c.status !== 'pass')).toEqual([]);
  });

  it('fails when the lake lost events that were sent', async () => {
    const card = await runScorecard({
      store,
      day: DAY,
      asOf: AS_OF,
      stats: stats(f, { unique_events: f.events.length + 10, records: f.events.length + 24 }),
    });
    expect(check(card, 'reconciliation.sent.unique_events')).toMatchObject({ figure: 10, status: 'fail' });
    expect(check(card, 'reconciliation.sent.received')).toMatchObject({ figure: 10, status: 'fail' });
  });

  it('allows for records the generator could not deliver', async () => {
    const card = await runScorecard({
      store,
      day: DAY,
      asOf: AS_OF,
      stats: stats(f, { unique_events: f.events.length + 2, records: f.events.length + 16, undelivered: 2 }),
    });
    expect(check(card, 'reconciliation.sent.unique_events')).toMatchObject({ figure: 2, status: 'warn' });
    expect(check(card, 'reconciliation.sent.received')).toMatchObject({ figure: 0, status: 'pass' });
  });
});

describe('quality scorecard on S3', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.close();
  });

  it('gives the same figures as the same lake in a folder', async () => {
    const folder = tempLake();
    const bucket = new S3Store(s3.client, s3.bucket, 'lake');
    const faults: FixtureFaults = {
      missingHour: 3,
      lateEvents: 2,
      stagingDuplicates: 2,
      schemaViolations: 1,
    };
    await buildLake(folder, faults);
    await buildLake(bucket, faults);
    const a = await runScorecard({ store: folder, day: DAY, asOf: AS_OF });
    const b = await runScorecard({ store: bucket, day: DAY, asOf: AS_OF });
    const strip = (c: Scorecard) => c.checks.map(({ id, figure, status }) => ({ id, figure, status }));
    expect(strip(b)).toEqual(strip(a));
    expect(check(b, 'volume.missing_hours').figure).toBe(1);
    expect(b.lake).toBe('s3://firelake-test/lake/');
  });
});

describe('thresholds', () => {
  it('refuses a check id that no check answers to', async () => {
    await expect(
      loadThresholds({ checks: { 'freshness.p96_seconds': { warn: 1, fail: 2 } } }),
    ).rejects.toThrow(/unknown check freshness.p96_seconds/);
  });

  it('takes a subject of a wildcard check, and keeps the other defaults', async () => {
    const t = await loadThresholds({
      checks: { 'validity.too_late': { warn: 0, fail: 0 } },
      volume: { drop_below: 0.2 },
    });
    expect(t.checks['validity.too_late']).toEqual({ warn: 0, fail: 0 });
    expect(t.volume).toMatchObject({ drop_below: 0.2, spike_above: 3 });
  });

  it('refuses a bound that is not a number', async () => {
    await expect(
      loadThresholds({
        checks: { 'volume.drops': { warn: 1 } as unknown as { warn: number; fail: number } },
      }),
    ).rejects.toThrow(/needs numbers "warn" and "fail"/);
  });
});

describe('judge', () => {
  it('passes up to warn, warns up to fail, fails beyond (maximums)', () => {
    expect(judge(0.01, { warn: 0.01, fail: 0.05 }, 'max')).toBe('pass');
    expect(judge(0.02, { warn: 0.01, fail: 0.05 }, 'max')).toBe('warn');
    expect(judge(0.06, { warn: 0.01, fail: 0.05 }, 'max')).toBe('fail');
  });

  it('only warns when there is no fail bound', () => {
    expect(judge(0, { warn: 0, fail: null }, 'max')).toBe('pass');
    expect(judge(1e12, { warn: 0, fail: null }, 'max')).toBe('warn');
  });

  it('passes down to warn, warns down to fail, fails below (minimums)', () => {
    expect(judge(0.99, { warn: 0.99, fail: 0.95 }, 'min')).toBe('pass');
    expect(judge(0.97, { warn: 0.99, fail: 0.95 }, 'min')).toBe('warn');
    expect(judge(0.9, { warn: 0.99, fail: 0.95 }, 'min')).toBe('fail');
  });
});
