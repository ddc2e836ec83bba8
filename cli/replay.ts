import { Command, InvalidArgumentError, Option } from 'commander';
import { openLake } from '../lake/open.js';
import { DEFAULT_LAKE, DEFAULT_STREAM_NAME } from '../lake/settings.js';
import { daysBetween, REPLAY_SOURCES, type ReplaySource } from '../replay/read.js';
import type { ReplayReport } from '../replay/replay.js';
import { formatOutcome } from '../replay/report.js';
import { parseDayOption, parseDuration, parsePositiveInt } from './options.js';
import { cliSettings, settingsHelp } from './settings.js';

// `firelake replay`: quarantined and failed records back into the lake through the Firehose API,
// optionally fixed by a DuckDB SELECT, exactly once (replay/replay.ts).

interface ReplayFlags {
  date?: string;
  from?: string;
  to?: string;
  source: ReplaySource[];
  file?: string;
  reason: string[];
  eventName?: string;
  fix?: string;
  allowLate?: boolean;
  dryRun?: boolean;
  json?: boolean;
  lake: string;
  stream?: string;
  wait: boolean;
  waitTimeout: number;
  compact: boolean;
  chunk: number;
}

const MAX_DAYS = 400;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function parseSource(value: string, previous: ReplaySource[]): ReplaySource[] {
  if (!(REPLAY_SOURCES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`Expected one of ${REPLAY_SOURCES.join(', ')}.`);
  }
  return [...previous, value as ReplaySource];
}

export const replayCommand = new Command('replay')
  .description(
    'send quarantined or failed records back through the Firehose API, optionally fixed by a DuckDB SELECT, exactly once',
  )
  .addOption(
    new Option('--date <YYYY-MM-DD>', 'the UTC day of the records (arrival day)').argParser(parseDayOption),
  )
  .addOption(new Option('--from <YYYY-MM-DD>', 'first day of a range').argParser(parseDayOption))
  .addOption(new Option('--to <YYYY-MM-DD>', 'last day of a range (inclusive)').argParser(parseDayOption))
  .option(
    '--source <source>',
    `what to replay: ${REPLAY_SOURCES.join(', ')} (repeatable; default quarantine)`,
    parseSource,
    [],
  )
  .option(
    '--file <records.ndjson>',
    'replay the payloads of an NDJSON file (one record per line) instead of the lake',
  )
  .option('--reason <reason>', 'only quarantine records with this reason (repeatable)', collect, [])
  .option('--event-name <name>', 'only records of this event_name')
  .option(
    '--fix <file.sql>',
    'a DuckDB SELECT over the view quarantined returning payload: the records to send',
  )
  .option('--allow-late', 'accept events older than the late window (the days they land in are recompacted)')
  .option(
    '--dry-run',
    'say per reason what would be sent and what the current catalog would accept; send nothing',
  )
  .option('--json', 'print the report as JSON on stdout')
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .option('--stream <name>', 'the delivery stream (default $FIRELAKE_STREAM, else firelake-events)')
  .option('--no-wait', 'do not watch the lake for where the records ended')
  .option('--wait-timeout <duration>', 'how long to watch the lake at most', parseDuration, 300_000)
  .option('--no-compact', 'leave the days replayed events landed in to the nightly compaction')
  .option(
    '--chunk <records>',
    'records sent before the next are (Ctrl-C stops after the chunk in flight)',
    parsePositiveInt,
    1000,
  )
  .addHelpText('after', settingsHelp())
  .action(async (flags: ReplayFlags, command: Command) => {
    // The transform's late window decides which records it would quarantine as too_late again.
    const settings = cliSettings(process.env);
    const days = daysOf(flags, command);
    if (flags.file && flags.source.length > 0) command.error('error: give --file or --source, not both');
    const log = (line: string) => console.error(`[replay] ${line}`);
    const controller = new AbortController();
    const stop = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(130);
      log(`${signal}: no more records are sent; waiting for those sent (again to exit at once)`);
      controller.abort();
    };
    const { runReplay } = await import('../replay/replay.js');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const report = await runReplay({
      store: await openLake(flags.lake),
      sources: flags.source.length > 0 ? flags.source : ['quarantine'],
      days,
      file: flags.file,
      reasons: flags.reason,
      eventName: flags.eventName,
      fixFile: flags.fix,
      allowLate: flags.allowLate,
      lateWindowDays: settings.transformLateWindowDays,
      dryRun: flags.dryRun,
      streamName: flags.stream ?? process.env.FIRELAKE_STREAM ?? DEFAULT_STREAM_NAME,
      wait: flags.wait,
      waitTimeoutMs: flags.waitTimeout,
      compact: flags.compact,
      chunkRecords: flags.chunk,
      log,
      signal: controller.signal,
    });
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (report.unreadable.length > 0 || report.undelivered > 0) process.exitCode = 1;
    if (report.status === 'interrupted') process.exitCode = 130;
  });

function daysOf(flags: ReplayFlags, command: Command): string[] {
  if (flags.file) {
    if (flags.date || flags.from || flags.to)
      command.error('error: --file replays a file: no --date or --from/--to');
    return [];
  }
  if (flags.date && (flags.from || flags.to))
    command.error('error: give --date, or --from and --to, not both');
  if (flags.date) return [flags.date];
  if (!flags.from || !flags.to) command.error('error: give --date YYYY-MM-DD, --from D1 --to D2, or --file');
  if (flags.from! > flags.to!) command.error(`error: --from ${flags.from} is after --to ${flags.to}`);
  const days = daysBetween(flags.from!, flags.to!);
  if (days.length > MAX_DAYS)
    command.error(`error: ${days.length} days is more than ${MAX_DAYS}: replay in parts`);
  return days;
}

export function formatReport(r: ReplayReport): string {
  const lines: string[] = [];
  const what = r.selection.file ?? `${r.selection.sources.join(', ')} of ${rangeOf(r.selection.days)}`;
  lines.push(
    `${r.status === 'dry-run' ? 'Dry run: nothing sent. ' : ''}Replay ${r.run_id}: ${what}, ${r.lake} -> ${r.stream}`,
  );
  lines.push(
    `  read ${r.objects_read} objects, ${r.lines_read} lines; left out ${r.left_out.tombstones} duplicate tombstones and ` +
      `${r.left_out.replay_outcomes} lines already the outcome of a replay`,
  );
  for (const u of r.unreadable) lines.push(`  UNREADABLE ${u.key}: ${u.error} (skipped)`);
  if (r.selected === 0) {
    lines.push('  nothing to replay: no record matches the selection');
    return lines.join('\n');
  }
  const verb = r.status === 'dry-run' ? 'would send' : 'to send';
  lines.push(`  selected ${r.selected}${r.selection.fix ? ` (fix ${r.selection.fix.file})` : ''}:`);
  for (const x of r.by_reason) {
    lines.push(
      `    ${x.reason.padEnd(20)} selected ${x.selected}, ${verb} ${x.sendable}, current catalog would accept ${x.would_accept}` +
        (x.not_sendable ? `, not sendable ${x.not_sendable}` : ''),
    );
  }
  const refused = Object.entries(r.refused_by_catalog);
  if (refused.length > 0) {
    lines.push(`  would be quarantined again: ${refused.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  for (const n of r.not_sendable.slice(0, 5)) lines.push(`  not sendable: ${n.origin}: ${n.why}`);
  if (r.not_sendable.length > 5) lines.push(`  ... and ${r.not_sendable.length - 5} more not sendable`);
  if (r.status === 'dry-run') return lines.join('\n');
  if (r.status === 'nothing') {
    lines.push('  nothing to replay: no selected record can be sent');
    return lines.join('\n');
  }
  lines.push(
    `  sent ${r.sent}${r.undelivered ? `, ${r.undelivered} undelivered` : ''}${r.status === 'interrupted' ? ' (interrupted: run it again to complete it)' : ''}`,
  );
  if (r.outcome) lines.push(`  outcome: ${formatOutcome(r.outcome)}`);
  if (r.outcome && r.outcome.staged === 0 && r.outcome.already_present === r.sent && r.sent > 0) {
    lines.push('  every record is already in the lake: nothing was staged twice');
  }
  for (const c of r.compaction) {
    lines.push(
      `  ${c.day}: ${c.status === 'pending' ? 'left to the nightly compaction' : `compaction ${c.status}`}` +
        (c.rows !== undefined ? `, ${c.rows} rows` : '') +
        (c.error ? ` (${c.error})` : ''),
    );
  }
  if (r.record_key) lines.push(`  run record: ${r.record_key}`);
  return lines.join('\n');
}

function rangeOf(days: string[]): string {
  return days.length === 1 ? days[0]! : `${days[0]}..${days.at(-1)}`;
}
