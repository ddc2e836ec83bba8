import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import type { CompactionSummary } from '../compaction/compact.js';
import type { NightlySummary } from '../compaction/nightly.js';
import { DEFAULT_UNIT_BYTES } from '../compaction/unit-size.js';
import { openLake } from '../lake/open.js';
import { DEFAULT_COMPACTION_LATE_WINDOW_DAYS, DEFAULT_LAKE } from '../lake/settings.js';
import { curatedTableFor, parseDayOption, parseGlueTable, parsePositiveInt } from './options.js';
import { cliSettings, settingsHelp } from './settings.js';

interface CompactFlags {
  date?: string;
  nightly?: boolean;
  lateWindow?: number;
  lake: string;
  force?: boolean;
  json?: boolean;
  memoryLimit?: number;
  threads?: number;
  workDir?: string;
  workers: number;
  unitSize: number;
  glueTable?: { database: string; table: string };
}

function parseNonNegativeInt(text: string): number {
  return text === '0' ? 0 : parsePositiveInt(text);
}

export const compactCommand = new Command('compact')
  .description('compact staging NDJSON of a UTC day into curated Parquet (deduplicated, by language)')
  .addOption(new Option('--date <YYYY-MM-DD>', 'the UTC day to compact').argParser(parseDayOption))
  .option(
    '--nightly',
    'the nightly run: yesterday (or --date) plus late-window days with new staging objects',
  )
  .option(
    '--late-window <days>',
    `days before the nightly day checked for late objects (default: $FIRELAKE_COMPACTION_LATE_WINDOW_DAYS, else ${DEFAULT_COMPACTION_LATE_WINDOW_DAYS}; not below the transform's, $FIRELAKE_LATE_WINDOW_DAYS)`,
    parseNonNegativeInt,
  )
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .option('--force', 'recompact even if staging is unchanged; publish even if staging objects vanished')
  .option('--json', 'print the summary as JSON on stdout')
  .option('--memory-limit <MiB>', "DuckDB's memory limit (default: 60% of this machine)", parsePositiveInt)
  .option('--threads <n>', 'DuckDB threads (default: every core)', parsePositiveInt)
  .option('--work-dir <dir>', 'folder for downloads and DuckDB spill files (default: the OS temp folder)')
  .option(
    '--workers <n>',
    'worker processes for a day larger than one unit (1: one run in this process)',
    parsePositiveInt,
    availableParallelism(),
  )
  .option(
    '--unit-size <MiB>',
    'gzip staging per fan-out unit',
    parsePositiveInt,
    Math.round(DEFAULT_UNIT_BYTES / 2 ** 20),
  )
  .option(
    '--glue-table <database.table>',
    "commit the curated table through this Glue table (the stack's: firelake_lake.curated_events), as the stack's functions do",
    parseGlueTable,
  )
  .addHelpText('after', settingsHelp())
  .action(async (flags: CompactFlags, command: Command) => {
    if (!flags.date && !flags.nightly) command.error('error: give --date YYYY-MM-DD, or --nightly');
    const [{ compactNightly }, { compactDayWithWorkers }] = await Promise.all([
      import('../compaction/nightly.js'),
      import('../compaction/workers.js'),
    ]);
    const store = await openLake(flags.lake);
    const table = await curatedTableFor(store, flags.glueTable);
    const options = {
      store,
      ...(table ? { table } : {}),
      force: flags.force,
      memoryLimitMiB: flags.memoryLimit,
      threads: flags.threads,
      workDir: flags.workDir,
      log: (line: string) => console.error(line),
      workers: flags.workers,
      unitBytes: flags.unitSize * 2 ** 20,
    };
    if (flags.nightly) {
      const settings = cliSettings(process.env, {
        compactionLateWindowDays: { flag: '--late-window', value: flags.lateWindow },
      });
      const summary = await compactNightly({
        ...options,
        day: flags.date,
        lateWindowDays: settings.compactionLateWindowDays,
        compact: (o) => compactDayWithWorkers({ ...options, ...o }),
      });
      console.log(flags.json ? JSON.stringify(summary, null, 2) : formatNightly(summary));
      if (!summary.ok) process.exitCode = 1;
      return;
    }
    const summary = await compactDayWithWorkers({ ...options, day: flags.date! });
    console.log(flags.json ? JSON.stringify(summary, null, 2) : formatDay(summary));
  });

export function formatDay(s: CompactionSummary): string {
  const lines = [
    s.status === 'unchanged'
      ? `${s.day}: unchanged (${s.note})`
      : `${s.day}: published run ${s.run_id}${s.units ? ` (${s.units} units)` : ''}${s.previous_run_id ? ` (replaces ${s.previous_run_id})` : ''}`,
    `  staging: ${s.objects} objects, ${(s.object_bytes / 2 ** 20).toFixed(1)} MiB, ${s.rows_read} lines`,
    `  curated: ${s.rows} rows, ${s.duplicates_dropped} duplicates dropped, ${s.files.length} file(s), ${(s.parquet_bytes / 2 ** 20).toFixed(1)} MiB`,
    `  by language: ${Object.entries(s.rows_by_language)
      .map(([l, n]) => `${l}=${n}`)
      .join(' ')}`,
  ];
  if (s.status === 'published')
    lines.push(
      `  snapshot ${s.snapshot_id}; removed ${s.deleted_files} data file(s) no snapshot kept; commit ${s.commit_ms} ms of ${s.elapsed_ms} ms`,
    );
  if (s.note && s.status === 'published') lines.push(`  note: ${s.note}`);
  return lines.join('\n');
}

function formatNightly(s: NightlySummary): string {
  return s.days
    .map((d) => {
      if (d.summary) return formatDay(d.summary);
      return `${d.day}: ${d.status}${d.error ? ` (${d.error})` : ''}`;
    })
    .join('\n');
}
