import { isAbsolute, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { openLake } from '../lake/open.js';
import { DEFAULT_DATA_DIR, DEFAULT_LAKE } from '../lake/settings.js';
import { parseDayOption, parseInstant, parsePositiveInt } from './options.js';

// `firelake report`: the quality report of a day as one self-contained HTML file. The page's
// path goes to stdout; progress to stderr. Exit 1 when the day has no data or is not in the curated table (the
// page says so too); a failing scorecard is shown, not an error (`firelake quality` gates).

interface ReportFlags {
  date: string;
  days: number;
  lake: string;
  out?: string;
  asOf?: number;
  liveFrom?: number;
  thresholds?: string;
  json?: boolean;
}

export const reportCommand = new Command('report')
  .description('write the quality report of a UTC day as one self-contained HTML file')
  .addOption(new Option('--date <YYYY-MM-DD>', 'the UTC day').argParser(parseDayOption).makeOptionMandatory())
  .option('--days <n>', 'trends over the last N days, the day included', parsePositiveInt, 1)
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .option('--out <file>', `the HTML file (default ${DEFAULT_DATA_DIR}/reports/<date>.html)`)
  .addOption(
    new Option('--as-of <instant>', 'judge volume as of this time (default now)').argParser(parseInstant),
  )
  .addOption(
    new Option(
      '--live-from <instant>',
      'events created before this instant were backfilled: freshness judges the later ones, shows the rest apart',
    ).argParser(parseInstant),
  )
  .option('--thresholds <file>', 'JSON overriding thresholds of sql/quality/thresholds.json')
  .option('--json', 'print {path, bytes, status, problem} as JSON on stdout')
  .action(async (flags: ReportFlags, command: Command) => {
    if (flags.days > 366) command.error("error: option '--days <n>' must be at most 366");
    const [{ defaultReportPath, writeReport }, { readThresholdsFile }] = await Promise.all([
      import('../report/index.js'),
      import('../sql/scorecard.js'),
    ]);
    const out = resolve(flags.out ?? defaultReportPath(DEFAULT_DATA_DIR, flags.date));
    const written = await writeReport({
      store: await openLake(flags.lake),
      day: flags.date,
      days: flags.days,
      out,
      asOf: flags.asOf === undefined ? undefined : new Date(flags.asOf),
      liveFrom: flags.liveFrom === undefined ? undefined : new Date(flags.liveFrom),
      thresholds: flags.thresholds ? await readThresholdsFile(flags.thresholds) : undefined,
      log: (line) => console.error(`[report] ${line}`),
    });
    const main = written.data.days[written.data.days.length - 1]!;
    if (flags.json) {
      console.log(
        JSON.stringify({
          path: written.path,
          bytes: written.bytes,
          status: main.scorecard?.status ?? null,
          problem: written.problem ?? null,
        }),
      );
    } else {
      const rel = relative(process.cwd(), written.path);
      console.log(rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : written.path);
    }
    if (written.problem) {
      console.error(`firelake: ${written.problem.message}`);
      process.exitCode = 1;
    }
  });
