import type { CuratedTable } from '../iceberg/table.js';
import { dayPrefix } from '../lake/layout.js';
import { listAll, type ObjectInfo } from '../lake/store.js';
import { MissingDayError, StagingShrunkError } from './errors.js';
import { adoptDayManifests } from './legacy.js';
import { curatedSchemaVersion, type Manifest, type ManifestVersion, readManifest } from './manifest.js';
import type { CompactDayOptions } from './options.js';
import { type CompactionSummary, unchangedSummary } from './summary.js';

// Step 1 of a run: what the day's record consumed against what staging holds now.

/** What a run finds before building: the day unchanged since its manifest, or work to do. */
export type InspectedDay =
  | { kind: 'unchanged'; summary: CompactionSummary }
  | { kind: 'work'; previous: ManifestVersion | undefined; objects: ObjectInfo[]; objectBytes: number };

/**
 * Step 1 of a run: the day's manifest and ETag, the staging listing, and whether anything
 * changed since the manifest (throws MissingDayError, StagingShrunkError).
 */
export async function inspectDay(
  options: Pick<CompactDayOptions, 'store' | 'day' | 'force' | 'log'> & { table: CuratedTable },
  started: Date,
): Promise<InspectedDay> {
  const { store, day, table } = options;
  const log = options.log ?? (() => {});
  await adoptDayManifests(table, log);
  const previous = await readManifest(store, day, { table });
  const stagingPrefix = dayPrefix('staging', day);
  // Every object of the day, whatever its name: one that is not gzip NDJSON fails the run by
  // name rather than being skipped without a trace.
  const objects = await listAll(store, stagingPrefix);
  if (objects.length === 0) throw new MissingDayError(day, stagingPrefix, store.location);
  const objectBytes = objects.reduce((sum, o) => sum + o.size, 0);

  if (previous && !options.force) {
    const change = stagingChange(previous.manifest, objects);
    if (change.missing.length > 0) throw new StagingShrunkError(day, change.missing);
    if (change.added.length === 0 && previous.manifest.schema_version === curatedSchemaVersion()) {
      log(`${day}: unchanged since run ${previous.manifest.run_id} (${objects.length} staging objects)`);
      return { kind: 'unchanged', summary: unchangedSummary(previous, objects.length, objectBytes, started) };
    }
    if (change.added.length > 0)
      log(`${day}: ${change.added.length} staging object(s) new since the last run`);
  }
  return { kind: 'work', previous, objects, objectBytes };
}

/** Staging objects the live manifest has not consumed (new or rewritten), and ones that vanished. */
export function stagingChange(
  manifest: Manifest,
  objects: readonly ObjectInfo[],
): { added: string[]; missing: string[] } {
  const consumed = new Map(manifest.staging_objects.map((o) => [o.key, o.etag]));
  const present = new Set(objects.map((o) => o.key));
  return {
    added: objects.filter((o) => consumed.get(o.key) !== o.etag).map((o) => o.key),
    missing: manifest.staging_objects.filter((o) => !present.has(o.key)).map((o) => o.key),
  };
}
