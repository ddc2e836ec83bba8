import { randomInt } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_PACK_BYTES } from '../generator/pack.js';
import { DEFAULT_DATA_DIR, lakeIn } from '../lake/settings.js';
import type { RunSummary } from '../local/start.js';
import { formatCount } from '../local/start-display.js';
import { parseDuration, parsePack, parsePositiveInt, parseRate, parseShare } from './options.js';
import { cliSettings, settingsHelp } from './settings.js';

// `npm start` (`firelake start`): the whole pipeline on this machine with no flags. Progress on
// stderr; the summary on stdout (or JSON with --json).

interface StartOptions {
  dataDir: string;
  lake?: string;
  duration: number;
  rate: number;
  seed?: number;
  duplicates: number;
  conflicts: number;
  bad: number;
  late: number;
  compact: boolean;
  quality: boolean;
  pack: number | 'off';
  json?: boolean;
}

export const startCommand = new Command('start')
  .description(
    'run the whole pipeline here: local DynamoDB and Firehose, a simulated stretch of the 1M/h stream, compaction and the quality scorecard',
  )
  .option(
    '--data-dir <dir>',
    'local data: DynamoDB in <dir>/dynamodb, the lake in <dir>/lake',
    DEFAULT_DATA_DIR,
  )
  .option('--lake <lake>', 'lake folder or s3://bucket[/prefix] (default: <data-dir>/lake)')
  .option(
    '--duration <duration>',
    'simulated stretch of the stream, ending now (e.g. 5m, 1h)',
    parseDuration,
    120_000,
  )
  .option('--rate <rate>', 'base rate of the stream', parseRate, 1_000_000 / 3600)
  .option('--seed <n>', 'generator seed (default: a new one each run, printed)', parsePositiveInt)
  .option('--duplicates <share>', 'share of exact resends', parseShare, 0.01)
  .option('--conflicts <share>', 'share of reused event_uuids with another payload', parseShare, 0.001)
  .option('--bad <share>', 'share of bad records (each BAD_KINDS kind)', parseShare, 0.005)
  .option('--late <share>', 'share of valid events arriving hours late', parseShare, 0.01)
  .option('--no-compact', 'stop after delivery: no compaction, no scorecard')
  .option('--no-quality', 'skip the quality scorecard')
  .addOption(
    new Option(
      '--pack <bytes|off>',
      'pack events into Firehose records of up to this size; off: one per record',
    )
      .argParser(parsePack)
      .default(DEFAULT_PACK_BYTES, '5120'),
  )
  .option('--json', 'print the summary as JSON')
  .addHelpText('after', settingsHelp())
  .action(async (options: StartOptions) => {
    const log = (line: string) => console.error(`[start] ${line}`);
    const settings = cliSettings(process.env);
    const lake = options.lake ?? lakeIn(options.dataDir);
    const [{ firehoseClient }, { runLocalPipeline }, { deploymentConfig }] = await Promise.all([
      import('../aws/firehose.js'),
      import('../local/start.js'),
      import('../infra/config.js'),
    ]);
    const summary = await runLocalPipeline({
      dataDir: options.dataDir,
      lake,
      generator: {
        seed: options.seed ?? randomInt(1, 2 ** 31),
        ratePerSecond: options.rate,
        durationMs: options.duration,
        duplicateRate: options.duplicates,
        conflictRate: options.conflicts,
        badRate: options.bad,
        lateRate: options.late,
      },
      compact: options.compact,
      quality: options.compact && options.quality,
      packBytes: options.pack === 'off' ? 0 : options.pack,
      firehoseClient: () => firehoseClient(),
      // The stack's delivery settings (cdk.json's profile and context), with local buffers.
      pipeline: { settings, deliverySettings: deploymentConfig().delivery },
      log,
    });
    const statsFile = join(options.dataDir, 'runs', `${summary.run_id}.json`);
    await mkdir(join(options.dataDir, 'runs'), { recursive: true });
    await writeFile(statsFile, `${JSON.stringify(summary, null, 2)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else process.stdout.write(formatSummary(summary, shortPath(statsFile)));
    // The pipeline's own failures fail the command; a failing scorecard is reported (a short
    // simulated stretch has no history to compare with), and `firelake quality` gates on it.
    const broken =
      !summary.accounted ||
      summary.compaction.some((c) => c.status === 'failed') ||
      summary.quality.some((q) => q.status === 'error');
    if (broken) process.exitCode = 1;
  });

function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function formatSummary(s: RunSummary, statsFile: string): string {
  const lines: string[] = [];
  const add = (line = '') => lines.push(line);
  add();
  add(`Firelake ran end to end on this machine (run ${s.run_id}, seed ${s.generator.seed}).`);
  add();
  add(
    `  sent          ${formatCount(s.sent)} records (${formatCount(s.generator.unique_events)} unique events, ${formatCount(s.generator.duplicates)} duplicates, ${formatCount(s.generator.conflicts)} conflicts, ${formatCount(s.generator.bad)} bad, ${formatCount(s.generator.late)} late)`,
  );
  add(
    `  firehose      ${formatCount(s.firehose_records)} records (${(s.received / Math.max(s.firehose_records, 1)).toFixed(1)} events each${s.not_deaggregated > 0 ? `, ${formatCount(s.not_deaggregated)} not split, passed whole to the transform` : ''})`,
  );
  if (s.generator.undelivered > 0)
    add(`  undelivered   ${formatCount(s.generator.undelivered)} (refused by the sink)`);
  add(`  staged        ${formatCount(s.staged)} events in ${s.objects.staging} objects`);
  const reasons = Object.entries(s.quarantined_by_reason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${formatCount(n)}`)
    .join(', ');
  add(`  quarantined   ${formatCount(s.quarantined)}${reasons ? ` (${reasons})` : ''}`);
  add(`  duplicates    ${formatCount(s.quarantined_by_reason.duplicate ?? 0)} tombstones in quarantine`);
  add(`  errors        ${formatCount(s.errors)} records in errors/ (Firehose processing-failed)`);
  add(
    `  accounted     ${s.accounted ? 'yes' : 'NO'}: received ${formatCount(s.received)} = staged + quarantined + errors = ${formatCount(s.staged + s.quarantined + s.errors)}`,
  );
  add(`  throughput    ${formatCount(Math.round(s.events_per_second))} records/s through the local pipeline`);
  add(`  days          ${s.days.join(', ') || '-'}`);
  for (const c of s.compaction) {
    add(
      `  compaction    ${c.day}: ${c.status}${c.rows !== undefined ? `, ${formatCount(c.rows)} rows in ${c.files} Parquet files` : ''}${c.error ? ` (${c.error})` : ''}`,
    );
  }
  for (const q of s.quality) {
    add(
      `  quality       ${q.day}: ${q.status.toUpperCase()}${q.counts ? ` (${q.counts})` : ''}${q.error ? ` (${q.error})` : ''}`,
    );
  }
  // A backfilled stretch is not a stale pipeline: its events' age when sent is shown apart, and
  // the pipeline's own delay beside it.
  const backfilled = s.backfill.reduce((sum, b) => sum + b.events, 0);
  if (backfilled > 0) {
    const worst = Math.max(...s.backfill.map((b) => b.max_seconds ?? 0));
    const p50 = s.backfill.find((b) => b.p50_seconds !== null)?.p50_seconds;
    const live = s.backfill.reduce((sum, b) => sum + b.live_events, 0);
    add(
      `  freshness     backfill: ${formatCount(backfilled)} events of the simulated stretch were created before the run and sent during it; their received - created (p50 ${p50 === undefined || p50 === null ? '-' : formatCount(Math.round(p50))} s, max ${formatCount(Math.round(worst))} s) is their age when sent, shown apart and not judged. Judged: ${formatCount(live)} live events (created from ${s.live_from} on)`,
    );
  }
  const latency = s.pipeline_latency_ms;
  if (latency.p50 !== null) {
    add(
      `  pipeline      arrival -> object in the lake p50 ${(latency.p50 / 1000).toFixed(1)} s, p99 ${((latency.p99 ?? 0) / 1000).toFixed(1)} s (Firehose buffers included)`,
    );
  }
  for (const q of s.quality.filter((x) => x.report)) add(`  report        ${shortPath(q.report!)}`);
  for (const note of s.not_run) add(`  not run       ${note}`);
  if (s.quality.some((q) => q.status === 'fail')) {
    add(
      `  (the failing checks are on stderr above; \`firelake quality --date DAY --live-from ${s.live_from}\` shows the whole scorecard as this run judged it)`,
    );
  }
  add();
  add(`The lake is in ${s.lake}`);
  add(`Run summary: ${statsFile}`);
  add();
  add('Query it with DuckDB (https://duckdb.org), e.g.:');
  for (const command of s.duckdb_commands) add(`  ${command}`);
  add();
  return lines.join('\n');
}
