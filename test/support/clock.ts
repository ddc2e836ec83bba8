import { setTimeout as sleep } from 'node:timers/promises';
import { dayOf } from '../../lake/layout.js';

/**
 * Waits, if need be, until the span from `fromMs` to `toMs` around now (negative: before now)
 * lies within one UTC day, and returns now. For tests of a day's lake with events stamped by the
 * real clock (a local Firehose stamps arrivals with it): near midnight, the events' day
 * (created_at) and their arrival day would differ, and the day under test would hold part of
 * them. Waits at most the span's length, in the minutes around midnight UTC only.
 */
export async function awayFromMidnight(fromMs: number, toMs: number): Promise<number> {
  for (;;) {
    const now = Date.now();
    if (dayOf(now + fromMs) === dayOf(now + toMs)) return now;
    // Until the span's start is past midnight: from then on, the whole span is on the new day.
    const midnight = Date.parse(`${dayOf(now + toMs)}T00:00:00Z`);
    await sleep(midnight - fromMs - now + 10);
  }
}
