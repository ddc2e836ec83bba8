import { parseDay } from '../lake/layout.js';
import { compactDay, removeStaleWorkDirs } from './compact.js';
import { configFromEnv, curatedTables, storeFromConfig } from './config.js';
import { CompactionError } from './errors.js';
import { compactNightly } from './nightly.js';

// The compaction Lambda. On the schedule it compacts yesterday and recompacts late-window days
// with new staging objects; invoked with {"date": "YYYY-MM-DD"} it compacts that one day.
//
// Event shapes: EventBridge Scheduler with Input `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`
// (recommended: a retried or delayed invocation still compacts the right day), an EventBridge
// rule's Scheduled Event (`time`), `{}` (now), or `{"date": "2026-11-20", "force": true}`.

const config = configFromEnv();
const store = storeFromConfig(config);
const curatedTable = curatedTables(config, store);

export interface CompactionEvent {
  date?: string;
  force?: boolean;
  scheduledTime?: string;
  time?: string;
}

export class NightlyFailedError extends CompactionError {
  static override readonly code: string = 'NIGHTLY_COMPACTION_FAILED';
  constructor(days: string[]) {
    super(`compaction failed for ${days.join(', ')} (details in the log)`);
    this.name = 'NightlyFailedError';
  }
}

export const handler = async (event: CompactionEvent | null | undefined) => {
  // One invocation at a time per sandbox: any work folder in /tmp is a timed-out run's.
  const stale = await removeStaleWorkDirs(config.workDir, 0);
  if (stale > 0) console.log(`removed ${stale} work folder(s) of earlier runs that did not finish`);
  const common = {
    store,
    table: curatedTable(),
    workDir: config.workDir,
    memoryLimitMiB: config.memoryLimitMiB,
    force: event?.force === true,
    log: (line: string) => console.log(line),
  };
  if (event?.date) {
    parseDay(event.date);
    const summary = await compactDay({ ...common, day: event.date });
    console.log(JSON.stringify(summary));
    return summary;
  }
  const at = event?.scheduledTime ?? event?.time;
  const now = at ? new Date(at) : new Date();
  if (Number.isNaN(now.getTime())) throw new CompactionError(`event time "${at}" is not a date`);
  const summary = await compactNightly({ ...common, now, lateWindowDays: config.lateWindowDays });
  console.log(JSON.stringify(summary));
  if (!summary.ok)
    throw new NightlyFailedError(summary.days.filter((d) => d.status === 'failed').map((d) => d.day));
  return summary;
};
