import { type Day, dayOf, manifestKey } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';

// "No manifest by the deadline": the nightly compaction publishes curated/_manifests/<day>.json
// for yesterday; a check at a later time of day looks for it and reports a metric the stack
// alarms on. Independent of the compaction Lambda, so a run that never started is caught too.

/** EMF namespace dimension and metric name shared by the check and the stack's alarm. */
export const MANIFEST_CHECK_METRICS = { service: 'compaction', metric: 'ManifestMissing' } as const;

const DAY_MS = 86_400_000;

export interface ManifestCheck {
  day: Day;
  key: string;
  present: boolean;
}

/** The day whose manifest must exist at `at`: the UTC day before it. */
export function dayDueAt(at: Date): Day {
  return dayOf(at.getTime() - DAY_MS);
}

/** Looks for the manifest of `day` in the lake. */
export async function checkManifest(store: ObjectStore, day: Day): Promise<ManifestCheck> {
  const key = manifestKey(day);
  const info = await store.head(key);
  return { day, key, present: info !== undefined };
}
