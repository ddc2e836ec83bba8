import { setTimeout as sleep } from 'node:timers/promises';
import { dayOf } from '../../lake/layout.js';

/**
 * Waits, if need be, until `backMs` before now and `aheadMs` after it fall on one UTC day, and
 * returns now. For tests of a day's lake with events stamped by the real clock (a local Firehose
 * stamps arrivals with it): near midnight, the events' day (created_at) and their arrival day
 * would differ, and the day under test would hold half of them. Waits at most `backMs + aheadMs`,
 * in the minutes around midnight UTC only.
 */
export async function awayFromMidnight(backMs: number, aheadMs: number): Promise<number> {
  for (;;) {
    const now = Date.now();
    if (dayOf(now - backMs) === dayOf(now + aheadMs)) return now;
    // Past the boundary by backMs: from then on, both ends are on the new day.
    const midnight = Date.parse(`${dayOf(now + aheadMs)}T00:00:00Z`);
    await sleep(midnight + backMs - now + 10);
  }
}
