import { gunzipSync } from 'node:zlib';
import type { GeneratorStats } from '../generator/index.js';
import { type Day, datasetOfKey, dayPrefix, errorsDayPrefix, parsePartitions } from '../lake/layout.js';
import { listAll, type ObjectStore } from '../lake/store.js';
import type { DeliveredObject } from './delivery-stream.js';

// The accounting of `npm start` (start.ts): what a run reports, and every record it sent found
// again in what it wrote (earlier runs share the lake).

export interface RunSummary {
  run_id: string;
  lake: string;
  generator: GeneratorStats;
  /** Records the producer sent (generated minus refused by the sink). */
  sent: number;
  /**
   * Events the local Firehose took (sink resends included): the records the transform saw after
   * deaggregation. A packed record that did not split counts once.
   */
  received: number;
  /** Firehose records PutRecordBatch took: what Firehose bills (packed, many events each). */
  firehose_records: number;
  /** Packed records that did not deaggregate and reached the transform whole. */
  not_deaggregated: number;
  /**
   * Firehose records an earlier run acknowledged and its write-ahead log delivered now (their
   * events are in `received`).
   */
  recovered_from_log: number;
  staged: number;
  quarantined: number;
  quarantined_by_reason: Record<string, number>;
  errors: number;
  dropped: number;
  accounted: boolean;
  objects: { staging: number; quarantine: number; errors: number };
  events_per_second: number;
  days: Day[];
  compaction: { day: Day; status: string; rows?: number; files?: number; error?: string }[];
  quality: {
    day: Day;
    status: 'pass' | 'warn' | 'fail' | 'error';
    counts?: string;
    error?: string;
    /** The day's HTML report (firelake report), written with the scorecard. */
    report?: string;
  }[];
  /**
   * The run sends a simulated stretch that ends when it starts: every event of it is created
   * before this instant and backfilled, so its received - created is the event's age when sent,
   * not the pipeline's delay. The scorecard judges freshness from here on (live traffic only).
   */
  live_from: string;
  /** Arrival at the local Firehose to the object in the lake, over every record of the run. */
  pipeline_latency_ms: { p50: number | null; p99: number | null };
  /** The backfilled events' received - created, from the scorecard's freshness figures. */
  backfill: {
    day: Day;
    events: number;
    p50_seconds: number | null;
    max_seconds: number | null;
    /** Events of the day created from live_from on: the ones freshness judges. */
    live_events: number;
  }[];
  not_run: string[];
  duckdb_commands: string[];
}

/** Where the run's records went, from the objects it wrote. */
export async function accountFor(store: ObjectStore, written: readonly DeliveredObject[]) {
  const count = (dataset: string) =>
    written.filter((o) => datasetOfKey(o.key) === dataset).reduce((sum, o) => sum + o.records, 0);
  const byReason: Record<string, number> = {};
  for (const o of written.filter((w) => datasetOfKey(w.key) === 'quarantine')) {
    const text = gunzipSync(Buffer.from(await store.get(o.key))).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const reason = (JSON.parse(line) as { reason?: string }).reason ?? 'unknown';
      byReason[reason] = (byReason[reason] ?? 0) + 1;
    }
  }
  const staged = count('staging');
  const quarantined = count('quarantine');
  const errors = count('errors');
  const days = [
    ...new Set(
      written
        .filter((o) => datasetOfKey(o.key) === 'staging')
        .map((o) => parsePartitions(o.key))
        .map((p) => `${p.year}-${p.month}-${p.day}`),
    ),
  ].sort();
  const objects = {
    staging: written.filter((o) => datasetOfKey(o.key) === 'staging').length,
    quarantine: written.filter((o) => datasetOfKey(o.key) === 'quarantine').length,
    errors: written.filter((o) => datasetOfKey(o.key) === 'errors').length,
  };
  return { staged, quarantined, errors, byReason, days, objects };
}

export /** Arrival to object-in-the-lake of every record the run wrote (the pipeline's own delay). */
function latencyPercentiles(objects: readonly DeliveredObject[]): { p50: number | null; p99: number | null } {
  const ms = objects.flatMap((o) => o.arrivals.map((a) => o.writtenAt - a)).sort((a, b) => a - b);
  const pick = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]! : null);
  return { p50: pick(0.5), p99: pick(0.99) };
}

/** Whether the day holds nothing but the objects this run wrote. */
export async function dayIsOnlyThisRun(store: ObjectStore, day: Day, ours: Set<string>): Promise<boolean> {
  for (const prefix of [dayPrefix('staging', day), dayPrefix('quarantine', day), errorsDayPrefix(day)]) {
    for (const o of await listAll(store, prefix)) if (!ours.has(o.key)) return false;
  }
  return true;
}
