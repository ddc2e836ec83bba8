import { curatedDayPrefix, type Day, manifestKey } from '../lake/layout.js';
import { listAll, type ObjectStore, PreconditionFailedError } from '../lake/store.js';
import { CompactionError, ConcurrentRunError } from './errors.js';
import { type Manifest, type ManifestVersion, readManifest, serializeManifest } from './manifest.js';

// Publishing a day: the one conditional manifest write that switches readers to a run's files,
// then the removal of the files no manifest refers to any more.

/**
 * Switches the day to `manifest` with one conditional write (If-Match the ETag the run read, or
 * If-None-Match for a first run): readers see the old day or the new one. Compaction and backfill
 * both publish through this. Throws ConcurrentRunError when another run published first; when
 * the outcome cannot be known, empties `uploaded` (the files must stay) and throws.
 */
export async function publishManifest(
  store: ObjectStore,
  manifest: Manifest,
  previous: { etag: string } | undefined,
  uploaded: string[],
): Promise<void> {
  const { day, run_id: runId } = manifest;
  manifest.published_at = new Date().toISOString();
  try {
    await store.put(manifestKey(day), serializeManifest(manifest), {
      contentType: 'application/json',
      ...(previous ? { ifMatch: previous.etag } : { ifNoneMatch: true }),
    });
  } catch (error) {
    // A lost answer is not a lost race: the SDK may have retried a put that had succeeded
    // (the retry then fails its own condition), or the network failed after the write. Only
    // the manifest itself says which run is live; until that is known, keep our files.
    const live = await readManifest(store, day).catch(() => 'unknown' as const);
    if (live === 'unknown') {
      uploaded.length = 0;
      throw new CompactionError(
        `could not tell whether run ${runId} published ${day}; its files stay until the next run`,
        { cause: error },
      );
    }
    if (live?.manifest.run_id !== runId) {
      if (error instanceof PreconditionFailedError)
        throw new ConcurrentRunError(day, runId, { cause: error });
      throw error;
    }
  }
}

/**
 * After the switch: removes the previous run's files and orphans of runs killed before they
 * published. A failure here leaves the day published and is returned as a note.
 */
export async function removeStaleFiles(
  store: ObjectStore,
  day: Day,
  manifest: Manifest,
  previous: ManifestVersion | undefined,
  started: Date,
  log: (line: string) => void,
): Promise<{ deleted: number; note?: string }> {
  const live = new Set(manifest.files.map((f) => f.key));
  const stale = new Set(previous?.manifest.files.map((f) => f.key).filter((k) => !live.has(k)));
  try {
    // Orphans: files of runs killed before they published. Only files older than this run's
    // start: a run that began after us may be writing its files right now.
    for (const o of await listAll(store, curatedDayPrefix(day))) {
      if (!live.has(o.key) && o.lastModified < started) stale.add(o.key);
    }
    await store.delete([...stale]);
    if (stale.size > 0) log(`${day}: removed ${stale.size} file(s) of earlier runs`);
    return { deleted: stale.size };
  } catch (error) {
    const note = `published, but removing earlier runs' files failed (the next run retries): ${(error as Error).message}`;
    log(`${day}: ${note}`);
    return { deleted: 0, note };
  }
}
