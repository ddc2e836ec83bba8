import { CuratedTable } from '../iceberg/table.js';
import { type Day, PREFIX, parseDay, parsePartitions } from '../lake/layout.js';
import type { ObjectInfo, ObjectStore } from '../lake/store.js';
import { type CompactionSummary, newRunId } from './compact.js';
import { CompactionError } from './errors.js';
import { inspectDay } from './inspect.js';
import { type ConsumedObject, curatedSchemaVersion, type ManifestVersion } from './manifest.js';
import { DEFAULT_UNIT_BYTES } from './unit-size.js';

// Fan-out compaction, step 1: cut a day into units that workers compact independently, then one
// commit step publishes them all in one snapshot of the table (compaction/commit.ts).
//
// Why dedup inside a unit is exact: the transform stages an event under the minute of its
// created_at (event time), or its day's late shelf (`hour=24`) when it arrived over an hour
// later, and every repeat of an event_uuid that reaches staging carries the same created_at and
// arrival (a Firehose retry or a write-ahead-log redelivery is the same record; a client's resend
// is a duplicate and a uuid reused with another payload a uuid_conflict, neither staged). So every
// copy of a uuid sits in one minute partition (the shelf counts as minute 24:00, the day's last),
// and a unit is a run of whole minutes. test/integration/compaction-fanout.test.ts holds both
// halves of that to account; the commit step still checks the whole day for a uuid written by
// two units (a producer reusing a uuid past the dedup window) and refuses to publish one.

/** Format version of the run documents (plan, unit results). */
const RUN_FORMAT = 1;

export interface Unit {
  index: number;
  /** First and last `HH:MM` staging minute of the unit (inclusive). */
  first_minute: string;
  last_minute: string;
  bytes: number;
  /** The unit's staging objects, in key order (their order is the tie-break of dedup). */
  objects: ConsumedObject[];
}

/** What the workers and the commit step of one run share, stored at planKey(day, run). */
export interface FanOutPlan {
  format: typeof RUN_FORMAT;
  day: Day;
  run_id: string;
  started_at: string;
  schema_version: string;
  /** The day as the run read it in step 1: the commit is conditional on it being unchanged. */
  previous: ManifestVersion | null;
  /** Every staging object of the day, in key order (the record's staging_objects). */
  objects: ConsumedObject[];
  units: Unit[];
}

/** Where a run keeps its plan and unit results: curated/_runs/<day>/<run>/ (removed on commit). */
export function runPrefix(day: Day, runId?: string): string {
  parseDay(day);
  return `${PREFIX.curated}_runs/${day}/${runId ? `${runId}/` : ''}`;
}
export const planKey = (day: Day, runId: string) => `${runPrefix(day, runId)}plan.json`;
const unitName = (index: number) => `unit-${String(index).padStart(5, '0')}`;
export const unitResultKey = (day: Day, runId: string, index: number) =>
  `${runPrefix(day, runId)}${unitName(index)}.json`;
export const unitHashesKey = (day: Day, runId: string, index: number) =>
  `${runPrefix(day, runId)}${unitName(index)}.uuids.parquet`;
/** The run id a unit's curated files carry, so units never name a file alike. */
export const unitRunId = (runId: string, index: number) => `${runId}-${unitName(index)}`;

/** The minute partition (`HH:MM`) of a staging key, or undefined when it has none. */
export function stagingMinute(key: string): string | undefined {
  const { hour, minute } = parsePartitions(key);
  return hour !== undefined && minute !== undefined ? `${hour}:${minute}` : undefined;
}

/**
 * Cuts a day's staging objects into units of whole minutes, in time order, of `unitBytes` to
 * twice that (the day over as many units of at least `unitBytes` as it holds, evened out: 2.5
 * units' worth becomes two of 1.25). A minute is never split, whatever its size. Undefined
 * when an object lies outside any minute partition: its lines could repeat any other unit's.
 */
export function planUnits(objects: readonly ObjectInfo[], unitBytes: number): Unit[] | undefined {
  const sorted = [...objects].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const minutes: { minute: string; objects: ObjectInfo[]; bytes: number }[] = [];
  for (const o of sorted) {
    const minute = stagingMinute(o.key);
    if (minute === undefined) return undefined;
    const last = minutes.at(-1);
    if (last?.minute === minute) {
      last.objects.push(o);
      last.bytes += o.size;
    } else minutes.push({ minute, objects: [o], bytes: o.size });
  }
  const total = minutes.reduce((sum, m) => sum + m.bytes, 0);
  const target = total / Math.max(1, Math.floor(total / unitBytes));
  const units: Unit[] = [];
  let current: (typeof minutes)[number][] = [];
  let bytes = 0;
  const close = () => {
    if (current.length === 0) return;
    units.push({
      index: units.length,
      first_minute: current[0]!.minute,
      last_minute: current.at(-1)!.minute,
      bytes,
      objects: current.flatMap((m) => m.objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size }))),
    });
    current = [];
    bytes = 0;
  };
  for (const m of minutes) {
    // Close before a minute that would take the unit past its target by more than half the
    // minute: units end up within half a minute's bytes of the target.
    if (current.length > 0 && bytes + m.bytes / 2 > target) close();
    current.push(m);
    bytes += m.bytes;
  }
  close();
  return units;
}

export interface PlanDayOptions {
  store: ObjectStore;
  day: Day;
  force?: boolean;
  unitBytes?: number;
  runId?: string;
  log?: (line: string) => void;
  table?: CuratedTable;
}

export type DayPlan =
  /** Nothing changed since the published run. */
  | { mode: 'unchanged'; summary: CompactionSummary }
  /** One unit's worth (or objects outside minute partitions): compactDay, as before fan-out. */
  | { mode: 'single'; reason: string }
  | { mode: 'fanout'; plan: FanOutPlan };

/**
 * Plans a day: reads its manifest and staging listing (as compactDay's step 1), and for a day
 * of more than one unit writes the plan where the workers and the commit find it.
 */
export async function planDay(options: PlanDayOptions): Promise<DayPlan> {
  const started = new Date();
  const { store, day } = options;
  const log = options.log ?? (() => {});
  const inspected = await inspectDay(
    { ...options, table: options.table ?? new CuratedTable(store) },
    started,
  );
  if (inspected.kind === 'unchanged') return { mode: 'unchanged', summary: inspected.summary };
  const { previous, objects } = inspected;
  const units = planUnits(objects, options.unitBytes ?? DEFAULT_UNIT_BYTES);
  if (!units) return { mode: 'single', reason: 'staging objects outside minute partitions' };
  if (units.length < 2) return { mode: 'single', reason: 'the day fits one unit' };
  const runId = options.runId ?? newRunId(started);
  const plan: FanOutPlan = {
    format: RUN_FORMAT,
    day,
    run_id: runId,
    started_at: started.toISOString(),
    schema_version: curatedSchemaVersion(),
    previous: previous ?? null,
    objects: objects.map((o) => ({ key: o.key, etag: o.etag, size: o.size })),
    units,
  };
  await store.put(planKey(day, runId), JSON.stringify(plan), {
    contentType: 'application/json',
    ifNoneMatch: true,
  });
  log(`${day}: run ${runId} planned as ${units.length} units of about ${mibOf(units[0]!.bytes)} gzip`);
  return { mode: 'fanout', plan };
}

export async function readPlan(store: ObjectStore, day: Day, runId: string): Promise<FanOutPlan> {
  const bytes = await store.get(planKey(day, runId)).catch((error: unknown) => {
    throw new CompactionError(`run ${runId} of ${day} has no plan at ${planKey(day, runId)}`, {
      cause: error,
    });
  });
  const plan = JSON.parse(Buffer.from(bytes).toString('utf8')) as FanOutPlan;
  if (plan.format !== RUN_FORMAT || plan.day !== day || plan.run_id !== runId) {
    throw new CompactionError(`${planKey(day, runId)} is not the plan of run ${runId} of ${day}`);
  }
  return plan;
}

function mibOf(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
