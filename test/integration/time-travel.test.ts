import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { FolderStore } from '../../lake/folder-store.js';
import { writeStagingDay } from '../compaction-staging.js';
import { firelake } from '../support/cli.js';

// `firelake query --as-of`: the curated table read as an earlier snapshot held it.

const DAY = '2026-11-20';
const engine = { memoryLimitMiB: 512, threads: 2 };
let dir: string;
let store: FolderStore;
let countSql: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'firelake-time-travel-'));
  store = new FolderStore(join(dir, 'lake'));
  countSql = join(dir, 'count.sql');
  writeFileSync(
    countSql,
    'SELECT count(*)::INTEGER AS n, count(DISTINCT event_uuid)::INTEGER AS uuids FROM curated;\n',
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const count = (...args: string[]) => {
  const run = firelake('query', countSql, '--date', DAY, '--lake', store.root, '--json', ...args);
  expect(run.stderr).not.toMatch(/firelake:/);
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout) as { n: number; uuids: number }[])[0]!;
};

describe('firelake query --as-of', () => {
  it('reads the day as the snapshot before a recompaction held it, by id and by time', async () => {
    const first = await writeStagingDay(store, { day: DAY, hours: [3] });
    const before = await compactDay({ store, day: DAY, ...engine });
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const late = await writeStagingDay(store, { day: DAY, hours: [9], seed: 42 });
    const after = await compactDay({ store, day: DAY, ...engine });
    expect(after.rows).toBe(first.unique + late.unique);

    expect(count()).toEqual({ n: after.rows, uuids: after.rows });
    expect(count('--as-of', String(before.snapshot_id))).toEqual({ n: first.unique, uuids: first.unique });
    expect(count('--as-of', between.toISOString())).toEqual({ n: first.unique, uuids: first.unique });

    const listed = firelake('query', '--snapshots', '--lake', store.root, '--json');
    expect(listed.code).toBe(0);
    const snapshots = JSON.parse(listed.stdout) as {
      snapshot_id: number;
      operation: string;
      current: boolean;
    }[];
    expect(snapshots.map((s) => [s.snapshot_id, s.operation, s.current])).toEqual([
      [before.snapshot_id, 'append', false],
      [after.snapshot_id, 'overwrite', true],
    ]);
  });

  it('says what is wrong with an --as-of that names no snapshot, and exits non-zero', () => {
    const bad = firelake('query', countSql, '--date', DAY, '--lake', store.root, '--as-of', 'yesterday');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('"yesterday" is neither a snapshot id nor an ISO-8601 time');
    const unknown = firelake('query', countSql, '--date', DAY, '--lake', store.root, '--as-of', '12345');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no snapshot 12345 in the table: it has \d+ \(/);
    const early = firelake(
      'query',
      countSql,
      '--date',
      DAY,
      '--lake',
      store.root,
      '--as-of',
      '2001-01-01T00:00:00Z',
    );
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain('no snapshot as of 2001-01-01T00:00:00.000Z');
  });
});
