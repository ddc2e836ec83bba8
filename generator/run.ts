import { setTimeout as sleep } from 'node:timers/promises';
import { type GeneratorOptions, generateRecords } from './generate.js';
import type { Sink, SinkCounters } from './sinks.js';
import type { GeneratorStats } from './stats.js';

export interface GeneratorProgress {
  /** Records made and handed to the sink. */
  records: number;
  /** Records the sink has delivered, given up on, and resent. */
  delivered: number;
  undelivered: number;
  retried: number;
  elapsedMs: number;
  /** Records per second since the start. */
  ratePerSecond: number;
  /** Event time of the last record, epoch ms. */
  clock: number;
}

export interface RunHooks {
  /** Called every `progressIntervalMs` (default 1 s) while running, and once at the end. */
  onProgress?: (progress: GeneratorProgress) => void;
  progressIntervalMs?: number;
  /** Stops generating; what was made is still flushed and counted. */
  signal?: AbortSignal;
}

/**
 * Runs the generator into a sink: paced to the schedule in real time, as fast as the sink takes
 * records in simulated time. Returns the ground truth of what was sent, the sink's undelivered
 * and retried counts included.
 */
export async function runGenerator(
  options: GeneratorOptions,
  sink: Sink,
  hooks: RunHooks = {},
): Promise<GeneratorStats> {
  const realTime = options.realTime ?? false;
  const stream = generateRecords({ ...options, start: options.start ?? Date.now() });
  const { onProgress, signal } = hooks;
  const interval = hooks.progressIntervalMs ?? 1000;
  const began = performance.now();
  let records = 0;
  let clock = Number.NaN;

  const progress = (): GeneratorProgress => {
    const elapsedMs = performance.now() - began;
    const c = sink.counters();
    return { records, ...c, elapsedMs, ratePerSecond: records / Math.max(elapsedMs / 1000, 1e-3), clock };
  };

  const ticker = onProgress ? setInterval(() => onProgress(progress()), interval) : undefined;
  ticker?.unref();
  let failure: unknown;
  try {
    for (;;) {
      if (signal?.aborted) break;
      const due = stream.peekAt();
      if (due === undefined) break;
      if (realTime) {
        // Wait until the record is due; if behind (a slow sink), catch up without waiting.
        const wait = due - Date.now();
        if (wait >= 1) await sleep(wait, undefined, { signal }).catch(() => undefined);
        if (signal?.aborted) break;
      }
      const { value } = stream.next();
      if (!value) break;
      clock = value.at;
      records++;
      const pending = sink.write(value.data);
      if (pending) await pending;
    }
  } catch (error) {
    failure = error;
  }
  // Flush what was made even after an abort or a sink error, so the counts stay exact.
  let counters: SinkCounters;
  try {
    counters = await sink.close();
  } finally {
    clearInterval(ticker);
  }
  if (failure) throw failure;
  onProgress?.(progress());
  const firehose =
    counters.firehoseRecords === undefined
      ? {}
      : { firehose_records: counters.firehoseRecords, firehose_bytes: counters.firehoseBytes ?? 0 };
  return {
    ...stream.stats(sink.kind),
    undelivered: counters.undelivered,
    retried: counters.retried,
    ...firehose,
  };
}
