// The local pipeline end to end: a producer process (the real CLI, `firelake generate`, configured
// only by the pipeline's export lines) sends in real time through the AWS SDK's Firehose client ->
// the local endpoint -> the delivery stream -> the real transform on dynalite (persisted, in its
// own process) -> a folder lake. Offers a steady rate (default 1,400 events/s, a 5x
// spike over 1M/h) for a window (default 60 s) and reports what the lake received in that window,
// whether the backlog grew, and latency from arrival at the endpoint to the staged object being
// written, raw and minus the S3 buffer interval; then the same latency at a rate the pipeline
// keeps up with (default 300 events/s for 20 s). Target: the transform finishes >= 98% of 1,400
// events/s offered, nothing refused as "Slow down.", with the write-ahead log on (fsync before every acknowledgement, local/wal.ts). The whole
// measurement runs once per log mode in the same run (default: fsync, then off; 'write' too on
// request), each in a process of its own on a fresh data dir (a pipeline that could not drain
// in time must not run on beside the next), and the log's cost is printed as ratios.
//
// The producer is a process of its own, as a user's app is beside `firelake serve`: the
// pipeline's main process is one event loop on one core (the bottleneck at 1,400 events/s, which
// needs it under 0.71 ms of CPU per event), and a generator and Firehose client in that process
// would take its core's time that no real deployment takes from it. Its CPU is still measured and
// printed, apart.
//
//   npm run bench local   (FIRELAKE_BENCH_RATE=1400 FIRELAKE_BENCH_SECONDS=60
//                          FIRELAKE_BENCH_WAL_MODES=fsync,off FIRELAKE_BENCH_PACK=5120|off
//                          FIRELAKE_BENCH_CPU_PROF=<dir for .cpuprofile files>)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PACK_BYTES } from '../generator/index.js';
import { LOCAL_DELIVERY } from '../lake/delivery.js';
import { datasetOfKey } from '../lake/layout.js';
import type { DeliveredObject } from '../local/delivery-stream.js';
import { startLocalPipeline } from '../local/runtime.js';
import { WAL_MODES, type WalMode } from '../local/wal.js';
import { latenciesOf, percentile, runProducer, slopePerSecond } from './local-measure.js';
import { peakRssMiB, processCpuSeconds, report } from './report.js';

// The largest spike the pipeline is sized for (5x over 1M/h), the rate the local pipeline must sustain with the log on.
const TARGET = 1_400;
const RATE = Number(process.env.FIRELAKE_BENCH_RATE ?? TARGET);
const SECONDS = Number(process.env.FIRELAKE_BENCH_SECONDS ?? 60);
// Past the window, the backlog is drained for at most this long (the figures are taken before).
const DRAIN_LIMIT_MS = 180_000;
// Then, latency at a rate the pipeline keeps up with (queueing dominates it at an overload).
const STEADY_RATE = Number(process.env.FIRELAKE_BENCH_STEADY_RATE ?? 300);
const STEADY_SECONDS = Number(process.env.FIRELAKE_BENCH_STEADY_SECONDS ?? 20);
// Producers pack events into Firehose records of this many bytes (the default), or `off`.
const PACK =
  process.env.FIRELAKE_BENCH_PACK === 'off'
    ? 0
    : Number(process.env.FIRELAKE_BENCH_PACK ?? DEFAULT_PACK_BYTES);

// Without a mode, this process runs one child per mode and reports; a child measures one.
const MODE = process.env.FIRELAKE_BENCH_LOCAL_ONE_MODE as WalMode | undefined;
if (!MODE) {
  await measureEveryMode();
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'firelake-bench-local-'));
const objects: DeliveredObject[] = [];
const pipeline = await startLocalPipeline({
  dataDir: dir,
  port: 0,
  wal: MODE,
  // A bounded backlog: when the pipeline cannot keep up, producers see "Slow down." and the
  // backlog stays flat; the delivered rate is then the sustained rate.
  maxBacklogBytes: 32 * 1024 * 1024,
  onObject: (o) => objects.push(o),
  log: (line) => console.error(`  ${line}`),
});

// The producer gets what a user's app gets: the pipeline's export lines (no --stream: it reads
// FIRELAKE_STREAM), over an environment without this process's AWS or Firelake settings.
const producerEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('FIRELAKE_')),
  ),
  ...pipeline.env,
};
const samples: { at: number; backlog: number; received: number; accepted: number; processed: number }[] = [];
const sampler = setInterval(() => {
  const s = pipeline.stream.stats();
  samples.push({
    at: Date.now(),
    backlog: s.backlogBytes,
    received: s.incomingRecords,
    accepted: s.processorRecords,
    processed: s.okRecords + s.droppedRecords + s.failedRecords,
  });
  if (samples.length % 10 === 0) {
    console.error(
      `  ${samples.length} s: received ${s.incomingRecords}, invocations ${s.invocations} (${s.failedInvocations} failed), ok ${s.okRecords}, objects ${s.dataObjects}, backlog ${(s.backlogBytes / 2 ** 20).toFixed(1)} MiB`,
    );
  }
}, 1_000);
const cpuBefore = process.cpuUsage();
const childCpuBefore = processCpuSeconds(pipeline.dynamodbPid);

console.error(`  producer (firelake generate): offering ${RATE} events/s for ${SECONDS} s`);
const windowRun = await runProducer(
  [
    `--rate=${RATE}/s`,
    `--duration=${SECONDS}s`,
    '--seed=7',
    '--duplicate-rate=0.01',
    '--bad-rate=0.005',
    '--late-rate=0.01',
  ],
  PACK,
  producerEnv,
);
const stats = windowRun.stats;
// The window is the generator's run, not the producer's start-up (loading the CLI).
const windowEnd = windowRun.exitedAt;
const began = windowEnd - stats.elapsed_seconds * 1000;
clearInterval(sampler);
const cpu = process.cpuUsage(cpuBefore);
const windowS = (windowEnd - began) / 1000;

const inWindow = objects.filter((o) => o.writtenAt <= windowEnd);
const landed = (list: DeliveredObject[]) => list.reduce((sum, o) => sum + o.records, 0);
const lakeRecordsInWindow = landed(inWindow.filter((o) => datasetOfKey(o.key) !== 'errors'));
// The first buffer intervals only fill buffers: rates are taken over the rest of the window.
const intervalMs = LOCAL_DELIVERY.buffering.intervalSeconds * 1000;
const steady = inWindow.filter((o) => o.writtenAt - began > intervalMs * 2);
// Events in the objects written in that part of the window, over its length: quantised by whole
// buffers (a 5 s buffer holds ~7,000 events at 1,400/s, ~140/s over 50 s), so it reads above the
// offered rate in one run and below in the next with the same pipeline.
const lakeRate = landed(steady) / Math.max(1, (windowEnd - began - intervalMs * 2) / 1000);
// The sustained rate: the slope (least squares, 1 s samples) of the events the transform finished
// over the same part, and of those the endpoint accepted. A pipeline that keeps up finishes what
// it accepts; one that does not shows a lower slope and a growing backlog.
const steadySamples = samples.filter((s) => s.at - began > intervalMs * 2 && s.at <= windowEnd);
const processedRate = slopePerSecond(steadySamples.map((s) => [(s.at - began) / 1000, s.processed]));
const acceptedRate = slopePerSecond(steadySamples.map((s) => [(s.at - began) / 1000, s.accepted]));

const latencies = latenciesOf(inWindow);
const pct = (p: number) => percentile(latencies, p);

// Backlog growth: slope of a least-squares line over the second half of the window.
const half = samples.filter((s) => s.at - began >= (SECONDS * 1000) / 2);
const slope = slopePerSecond(half.map((s) => [(s.at - began) / 1000, s.backlog]));
const streamStats = pipeline.stream.stats();

console.error('  window over; draining the backlog');
const drainStart = Date.now();
const drained = await Promise.race([
  pipeline.flush().then(() => true),
  new Promise<boolean>((r) => setTimeout(() => r(false), DRAIN_LIMIT_MS).unref()),
]);
const drainS = (Date.now() - drainStart) / 1000;

let steadyLatencies: number[] = [];
let steadyBacklogMiB = Number.NaN;
let producerCpuS = windowRun.cpuS;
if (drained && STEADY_SECONDS > 0) {
  console.error(`  steady phase: producer offering ${STEADY_RATE} events/s for ${STEADY_SECONDS} s`);
  const phaseStart = Date.now();
  const steadyRun = await runProducer(
    [`--rate=${STEADY_RATE}/s`, `--duration=${STEADY_SECONDS}s`, '--seed=8', '--duplicate-rate=0.01'],
    PACK,
    producerEnv,
  );
  producerCpuS += steadyRun.cpuS;
  steadyBacklogMiB = pipeline.stream.stats().backlogBytes / 2 ** 20;
  // Let every buffer flush on its own interval, so no latency is cut short by a forced flush.
  await new Promise((r) =>
    setTimeout(r, intervalMs + LOCAL_DELIVERY.processor.bufferIntervalSeconds * 1000 + 2_000),
  );
  steadyLatencies = latenciesOf(objects.filter((o) => o.writtenAt >= phaseStart));
}
// CPU per event over the window, the drain and the steady phase, per process (this one,
// dynalite's, the producer's): less sensitive to the load of a shared machine than wall-clock
// rates. Two idle cores give 2 CPU-s per second.
const after = pipeline.stream.stats();
const processed = after.okRecords + after.droppedRecords + after.failedRecords;
const total = process.cpuUsage(cpuBefore);
const mainCpuS = (total.user + total.system) / 1e6;
const childCpuS = processCpuSeconds(pipeline.dynamodbPid) - childCpuBefore;
const perProcessed = (cpuS: number) => (cpuS * 1000) / Math.max(1, processed);
const pipelineMsPerEvent = perProcessed(mainCpuS + childCpuS);
const withProducerMsPerEvent = perProcessed(mainCpuS + childCpuS + producerCpuS);

const wal = pipeline.wal?.stats();
const measured: Record<string, number | string> = {
  window_s: Number(windowS.toFixed(1)),
  records_sent: stats.records - stats.undelivered,
  firehose_records_accepted: streamStats.incomingRecords,
  events_accepted: streamStats.processorRecords,
  firehose_records_per_event: Number(
    (streamStats.incomingRecords / Math.max(1, streamStats.processorRecords)).toFixed(4),
  ),
  firehose_billed_bytes_per_event: Math.round(
    streamStats.billedBytes / Math.max(1, streamStats.processorRecords),
  ),
  throttled_slow_down: streamStats.throttledRecords,
  sink_resends: stats.retried,
  lake_records_in_window: lakeRecordsInWindow,
  failed_invocations: pipeline.stream.stats().failedInvocations,
  records_to_errors: pipeline.stream.stats().failedRecords,
  accepted_events_per_s: Math.round(acceptedRate),
  sustained_events_per_s: Math.round(processedRate),
  sustained_vs_accepted: Number((processedRate / Math.max(1, acceptedRate)).toFixed(3)),
  sustained_vs_target: Number((processedRate / TARGET).toFixed(3)),
  lake_events_per_s_from_objects_in_window: Math.round(lakeRate),
  backlog_mib_at_end_of_window: Number((streamStats.backlogBytes / 2 ** 20).toFixed(2)),
  backlog_growth_kib_per_s: Number((slope / 1024).toFixed(1)),
  latency_p50_ms: pct(50),
  latency_p99_ms: pct(99),
  latency_p50_minus_buffer_interval_ms: Math.max(0, pct(50) - intervalMs),
  latency_p99_minus_buffer_interval_ms: Math.max(0, pct(99) - intervalMs),
  buffer_interval_ms: intervalMs,
  steady_events_staged: steadyLatencies.length,
  steady_backlog_mib_at_end: Number(steadyBacklogMiB.toFixed(2)),
  steady_latency_p50_ms: percentile(steadyLatencies, 50),
  steady_latency_p99_ms: percentile(steadyLatencies, 99),
  steady_latency_p50_minus_buffer_interval_ms: Math.max(0, percentile(steadyLatencies, 50) - intervalMs),
  steady_latency_p99_minus_buffer_interval_ms: Math.max(0, percentile(steadyLatencies, 99) - intervalMs),
  drained_after_window: drained ? 'yes' : `no (gave up after ${DRAIN_LIMIT_MS / 1000} s)`,
  drain_s: Number(drainS.toFixed(1)),
  // The pipeline's main process alone (endpoint, log, delivery stream, transform), per record sent.
  cpu_ms_per_event_in_window_this_process: Number(
    ((cpu.user + cpu.system) / 1000 / Math.max(1, stats.records)).toFixed(2),
  ),
  cpu_ms_per_event_in_window_producer_process: Number(
    ((windowRun.cpuS * 1000) / Math.max(1, stats.records)).toFixed(2),
  ),
  events_processed_window_and_drain: processed,
  cpu_s_main_process: Number(mainCpuS.toFixed(1)),
  cpu_s_dynalite_process: Number(childCpuS.toFixed(1)),
  // Both producer runs (window and steady phase), their start-up (loading the CLI) included.
  cpu_s_producer_process: Number(producerCpuS.toFixed(1)),
  cpu_ms_per_processed_event_main_process: Number(perProcessed(mainCpuS).toFixed(3)),
  cpu_ms_per_processed_event_dynalite_process: Number(perProcessed(childCpuS).toFixed(3)),
  cpu_ms_per_processed_event_producer_process: Number(perProcessed(producerCpuS).toFixed(3)),
  // The pipeline: main process + dynalite; then with the producer too.
  cpu_ms_per_processed_event_pipeline: Number(pipelineMsPerEvent.toFixed(3)),
  cpu_ms_per_processed_event_all_three_processes: Number(withProducerMsPerEvent.toFixed(3)),
  projected_events_per_s_on_2_idle_cores: Math.round(2000 / pipelineMsPerEvent),
  projected_events_per_s_on_2_idle_cores_with_producer: Math.round(2000 / withProducerMsPerEvent),
  // The main process runs on one core: 1,400 events/s needs it under 0.71 ms per event.
  projected_events_per_s_one_core_for_main_process: Math.round(processed / Math.max(1e-9, mainCpuS)),
  peak_rss_mib: Math.round(peakRssMiB()),
  // The machine is shared: the load says how much of its 2 cores this run had.
  load_average_1m: Number(loadavg()[0]!.toFixed(1)),
};
if (wal) {
  // Group commit: one write + fdatasync covers every call that arrived during the previous one.
  // Its time includes waiting for the event loop (busy with the transform) between the two.
  measured.log_appended_records = wal.appendedRecords;
  measured.log_appended_mib = Number((wal.appendedBytes / 2 ** 20).toFixed(1));
  measured.log_writes = wal.writes;
  measured.log_fdatasyncs = wal.syncs;
  measured.log_records_per_write = Number((wal.appendedRecords / Math.max(1, wal.writes)).toFixed(1));
  measured.log_ms_per_write_and_sync = Number((wal.syncMs / Math.max(1, wal.writes)).toFixed(2));
}
writeFileSync(process.env.FIRELAKE_BENCH_LOCAL_OUT!, JSON.stringify(measured));

if (drained) {
  await pipeline.close();
  rmSync(dir, { recursive: true, force: true });
} else {
  console.error(`  not drained: its data is left in ${dir}`);
}
process.exit(0);

async function measureEveryMode(): Promise<void> {
  const modes = (process.env.FIRELAKE_BENCH_WAL_MODES ?? 'fsync,off').split(',') as WalMode[];
  for (const mode of modes) {
    if (!WAL_MODES.includes(mode))
      throw new Error(`FIRELAKE_BENCH_WAL_MODES: ${mode} is not one of ${WAL_MODES}`);
  }
  const figures: Record<string, number | string> = {
    pack_bytes: PACK === 0 ? 'off' : PACK,
    offered_events_per_s: RATE,
    window_s: SECONDS,
    steady_offered_events_per_s: STEADY_RATE,
  };
  const byMode = new Map<WalMode, Record<string, number | string>>();
  const outDir = mkdtempSync(join(tmpdir(), 'firelake-bench-local-out-'));
  for (const mode of modes) {
    console.error(`== write-ahead log ${mode}`);
    const out = join(outDir, `${mode}.json`);
    // FIRELAKE_BENCH_CPU_PROF=<dir>: .cpuprofile files of this run, of dynalite's process and of
    // the producer's there.
    const prof = process.env.FIRELAKE_BENCH_CPU_PROF;
    const profile = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
    const run = spawnSync(
      process.execPath,
      [...process.execArgv, ...profile, fileURLToPath(import.meta.url)],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, FIRELAKE_BENCH_LOCAL_ONE_MODE: mode, FIRELAKE_BENCH_LOCAL_OUT: out },
      },
    );
    if (run.status !== 0) throw new Error(`the ${mode} measurement failed (exit ${run.status})`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number | string>;
    byMode.set(mode, result);
    for (const [k, v] of Object.entries(result)) figures[`log_${mode}.${k}`] = v;
  }
  rmSync(outDir, { recursive: true, force: true });
  const on = byMode.get('fsync');
  const off = byMode.get('off');
  if (on && off) {
    // A run that staged nothing in its window (an overloaded machine) has no ratio.
    const ratio = (k: string) =>
      Number(off[k]) > 0 ? Number((Number(on[k]) / Number(off[k])).toFixed(2)) : 'n/a';
    figures.sustained_events_per_s_fsync_vs_off = ratio('sustained_events_per_s');
    figures.cpu_ms_per_event_fsync_vs_off = ratio('cpu_ms_per_processed_event_pipeline');
    figures.latency_p50_ms_fsync_minus_off = Number(on.latency_p50_ms) - Number(off.latency_p50_ms);
    figures.steady_latency_p50_ms_fsync_minus_off =
      Number(on.steady_latency_p50_ms) - Number(off.steady_latency_p50_ms);
    figures.steady_latency_p99_ms_fsync_minus_off =
      Number(on.steady_latency_p99_ms) - Number(off.steady_latency_p99_ms);
  }
  if (on) {
    // The producer paces to within ~0.2% of its rate (1,398/s for 1,400), and the slope of 1 s
    // samples of ~0.2 s invocations is good to about 0.5% over the window: 98% of the target,
    // with nothing refused as "Slow down.", is keeping up with it.
    const holds = Number(on.sustained_events_per_s) >= 0.98 * TARGET && Number(on.throttled_slow_down) === 0;
    figures.target_1400_events_per_s_with_log = holds ? 'holds' : 'does not hold';
  }
  figures.load_average_1m = Number(loadavg()[0]!.toFixed(1));
  report('local', figures);
}
