import { type Day, dayOf, parseDay } from '../lake/layout.js';
import { commitDay } from './commit.js';
import { type CompactionSummary, compactDay, removeStaleWorkDirs } from './compact.js';
import { configFromEnv, curatedTables, storeFromConfig } from './config.js';
import { CompactionError, MissingDayError, StagingShrunkError } from './errors.js';
import { nightlyDays } from './nightly.js';
import { clearPendingDay, pendingDays } from './pending.js';
import { planDay } from './plan.js';
import { compactUnit } from './unit.js';
import { DEFAULT_UNIT_BYTES } from './unit-size.js';

// The Lambdas of the compaction state machine (infra/compaction-fanout.ts), one export each:
//   plan:   {scheduledTime} (the nightly schedule) or {date, force} (by hand) -> the days to
//           compact, the units of those that fan out, the commits to make;
//   unit:   one item of the Distributed Map: a unit of a planned run, or a whole small day;
//   commit: one fanned-out day: the day-wide checks and the one commit of the table.
// Config from the environment as the compaction Lambda's (compaction/config.ts), plus
// COMPACTION_UNIT_MIB (gzip staging per unit).

const config = configFromEnv();
const store = storeFromConfig(config);
// The plan reads the curated table, the unit and the commit commit it, all through one catalog:
// Glue in the stack (CURATED_GLUE_*), else the file system.
const curatedTable = curatedTables(config, store);
const unitBytes = process.env.COMPACTION_UNIT_MIB
  ? Number(process.env.COMPACTION_UNIT_MIB) * 2 ** 20
  : DEFAULT_UNIT_BYTES;
if (!(unitBytes > 0))
  throw new CompactionError(`COMPACTION_UNIT_MIB="${process.env.COMPACTION_UNIT_MIB}" is not a size`);
const log = (line: string) => console.log(line);
const DAY_MS = 86_400_000;

export interface PlanEvent {
  date?: string;
  force?: boolean;
  scheduledTime?: string;
  time?: string;
}

/** A Distributed Map item: unit -1 is a whole day compacted in one run. */
export interface UnitItem {
  day: Day;
  run_id: string;
  unit: number;
  force: boolean;
}

export interface PlanOutput {
  days: { day: Day; mode: string; run_id?: string; units?: number; note?: string }[];
  units: UnitItem[];
  commits: { day: Day; run_id: string }[];
}

export const plan = async (event: PlanEvent | null | undefined): Promise<PlanOutput> => {
  const force = event?.force === true;
  let days: Day[];
  if (event?.date) {
    parseDay(event.date);
    days = [event.date];
  } else {
    const at = event?.scheduledTime ?? event?.time;
    const now = at ? new Date(at) : new Date();
    if (Number.isNaN(now.getTime())) throw new CompactionError(`event time "${at}" is not a date`);
    days = nightlyDays(dayOf(now.getTime() - DAY_MS), config.lateWindowDays);
    // Days a replay staged events in and left to this run (compaction/pending.ts), in the
    // window or not, as the nightly CLI run does.
    for (const d of await pendingDays(store)) if (!days.includes(d)) days.push(d);
  }
  const out: PlanOutput = { days: [], units: [], commits: [] };
  for (const [i, day] of days.entries()) {
    try {
      const planned = await planDay({ store, table: curatedTable(), day, force, unitBytes, log });
      if (planned.mode === 'unchanged') out.days.push({ day, mode: 'unchanged' });
      else if (planned.mode === 'single') {
        out.days.push({ day, mode: 'single', note: planned.reason });
        out.units.push({ day, run_id: '', unit: -1, force });
      } else {
        const { run_id, units } = planned.plan;
        out.days.push({ day, mode: 'fanout', run_id, units: units.length });
        out.units.push(...units.map((u) => ({ day, run_id, unit: u.index, force })));
        out.commits.push({ day, run_id });
      }
    } catch (error) {
      // As the nightly run (compaction/nightly.ts): a day without staging is reported; a late
      // day whose objects vanished is no reason to touch it.
      const late = i > 0 && error instanceof StagingShrunkError;
      if (!(error instanceof MissingDayError) && !late) throw error;
      out.days.push({ day, mode: 'skipped', note: (error as Error).message });
    }
  }
  log(JSON.stringify(out.days));
  return out;
};

/** Only counts travel back through the state machine (its state is limited to 256 KB). */
function brief(s: CompactionSummary) {
  const { files, rows_by_language, ...rest } = s;
  return { ...rest, files: files.length };
}

export const unit = async (item: UnitItem) => {
  // One invocation at a time per sandbox: any work folder in /tmp is a timed-out attempt's.
  await removeStaleWorkDirs(config.workDir, 0);
  const common = {
    store,
    table: curatedTable(),
    day: item.day,
    workDir: config.workDir,
    memoryLimitMiB: config.memoryLimitMiB,
    log,
  };
  if (item.unit < 0) {
    const summary = await compactDay({ ...common, force: item.force });
    await clearPendingDay(store, item.day);
    return brief(summary);
  }
  const result = await compactUnit({ ...common, runId: item.run_id, unit: item.unit });
  return {
    day: item.day,
    run_id: item.run_id,
    unit: item.unit,
    rows: result.rows,
    files: result.files.length,
  };
};

export const commit = async (item: { day: Day; run_id: string }) => {
  await removeStaleWorkDirs(config.workDir, 0);
  const summary = await commitDay({
    store,
    table: curatedTable(),
    day: item.day,
    runId: item.run_id,
    workDir: config.workDir,
    memoryLimitMiB: config.memoryLimitMiB,
    log,
  });
  await clearPendingDay(store, item.day);
  log(JSON.stringify(brief(summary)));
  return brief(summary);
};
