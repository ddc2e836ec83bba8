import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FolderStore } from '../lake/folder-store.js';
import { PREFIX } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// Iceberg metadata names files by absolute URI (spec "Paths in Metadata": v2 paths are fully
// qualified): s3://bucket/prefix/key for an S3 lake, file:///... for a folder lake. The lake's
// own code works with keys; these convert.

/** The table's folder: curated/events/ without its slash (Iceberg's `location` has none). */
export const TABLE_PREFIX = PREFIX.curatedEvents.replace(/\/$/, '');
export const METADATA_PREFIX = PREFIX.curatedMetadata;

export function keyToUri(store: ObjectStore, key: string): string {
  if (store instanceof FolderStore) return pathToFileURL(join(store.root, ...key.split('/'))).href;
  return `${store.location.replace(/\/?$/, '/')}${key}`;
}

export function tableLocation(store: ObjectStore): string {
  return keyToUri(store, TABLE_PREFIX);
}

/**
 * The lake key of a URI in the table's metadata. A URI from elsewhere (a folder lake that was
 * moved or copied, a bucket that was replicated) resolves by its curated/events/ part.
 */
export function uriToKey(store: ObjectStore, uri: string): string {
  if (store instanceof FolderStore && uri.startsWith('file:')) {
    const rel = relative(store.root, fileURLToPath(uri)).split(sep).join('/');
    if (!rel.startsWith('..')) return rel;
  }
  const base = store.location.replace(/\/?$/, '/');
  if (uri.startsWith(base)) return uri.slice(base.length);
  const decoded = uri.startsWith('file:') ? fileURLToPath(uri).split(sep).join('/') : uri;
  const at = decoded.lastIndexOf(`/${PREFIX.curatedEvents}`);
  if (at < 0) throw new Error(`${uri} is not inside the curated table of ${store.location}`);
  return decoded.slice(at + 1);
}
