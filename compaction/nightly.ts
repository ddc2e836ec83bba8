import { type Day, dayOf, dayPrefix, parseDay } from '../lake/layout.js';
import { DEFAULT_COMPACTION_LATE_WINDOW_DAYS } from '../lake/settings.js';
import { listAll } from '../lake/store.js';
import { type CompactDayOptions, type CompactionSummary, compactDay } from './compact.js';
import { MissingDayError } from './errors.js';
import { stagingChange } from './inspect.js';
import { readManifest } from './manifest.js';
import { clearPendingDay, pendingDays } from './pending.js';

// The nightly run: yesterday, plus every day of the late window that received staging objects
// its manifest has not consumed (late events land under their event-time day, days later).

const DAY_MS = 86_400_000;

export interface NightlyOptions extends Omit<CompactDayOptions, 'day' | 'runId'> {
  /** The day to compact as "yesterday" (default: the UTC day before now). */
  day?: Day;
  now?: Date;
  /** Days before `day` checked for late staging objects (default DEFAULT_COMPACTION_LATE_WINDOW_DAYS). */
  lateWindowDays?: number;
  /** How one day is compacted (default compactDay; the CLI passes the fan-out with --workers). */
  compact?: (options: CompactDayOptions) => Promise<CompactionSummary>;
}

export interface DayOutcome {
  day: Day;
  /** missing: no staging objects; skipped: a late-window day with nothing new; failed: see error. */
  status: 'published' | 'unchanged' | 'missing' | 'skipped' | 'failed';
  summary?: CompactionSummary;
  /** Staging objects new since the day's manifest (late-window days). */
  new_objects?: number;
  error?: string;
}

export interface NightlySummary {
  day: Day;
  late_window_days: number;
  days: DayOutcome[];
  /** False when any day failed; the Lambda then fails, so the schedule's retry and alarms see it. */
  ok: boolean;
}

/** The days a nightly run for `day` looks at: `day` first, then the late window, newest first. */
export function nightlyDays(day: Day, lateWindowDays: number): Day[] {
  const { startMs } = parseDay(day);
  return Array.from({ length: lateWindowDays + 1 }, (_, i) => dayOf(startMs - i * DAY_MS));
}

export async function compactNightly(options: NightlyOptions): Promise<NightlySummary> {
  const { store } = options;
  const log = options.log ?? (() => {});
  const window = options.lateWindowDays ?? DEFAULT_COMPACTION_LATE_WINDOW_DAYS;
  const day = options.day ?? dayOf((options.now ?? new Date()).getTime() - DAY_MS);
  const [yesterday, ...late] = nightlyDays(day, window);
  const days: DayOutcome[] = [];

  days.push(await run(yesterday!, options));
  for (const d of late) {
    // Only days with staging objects their manifest has not consumed. Objects that vanished
    // (a lifecycle rule expiring staging) are no reason to touch a published day.
    const objects = await listAll(store, dayPrefix('staging', d));
    if (objects.length === 0) {
      days.push({ day: d, status: 'skipped' });
      continue;
    }
    const previous = await readManifest(store, d).catch(() => undefined);
    const added = previous ? stagingChange(previous.manifest, objects).added.length : objects.length;
    if (added === 0) {
      days.push({ day: d, status: 'skipped', new_objects: 0 });
      continue;
    }
    log(`${d}: ${added} staging object(s) not in its manifest: recompacting`);
    days.push({ ...(await run(d, options)), new_objects: added });
  }
  // Days a replay staged events in and left to this run (compaction/pending.ts), in the window or not.
  for (const d of await pendingDays(store)) {
    let outcome = days.find((o) => o.day === d);
    if (!outcome) {
      log(`${d}: replayed events staged: compacting`);
      outcome = await run(d, options);
      days.push(outcome);
    }
    if (outcome.status !== 'failed') await clearPendingDay(store, d);
  }
  return { day, late_window_days: window, days, ok: days.every((d) => d.status !== 'failed') };
}

async function run(day: Day, options: NightlyOptions): Promise<DayOutcome> {
  try {
    const summary = await (options.compact ?? compactDay)({ ...options, day });
    return { day, status: summary.status, summary };
  } catch (error) {
    if (error instanceof MissingDayError) {
      options.log?.(`${day}: ${error.message}`);
      return { day, status: 'missing', error: error.message };
    }
    options.log?.(`${day}: failed: ${(error as Error).message}`);
    return { day, status: 'failed', error: (error as Error).message };
  }
}
