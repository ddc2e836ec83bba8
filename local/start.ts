import { isAbsolute, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { compactDay } from '../compaction/index.js';
import {
  firehoseSink,
  type GeneratorOptions,
  type GeneratorStats,
  runGenerator,
} from '../generator/index.js';
import {
  type Day,
  datasetOfKey,
  dayOf,
  dayPrefix,
  errorsDayPrefix,
  parsePartitions,
} from '../lake/layout.js';
import { listAll, type ObjectStore } from '../lake/store.js';
import { defaultReportPath, writeReport } from '../report/index.js';
import { runScorecard } from '../sql/scorecard.js';
import type { DeliveredObject } from './delivery-stream.js';
import { type LocalPipelineOptions, startLocalPipeline } from './runtime.js';
import { type StopWatch, watchForStop } from './stop.js';

// `npm start` as a domain function: local services, a simulated stretch of the stream through
// the local Firehose, flush, compaction and the scorecard of the days touched, and a summary
// that accounts for every record. The CLI (cli/start.ts) only parses flags and prints.

export interface RunOptions {
  dataDir: string;
  lake: string | ObjectStore;
  /** Generator options; the simulated stretch ends now (start = now - durationMs). */
  generator: Omit<GeneratorOptions, 'start' | 'realTime'> & { durationMs: number; seed: number };
  compact: boolean;
  quality: boolean;
  /** Pack events into Firehose records of at most this many bytes (default 5,120); 0: one per record. */
  packBytes?: number;
  /** Builds the producer's client once AWS_ENDPOINT_URL_FIREHOSE points at the local endpoint. */
  firehoseClient: () => FirehoseClient;
  log: (line: string) => void;
  /** Passed through to the local pipeline (tests: in-memory DynamoDB). */
  pipeline?: Partial<LocalPipelineOptions>;
}

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

export async function runLocalPipeline(options: RunOptions): Promise<RunSummary> {
  const { log } = options;
  const runId = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const written: DeliveredObject[] = [];
  // Ctrl-C, SIGTERM, SIGHUP or the parent going away stop generating; what was sent is still
  // flushed into the lake and summarised, and the compaction and scorecard are skipped.
  const stop = watchForStop({ log, action: 'stopping the generator, flushing what was sent into the lake' });
  try {
    return await run(options, runId, written, stop);
  } finally {
    stop.dispose();
  }
}

async function run(
  options: RunOptions,
  runId: string,
  written: DeliveredObject[],
  stop: StopWatch,
): Promise<RunSummary> {
  const { log } = options;
  const pipeline = await startLocalPipeline({
    dataDir: options.dataDir,
    lake: options.lake,
    port: 0,
    log,
    onObject: (o) => written.push(o),
    // Every user of the simulated stretch is brand new and starts lessons within seconds, so the
    // demo keeps the app's order end to end (one PutRecordBatch and one invocation at a time).
    // With batches in parallel, as `firelake serve` and Firehose in AWS may run them, a lesson can
    // overtake its user's creation and miss its enrichment: the scorecard's enrichment check shows it.
    maxConcurrentInvocations: 1,
    ...options.pipeline,
  });
  const store = pipeline.store;

  const abort = new AbortController();
  void stop.requested.then(() => abort.abort());

  const began = performance.now();
  // The simulated stretch ends now: what it holds is history sent in bulk (see RunSummary.live_from).
  const liveFrom = new Date();
  let stats: GeneratorStats;
  try {
    process.env.AWS_ENDPOINT_URL_FIREHOSE = pipeline.firehoseEndpoint;
    const client = options.firehoseClient();
    const { durationMs } = options.generator;
    log(
      `generating ${formatDuration(durationMs)} of the stream at ${formatCount(Math.round((options.generator.ratePerSecond ?? 0) * 3600))}/h (about ${formatCount(Math.round((options.generator.ratePerSecond ?? 0) * (durationMs / 1000)))} records, seed ${options.generator.seed}) into ${pipeline.streamName}`,
    );
    let lastLog = 0;
    try {
      stats = await runGenerator(
        { ...options.generator, start: liveFrom.getTime() - durationMs, realTime: false },
        // A bulk run in simulated time outpaces the local pipeline: when it answers "Slow down.",
        // keep resending (backoff up to 5 s) instead of giving records up after a few tries.
        firehoseSink({
          client,
          streamName: pipeline.streamName,
          maxAttempts: 1_000,
          maxDelayMs: 5_000,
          maxInFlight: 1,
          packBytes: options.packBytes,
        }),
        {
          signal: abort.signal,
          onProgress: (p) => {
            if (p.elapsedMs - lastLog < 5_000) return;
            lastLog = p.elapsedMs;
            const s = pipeline.stream.stats();
            log(
              `sent ${formatCount(p.records)} records (${formatCount(Math.round(p.ratePerSecond))}/s), ${formatCount(s.okRecords + s.droppedRecords + s.failedRecords)} through the transform, ${s.dataObjects} objects in the lake, backlog ${(s.backlogBytes / 2 ** 20).toFixed(1)} MiB`,
            );
          },
        },
      );
    } finally {
      client.destroy();
    }
    log(`sent ${formatCount(stats.records)} records; flushing the local Firehose into the lake`);
  } finally {
    // The transform is usually behind the generator: say how the drain goes.
    const drain = setInterval(() => {
      const s = pipeline.stream.stats();
      const done = s.okRecords + s.droppedRecords + s.failedRecords;
      log(
        `flushing: ${formatCount(done)} of ${formatCount(s.processorRecords)} records through the transform, ${s.dataObjects} objects in the lake`,
      );
    }, 10_000);
    try {
      await pipeline.close();
    } finally {
      clearInterval(drain);
    }
  }
  const elapsedS = (performance.now() - began) / 1000;
  const streamStats = pipeline.stream.stats();

  // Account for every record from what this run wrote (earlier runs share the lake).
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

  const summary: RunSummary = {
    run_id: runId,
    lake: store.location,
    generator: stats,
    sent: stats.records - stats.undelivered,
    received: streamStats.processorRecords,
    firehose_records: streamStats.incomingRecords,
    not_deaggregated: streamStats.deaggregationFailures,
    recovered_from_log: pipeline.recoveredRecords,
    staged,
    quarantined,
    quarantined_by_reason: byReason,
    errors,
    dropped: streamStats.droppedRecords,
    // Counted in records as the transform saw them (events, after deaggregation).
    accounted: streamStats.processorRecords === staged + quarantined + errors + streamStats.droppedRecords,
    objects: {
      staging: written.filter((o) => datasetOfKey(o.key) === 'staging').length,
      quarantine: written.filter((o) => datasetOfKey(o.key) === 'quarantine').length,
      errors: written.filter((o) => datasetOfKey(o.key) === 'errors').length,
    },
    events_per_second: stats.records / elapsedS,
    days,
    compaction: [],
    quality: [],
    live_from: liveFrom.toISOString(),
    pipeline_latency_ms: latencyPercentiles(written),
    backfill: [],
    not_run: [],
    duckdb_commands: duckdbCommands(store.location),
  };
  log(
    `delivered in ${elapsedS.toFixed(0)} s: ${formatCount(staged)} staged, ${formatCount(quarantined)} quarantined, ${formatCount(errors)} in errors/`,
  );

  if (!options.compact) {
    summary.not_run.push('compaction and quality (--no-compact)');
    return summary;
  }
  if (stop.stopping) {
    summary.not_run.push('compaction and quality (stopped)');
    return summary;
  }
  for (const day of days) {
    log(`compacting ${day}`);
    try {
      const c = await compactDay({ store, day, log: (line) => log(`compaction: ${line}`) });
      summary.compaction.push({ day, status: c.status, rows: c.rows, files: c.files.length });
    } catch (error) {
      summary.compaction.push({ day, status: 'failed', error: (error as Error).message });
    }
  }
  if (!options.quality) {
    summary.not_run.push('quality scorecard (--no-quality)');
    return summary;
  }
  // The scorecard of the days of the simulated stretch (late events also touch earlier days).
  const windowDays = new Set([dayOf(Date.parse(stats.start)), dayOf(Date.parse(stats.end))]);
  for (const day of days.filter((d) => windowDays.has(d))) {
    log(`quality scorecard of ${day}`);
    try {
      // Reconcile against what was sent only when everything sent is in this day and the day
      // holds nothing else (late events put some in earlier days; earlier runs share the lake).
      const onlyThisRun =
        days.length === 1 && (await dayIsOnlyThisRun(store, day, new Set(written.map((o) => o.key))));
      const card = await runScorecard({ store, day, stats: onlyThisRun ? stats : undefined, liveFrom });
      const f = card.figures.freshness?.[0] ?? {};
      summary.backfill.push({
        day,
        events: Number(f.backfilled ?? 0),
        p50_seconds: f.backfilled_p50_seconds === null ? null : Number(f.backfilled_p50_seconds),
        max_seconds: f.backfilled_max_seconds === null ? null : Number(f.backfilled_max_seconds),
        live_events: Number(f.events ?? 0),
      });
      const out = defaultReportPath(options.dataDir, day);
      const report = await writeReport({
        store,
        day,
        out,
        liveFrom,
        stats: onlyThisRun ? stats : undefined,
        log: (line) => log(`report: ${line}`),
      });
      summary.quality.push({
        day,
        status: card.status,
        counts: `${card.counts.pass} pass, ${card.counts.warn} warn, ${card.counts.fail} fail${onlyThisRun ? ', reconciled with the generator' : ''}`,
        report: report.path,
      });
      for (const c of card.checks.filter((k) => k.status !== 'pass')) {
        log(`quality ${day}: ${c.status.toUpperCase()} ${c.id}: ${c.detail}`);
      }
    } catch (error) {
      summary.quality.push({ day, status: 'error', error: (error as Error).message });
    }
  }
  return summary;
}

/** Arrival to object-in-the-lake of every record the run wrote (the pipeline's own delay). */
function latencyPercentiles(objects: readonly DeliveredObject[]): { p50: number | null; p99: number | null } {
  const ms = objects.flatMap((o) => o.arrivals.map((a) => o.writtenAt - a)).sort((a, b) => a - b);
  const pick = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]! : null);
  return { p50: pick(0.5), p99: pick(0.99) };
}

async function dayIsOnlyThisRun(store: ObjectStore, day: Day, ours: Set<string>): Promise<boolean> {
  for (const prefix of [dayPrefix('staging', day), dayPrefix('quarantine', day), errorsDayPrefix(day)]) {
    for (const o of await listAll(store, prefix)) if (!ours.has(o.key)) return false;
  }
  return true;
}

function duckdbCommands(location: string): string[] {
  const base = location.startsWith('s3://')
    ? location.replace(/\/$/, '')
    : isAbsolute(location) && !relative(process.cwd(), location).startsWith('..')
      ? relative(process.cwd(), location) || '.'
      : location;
  return [
    `duckdb -c "SELECT language, count(*) AS events FROM read_parquet('${base}/curated/events/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY 2 DESC"`,
    `duckdb -c "SELECT event_name, count(*) AS events FROM read_json_auto('${base}/staging/**/*.gz') GROUP BY ALL ORDER BY 2 DESC"`,
    `duckdb -c "SELECT reason, count(*) AS records FROM read_json_auto('${base}/quarantine/**/*.gz') GROUP BY ALL ORDER BY 2 DESC"`,
  ];
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${(ms / 1000).toFixed(0)} s`;
}
