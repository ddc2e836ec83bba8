import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
// The generator's modules one by one, not generator/index.ts: its Firehose sink loads the AWS
// SDK, which only the Firehose sink needs (loaded when it is used).
import { DEFAULT_RATE_PER_SECOND, type GeneratorOptions, generateRecords } from '../generator/generate.js';
import { DEFAULT_PACK_BYTES } from '../generator/pack.js';
import { type GeneratorProgress, runGenerator } from '../generator/run.js';
import { parseSpike, type Spike } from '../generator/schedule.js';
import { fileSink, type Sink, stdoutSink } from '../generator/sinks.js';
import { BAD_KINDS, type BadKind, type GeneratorStats } from '../generator/stats.js';
import { FirelakeError } from '../lake/errors.js';
import { DEFAULT_STREAM_NAME } from '../lake/settings.js';
import {
  parseDuration,
  parseInstant,
  parsePack,
  parsePositiveInt,
  parseRate,
  parseShare,
} from './options.js';

// `firelake generate`: the simulated app. Records go to Firehose (default), a file or stdout;
// progress goes to stderr; --stats writes the ground truth, --json prints a summary on stdout.

interface GenerateFlags {
  rate: number;
  duration?: number;
  count?: number;
  start?: number;
  fast?: boolean;
  seed: number;
  spike: Spike[];
  duplicateRate: number;
  conflictRate: number;
  badRate: number;
  badKinds?: BadKind[];
  lateRate: number;
  out?: string;
  stream?: string;
  maxInFlight: number;
  pack: number | 'off';
  stats?: string;
  json?: boolean;
}

function parseSeed(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new InvalidArgumentError('Expected a whole number from 0 to 4294967295.');
  }
  return n;
}

function collectSpike(text: string, previous: Spike[]): Spike[] {
  try {
    return [...previous, parseSpike(text)];
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

function parseBadKinds(text: string): BadKind[] {
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(k in BAD_KINDS));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new InvalidArgumentError(
      `Unknown bad kind ${unknown.join(', ')}; known: ${Object.keys(BAD_KINDS).join(', ')}.`,
    );
  }
  return kinds as BadKind[];
}

class GenerateUsageError extends FirelakeError {
  static override readonly code: string = 'GENERATE_FLAGS_CONFLICT';
  override readonly name = 'GenerateUsageError';
}

/** Checks the flags against each other (each flag alone is checked by its parser). */
export function generatorOptions(flags: GenerateFlags): GeneratorOptions {
  if (flags.start !== undefined && !flags.fast) {
    throw new GenerateUsageError('--start needs --fast: real time starts now (created_at = the wall clock)');
  }
  if (flags.fast && flags.duration === undefined && flags.count === undefined) {
    throw new GenerateUsageError('--fast needs --duration or --count: otherwise it never ends');
  }
  if (flags.duplicateRate + flags.conflictRate + flags.badRate > 1) {
    throw new GenerateUsageError('--duplicate-rate, --conflict-rate and --bad-rate add up to more than 1');
  }
  if (flags.json && flags.out === '-') {
    throw new GenerateUsageError('--json prints a summary on stdout, which --out - already uses for records');
  }
  if (flags.stream !== undefined && flags.out !== undefined) {
    throw new GenerateUsageError(
      '--stream is for the Firehose sink; --out writes to a file or stdout instead',
    );
  }
  // Simulated time ends now by default: a clock running ahead of the wall would make the lake
  // see the later events as coming from the future.
  const span = flags.duration ?? ((flags.count ?? 0) / flags.rate) * 1000;
  return {
    seed: flags.seed,
    ratePerSecond: flags.rate,
    start: flags.start ?? (flags.fast ? Date.now() - span : undefined),
    durationMs: flags.duration,
    maxRecords: flags.count,
    realTime: !flags.fast,
    spikes: flags.spike,
    duplicateRate: flags.duplicateRate,
    conflictRate: flags.conflictRate,
    badRate: flags.badRate,
    lateRate: flags.lateRate,
    badKinds: flags.badKinds,
  };
}

async function openSink(flags: GenerateFlags): Promise<{ sink: Sink; target: string }> {
  if (flags.out === '-') return { sink: stdoutSink(), target: 'stdout' };
  if (flags.out !== undefined) return { sink: fileSink(flags.out), target: flags.out };
  const [{ firehoseClient }, { firehoseSink }] = await Promise.all([
    import('../aws/firehose.js'),
    import('../generator/firehose-sink.js'),
  ]);
  const streamName = flags.stream ?? process.env.FIRELAKE_STREAM ?? DEFAULT_STREAM_NAME;
  return {
    sink: firehoseSink({
      client: firehoseClient(),
      streamName,
      maxInFlight: flags.maxInFlight,
      packBytes: flags.pack === 'off' ? 0 : flags.pack,
    }),
    target: `Firehose stream ${streamName}`,
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function progressLine(p: GeneratorProgress, sink: Sink['kind']): string {
  const clock = Number.isNaN(p.clock) ? '' : ` · clock ${new Date(p.clock).toISOString().slice(0, 19)}Z`;
  const delivery =
    sink === 'firehose'
      ? ` · delivered ${int(p.delivered)} · failed ${int(p.undelivered)} · retried ${int(p.retried)}`
      : '';
  return `sent ${int(p.records)} · ${int(p.ratePerSecond)}/s${delivery}${clock}`;
}

/** Live on a terminal (one rewritten line), else a line every 10 s for logs. */
function progressReporter(sink: Sink['kind']): {
  onProgress: (p: GeneratorProgress) => void;
  done: () => void;
} {
  const tty = Boolean(process.stderr.isTTY);
  let lastLine = 0;
  return {
    onProgress: (p) => {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${progressLine(p, sink)}`);
      } else if (p.elapsedMs - lastLine >= 10_000) {
        lastLine = p.elapsedMs;
        process.stderr.write(`generate: ${progressLine(p, sink)}\n`);
      }
    },
    done: () => {
      if (tty) process.stderr.write('\n');
    },
  };
}

export const generateCommand = new Command('generate')
  .description(
    'play the app: events at a rate to Firehose (default), a file or stdout, with faults on request',
  )
  .option('--rate <rate>', 'base rate: 1000000/h, 5000/m or 300/s', parseRate, DEFAULT_RATE_PER_SECOND)
  .option('--duration <duration>', 'how long the clock runs: 90s, 10m, 1h, 1d', parseDuration)
  .option('--count <n>', 'stop after this many records', parsePositiveInt)
  .option('--fast', 'simulated time: as fast as possible, created_at follows the simulated clock')
  .option(
    '--start <iso>',
    'with --fast: event time of the first record, e.g. 2026-11-20T00:00:00Z (default: the run ends now)',
    parseInstant,
  )
  .option('--seed <n>', 'same seed, same events (byte-identical with --fast)', parseSeed, 1)
  .addOption(
    new Option(
      '--spike <spec>',
      'raise the rate: 5x@10m+5m = 5 times from minute 10 for 5 minutes (repeatable)',
    )
      .argParser(collectSpike)
      .default([]),
  )
  .option('--duplicate-rate <share>', 'share of exact resends of a recent record (0.01 or 1%)', parseShare, 0)
  .option(
    '--conflict-rate <share>',
    'share of records reusing a recent event_uuid with another payload',
    parseShare,
    0,
  )
  .option('--bad-rate <share>', 'share of bad records (invalid JSON/UTF-8, wrong types, ...)', parseShare, 0)
  .option(
    '--bad-kinds <list>',
    `bad kinds to draw from, comma-separated (default all: ${Object.keys(BAD_KINDS).join(',')})`,
    parseBadKinds,
  )
  .option('--late-rate <share>', 'share of valid events with created_at 1-72 hours old', parseShare, 0)
  .option('--out <file>', 'write NDJSON to a file, or - for stdout (default: Firehose)')
  .option('--stream <name>', `Firehose delivery stream (default: $FIRELAKE_STREAM or ${DEFAULT_STREAM_NAME})`)
  .option('--max-in-flight <n>', 'Firehose: PutRecordBatch calls in flight at once', parsePositiveInt, 8)
  .addOption(
    new Option(
      '--pack <bytes|off>',
      'Firehose: pack events into records of up to this size (5120, 5KB); off: one event per record',
    )
      .argParser(parsePack)
      .default(DEFAULT_PACK_BYTES, '5120'),
  )
  .option('--stats <file>', 'write the ground truth of what was sent (JSON) to this file')
  .option('--json', 'print a JSON summary on stdout (not with --out -)')
  .action(async (flags: GenerateFlags) => {
    const options = generatorOptions(flags);
    // Building a stream checks the options together (late rate vs mix, ...) before any output.
    generateRecords(options);
    const { sink, target } = await openSink(flags);
    const progress = progressReporter(sink.kind);
    const abort = new AbortController();
    const stop = (signal: NodeJS.Signals) => {
      process.stderr.write(`\ngenerate: ${signal}: stopping, flushing what was made\n`);
      abort.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    console.error(
      `generate: ${int(options.ratePerSecond! * 3600)}/h to ${target}${flags.fast ? ' (simulated time, as fast as possible)' : ' (real time)'}, seed ${options.seed}`,
    );
    const began = performance.now();
    let stats: GeneratorStats;
    try {
      stats = await runGenerator(options, sink, { onProgress: progress.onProgress, signal: abort.signal });
    } catch (error) {
      // `generate --out - | head`: the reader left; stop quietly, as Unix tools do.
      if (sink.kind === 'stdout' && (error as { cause?: { code?: string } }).cause?.code === 'EPIPE') return;
      throw error;
    } finally {
      progress.done();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    const seconds = (performance.now() - began) / 1000;
    if (sink.kind === 'firehose') stats.pack_bytes = flags.pack === 'off' ? null : flags.pack;
    if (flags.stats) writeFileSync(flags.stats, `${JSON.stringify(stats, null, 2)}\n`);
    const { refused } = sink.counters();
    const lost = stats.undelivered - refused;
    console.error(
      `generate: ${int(stats.records)} records in ${seconds.toFixed(1)} s (${int(stats.records / Math.max(seconds, 1e-3))}/s): ` +
        `${int(stats.unique_events)} unique, ${int(stats.duplicates)} duplicates, ${int(stats.conflicts)} conflicts, ` +
        `${int(stats.bad)} bad, ${int(stats.late)} late` +
        (sink.kind === 'firehose'
          ? `; ${int(stats.firehose_records ?? 0)} Firehose records; ${int(lost)} undelivered, ${int(refused)} refused as oversized, ${int(stats.retried)} resent`
          : ''),
    );
    if (flags.json) {
      console.log(
        JSON.stringify({
          ...stats,
          refused,
          elapsed_seconds: seconds,
          records_per_second: stats.records / seconds,
        }),
      );
    }
    // Records given up after every retry are a failed run; oversized ones were asked for.
    if (lost > 0) {
      console.error(`generate: ${int(lost)} records could not be delivered after retries`);
      process.exitCode = 1;
    }
  });
