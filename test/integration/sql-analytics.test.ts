import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StagedEvent } from '../../events/types.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { runQuery } from '../../sql/query.js';
import { listQueries, NoDataError, type Row } from '../../sql/runner.js';
import { firelake } from '../support/cli.js';
import { type FixtureDay, fixtureDay, fixtureUuid } from '../support/fixture/events.js';
import { writeDay } from '../support/fixture/lake.js';

// The analytics of sql/analytics/ against the same figures computed here, in TypeScript, from
// the generated events themselves.

const DAY = '2026-11-20';
let dir: string;
let store: FolderStore;
let f: FixtureDay;
let events: StagedEvent[];

/** Extra activity that exercises the 30-minute rule: 29 minutes apart joins, 31 minutes splits. */
function burst(base: StagedEvent, minutesAfter: number[], n: number): StagedEvent[] {
  const start = Date.parse(base.created_at);
  return minutesAfter.map((m, i) => ({
    ...base,
    event_uuid: fixtureUuid(9, n + i),
    created_at: new Date(start + m * 60_000).toISOString(),
    received_at: new Date(start + m * 60_000 + 5_000).toISOString(),
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-analytics-'));
  store = new FolderStore(dir);
  f = fixtureDay(DAY, { missingSubscriptions: 5, stagingDuplicates: 3 });
  const lastOfFirstSession = f.events.find((e) => e.event_name === 'session:ended')!;
  // The same game event again 29, 58 (29 + 29) and 89 (58 + 31) minutes later.
  const game = {
    ...f.events.find(
      (e) => e.event_name === 'game:completed' && e.user_uuid === lastOfFirstSession.user_uuid,
    )!,
  };
  game.created_at = lastOfFirstSession.created_at;
  const extra = burst(game, [29, 58, 89], 0);
  // An install before sign-up: no user, counts under its own device.
  const install: StagedEvent = {
    ...f.events[0]!,
    event_uuid: fixtureUuid(9, 100),
    event_name: 'app:installed',
    event_type: 'app',
    event_subtype: 'installed',
    user_uuid: null,
    language: null,
    event_specifics: { install_id: fixtureUuid(9, 101), device: 'Web', app_version: '5.15.0', country: 'US' },
  };
  events = [...f.events, ...extra, install];
  await writeDay(store, { day: DAY, stagedLines: [...f.stagedLines, ...extra, install] });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const byKey = <T>(rows: T[], key: (r: T) => string) => new Map(rows.map((r) => [key(r), r]));

/** Sessions computed here: a new one after more than 30 minutes without an event of the user. */
function sessions(list: StagedEvent[]) {
  const byUser = new Map<string, StagedEvent[]>();
  for (const e of list) {
    if (!e.user_uuid) continue;
    byUser.set(e.user_uuid, [...(byUser.get(e.user_uuid) ?? []), e]);
  }
  const out: { user: string; n: number; start: number; end: number; events: StagedEvent[] }[] = [];
  for (const [user, evs] of byUser) {
    evs.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.event_uuid.localeCompare(b.event_uuid));
    let current: (typeof out)[number] | undefined;
    for (const e of evs) {
      const t = Date.parse(e.created_at);
      if (!current || t - current.end > 30 * 60_000) {
        current = { user, n: (current?.n ?? 0) + 1, start: t, end: t, events: [] };
        out.push(current);
      }
      current.end = t;
      current.events.push(e);
    }
  }
  return out;
}

describe('analytics', () => {
  it('counts daily active users, learners and players', async () => {
    const { rows } = await runQuery({ store, day: DAY, query: 'daily_active_users' });
    const withUser = events.filter((e) => e.user_uuid);
    const distinct = (list: StagedEvent[]) => new Set(list.map((e) => e.user_uuid)).size;
    expect(rows).toEqual([
      {
        day: DAY,
        active_users: distinct(withUser),
        learners: distinct(withUser.filter((e) => e.event_name === 'lesson:completed')),
        players: distinct(withUser.filter((e) => e.event_type === 'game')),
        events: withUser.length,
      },
    ]);
  });

  it('counts lessons completed by language and subscription type', async () => {
    const { rows } = await runQuery({ store, day: DAY, query: 'lessons_by_language_subscription' });
    const expected = new Map<string, { lessons: number; users: Set<string> }>();
    for (const e of events.filter((x) => x.event_name === 'lesson:completed')) {
      const key = `${e.language}/${e.subscription_type ?? 'unknown'}`;
      const g = expected.get(key) ?? { lessons: 0, users: new Set() };
      g.lessons++;
      g.users.add(e.user_uuid!);
      expected.set(key, g);
    }
    expect(rows.length).toBe(expected.size);
    for (const r of rows) {
      const g = expected.get(`${r.language}/${r.subscription_type}`)!;
      expect(r).toMatchObject({ lessons_completed: g.lessons, learners: g.users.size });
    }
    expect(rows.some((r) => r.subscription_type === 'unknown')).toBe(true);
  });

  it('gives the mix of subscription statuses at their latest event of the day', async () => {
    const { rows } = await runQuery({ store, day: DAY, query: 'subscription_status_mix' });
    const latest = new Map<string, StagedEvent>();
    for (const e of events.filter((x) => x.event_type === 'subscription')) {
      const key = `${e.user_uuid}/${e.language}`;
      const seen = latest.get(key);
      if (!seen || [e.created_at, e.event_uuid].join() > [seen.created_at, seen.event_uuid].join())
        latest.set(key, e);
    }
    const counts = new Map<string, number>();
    for (const e of latest.values()) {
      const s = String(e.event_specifics.subscription_status);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const got = byKey(rows, (r) => String(r.subscription_status));
    expect(got.size).toBe(counts.size);
    for (const [status, n] of counts) {
      expect(got.get(status)).toMatchObject({ subscriptions: n });
      expect(got.get(status)!.share).toBeCloseTo(n / latest.size, 12);
    }
  });

  it('splits sessions at 30 minutes of inactivity and gives their durations', async () => {
    const { rows } = await runQuery({ store, day: DAY, query: 'sessions' });
    const expected = sessions(events);
    expect(rows.length).toBe(expected.length);
    const got = byKey(rows, (r) => `${r.user_uuid}/${r.session_number}`);
    for (const s of expected) {
      expect(got.get(`${s.user}/${s.n}`)).toMatchObject({
        duration_seconds: (s.end - s.start) / 1000,
        events: s.events.length,
      });
    }
    // The burst: 29 and 58 minutes extend the first session, 89 (31 after 58) starts another.
    const user = events.find((e) => e.event_name === 'session:ended')!.user_uuid!;
    const first = got.get(`${user}/1`)!;
    expect(first.duration_seconds).toBe(
      Number(f.events.find((e) => e.event_name === 'session:ended')!.event_specifics.duration) + 58 * 60,
    );
    expect(got.get(`${user}/2`)).toMatchObject({ events: 1, duration_seconds: 0 });
  });

  it('builds daily_aggregates with hierarchical ALL rows', async () => {
    const { rows } = await runQuery({ store, day: DAY, query: 'daily_aggregates' });
    const all = sessions(events);
    const deviceOf = (s: (typeof all)[number]) =>
      String(
        s.events.find((e) => e.event_specifics.device !== undefined)?.event_specifics.device ?? 'unknown',
      );
    const total = rows.find((r) => r.day === 'ALL')!;
    expect(total).toMatchObject({
      device: 'ALL',
      app_version: 'ALL',
      country: 'ALL',
      events: events.length,
      active_users: new Set(events.filter((e) => e.user_uuid).map((e) => e.user_uuid)).size,
      sessions: all.length,
      lessons_completed: events.filter((e) => e.event_name === 'lesson:completed').length,
      installs: 1,
    });
    expect(total.avg_session_seconds).toBeCloseTo(
      all.reduce((sum, s) => sum + (s.end - s.start) / 1000, 0) / all.length,
      3,
    );
    const dayRow = rows.find((r) => r.day === DAY && r.device === 'ALL')!;
    expect(dayRow.events).toBe(events.length);
    for (const device of ['iOS', 'Android', 'Web']) {
      const mine = all.filter((s) => deviceOf(s) === device);
      const row = rows.find((r) => r.day === DAY && r.device === device && r.app_version === 'ALL')!;
      // Events of the device's sessions, plus the install (Web, no user).
      const extra = device === 'Web' ? 1 : 0;
      expect(row).toMatchObject({
        sessions: mine.length,
        events: mine.reduce((n, s) => n + s.events.length, 0) + extra,
        country: 'ALL',
      });
    }
    // Each level of the hierarchy adds up to the level above it.
    const leaves = rows.filter((r) => r.day !== 'ALL' && r.country !== 'ALL');
    expect(leaves.reduce((n, r) => n + Number(r.events), 0)).toBe(events.length);
    const sumBy = (level: Row[]) => level.reduce((n, r) => n + Number(r.lessons_completed), 0);
    expect(sumBy(rows.filter((r) => r.day === DAY && r.device !== 'ALL' && r.app_version === 'ALL'))).toBe(
      total.lessons_completed,
    );
  });
});

describe('firelake query', () => {
  it('runs any .sql file over the day', async () => {
    const file = join(dir, 'mine.sql');
    writeFileSync(file, "SELECT count(*) AS lessons FROM curated WHERE event_name = 'lesson:completed';\n");
    const { rows } = await runQuery({ store, day: DAY, query: file });
    expect(rows).toEqual([{ lessons: events.filter((e) => e.event_name === 'lesson:completed').length }]);
  });

  it('says the lake has nothing for the day', async () => {
    await expect(runQuery({ store, day: '2026-11-02', query: 'sessions' })).rejects.toThrow(
      /no data for 2026-11-02 in .*: no staging objects under staging\/year=2026\/month=11\/day=02/,
    );
  });

  it('says the lake path does not exist', async () => {
    await expect(
      runQuery({ store: new FolderStore(join(dir, 'nope')), day: DAY, query: 'sessions' }),
    ).rejects.toThrow(NoDataError);
  });

  it('says an analytics query needs the day compacted', async () => {
    const other = new FolderStore(mkdtempSync(join(tmpdir(), 'firelake-analytics-')));
    try {
      await writeDay(other, { day: DAY, stagedLines: f.stagedLines.slice(0, 10), compact: false });
      await expect(runQuery({ store: other, day: DAY, query: 'daily_active_users' })).rejects.toThrow(
        /not compacted .* run firelake compact --date 2026-11-20/,
      );
    } finally {
      rmSync(other.root, { recursive: true, force: true });
    }
  });

  it('runs the same files in a bare DuckDB, as the DuckDB CLI does, from the variables alone', async () => {
    // What docs/query.md's `duckdb` session does: three variables, then the files, from the repo root.
    const db = await openDuckDb();
    const connection = db.connection;
    try {
      // The day documents of the table's snapshot, as `firelake query --day-documents` writes them.
      const docsDir = mkdtempSync(join(tmpdir(), 'firelake-days-'));
      const setup = firelake('query', '--day-documents', docsDir, '--date', DAY, '--lake', dir);
      expect(setup.code).toBe(0);
      expect(setup.stdout).toMatch(
        /^SET VARIABLE manifest_files = \['.*\/days\/2026-11-20\.json'\]::VARCHAR\[\];\n$/,
      );
      await connection.run(`SET VARIABLE lake = '${dir}'; SET VARIABLE day = '${DAY}';`);
      await connection.run(setup.stdout);
      for (const file of ['lake/open.sql', 'lake/catalog.sql']) {
        await connection.run(readFileSync(join('sql', file), 'utf8'));
      }
      const cli = await connection.runAndReadAll(
        readFileSync('sql/analytics/daily_active_users.sql', 'utf8'),
      );
      const runner = await runQuery({ store, day: DAY, query: 'daily_active_users' });
      expect(Number(cli.getRowObjectsJson()[0]!.active_users)).toBe(runner.rows[0]!.active_users);
    } finally {
      db.close();
    }
  });

  it('rejects a query name that does not exist', async () => {
    await expect(runQuery({ store, day: DAY, query: 'no_such_query' })).rejects.toThrow(/no query named/);
  });

  it('lists every query of sql/ with its description', async () => {
    const names = (await listQueries()).map((q) => q.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'analytics/daily_active_users',
        'analytics/daily_aggregates',
        'analytics/sessions',
        'quality/reconciliation',
      ]),
    );
  });
});
