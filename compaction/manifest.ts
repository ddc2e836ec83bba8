import { createHash } from 'node:crypto';
import { curatedColumns } from '../events/curated.js';
import { type Day, manifestKey } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { InvalidManifestError } from './errors.js';

// The day's manifest (curated/_manifests/YYYY-MM-DD.json) is the only thing that says which
// curated files make up a day. Compaction writes files under a new run id, then switches the
// manifest with one conditional put: readers that go through the manifest see the old day or the
// new day, never both, never half.

/** Format version of the manifest document itself. */
export const MANIFEST_FORMAT = 1;

/**
 * Version of the curated Parquet schema: a digest of curatedColumns(), so a schema change in the
 * catalog is visible in every manifest and makes the next run recompact instead of skipping.
 */
export function curatedSchemaVersion(): string {
  const digest = createHash('sha256').update(JSON.stringify(curatedColumns())).digest('hex');
  return `sha256:${digest.slice(0, 16)}`;
}

export interface ManifestFile {
  key: string;
  language: string;
  rows: number;
  bytes: number;
}

export interface ConsumedObject {
  key: string;
  etag: string;
  size: number;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  day: Day;
  run_id: string;
  /** When the run that published this manifest started and finished, ISO-8601 UTC. */
  started_at: string;
  published_at: string;
  schema_version: string;
  rows: number;
  rows_by_language: Record<string, number>;
  files: ManifestFile[];
  /** Every staging object this day was built from, with the ETag it had. */
  staging_objects: ConsumedObject[];
  /** Staged lines read, and how many of them were repeated event_uuids (dropped). */
  rows_read: number;
  duplicates_dropped: number;
}

export interface ManifestVersion {
  manifest: Manifest;
  etag: string;
}

/** The day's current manifest and its ETag, or undefined when the day was never published. */
export async function readManifest(store: ObjectStore, day: Day): Promise<ManifestVersion | undefined> {
  const key = manifestKey(day);
  // Read, then head again: the ETag used for the conditional switch must be the one of the bytes
  // that were read, or a run could overwrite a manifest it never saw.
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await store.head(key);
    if (!before) return undefined;
    const bytes = await store.get(key).catch((error: unknown) => {
      if ((error as Error).name === 'ObjectNotFoundError') return undefined;
      throw error;
    });
    const after = await store.head(key);
    if (!bytes || !after) return undefined;
    if (before.etag === after.etag) return { manifest: parseManifest(key, bytes), etag: after.etag };
  }
  throw new InvalidManifestError(key, 'it kept changing while being read');
}

function parseManifest(key: string, bytes: Uint8Array): Manifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new InvalidManifestError(key, 'not JSON', { cause: error });
  }
  const m = doc as Partial<Manifest>;
  if (m.format !== MANIFEST_FORMAT) {
    throw new InvalidManifestError(key, `format ${String(m.format)}, expected ${MANIFEST_FORMAT}`);
  }
  if (!Array.isArray(m.files) || !Array.isArray(m.staging_objects) || typeof m.run_id !== 'string') {
    throw new InvalidManifestError(key, 'files, staging_objects or run_id missing');
  }
  return m as Manifest;
}

export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * The curated Parquet keys that make up a day now (empty when the day was never compacted).
 * Readers list files through this, never by listing the curated prefix, which may hold a run
 * that is being written or one that lost a race.
 */
export async function currentFiles(store: ObjectStore, day: Day): Promise<string[]> {
  const version = await readManifest(store, day);
  return version ? version.manifest.files.map((f) => f.key) : [];
}
