import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import type { GeneratorStats } from '../generator/stats.js';
import { FirelakeError } from '../lake/errors.js';
import { openLake } from '../lake/open.js';
import { DEFAULT_LAKE } from '../lake/settings.js';
import { parseDayOption, parseInstant } from './options.js';

interface QualityFlags {
  date: string;
  lake: string;
  stats?: string;
  thresholds?: string;
  asOf?: number;
  liveFrom?: number;
  json?: boolean;
}

export class StatsFileError extends FirelakeError {
  static override readonly code: string = 'STATS_FILE_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatsFileError';
  }
}

/** Reads the generator's --stats file and checks it has what reconciliation needs. */
export async function readStatsFile(path: string): Promise<GeneratorStats> {
  let doc: Partial<GeneratorStats>;
  try {
    doc = JSON.parse(await readFile(path, 'utf8')) as Partial<GeneratorStats>;
  } catch (error) {
    throw new StatsFileError(`cannot read generator stats ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  for (const field of ['records', 'unique_events', 'duplicates', 'conflicts', 'undelivered'] as const) {
    if (typeof doc[field] !== 'number') {
      throw new StatsFileError(`${path} is not a generator --stats file: "${field}" is missing`);
    }
  }
  if (typeof doc.bad_by_kind !== 'object' || !doc.start || !doc.end) {
    throw new StatsFileError(`${path} is not a generator --stats file: bad_by_kind, start or end missing`);
  }
  return doc as GeneratorStats;
}

export const qualityCommand = new Command('quality')
  .description('the data-quality scorecard of a UTC day; exits 1 when a check fails')
  .addOption(new Option('--date <YYYY-MM-DD>', 'the UTC day').argParser(parseDayOption).makeOptionMandatory())
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .option('--stats <file>', "the generator's --stats JSON: also reconcile against what was sent")
  .option('--thresholds <file>', 'JSON overriding thresholds of sql/quality/thresholds.json')
  .addOption(
    new Option(
      '--as-of <instant>',
      'judge volume as of this time (default now): later hours are not due',
    ).argParser(parseInstant),
  )
  .addOption(
    new Option(
      '--live-from <instant>',
      'events created before this instant were backfilled: freshness judges the later ones, reports the rest apart',
    ).argParser(parseInstant),
  )
  .option('--json', 'print the scorecard as JSON on stdout')
  .action(async (flags: QualityFlags) => {
    const { formatScorecard, readThresholdsFile, runScorecard } = await import('../sql/scorecard.js');
    const card = await runScorecard({
      store: await openLake(flags.lake),
      day: flags.date,
      stats: flags.stats ? await readStatsFile(flags.stats) : undefined,
      thresholds: flags.thresholds ? await readThresholdsFile(flags.thresholds) : undefined,
      asOf: flags.asOf === undefined ? undefined : new Date(flags.asOf),
      liveFrom: flags.liveFrom === undefined ? undefined : new Date(flags.liveFrom),
    });
    console.log(flags.json ? JSON.stringify(card, null, 2) : formatScorecard(card));
    // A scheduler or CI gates on the exit code: any failed check fails the run.
    if (card.status === 'fail') process.exitCode = 1;
  });
