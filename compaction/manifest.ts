import { createHash } from 'node:crypto';
import { curatedColumns } from '../events/curated.js';
import { CuratedTable, type TableState } from '../iceberg/table.js';
import { type Day, parseDay } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// A day's record: what the run that last committed the day built it from (the staging objects
// and their ETags, rows read, repeats dropped, the curated schema version). It is written beside
// the table's metadata and named by the snapshot that commits the day (iceberg/table.ts), so the
// snapshot is the one commit point; the day's files are the snapshot's, read from its manifests.

/** Format version of the day record document itself. */
export const MANIFEST_FORMAT = 1;

/**
 * Version of the curated Parquet schema: a digest of curatedColumns(), so a schema change in the
 * catalog is visible in every record and makes the next run recompact instead of skipping.
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
  /** When the run that committed this record started and finished, ISO-8601 UTC. */
  started_at: string;
  published_at: string;
  schema_version: string;
  rows: number;
  rows_by_language: Record<string, number>;
  /** The day's files, as the snapshot's manifests list them. */
  files: ManifestFile[];
  /** Every staging object this day was built from, with the ETag it had. */
  staging_objects: ConsumedObject[];
  /** Staged lines read, and how many of them were repeated event_uuids (dropped). */
  rows_read: number;
  duplicates_dropped: number;
}

/** A day as a snapshot of the table holds it. */
export interface ManifestVersion {
  manifest: Manifest;
  /** The snapshot read. */
  snapshot_id: number;
}

/**
 * The day as the table's current snapshot (or `state`) holds it: its record, with the files
 * the snapshot's manifests list. Undefined when the day is not in the table.
 */
export async function readManifest(
  store: ObjectStore,
  day: Day,
  options: { table?: CuratedTable; state?: TableState } = {},
): Promise<ManifestVersion | undefined> {
  parseDay(day);
  const table = options.table ?? new CuratedTable(store);
  const state = options.state ?? (await table.state());
  if (!state?.snapshot) return undefined;
  const record = await table.record<Manifest>(state, day);
  if (!record) return undefined;
  const files = (await table.files(state, [day])).map(({ key, language, rows, bytes }) => ({
    key,
    language,
    rows,
    bytes,
  }));
  const rowsByLanguage: Record<string, number> = {};
  for (const f of files) rowsByLanguage[f.language] = (rowsByLanguage[f.language] ?? 0) + f.rows;
  return {
    manifest: {
      ...record,
      files,
      rows: files.reduce((s, f) => s + f.rows, 0),
      rows_by_language: Object.fromEntries(
        Object.entries(rowsByLanguage).sort(([a], [b]) => (a < b ? -1 : 1)),
      ),
    },
    snapshot_id: state.snapshot['snapshot-id'],
  };
}

/**
 * The curated Parquet keys that make up a day in the current snapshot (empty when the day is
 * not in the table). Readers list files through this, never by listing the curated prefix,
 * which may hold a run that is being written or one that lost a race.
 */
export async function currentFiles(
  store: ObjectStore,
  day: Day,
  table = new CuratedTable(store),
): Promise<string[]> {
  const state = await table.state();
  return state ? (await table.files(state, [day])).map((f) => f.key) : [];
}
