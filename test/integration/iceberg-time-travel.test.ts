import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listValue } from '@duckdb/node-api';
import { icebergRead } from 'icebird';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { IcebergError } from '../../iceberg/errors.js';
import { TABLE_PREFIX } from '../../iceberg/location.js';
import { CuratedTable, type TableState } from '../../iceberg/table.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { ndjsonGz, rng, stagedEvent, stagingKey, writeStagingDay } from '../compaction-staging.js';
import { withFileUrlFetch } from '../support/file-url-fetch.js';

// Time travel: a snapshot the table replaced stays readable, files and rows as they were, until
// a commit expires it (CompactDayOptions.retentionMs; the table's history.expire.max-snapshot-age-ms
// otherwise), and then its files are gone.

const DAY = '2026-11-20';
const engine = { memoryLimitMiB: 512, threads: 1 };

let root: string;
let store: FolderStore;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'firelake-iceberg-time-travel-'));
  store = new FolderStore(join(root, 'lake'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Late events of the day: a new staging object of an hour the day had none of. */
async function stageLate(n: number, hour: number): Promise<string[]> {
  const random = rng(hour);
  const t = Date.parse(`${DAY}T${String(hour).padStart(2, '0')}:30:00Z`);
  const events = Array.from({ length: n }, (_, i) => stagedEvent(random, t + i, t + i + 1_000));
  await store.put(stagingKey(t, t + 90_000), ndjsonGz(events));
  return events.map((e) => e.event_uuid);
}

/** The event_uuids of a state's files of the day, read by DuckDB, sorted. */
async function uuidsOf(table: CuratedTable, state: TableState): Promise<string[]> {
  const keys = (await table.files(state, [DAY])).map((f) => f.key);
  const db = await openDuckDb();
  try {
    const reader = await db.connection.runAndReadAll(
      'SELECT event_uuid FROM read_parquet($files) ORDER BY event_uuid',
      { files: listValue(keys.map((k) => join(store.root, ...k.split('/')))) },
    );
    return reader.getRowObjectsJson().map((r) => String(r.event_uuid));
  } finally {
    db.close();
  }
}

const pathOf = (key: string) => join(store.root, ...key.split('/'));

describe('time travel', () => {
  it('reads the snapshot before a recompaction as it was, by id and by time, until a commit expires it', async () => {
    const day = await writeStagingDay(store, { day: DAY, hours: [3, 4], minutes: [0, 30], seed: 9 });
    await compactDay({ store, day: DAY, ...engine });
    const table = new CuratedTable(store);
    const first = (await table.state())!;
    const firstFiles = (await table.files(first, [DAY])).map((f) => f.key);
    const firstUuids = await uuidsOf(table, first);
    expect(firstUuids).toEqual([...day.events.keys()].sort());
    const firstId = first.snapshot!['snapshot-id'];
    const firstMetadata = first.version.key.split('/').at(-1)!;

    const late = await stageLate(30, 7);
    await compactDay({ store, day: DAY, force: true, ...engine });
    const second = (await table.state())!;
    expect(second.snapshot!.summary.operation).toBe('overwrite');
    expect(await uuidsOf(table, second)).toEqual([...firstUuids, ...late].sort());
    // The replaced snapshot, by id and as of its time: its files, still on disk, read as before.
    for (const asOf of [{ snapshotId: firstId }, { time: new Date(first.snapshot!['timestamp-ms']) }]) {
      const past = (await table.state(asOf))!;
      expect(past.snapshot!['snapshot-id']).toBe(firstId);
      expect((await table.files(past, [DAY])).map((f) => f.key)).toEqual(firstFiles);
      expect(await uuidsOf(table, past)).toEqual(firstUuids);
    }
    for (const key of firstFiles) expect(existsSync(pathOf(key)), key).toBe(true);
    // A reader Firelake did not write reads the earlier metadata file's snapshot the same.
    const tableUrl = pathToFileURL(join(store.root, TABLE_PREFIX)).href;
    const past = await withFileUrlFetch(() => icebergRead({ tableUrl, metadataFileName: firstMetadata }));
    expect(past.map((r) => String(r.event_uuid)).sort()).toEqual(firstUuids);

    // A commit with no retention expires every snapshot but its own, and deletes their files.
    const later = await stageLate(20, 9);
    const secondFiles = (await table.files(second, [DAY])).map((f) => f.key);
    const secondList = fileURLToPath(second.snapshot!['manifest-list']);
    const summary = await compactDay({ store, day: DAY, force: true, retentionMs: 0, ...engine });
    expect(summary.status).toBe('published');
    const third = (await table.state())!;
    expect(third.version.metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([
      third.snapshot!['snapshot-id'],
    ]);
    expect(third.version.metadata['snapshot-log'].map((e) => e['snapshot-id'])).toEqual([
      third.snapshot!['snapshot-id'],
    ]);
    await expect(table.state({ snapshotId: firstId })).rejects.toThrow(IcebergError);
    await expect(table.state({ snapshotId: second.snapshot!['snapshot-id'] })).rejects.toThrow(IcebergError);
    for (const key of [...firstFiles, ...secondFiles]) expect(existsSync(pathOf(key)), key).toBe(false);
    expect(existsSync(fileURLToPath(first.snapshot!['manifest-list']))).toBe(false);
    expect(existsSync(secondList)).toBe(false);
    expect(await uuidsOf(table, third)).toEqual([...firstUuids, ...late, ...later].sort());
  });
});
