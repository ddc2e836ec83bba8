import { CommitConflictError, CommitUnknownError } from '../iceberg/errors.js';
import type { CommitResult, CuratedTable } from '../iceberg/table.js';
import { CompactionError, ConcurrentRunError } from './errors.js';
import type { Manifest, ManifestVersion } from './manifest.js';
import type { Run } from './run.js';

// Publishing: the one Iceberg commit that makes a run's files the days' files (compaction,
// fan-out commit and backfill all publish through it). Readers of the table see the old days or
// the new ones, never a mix; what the commit replaced stays readable through the earlier
// snapshot until it expires.

export interface Published {
  commit: CommitResult;
  note?: string;
}

/**
 * Commits the days of `records` (each replacing its day's files) as one snapshot, conditional on
 * each day still being what `previous` says. Sets the run's outcome: committed; lost
 * (ConcurrentRunError: another run published one of these days first); unknown (the files stay,
 * CompactionError).
 */
export async function publishDays(
  run: Run,
  table: CuratedTable,
  records: readonly { manifest: Manifest; previous: ManifestVersion | undefined }[],
  options: { started: Date; log: (line: string) => void; retentionMs?: number },
): Promise<Published> {
  const now = new Date().toISOString();
  try {
    const commit = await table.commit(
      records.map(({ manifest, previous }) => {
        manifest.published_at = now;
        return {
          day: manifest.day,
          basedOn: previous?.manifest.run_id,
          runId: manifest.run_id,
          record: manifest,
          files: manifest.files,
        };
      }),
      {
        log: options.log,
        orphansBefore: options.started,
        ...(options.retentionMs !== undefined ? { retentionMs: options.retentionMs } : {}),
      },
    );
    run.outcome = 'committed';
    run.keepFiles = true;
    return { commit };
  } catch (error) {
    if (error instanceof CommitConflictError) {
      run.outcome = 'lost';
      const first = records[0]!.manifest;
      throw new ConcurrentRunError(error.days[0] ?? first.day, first.run_id, { cause: error });
    }
    if (error instanceof CommitUnknownError) {
      run.outcome = 'unknown';
      run.keepFiles = true;
      const first = records[0]!.manifest;
      throw new CompactionError(
        `could not tell whether run ${first.run_id} published ${first.day}; its files stay until the next run`,
        { cause: error },
      );
    }
    throw error;
  }
}
