import { gunzipSync } from 'node:zlib';
import { datasetOfKey } from '../../lake/layout.js';
import type { ObjectStore } from '../../lake/store.js';
import type { BatchCounts } from '../../transform/metrics.js';
import type { DeliveredObject, DeliveryStreamStats } from '../delivery-stream.js';

// The live page's figures: the counters the delivery stream and the transform already keep,
// sampled once a second into rates, plus send-to-staged latency from each object written (the
// arrival of each record in it to the moment it was in the lake) and the last staged events,
// read back from the newest staging object.

/** What the live page reads from a running local pipeline. */
export interface LiveSource {
  stream: { stats(): DeliveryStreamStats };
  transformTotals(): BatchCounts;
  store: ObjectStore;
}

export interface LiveSample {
  at: string;
  records_in_per_s: number;
  records_out_per_s: number;
  staged_per_s: number;
}

export interface StagedLine {
  event_uuid: string;
  event_name: string;
  created_at: string;
  received_at: string;
  language: string | null;
}

export interface LiveSnapshot {
  at: string;
  started_at: string;
  totals: {
    records_in: number;
    records_out: number;
    throttled: number;
    staged: number;
    quarantined: number;
    processing_failed: number;
    invocations: number;
    failed_invocations: number;
    objects: number;
  };
  rates: LiveSample;
  backlog_bytes: number;
  /** Arrival to staged object, over the objects of the last minute; null before the first. */
  latency_ms: { p50: number | null; p99: number | null; records: number };
  quarantined_by_reason: Record<string, number>;
  last_staged: StagedLine[];
  /** The last two minutes of rates, one sample a second. */
  history: LiveSample[];
}

const WINDOW_MS = 60_000;
const HISTORY = 120;
const LAST_EVENTS = 10;

export class LiveStats {
  private source: LiveSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private previous: { at: number; in: number; out: number; staged: number } | undefined;
  private readonly history: LiveSample[] = [];
  /** [writtenAt, latency ms] of each staged record in the window. */
  private latencies: [number, number][] = [];
  private newestStagingKey: string | undefined;
  private lastStagedKey: string | undefined;
  private lastStaged: StagedLine[] = [];
  private readonly startedAt = new Date().toISOString();
  private snapshotCache: LiveSnapshot | undefined;

  /** Give this to the pipeline's `onObject`. */
  readonly onObject = (object: DeliveredObject): void => {
    if (object.kind !== 'data' || datasetOfKey(object.key) !== 'staging') return;
    for (const arrival of object.arrivals)
      this.latencies.push([object.writtenAt, object.writtenAt - arrival]);
    this.newestStagingKey = object.key;
  };

  /** Starts sampling a running pipeline once a second. */
  attach(source: LiveSource, intervalMs = 1000): void {
    this.source = source;
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  snapshot(): LiveSnapshot {
    this.snapshotCache ??= this.build();
    return this.snapshotCache;
  }

  private sample(): void {
    const source = this.source;
    if (!source) return;
    const s = source.stream.stats();
    const t = source.transformTotals();
    const now = Date.now();
    const out = s.okRecords + s.droppedRecords + s.failedRecords;
    const prev = this.previous ?? { at: now, in: s.incomingRecords, out, staged: t.staged };
    const seconds = Math.max((now - prev.at) / 1000, 1e-3);
    const rate: LiveSample = {
      at: new Date(now).toISOString(),
      records_in_per_s: this.previous ? (s.incomingRecords - prev.in) / seconds : 0,
      records_out_per_s: this.previous ? (out - prev.out) / seconds : 0,
      staged_per_s: this.previous ? (t.staged - prev.staged) / seconds : 0,
    };
    this.previous = { at: now, in: s.incomingRecords, out, staged: t.staged };
    this.history.push(rate);
    if (this.history.length > HISTORY) this.history.shift();
    this.latencies = this.latencies.filter(([at]) => now - at <= WINDOW_MS);
    this.snapshotCache = undefined;
    void this.readLastStaged(source.store);
  }

  private build(): LiveSnapshot {
    const source = this.source;
    const s = source?.stream.stats();
    const t = source?.transformTotals();
    const sorted = this.latencies.map(([, ms]) => ms).sort((a, b) => a - b);
    const pick = (q: number) =>
      sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : null;
    const quarantined = Object.entries(t?.quarantined ?? {}).filter(([, n]) => n > 0);
    return {
      at: new Date().toISOString(),
      started_at: this.startedAt,
      totals: {
        records_in: s?.incomingRecords ?? 0,
        records_out: (s?.okRecords ?? 0) + (s?.droppedRecords ?? 0) + (s?.failedRecords ?? 0),
        throttled: s?.throttledRecords ?? 0,
        staged: t?.staged ?? 0,
        quarantined: quarantined.reduce((sum, [, n]) => sum + n, 0),
        processing_failed: s?.failedRecords ?? 0,
        invocations: s?.invocations ?? 0,
        failed_invocations: s?.failedInvocations ?? 0,
        objects: (s?.dataObjects ?? 0) + (s?.errorObjects ?? 0),
      },
      rates: this.history[this.history.length - 1] ?? {
        at: new Date().toISOString(),
        records_in_per_s: 0,
        records_out_per_s: 0,
        staged_per_s: 0,
      },
      backlog_bytes: s?.backlogBytes ?? 0,
      latency_ms: { p50: pick(0.5), p99: pick(0.99), records: sorted.length },
      quarantined_by_reason: Object.fromEntries(quarantined),
      last_staged: this.lastStaged,
      history: [...this.history],
    };
  }

  /** The last events of the newest staging object, read back from the lake once per object. */
  private async readLastStaged(store: ObjectStore): Promise<void> {
    const key = this.newestStagingKey;
    if (!key || key === this.lastStagedKey) return;
    this.lastStagedKey = key;
    try {
      const lines = gunzipSync(Buffer.from(await store.get(key)))
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '');
      this.lastStaged = lines
        .slice(-LAST_EVENTS)
        .reverse()
        .map((l) => {
          const e = JSON.parse(l) as StagedLine;
          return {
            event_uuid: e.event_uuid,
            event_name: e.event_name,
            created_at: e.created_at,
            received_at: e.received_at,
            language: e.language ?? null,
          };
        });
      this.snapshotCache = undefined;
    } catch {
      // A page figure, not the data path: an unreadable object shows the previous events.
    }
  }
}
