import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../../events/catalog.js';
import { validateEvent } from '../../events/validate.js';
import {
  BAD_KINDS,
  type BadKind,
  fileSink,
  type GeneratorOptions,
  type GeneratorStats,
  generateRecords,
  parseSpike,
  runGenerator,
} from '../../generator/index.js';
import { Random } from '../../generator/random.js';

// The generator checked from the outside: its output is replayed and classified here with the
// catalog's validator and the rules of the world, never with the generator's own bookkeeping.

const START = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIREHOSE_MAX_RECORD = 1000 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const dir = mkdtempSync(join(tmpdir(), 'firelake-generator-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Classified =
  | { kind: 'unique'; event: Event; late: boolean }
  | { kind: 'duplicate' }
  | { kind: 'conflict' }
  | { kind: 'bad'; bad: BadKind };

interface Event {
  event_uuid: string;
  created_at: number | string;
  createdAtMs: number;
  event_name: string;
  event_specifics: Record<string, unknown>;
}

/** Classifies records in order; `clockOf(i)` is the event time the i-th record was made at. */
function classifyAll(records: (string | Buffer)[], clockOf: (i: number) => number): Classified[] {
  const seen = new Map<string, string>();
  return records.map((data, i) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length > FIREHOSE_MAX_RECORD) return { kind: 'bad', bad: 'oversized' };
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return { kind: 'bad', bad: 'invalid_utf8' };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: 'bad', bad: 'invalid_json' };
    }
    const result = validateEvent(value);
    if (!result.ok) {
      if (result.reason === 'unknown_event') return { kind: 'bad', bad: 'unknown_event' };
      const missing = result.errors.some((e) => e.message.startsWith('must have required property'));
      return { kind: 'bad', bad: missing ? 'missing_field' : 'wrong_type' };
    }
    const clock = clockOf(i);
    if (result.createdAtMs > clock + HOUR) return { kind: 'bad', bad: 'future_timestamp' };
    if (result.createdAtMs < clock - 7 * DAY) return { kind: 'bad', bad: 'too_old' };
    const event = { ...(value as Omit<Event, 'createdAtMs'>), createdAtMs: result.createdAtMs };
    const first = seen.get(event.event_uuid);
    if (first !== undefined) return { kind: first === text ? 'duplicate' : 'conflict' };
    seen.set(event.event_uuid, text);
    return { kind: 'unique', event, late: result.createdAtMs < clock - HOUR / 2 };
  });
}

/** The counts of GeneratorStats, as the classification sees them. */
function countsOf(classified: Classified[]) {
  const counts = {
    records: classified.length,
    unique_events: 0,
    unique_by_name: Object.fromEntries(EVENT_NAMES.map((n) => [n, 0])) as Record<string, number>,
    duplicates: 0,
    conflicts: 0,
    bad: 0,
    bad_by_kind: Object.fromEntries(Object.keys(BAD_KINDS).map((k) => [k, 0])) as Record<string, number>,
    late: 0,
  };
  for (const c of classified) {
    if (c.kind === 'unique') {
      counts.unique_events++;
      counts.unique_by_name[c.event.event_name]!++;
      if (c.late) counts.late++;
    } else if (c.kind === 'duplicate') counts.duplicates++;
    else if (c.kind === 'conflict') counts.conflicts++;
    else {
      counts.bad++;
      counts.bad_by_kind[c.bad]!++;
    }
  }
  return counts;
}

function countsInStats(s: GeneratorStats) {
  const { records, unique_events, unique_by_name, duplicates, conflicts, bad, bad_by_kind, late } = s;
  return { records, unique_events, unique_by_name, duplicates, conflicts, bad, bad_by_kind, late };
}

/** The specifics fields the rules read (each event has some of them). */
interface Specifics {
  uuid: string;
  user_uuid: string;
  language: string;
  subscription_status: string;
  subscription_type: string;
  course_uuid: string;
  number_of_lessons_in_course: number;
  completed_lessons_in_course: number;
  percentage_completed_in_course: number;
  session_id: string;
  duration: number;
  language_id: string;
  difficulty: string;
  notification_id: string;
}

const TRANSITIONS: Record<string, string[]> = {
  trial: ['active', 'cancelled', 'expired'],
  active: ['active', 'past_due', 'cancelled'],
  past_due: ['active', 'cancelled'],
  cancelled: ['active'],
  expired: ['active'],
};

/**
 * Replays unique events in stream order against the rules of the world and returns every
 * broken rule (empty when the world is consistent).
 */
function worldViolations(events: { event: Event; late: boolean }[]): string[] {
  const broken: string[] = [];
  const fail = (e: Event, why: string) => {
    if (broken.length < 20) broken.push(`${e.event_name} ${e.event_uuid}: ${why}`);
  };
  const users = new Map<string, number>();
  const subscriptions = new Map<string, { status: string; type: string; at: number }>();
  const courses = new Map<string, { language: string; lessons: number }>();
  const progress = new Map<string, number>();
  const sessions = new Map<
    string,
    { user: string; at: number; game: { language: string; difficulty: string } | null }
  >();
  const ended = new Set<string>();
  const notifications = new Map<string, string>();
  let clock = Number.NEGATIVE_INFINITY;

  for (const { event: e, late } of events) {
    const s = e.event_specifics as unknown as Specifics;
    const t = e.createdAtMs;
    if (!late) {
      if (t < clock) fail(e, `created_at went back in time (${t} < ${clock})`);
      clock = Math.max(clock, t);
    } else if (!['lesson:completed', 'notification:sent', 'notification:opened'].includes(e.event_name)) {
      fail(e, 'late, yet not a lesson or notification');
    }
    const user = e.event_name.startsWith('user:') ? s.uuid : s.user_uuid;
    if (e.event_name === 'user:created') {
      if (users.has(user)) fail(e, 'user created twice');
      users.set(user, t);
      continue;
    }
    if (user !== undefined && !users.has(user)) fail(e, `user ${user} does not exist yet`);
    switch (e.event_name) {
      case 'subscription:created': {
        const key = `${user}/${s.language}`;
        if (subscriptions.has(key)) fail(e, 'subscription created twice');
        if (!['trial', 'active'].includes(s.subscription_status))
          fail(e, `starts as ${s.subscription_status}`);
        if (t < users.get(user)!) fail(e, 'subscription before its user');
        subscriptions.set(key, { status: s.subscription_status, type: s.subscription_type, at: t });
        break;
      }
      case 'subscription:updated': {
        const key = `${user}/${s.language}`;
        const before = subscriptions.get(key);
        if (!before) {
          fail(e, 'update of a subscription never created');
          break;
        }
        if (!TRANSITIONS[before.status]!.includes(s.subscription_status)) {
          fail(e, `status ${before.status} -> ${s.subscription_status}`);
        }
        if (before.status === s.subscription_status && before.type === s.subscription_type) {
          fail(e, 'an update that changes nothing');
        }
        subscriptions.set(key, { status: s.subscription_status, type: s.subscription_type, at: t });
        break;
      }
      case 'lesson:completed': {
        const sub = subscriptions.get(`${user}/${s.language}`);
        if (!sub) fail(e, `lesson in ${s.language} without a subscription to it`);
        else if (!late && t < sub.at) fail(e, 'lesson before its subscription');
        const course = courses.get(s.course_uuid) ?? {
          language: s.language,
          lessons: s.number_of_lessons_in_course,
        };
        courses.set(s.course_uuid, course);
        if (course.language !== s.language || course.lessons !== s.number_of_lessons_in_course) {
          fail(e, 'course changed language or length');
        }
        const key = `${user}/${s.course_uuid}`;
        const done = s.completed_lessons_in_course;
        if (done <= (progress.get(key) ?? 0)) fail(e, `progress went from ${progress.get(key)} to ${done}`);
        if (done > s.number_of_lessons_in_course) fail(e, 'more lessons completed than the course has');
        if (s.percentage_completed_in_course !== Math.floor((100 * done) / s.number_of_lessons_in_course)) {
          fail(
            e,
            `percentage ${s.percentage_completed_in_course} for ${done}/${s.number_of_lessons_in_course}`,
          );
        }
        progress.set(key, done);
        break;
      }
      case 'session:started':
        if (sessions.has(s.session_id) || ended.has(s.session_id)) fail(e, 'session started twice');
        sessions.set(s.session_id, { user, at: t, game: null });
        break;
      case 'session:ended': {
        const session = sessions.get(s.session_id);
        if (!session) {
          fail(e, 'session ended without being open');
          break;
        }
        if (session.game) fail(e, 'session ended during a game');
        if (t < session.at) fail(e, 'session ended before it started');
        if (Math.abs(s.duration - (t - session.at) / 1000) > 0.002)
          fail(e, `duration ${s.duration} disagrees`);
        sessions.delete(s.session_id);
        ended.add(s.session_id);
        break;
      }
      case 'game:started':
      case 'game:resumed':
      case 'game:completed': {
        const session = sessions.get(s.session_id);
        if (!session) {
          fail(e, 'game outside an open session');
          break;
        }
        if (session.user !== user) fail(e, 'game of another user in the session');
        if (e.event_name === 'game:started') {
          if (session.game) fail(e, 'game started while another is on');
          session.game = { language: s.language_id, difficulty: s.difficulty };
        } else {
          if (!session.game) fail(e, 'game resumed or completed without being started');
          else if (session.game.language !== s.language_id || session.game.difficulty !== s.difficulty) {
            fail(e, 'game changed language or difficulty');
          }
          if (e.event_name === 'game:completed') session.game = null;
        }
        break;
      }
      case 'notification:sent':
        if (notifications.has(s.notification_id)) fail(e, 'notification sent twice');
        notifications.set(s.notification_id, user);
        break;
      case 'notification:opened':
        if (notifications.get(s.notification_id) !== user)
          fail(e, 'opened a notification never sent to this user');
        notifications.delete(s.notification_id);
        break;
    }
  }
  return broken;
}

const FAULTY: GeneratorOptions = {
  seed: 42,
  start: START,
  duplicateRate: 0.02,
  conflictRate: 0.01,
  badRate: 0.04,
  lateRate: 0.02,
};

function collect(options: GeneratorOptions) {
  const stream = generateRecords(options);
  const records: (string | Buffer)[] = [];
  const at: number[] = [];
  for (const r of stream) {
    records.push(r.data);
    at.push(r.at);
  }
  return { records, at, stats: stream.stats() };
}

describe('generator world', () => {
  const { records, at, stats } = collect({ ...FAULTY, maxRecords: 100_000 });
  const classified = classifyAll(records, (i) => at[i]!);
  const unique = classified.filter((c) => c.kind === 'unique');

  it('keeps users, subscriptions, lessons, sessions, games and notifications in order over 100k events', () => {
    expect(unique.length).toBeGreaterThan(90_000);
    expect(worldViolations(unique)).toEqual([]);
  });

  it('produces every event name of the catalog', () => {
    for (const name of EVENT_NAMES) expect(stats.unique_by_name[name], name).toBeGreaterThan(0);
  });

  it("holds the app's mix user : subscription : lesson = 20 : 5 : 100", () => {
    const n = stats.unique_by_name;
    const user = n['user:created']! + n['user:updated']!;
    const subscription = n['subscription:created']! + n['subscription:updated']!;
    const lesson = n['lesson:completed']!;
    expect(user / lesson).toBeCloseTo(0.2, 1);
    expect(subscription / lesson).toBeGreaterThan(0.045);
    expect(subscription / lesson).toBeLessThan(0.055);
    expect(user / lesson).toBeGreaterThan(0.18);
    expect(user / lesson).toBeLessThan(0.22);
    // 125 of the default 277.8 events/s are user, subscription and lesson; the rest engagement.
    expect((user + subscription + lesson) / stats.unique_events).toBeCloseTo(125 / 277.78, 1);
  });

  it('writes created_at as epoch seconds and sometimes as ISO-8601, following the simulated clock', () => {
    const forms = new Set(unique.map((c) => typeof (c as { event: Event }).event.created_at));
    expect(forms).toEqual(new Set(['number', 'string']));
    const last = unique.at(-1) as { event: Event };
    expect(last.event.createdAtMs).toBeGreaterThan(START + 5 * 60_000);
    expect(last.event.createdAtMs).toBeLessThan(START + 7 * 60_000);
  });

  it('makes late events hours old but inside the 7-day window', () => {
    const late = unique.filter((c) => c.kind === 'unique' && c.late);
    expect(late.length).toBe(stats.late);
    expect(stats.late / stats.records).toBeGreaterThan(0.015);
    expect(stats.late / stats.records).toBeLessThan(0.025);
  });
});

describe('generator determinism', () => {
  const digest = (records: (string | Buffer)[]) => {
    const h = createHash('sha256');
    for (const r of records) h.update(r).update('\n');
    return h.digest('hex');
  };

  it('reproduces byte-identical records from the same seed', () => {
    const a = collect({ ...FAULTY, maxRecords: 20_000 });
    const b = collect({ ...FAULTY, maxRecords: 20_000 });
    expect(digest(b.records)).toBe(digest(a.records));
    expect(b.stats).toEqual(a.stats);
  });

  it('makes different records from another seed', () => {
    const a = collect({ ...FAULTY, maxRecords: 1000 });
    const b = collect({ ...FAULTY, seed: 43, maxRecords: 1000 });
    expect(digest(b.records)).not.toBe(digest(a.records));
  });

  it('makes the same first records whatever the length of the run', () => {
    const short = collect({ ...FAULTY, maxRecords: 3000 });
    const long = collect({ ...FAULTY, durationMs: 20_000 });
    expect(digest(long.records.slice(0, 3000))).toBe(digest(short.records));
  });
});

describe('generator stats', () => {
  it('match a file written by the file sink exactly, every fault included', async () => {
    const path = join(dir, 'faults.ndjson');
    const options: GeneratorOptions = { ...FAULTY, seed: 7, badRate: 0.1, durationMs: 4 * 60_000 };
    const stats = await runGenerator(options, fileSink(path));
    const bytes = readFileSync(path);
    expect(bytes.at(-1)).toBe(0x0a);
    const lines: Buffer[] = [];
    for (let from = 0; from < bytes.length; ) {
      const end = bytes.indexOf(0x0a, from);
      lines.push(bytes.subarray(from, end));
      from = end + 1;
    }
    // Evenly spaced at the default rate: record i was made at START + i / rate.
    const gap = 1000 / stats.rate_per_second;
    const counts = countsOf(classifyAll(lines, (i) => START + i * gap));
    expect(countsInStats(stats)).toEqual(counts);
    expect(stats.records).toBe(Math.ceil((4 * 60 * 1_000_000) / 3600));
    for (const kind of Object.keys(BAD_KINDS) as BadKind[]) {
      expect(stats.bad_by_kind[kind], kind).toBeGreaterThan(0);
    }
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.conflicts).toBeGreaterThan(0);
    expect(stats.start).toBe('2026-11-20T00:00:00.000Z');
    expect(Date.parse(stats.end)).toBeGreaterThan(START + 4 * 60_000 - 10);
    expect(stats.sink).toBe('file');
    expect(stats.undelivered).toBe(0);
  });

  it('draws only the bad kinds asked for', () => {
    const { records, at, stats } = collect({
      ...FAULTY,
      badRate: 0.5,
      badKinds: ['invalid_json', 'too_old'],
      maxRecords: 2000,
    });
    const counts = countsOf(classifyAll(records, (i) => at[i]!));
    expect(countsInStats(stats)).toEqual(counts);
    expect(counts.bad_by_kind.invalid_json! + counts.bad_by_kind.too_old!).toBe(counts.bad);
    expect(counts.bad).toBeGreaterThan(800);
  });

  it('refuses fault rates that cannot be met', () => {
    expect(() => generateRecords({ duplicateRate: 0.6, badRate: 0.6 })).toThrow(/at most 1/);
    expect(() => generateRecords({ lateRate: 0.9 })).toThrow(/late rate/);
    expect(() => generateRecords({ seed: -1 })).toThrow(/seed/);
    expect(() => generateRecords({ badKinds: [] })).toThrow(/bad kind/);
  });
});

describe('generator random source', () => {
  it('draws version-4 UUIDs, reproducible from the seed and all distinct', () => {
    const a = new Random(99);
    const b = new Random(99);
    // One comparison of the two sequences: 50,000 expect() calls took 1.5 s of the file's 8.
    const fromA = Array.from({ length: 50_000 }, () => a.uuid());
    expect(Array.from({ length: 50_000 }, () => b.uuid())).toEqual(fromA);
    const seen = new Set(fromA);
    expect(seen.size).toBe(50_000);
    for (const u of [...seen].slice(0, 1000)) {
      expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Random(100).uuid()).not.toBe(new Random(99).uuid());
  });
});

describe('generator schedule', () => {
  it('raises the rate by the spike multiplier for the spike window only', () => {
    const { at } = collect({
      seed: 1,
      start: START,
      ratePerSecond: 20,
      durationMs: 10 * 60_000,
      spikes: [parseSpike('5x@2m+3m')],
    });
    const perMinute = new Array<number>(10).fill(0);
    for (const t of at) perMinute[Math.floor((t - START) / 60_000)]!++;
    expect(perMinute).toEqual([1200, 1200, 6000, 6000, 6000, 1200, 1200, 1200, 1200, 1200]);
  });

  it('parses spikes and explains a bad one', () => {
    expect(parseSpike('5x@10m+5m')).toEqual({ multiplier: 5, fromMs: 600_000, forMs: 300_000 });
    expect(parseSpike('1.5x@1h+30s')).toEqual({ multiplier: 1.5, fromMs: 3_600_000, forMs: 30_000 });
    expect(() => parseSpike('5x@10m')).toThrow(/expected MULTIPLIERx@START\+LENGTH/);
    expect(() => parseSpike('0x@1m+1m')).toThrow(/multiplier/);
    expect(() => parseSpike('500x@1m+1m')).toThrow(/multiplier/);
  });
});

describe('generator in real time', () => {
  it('stamps created_at with the wall clock and paces records to the schedule', async () => {
    const path = join(dir, 'real.ndjson');
    const before = Date.now();
    const stats = await runGenerator(
      { seed: 3, ratePerSecond: 400, maxRecords: 200, realTime: true },
      fileSink(path),
    );
    const after = Date.now();
    const times = readFileSync(path, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => {
        const r = validateEvent(JSON.parse(l));
        if (!r.ok) throw new Error(l);
        return r.createdAtMs;
      });
    expect(times).toHaveLength(200);
    expect(stats.records).toBe(200);
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    }
    // Paced, not all at once: 200 records at 400/s span about half a second of wall clock.
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(400);
  });

  it('stops when aborted and counts exactly what it wrote', async () => {
    const path = join(dir, 'aborted.ndjson');
    const abort = new AbortController();
    const run = runGenerator(
      { seed: 4, ratePerSecond: 2000, realTime: true, badRate: 0.05 },
      fileSink(path),
      {
        signal: abort.signal,
        progressIntervalMs: 50,
        onProgress: (p) => {
          if (p.records >= 300) abort.abort();
        },
      },
    );
    const stats = await run;
    const lines = readFileSync(path).toString('latin1').trimEnd().split('\n');
    expect(stats.records).toBeGreaterThanOrEqual(300);
    expect(lines).toHaveLength(stats.records);
  });
});
