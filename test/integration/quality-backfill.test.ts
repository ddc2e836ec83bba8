import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StagedEvent } from '../../events/types.js';
import { FolderStore } from '../../lake/folder-store.js';
import { collectReport } from '../../report/collect.js';
import { type Check, runScorecard, type Scorecard } from '../../sql/scorecard.js';
import { firelake } from '../support/cli.js';
import { fixtureDay } from '../support/fixture/events.js';
import { writeDay } from '../support/fixture/lake.js';

// A backfill (history sent in minutes, as `npm start` sends its simulated stretch) against a
// stale pipeline (live events that arrive late): with the live window declared, the first is set
// apart and shown, the second still fails; with none declared, nothing is set apart.

const DAY = '2026-11-20';
const NOON = Date.parse(`${DAY}T12:00:00Z`);
const AS_OF = new Date(`${DAY}T23:59:59Z`);
const dir = mkdtempSync(join(tmpdir(), 'firelake-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fixture day with its morning sent at noon (a backfill) and the afternoon `liveLagS` late. */
async function lake(name: string, liveLagS: number): Promise<{ store: FolderStore; events: StagedEvent[] }> {
  const events = fixtureDay(DAY).events.map((e, i) => {
    const created = Date.parse(e.created_at);
    const received = created < NOON ? NOON + (i % 60) * 1000 : created + liveLagS * 1000 + (i % 5) * 1000;
    return { ...e, received_at: new Date(received).toISOString() };
  });
  const store = new FolderStore(join(dir, name));
  await writeDay(store, { day: DAY, stagedLines: events });
  return { store, events };
}

const lagOf = (e: StagedEvent) => (Date.parse(e.received_at) - Date.parse(e.created_at)) / 1000;
const check = (checks: Check[], id: string) => checks.find((c) => c.id === id)!;

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

describe('freshness of a backfilled stretch', () => {
  it('judges every event when no live window is declared, so a backfill fails as staleness would', async () => {
    const { store } = await lake('undeclared', 3);
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF });
    expect(check(card.checks, 'freshness.p50_seconds').status).toBe('fail');
    expect(card.figures.freshness![0]!.backfilled).toBe(0);
  });

  it('sets events created before the live window apart, says how many and how old, and judges the rest', async () => {
    const { store, events } = await lake('backfill', 3);
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF, liveFrom: new Date(NOON) });
    const live = events.filter((e) => Date.parse(e.created_at) >= NOON);
    const backfilled = events.filter((e) => Date.parse(e.created_at) < NOON);
    const f = card.figures.freshness![0]!;
    expect(f.events).toBe(live.length);
    expect(f.backfilled).toBe(backfilled.length);
    expect(f.backfilled_p50_seconds).toBeCloseTo(quantile(backfilled.map(lagOf), 0.5), 6);
    const p50 = check(card.checks, 'freshness.p50_seconds');
    expect(p50.figure).toBeCloseTo(quantile(live.map(lagOf), 0.5), 6);
    expect(p50.status).toBe('pass');
    expect(p50.detail).toMatch(new RegExp(`${backfilled.length} events created before the live window`));
    expect(check(card.checks, 'freshness.p99_seconds').status).toBe('pass');
  });

  it('still fails a stale pipeline: live events that arrive half an hour late', async () => {
    const { store } = await lake('stale', 1800);
    const card = await runScorecard({ store, day: DAY, asOf: AS_OF, liveFrom: new Date(NOON) });
    expect(check(card.checks, 'freshness.p50_seconds').status).toBe('fail');
    expect(check(card.checks, 'freshness.p50_seconds').figure).toBeGreaterThanOrEqual(1800);
  });

  it("draws the report's freshness histogram from the same split", async () => {
    const { store } = await lake('report', 3);
    const data = await collectReport({ store, day: DAY, asOf: AS_OF, liveFrom: new Date(NOON) });
    const day = data.days[0]!;
    const bins = day.series!.freshnessHistogram;
    const f = day.scorecard!.figures.freshness![0]!;
    expect(bins.reduce((s, b) => s + Number(b.live_events), 0)).toBe(f.events);
    expect(bins.reduce((s, b) => s + Number(b.backfilled_events), 0)).toBe(f.backfilled);
  });
});

describe('firelake quality --live-from', () => {
  it('sets the backfill apart from the command line, as npm start does', async () => {
    await lake('cli', 3);
    const run = firelake(
      'quality',
      '--date',
      DAY,
      '--lake',
      join(dir, 'cli'),
      '--as-of',
      AS_OF.toISOString(),
      '--live-from',
      new Date(NOON).toISOString(),
      '--json',
    );
    const card = JSON.parse(run.stdout) as Scorecard;
    expect(card.figures.freshness![0]!.backfilled).toBeGreaterThan(0);
    expect(check(card.checks, 'freshness.p50_seconds').status).toBe('pass');
  });

  it('refuses a --live-from that is not an instant with a zone', () => {
    const run = firelake('quality', '--date', DAY, '--lake', join(dir, 'cli'), '--live-from', 'noon');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--live-from/);
  });
});
