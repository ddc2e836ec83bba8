import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { compactDay } from '../compaction/index.js';
import {
  firehoseSink,
  type GeneratorOptions,
  type GeneratorStats,
  runGenerator,
} from '../generator/index.js';
import { dayOf } from '../lake/layout.js';
import type { ObjectStore } from '../lake/store.js';
import { defaultReportPath, writeReport } from '../report/index.js';
import { runScorecard } from '../sql/scorecard.js';
import type { DeliveredObject } from './delivery-stream.js';
import { type LocalPipelineOptions, startLocalPipeline } from './runtime.js';
import { duckdbCommands, formatCount, formatDuration } from './start-display.js';
import { accountFor, dayIsOnlyThisRun, latencyPercentiles, type RunSummary } from './start-summary.js';
import { type StopWatch, watchForStop } from './stop.js';

// `npm start` as a domain function: local services, a simulated stretch of the stream through
// the local Firehose, flush, compaction and the scorecard of the days touched, and a summary
// that accounts for every record (start-summary.ts). The CLI (cli/start.ts) only parses flags
// and prints.

export { formatCount } from './start-display.js';
export type { RunSummary } from './start-summary.js';

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

  const { staged, quarantined, errors, byReason, days, objects } = await accountFor(store, written);

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
    objects,
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
