import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  PreconditionFailedError,
  type PutOptions,
} from './store.js';

/**
 * The lake as a local folder with S3's keys. Writes go to a temporary file and are renamed into
 * place, so a reader never sees half an object. A create-only put (If-None-Match) hard-links its
 * finished temporary file to the key, which the file system does only if the key is absent: one
 * of several writers in any processes wins, and one killed at any moment leaves nothing that
 * stops the next (the Iceberg catalog commits by it). If-Match puts are serialised by an exclusive
 * lock file per key. A file system without hard links (FAT, some network shares) cannot hold the
 * table's metadata.
 */
export class FolderStore implements ObjectStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  private path(key: string): string {
    if (key.includes('..') || key.startsWith('/')) throw new Error(`invalid lake key ${key}`);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<{ etag: string }> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await writeFileDurably(tmp, bytes);
    if (options.ifNoneMatch === undefined && options.ifMatch === undefined) {
      await rename(tmp, target);
      return { etag: await statEtag(target) };
    }
    if (options.ifNoneMatch && options.ifMatch === undefined) {
      try {
        await link(tmp, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionFailedError(key);
        throw error;
      } finally {
        await rm(tmp, { force: true });
      }
      return { etag: await statEtag(target) };
    }
    const lock = `${target}.lock`;
    const handle = await acquireLock(lock);
    try {
      const current = await this.head(key);
      const lost =
        (options.ifNoneMatch && current) ||
        (options.ifMatch !== undefined && current?.etag !== options.ifMatch);
      if (lost) throw new PreconditionFailedError(key);
      await rename(tmp, target);
      return { etag: await statEtag(target) };
    } finally {
      await handle.close();
      await rm(lock, { force: true });
      await rm(tmp, { force: true });
    }
  }

  async putFile(key: string, path: string): Promise<{ etag: string }> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await copyFile(path, tmp);
    await rename(tmp, target);
    return { etag: await statEtag(target) };
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ObjectNotFoundError(key, { cause: error });
      throw error;
    }
  }

  async getToFile(key: string, path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    try {
      await pipeline(createReadStream(this.path(key)), createWriteStream(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new ObjectNotFoundError(key, { cause: error });
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.path(key);
    try {
      const s = await stat(path, { bigint: true });
      if (!s.isFile()) return undefined;
      return { key, size: Number(s.size), etag: etagOfStat(s), lastModified: s.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // Walk only the folder the prefix names, then filter by the full prefix, in key order.
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const startDir = base ? this.path(base) : this.root;
    for await (const path of walk(startDir)) {
      const key = relative(this.root, path).split(sep).join('/');
      if (!key.startsWith(prefix) || key.endsWith('.tmp') || key.endsWith('.lock')) continue;
      const s = await stat(path, { bigint: true });
      yield { key, size: Number(s.size), etag: etagOfStat(s), lastModified: s.mtime };
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(this.path(k), { force: true })));
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // S3 lists in key order: a folder sorts as its name plus '/', so `a-b` comes before `a/…`.
  const sortKey = (e: import('node:fs').Dirent) => (e.isDirectory() ? `${e.name}/` : e.name);
  entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

// Every write renames a new file into place, so inode + size + mtime changes whenever the object
// does: a version tag as cheap to list as S3's, without hashing the content.
function etagOfStat(s: import('node:fs').BigIntStats): string {
  return `"${s.ino.toString(16)}-${s.size.toString(16)}-${s.mtimeNs.toString(16)}"`;
}

async function statEtag(path: string): Promise<string> {
  return etagOfStat(await stat(path, { bigint: true }));
}

async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function acquireLock(path: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await open(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }
}
