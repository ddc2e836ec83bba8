import type { Day } from '../lake/layout.js';
import type { Manifest, ManifestFile, ManifestVersion } from './manifest.js';
import type { Published } from './publish.js';

// What a compaction run reports: its summary (the CLI prints it, the Lambdas return it) and the
// sizes in its progress lines.

export interface CompactionSummary {
  day: Day;
  /** published: a new snapshot holds the day; unchanged: staging matched the day's record, nothing done. */
  status: 'published' | 'unchanged';
  run_id: string;
  previous_run_id: string | null;
  /** The table snapshot that holds the day as this summary describes it. */
  snapshot_id: number;
  objects: number;
  object_bytes: number;
  rows_read: number;
  rows: number;
  duplicates_dropped: number;
  rows_by_language: Record<string, number>;
  files: ManifestFile[];
  parquet_bytes: number;
  /** Files removed after the commit: of expired snapshots, and orphans of killed runs. */
  deleted_files: number;
  /** The commit's own time (metadata written, swapped, cleaned up), ms; 0 when nothing was committed. */
  commit_ms: number;
  elapsed_ms: number;
  /** Fan-out runs: how many units workers compacted (compaction/workers.ts). */
  units?: number;
  /** Why nothing was done, or what went wrong after publishing (the day is published either way). */
  note?: string;
}

/** The summary of a run that published `manifest`. */
export function publishedSummary(
  manifest: Manifest,
  previous: ManifestVersion | undefined,
  objects: number,
  objectBytes: number,
  published: Published,
  started: Date,
): CompactionSummary {
  return {
    day: manifest.day,
    status: 'published',
    run_id: manifest.run_id,
    previous_run_id: previous?.manifest.run_id ?? null,
    snapshot_id: published.commit.snapshotId,
    objects,
    object_bytes: objectBytes,
    rows_read: manifest.rows_read,
    rows: manifest.rows,
    duplicates_dropped: manifest.duplicates_dropped,
    rows_by_language: manifest.rows_by_language,
    files: manifest.files,
    parquet_bytes: manifest.files.reduce((sum, f) => sum + f.bytes, 0),
    deleted_files: published.commit.deletedFiles,
    commit_ms: published.commit.commitMs,
    elapsed_ms: Date.now() - started.getTime(),
    ...(published.note ? { note: published.note } : {}),
  };
}

/** The summary of a run that found staging unchanged since the published `previous`. */
export function unchangedSummary(
  previous: ManifestVersion,
  objects: number,
  objectBytes: number,
  started: Date,
): CompactionSummary {
  const m = previous.manifest;
  return {
    day: m.day,
    status: 'unchanged',
    run_id: m.run_id,
    previous_run_id: m.run_id,
    snapshot_id: previous.snapshot_id,
    objects,
    object_bytes: objectBytes,
    rows_read: m.rows_read,
    rows: m.rows,
    duplicates_dropped: m.duplicates_dropped,
    rows_by_language: m.rows_by_language,
    files: m.files,
    parquet_bytes: m.files.reduce((sum, f) => sum + f.bytes, 0),
    deleted_files: 0,
    commit_ms: 0,
    elapsed_ms: Date.now() - started.getTime(),
    note: `staging unchanged since run ${m.run_id}: nothing to do (use --force to recompact)`,
  };
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
