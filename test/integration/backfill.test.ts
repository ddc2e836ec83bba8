import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backfill } from '../../compaction/backfill.js';
import { compactDay } from '../../compaction/compact.js';
import { readManifest } from '../../compaction/manifest.js';
import { createCuratedView } from '../../compaction/read.js';
import { curatedColumns } from '../../events/curated.js';
import { specificsSchemas } from '../../events/schemas.js';
import { idsByPath } from '../../iceberg/schema.js';
import { CuratedTable } from '../../iceberg/table.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { type Day, dayOf, dayPrefix } from '../../lake/layout.js';
import { listAll } from '../../lake/store.js';
import { runScorecard } from '../../sql/scorecard.js';
import { awayFromMidnight } from '../support/clock.js';
import { cliArgv } from '../support/compiled.js';
import { tableHead } from '../support/lake-read.js';
import { sendThroughLocalFirehose } from '../support/local-send.js';

// The catalog adopts a field that lived in extras; with the day's staging
// gone, `backfill` fills the column from extras and leaves every other value as it was.

const dir = mkdtempSync(join(tmpdir(), 'firelake-backfill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const USERS = ['0b7e6c52-3f4a-4d8e-9f3b-1c2d3e4f5a6b', 'a1b2c3d4-1111-4222-8333-444455556666'];
const engine = { threads: 1, memoryLimitMiB: 256, workDir: dir };

/** Events with and without extras, in two languages, through the local Firehose; compacted. */
async function ingestDay(
  lake: string,
  mismatch = true,
  daysAgo = 0,
): Promise<{ store: FolderStore; day: Day }> {
  const store = new FolderStore(join(dir, lake));
  // Created from 120 s to 96 s ago: on one UTC day (at most a 24 s wait near midnight).
  const base = (await awayFromMidnight(-120_000, -96_000)) - 120_000 - daysAgo * 86_400_000;
  const events = Array.from({ length: 24 }, (_, i) => {
    const specifics: Record<string, unknown> = {
      user_uuid: USERS[i % 2],
      session_id: randomUUID(),
      device: 'iOS',
      language_id: i % 3 === 0 ? 'es' : 'de',
      difficulty: 'Easy',
      score: i,
    };
    if (i % 2 === 0) specifics.xp = 100 + i; // the field the catalog adopts
    if (i % 4 === 0) specifics.combo = { hits: i }; // stays unknown
    if (i === 5 && mismatch) specifics.xp = 'lots'; // not an integer: must stay in extras
    if (i === 7) specifics.xp = null;
    return {
      event_uuid: randomUUID(),
      created_at: (base + i * 1000) / 1000,
      event_name: 'game:completed',
      event_specifics: specifics,
      ...(i % 6 === 0 ? { ab_group: `g${i}` } : {}),
    };
  });
  await sendThroughLocalFirehose(store, [events]);
  const day = dayOf(base);
  const summary = await compactDay({ store, day, ...engine });
  expect(summary.rows).toBe(24);
  return { store, day };
}

type Row = Record<string, unknown> & { event_specifics: Record<string, unknown>; extras: string | null };

async function curatedRows(
  store: FolderStore,
  day: Day,
): Promise<{ rows: Map<string, Row>; columns: string[] }> {
  const db = await openDuckDb();
  const connection = db.connection;
  try {
    await createCuratedView(connection, store, [day]);
    const reader = await connection.runAndReadAll('SELECT * FROM curated_events');
    const rows = reader.getRowObjectsJson() as Row[];
    return { rows: new Map(rows.map((r) => [String(r.event_uuid), r])), columns: reader.columnNames() };
  } finally {
    db.close();
  }
}

/** The catalog adopts `xp` (an integer of game events), as a schema edit would. */
function adoptXp(): void {
  (specificsSchemas.game.properties as Record<string, unknown>).xp = { type: 'integer' };
}
afterEach(() => {
  delete (specificsSchemas.game.properties as Record<string, unknown>).xp;
});

describe('firelake backfill', () => {
  it('fills an adopted column from extras when staging is gone, every other value unchanged', async () => {
    const { store, day } = await ingestDay('lake-curated');
    const before = await curatedRows(store, day);
    const manifestBefore = (await readManifest(store, day))!.manifest;

    adoptXp();
    const staging = (await listAll(store, dayPrefix('staging', day))).map((o) => o.key);
    await store.delete(staging);
    const [result] = await backfill({ store, from: day, to: day, fields: ['xp'], ...engine });
    expect(result).toMatchObject({ day, source: 'curated', rows: 24, moved: { xp: 12 } });

    const after = await curatedRows(store, day);
    expect(after.columns).toEqual(curatedColumns().map((c) => c.name));
    expect([...after.rows.keys()].sort()).toEqual([...before.rows.keys()].sort());
    let filled = 0;
    for (const [uuid, was] of before.rows) {
      const is = after.rows.get(uuid)!;
      const extras = was.extras === null ? {} : (JSON.parse(was.extras) as Record<string, unknown>);
      const { xp, ...rest } = extras;
      const moves = typeof xp === 'number' || xp === null;
      // The column: the value from extras when it is an integer (a BIGINT: text in DuckDB's
      // JSON rows), else null (and it stays in extras).
      expect(is.event_specifics.xp, uuid).toBe(typeof xp === 'number' ? String(xp) : null);
      if (typeof xp === 'number') filled++;
      const left = moves ? rest : extras;
      expect(is.extras === null ? {} : JSON.parse(is.extras), uuid).toEqual(left);
      // Every other value exactly as it was.
      const { xp: _, ...specificsAfter } = is.event_specifics;
      expect(specificsAfter, uuid).toEqual(was.event_specifics);
      const { event_specifics: _s1, extras: _e1, ...otherAfter } = is;
      const { event_specifics: _s2, extras: _e2, ...otherBefore } = was;
      expect(otherAfter, uuid).toEqual(otherBefore);
    }
    expect(filled).toBe(12);
    expect(JSON.parse(after.rows.values().next().value!.extras ?? '{}')).not.toHaveProperty('xp');

    const manifest = (await readManifest(store, day))!.manifest;
    expect(manifest.rows).toBe(manifestBefore.rows);
    expect(manifest.rows_by_language).toEqual(manifestBefore.rows_by_language);
    expect(manifest.run_id).not.toBe(manifestBefore.run_id);
    expect(manifest.schema_version).not.toBe(manifestBefore.schema_version);
    // The previous run's files stay for the earlier snapshot (time travel) until it expires.
    const curated = (await listAll(store, 'curated/events/year=')).map((o) => o.key).sort();
    expect(curated).toEqual([...manifestBefore.files, ...manifest.files].map((f) => f.key).sort());
    // The table's schema gained xp as a column with a new field id; the others kept theirs.
    const state = (await new CuratedTable(store).state())!;
    const [older, newer] = state.version.metadata.schemas.slice(-2).map((x) => idsByPath(x.fields));
    expect(older!.has('event_specifics.xp')).toBe(false);
    expect(newer!.get('event_specifics.xp')!.id).toBe(state.version.metadata['last-column-id']);
    for (const [path, field] of older!) expect(newer!.get(path)?.id, path).toBe(field.id);
  });

  it('recompacts from staging when every staging object of the day is still there', async () => {
    const { store, day } = await ingestDay('lake-staging', false);
    adoptXp();
    const [result] = await backfill({ store, from: day, to: day, fields: ['xp'], ...engine });
    expect(result).toMatchObject({ source: 'staging', rows: 24, moved: null });
    const after = await curatedRows(store, day);
    const xps = [...after.rows.values()].map((r) => r.event_specifics.xp).filter((v) => v !== null);
    expect(xps).toHaveLength(12);
    for (const row of after.rows.values()) expect(row.extras ?? '').not.toMatch(/"xp"/);
  });

  it('reads days written under different catalog versions together, by column name', async () => {
    // Yesterday compacted before the catalog adopted xp, today backfilled after.
    const { day: yesterday } = await ingestDay('lake-versions', false, 1);
    const { store, day } = await ingestDay('lake-versions', false);
    adoptXp();
    await backfill({ store, from: day, to: day, fields: ['xp'], ...engine });
    const db = await openDuckDb();
    const connection = db.connection;
    try {
      await createCuratedView(connection, store, [yesterday, day]);
      const rows = (
        await connection.runAndReadAll(`
          SELECT created_at::DATE::VARCHAR AS day, count(*)::INTEGER AS events,
            count(event_specifics.xp)::INTEGER AS with_xp,
            count(*) FILTER (WHERE extras LIKE '%"xp"%')::INTEGER AS xp_in_extras
          FROM curated_events GROUP BY ALL ORDER BY day`)
      ).getRowObjectsJson();
      expect(rows).toEqual([
        { day: yesterday, events: 24, with_xp: 0, xp_in_extras: 13 },
        { day, events: 24, with_xp: 12, xp_in_extras: 0 },
      ]);
    } finally {
      db.close();
    }
    // The scorecard of today reads yesterday as its history (volume, tombstones) all the same.
    const card = await runScorecard({ store, day, asOf: new Date() });
    expect(card.checks.find((c) => c.id === 'reconciliation.staged_vs_curated')?.status).toBe('pass');
  });

  it('rewrites from curated when staging holds adopted values its column cannot take', async () => {
    const { store, day } = await ingestDay('lake-mismatch');
    adoptXp();
    const [result] = await backfill({ store, from: day, to: day, fields: ['xp'], ...engine });
    expect(result).toMatchObject({ source: 'curated', rows: 24, moved: { xp: 12 } });
    const after = await curatedRows(store, day);
    const kept = [...after.rows.values()].filter((r) => r.extras?.includes('"xp":"lots"'));
    expect(kept).toHaveLength(1);
  });
});

describe('firelake backfill on bad input', () => {
  it('says what is wrong, exits non-zero and touches nothing', async () => {
    const { store, day } = await ingestDay('lake-bad');
    const head = await tableHead(store);
    const run = (...args: string[]) => {
      const r = spawnSync(process.execPath, [...cliArgv(), 'backfill', '--lake', store.root, ...args], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
      return { code: r.status, stderr: r.stderr, stdout: r.stdout };
    };
    const earlier = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

    const reversed = run('--from', day, '--to', earlier);
    expect(reversed.code).not.toBe(0);
    expect(reversed.stderr).toContain(`--to ${earlier} is before --from ${day}`);

    const badDate = run('--from', '2026-02-30', '--to', day);
    expect(badDate.code).not.toBe(0);
    expect(badDate.stderr).toMatch(/--from.*2026-02-30/);

    const never = run('--from', earlier, '--to', day);
    expect(never.code).not.toBe(0);
    expect(never.stderr).toContain(`${earlier} was never compacted`);

    const unknown = run('--from', day, '--to', day, '--field', 'xp');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('"xp" is not a field of the catalog');

    for (const r of [reversed, badDate, never, unknown]) expect(r.stdout).toBe('');
    expect(await tableHead(store)).toEqual(head);
  });
});
