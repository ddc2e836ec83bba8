import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../lake/folder-store.js';
import { S3Store } from '../lake/s3-store.js';
import { listAll, type ObjectStore } from '../lake/store.js';
import { type LocalS3, startS3rver } from './support/s3rver.js';

let s3: LocalS3;
let dir: string;

beforeAll(async () => {
  s3 = await startS3rver();
  dir = mkdtempSync(join(tmpdir(), 'firelake-folder-'));
});
afterAll(async () => {
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
});

const stores: [string, () => ObjectStore][] = [
  ['folder', () => new FolderStore(dir)],
  ['s3 (s3rver)', () => new S3Store(s3.client, s3.bucket, 'lake')],
];

describe.each(stores)('object store: %s', (_name, make) => {
  it('puts, gets, heads and deletes an object by key', async () => {
    const store = make();
    await store.put('staging/year=2026/a.txt', 'hello');
    expect(Buffer.from(await store.get('staging/year=2026/a.txt')).toString()).toBe('hello');
    expect((await store.head('staging/year=2026/a.txt'))?.size).toBe(5);
    await store.delete(['staging/year=2026/a.txt']);
    expect(await store.head('staging/year=2026/a.txt')).toBeUndefined();
  });

  it('lists every object under a prefix in key order, and nothing outside it', async () => {
    const store = make();
    const keys = Array.from({ length: 30 }, (_, i) => `quarantine/day=01/k${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.put(k, k)));
    await store.put('quarantine/day=010/other', 'x');
    const listed = await listAll(store, 'quarantine/day=01/');
    expect(listed.map((o) => o.key)).toEqual(keys);
  });

  it('refuses a second create-only write of the same key', async () => {
    const store = make();
    await store.put('curated/_manifests/2026-11-20.json', '{}', { ifNoneMatch: true });
    await expect(
      store.put('curated/_manifests/2026-11-20.json', '{"b":1}', { ifNoneMatch: true }),
    ).rejects.toThrow(/conditional write/);
  });
});
