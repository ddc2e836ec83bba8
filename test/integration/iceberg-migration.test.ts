import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compactDay } from '../../compaction/compact.js';
import { type Manifest, readManifest } from '../../compaction/manifest.js';
import { createCuratedView } from '../../compaction/read.js';
import { CuratedTable } from '../../iceberg/table.js';
import { openDuckDb } from '../../lake/duckdb.js';
import { FolderStore } from '../../lake/folder-store.js';
import { listAll } from '../../lake/store.js';
import { writeStagingDay } from '../compaction-staging.js';

// A lake compacted before curated was an Iceberg table: Parquet without field ids, published by
// day manifests under curated/_manifests/. The first run adopts it without rewriting a file.

const engine = { memoryLimitMiB: 512, threads: 2 };
const root = mkdtempSync(join(tmpdir(), 'firelake-migration-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Turns a compacted day back into what the earlier layout held: files without ids, a manifest. */
async function toLegacy(store: FolderStore, days: string[]): Promise<Manifest[]> {
  const manifests = await Promise.all(days.map(async (d) => (await readManifest(store, d))!.manifest));
  const db = await openDuckDb();
  for (const f of manifests.flatMap((m) => m.files)) {
    const path = join(store.root, f.key);
    await db.connection.run(
      `COPY (SELECT * FROM read_parquet('${path}')) TO '${path}.plain' (FORMAT parquet, COMPRESSION zstd)`,
    );
    await rm(path);
    await store.putFile(f.key, `${path}.plain`);
    await rm(`${path}.plain`);
    f.bytes = statSync(path).size;
  }
  db.close();
  await rm(join(store.root, 'curated', 'events', 'metadata'), { recursive: true });
  for (const m of manifests) await store.put(`curated/_manifests/${m.day}.json`, JSON.stringify(m));
  return manifests;
}

async function count(store: FolderStore, days: string[]): Promise<number> {
  const db = await openDuckDb();
  try {
    await createCuratedView(db.connection, store, days);
    const rows = await db.connection.runAndReadAll(
      'SELECT count(DISTINCT event_uuid)::INTEGER AS n FROM curated_events',
    );
    return Number(rows.getRowObjectsJson()[0]!.n);
  } finally {
    db.close();
  }
}

describe('a lake compacted before the table', () => {
  it('becomes a table on its first compaction: every day adopted where it is, nothing rewritten', async () => {
    const store = new FolderStore(join(root, 'lake'));
    const a = await writeStagingDay(store, { day: '2026-11-18', hours: [2] });
    const b = await writeStagingDay(store, { day: '2026-11-19', hours: [3], seed: 5 });
    await compactDay({ store, day: '2026-11-18', ...engine });
    await compactDay({ store, day: '2026-11-19', ...engine });
    const [legacy18] = await toLegacy(store, ['2026-11-18', '2026-11-19']);
    expect(await new CuratedTable(store).state()).toBeUndefined();
    const before = new Map(
      (await listAll(store, 'curated/events/')).map((o) => [o.key, o.lastModified.getTime()]),
    );

    const c = await writeStagingDay(store, { day: '2026-11-20', hours: [4], seed: 9 });
    const summary = await compactDay({ store, day: '2026-11-20', ...engine });
    expect(summary.status).toBe('published');

    // The legacy files are the table's, untouched; the manifests are gone; every day reads.
    const after = new Map(
      (await listAll(store, 'curated/events/')).map((o) => [o.key, o.lastModified.getTime()]),
    );
    for (const [key, mtime] of before) expect(after.get(key), key).toBe(mtime);
    expect(await listAll(store, 'curated/_manifests/')).toEqual([]);
    const adopted = (await readManifest(store, '2026-11-18'))!.manifest;
    expect(adopted.run_id).toBe(legacy18!.run_id);
    expect(adopted.staging_objects).toEqual(legacy18!.staging_objects);
    expect(adopted.files.map((f) => f.key).sort()).toEqual(legacy18!.files.map((f) => f.key).sort());
    expect(await count(store, ['2026-11-18'])).toBe(a.unique);
    expect(await count(store, ['2026-11-19'])).toBe(b.unique);
    expect(await count(store, ['2026-11-20'])).toBe(c.unique);
    // The adopted day is unchanged since its manifest: the next run skips it.
    expect((await compactDay({ store, day: '2026-11-18', ...engine })).status).toBe('unchanged');
    // Files without field ids are read by name (the table's name mapping).
    const state = (await new CuratedTable(store).state())!;
    const mapping = JSON.parse(state.version.metadata.properties['schema.name-mapping.default']!) as {
      'field-id': number;
      names: string[];
    }[];
    expect(mapping.find((m) => m.names[0] === 'event_uuid')?.['field-id']).toBe(1);
  });
});
