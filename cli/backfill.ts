import { Command, Option } from 'commander';
import type { BackfillDay } from '../compaction/backfill.js';
import { openLake } from '../lake/open.js';
import { DEFAULT_LAKE } from '../lake/settings.js';
import { curatedTableFor, parseDayOption, parseGlueTable, parsePositiveInt } from './options.js';

interface BackfillFlags {
  from: string;
  to: string;
  field?: string[];
  lake: string;
  json?: boolean;
  memoryLimit?: number;
  threads?: number;
  workDir?: string;
  glueTable?: { database: string; table: string };
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean),
];

export const backfillCommand = new Command('backfill')
  .description(
    'rewrite compacted days after the catalog adopted fields that lived in extras (from staging, else from curated)',
  )
  .addOption(
    new Option('--from <YYYY-MM-DD>', 'first UTC day').argParser(parseDayOption).makeOptionMandatory(),
  )
  .addOption(new Option('--to <YYYY-MM-DD>', 'last UTC day').argParser(parseDayOption).makeOptionMandatory())
  .option(
    '--field <name>',
    'a catalog field to move out of extras (repeatable; default: every catalog field)',
    collect,
  )
  .option('--lake <path|s3://bucket/prefix>', 'the lake', DEFAULT_LAKE)
  .option('--json', 'print the summary as JSON on stdout')
  .option('--memory-limit <MiB>', "DuckDB's memory limit (default: 60% of this machine)", parsePositiveInt)
  .option('--threads <n>', 'DuckDB threads (default: every core)', parsePositiveInt)
  .option('--work-dir <dir>', 'folder for downloads and DuckDB spill files (default: the OS temp folder)')
  .option('--glue-table <database.table>', 'commit the curated table through this Glue table', parseGlueTable)
  .action(async (flags: BackfillFlags) => {
    const { backfill } = await import('../compaction/backfill.js');
    const store = await openLake(flags.lake);
    const table = await curatedTableFor(store, flags.glueTable);
    const days = await backfill({
      store,
      ...(table ? { table } : {}),
      from: flags.from,
      to: flags.to,
      fields: flags.field,
      memoryLimitMiB: flags.memoryLimit,
      threads: flags.threads,
      workDir: flags.workDir,
      log: (line) => console.error(line),
    });
    console.log(flags.json ? JSON.stringify(days, null, 2) : days.map(formatDay).join('\n'));
  });

function formatDay(d: BackfillDay): string {
  const moved = d.moved
    ? Object.entries(d.moved)
        .filter(([, n]) => n > 0)
        .map(([f, n]) => `${f} ${n}`)
        .join(', ') || 'nothing'
    : 'recompacted from staging';
  return `${d.day}: published run ${d.run_id} (replaces ${d.previous_run_id}) from ${d.source}: ${d.rows} rows in ${d.files} file(s); moved from extras: ${moved}`;
}
