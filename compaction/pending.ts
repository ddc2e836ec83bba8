import { type Day, PENDING_COMPACTION_PREFIX, parseDay } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';

// Days `firelake replay --no-compact` staged events in and left to the nightly run, which
// compacts them even outside its late window, then clears them. One empty object per day
// (`replays/pending-compaction/YYYY-MM-DD`): marking is idempotent and needs no read-modify-write.

export async function markPendingDays(store: ObjectStore, days: Iterable<Day>): Promise<void> {
  for (const day of days) {
    parseDay(day);
    await store.put(`${PENDING_COMPACTION_PREFIX}${day}`, '', { contentType: 'text/plain' });
  }
}

export async function pendingDays(store: ObjectStore): Promise<Day[]> {
  const days: Day[] = [];
  for await (const o of store.list(PENDING_COMPACTION_PREFIX)) {
    const day = o.key.slice(PENDING_COMPACTION_PREFIX.length);
    if (/^\d{4}-\d{2}-\d{2}$/.test(day)) days.push(day);
  }
  return days.sort();
}

export async function clearPendingDay(store: ObjectStore, day: Day): Promise<void> {
  await store.delete([`${PENDING_COMPACTION_PREFIX}${day}`]);
}
