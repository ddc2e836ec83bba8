import { CuratedTable } from '../../iceberg/table.js';
import { type Day, dayOf } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';

// "Yesterday not committed by the deadline": the nightly compaction commits yesterday to the
// curated table; a check at a later time of day looks for the day's record in the table's
// current snapshot and reports a metric the stack alarms on. Independent of the compaction
// Lambda, so a run that never started is caught too.

/** EMF namespace dimension and metric name shared by the check and the stack's alarm. */
export const MANIFEST_CHECK_METRICS = { service: 'compaction', metric: 'ManifestMissing' } as const;

const DAY_MS = 86_400_000;

export interface ManifestCheck {
  day: Day;
  /** The day's record, when the current snapshot has one. */
  key: string | null;
  present: boolean;
}

/** The day whose manifest must exist at `at`: the UTC day before it. */
export function dayDueAt(at: Date): Day {
  return dayOf(at.getTime() - DAY_MS);
}

/** Looks for `day` in the curated table's current snapshot. */
export async function checkManifest(store: ObjectStore, day: Day): Promise<ManifestCheck> {
  const state = await new CuratedTable(store).state();
  const entry = state?.index.days[day];
  return { day, key: entry?.record ?? null, present: entry !== undefined };
}
