import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../../lake/folder-store.js';
import { S3Store } from '../../lake/s3-store.js';
import { listAll, ObjectNotFoundError, type ObjectStore, PreconditionFailedError } from '../../lake/store.js';
import { type LocalS3, startS3rver } from '../support/s3rver.js';

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

  it('lists nothing under a prefix that does not exist', async () => {
    expect(await listAll(make(), 'nothing/here/')).toEqual([]);
  });

  it('answers ObjectNotFoundError for a missing object, and head undefined', async () => {
    const store = make();
    await expect(store.get('missing/key')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await store.head('missing/key')).toBeUndefined();
  });

  it('uploads and downloads a file', async () => {
    const store = make();
    const src = join(dir, 'upload.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024, 7);
    writeFileSync(src, bytes);
    await store.putFile('curated/x/file.parquet', src);
    const dst = join(dir, 'down', 'file.parquet');
    await store.getToFile('curated/x/file.parquet', dst);
    expect(readFileSync(dst).equals(bytes)).toBe(true);
    expect((await store.head('curated/x/file.parquet'))?.size).toBe(bytes.length);
  });

  it('writes only if the ETag still matches', async () => {
    const store = make();
    const { etag } = await store.put('curated/_manifests/m.json', 'v1');
    await store.put('curated/_manifests/m.json', 'v2', { ifMatch: etag });
    await expect(store.put('curated/_manifests/m.json', 'v3', { ifMatch: etag })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(Buffer.from(await store.get('curated/_manifests/m.json')).toString()).toBe('v2');
  });

  it('refuses a second create-only write of the same key', async () => {
    const store = make();
    await store.put('curated/_manifests/2026-11-20.json', '{}', { ifNoneMatch: true });
    await expect(
      store.put('curated/_manifests/2026-11-20.json', '{"b":1}', { ifNoneMatch: true }),
    ).rejects.toThrow(/conditional write/);
  });
});

// S3 lists keys in binary order; s3rver walks its folders instead, so only the folder store is
// held to it here (real S3 needs no test of its own ordering).
describe('folder store', () => {
  it('lists in S3 key order where a folder name is a prefix of a file name', async () => {
    const store = new FolderStore(join(dir, 'order'));
    const keys = ['order/a/b', 'order/a-c', 'order/a.d', 'order/a0'];
    await Promise.all(keys.map((k) => store.put(k, k)));
    expect((await listAll(store, 'order/')).map((o) => o.key)).toEqual([...keys].sort());
  });

  it('lets one of many concurrent create-only writes of a key win, the others refused', async () => {
    const store = new FolderStore(join(dir, 'race'));
    const key = 'curated/events/metadata/v2.metadata.json';
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.put(key, `writer ${i}`, { ifNoneMatch: true })),
    );
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PreconditionFailedError);
    expect(Buffer.from(await store.get(key)).toString()).toBe(`writer ${won[0]}`);
    expect((await listAll(store, 'curated/')).map((o) => o.key)).toEqual([key]);
  });

  it('creates a key at once though a writer killed mid-write left its temporary and lock files', async () => {
    const store = new FolderStore(join(dir, 'killed'));
    const key = 'curated/events/metadata/v3.metadata.json';
    const path = join(store.root, ...key.split('/'));
    await store.put('curated/events/metadata/v2.metadata.json', '{}');
    writeFileSync(`${path}.lock`, '');
    writeFileSync(`${path}.0b5e.tmp`, '{"half');
    const started = Date.now();
    await store.put(key, '{"v":3}', { ifNoneMatch: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(Buffer.from(await store.get(key)).toString()).toBe('{"v":3}');
  });
});
